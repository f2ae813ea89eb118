//! `skillmesh demo`: several sample organisations on loopback, each with
//! its own data directory, key and web port, seeded with sample people,
//! offers, cohorts and content.

pub mod sample_data;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use skillmesh_config::Config;
use skillmesh_protocol::OrgKey;
use skillmesh_protocol::kinds::{Availability, AvailabilityStatus, OrgCard, Topic};

use crate::accounts;
use crate::clock;
use crate::datadir::{CONFIG_FILE, KEY_FILE};
use crate::identity::OrgIdentity;
use crate::runtime::{self, RunningNode};
use crate::service::{Service, ServiceError};
use crate::store::Actor;
use crate::store::{OutboundPolicy, Person, Role, Sharing};
use sample_data::ADMIN_INDEX;
use skillmesh_protocol::profile::ProfileDetails;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("--orgs must be between 1 and {MAX_ORGS}, not {0}")]
    OrgCount(usize),
    #[error("--base-port {0} leaves no room for the organisations' ports")]
    BasePort(u16),
    #[error("demo organisation {org}: {source}")]
    Setup {
        org: String,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

fn setup_err(org: &str, e: impl std::error::Error + Send + Sync + 'static) -> DemoError {
    DemoError::Setup {
        org: org.to_string(),
        source: Box::new(e),
    }
}

/// Prepares (first time only) and starts `orgs` demo organisations under
/// `root`, web ports from `base_port` up.
pub async fn start(
    root: &Path,
    orgs: usize,
    base_port: u16,
) -> Result<Vec<RunningNode>, DemoError> {
    if !(1..=MAX_ORGS).contains(&orgs) {
        return Err(DemoError::OrgCount(orgs));
    }
    // Web ports from `base_port`, peer-to-peer ports `P2P_OFFSET` above.
    let last = u16::try_from(orgs)
        .ok()
        .and_then(|n| base_port.checked_add(n))
        .and_then(|n| n.checked_add(P2P_OFFSET));
    if base_port == 0 || last.is_none() {
        return Err(DemoError::BasePort(base_port));
    }
    let mut nodes = Vec::with_capacity(orgs);
    // Every demo account has the same password: hash it once (argon2 is
    // slow on purpose), and only if some organisation is new.
    let mut password_hash: Option<String> = None;
    for i in 0..orgs {
        let (name, slug, _) = sample_data::org(i);
        let dir = root.join(&slug);
        let port = base_port + i as u16;
        let config =
            prepare(&dir, &name, port, base_port + P2P_OFFSET).map_err(|e| setup_err(&name, e))?;
        let node = runtime::start(&config)
            .await
            .map_err(|e| setup_err(&name, e))?;
        if node
            .service
            .people()
            .map_err(|e| setup_err(&name, e))?
            .is_empty()
        {
            let hash = match &password_hash {
                Some(hash) => hash.clone(),
                None => {
                    let hash =
                        accounts::hash_password(DEMO_PASSWORD).map_err(|e| setup_err(&name, e))?;
                    password_hash.insert(hash).clone()
                }
            };
            // The organisations started last (as many as an event may
            // name) are invited to add sessions to this one's events.
            let skip = nodes
                .len()
                .saturating_sub(skillmesh_protocol::limits::MAX_LIST_LEN);
            let partners: Vec<OrgKey> = nodes
                .iter()
                .skip(skip)
                .map(|n: &RunningNode| n.service.org())
                .collect();
            seed(&node.service, i, &hash, &partners).map_err(|e| setup_err(&name, e))?;
        }
        nodes.push(node);
    }
    Ok(nodes)
}

/// Peer-to-peer ports are the web ports plus this.
pub const P2P_OFFSET: u16 = 100;

/// Most organisations a demo runs (each is a whole node in this process;
/// their web and peer-to-peer port ranges must not overlap).
pub const MAX_ORGS: usize = 50;
const _: () = assert!(MAX_ORGS < P2P_OFFSET as usize);

/// Creates the organisation's key (unless it exists) and config in `dir`.
/// Every organisation listens for peers on loopback; all but the first
/// bootstrap from the first, and discovery (identify, peer exchange) connects
/// the rest. mDNS stays off: it would multicast beyond loopback.
fn prepare(
    dir: &Path,
    name: &str,
    port: u16,
    first_p2p_port: u16,
) -> Result<Config, DemoSetupError> {
    std::fs::create_dir_all(dir)?;
    let key = dir.join(KEY_FILE);
    if !key.exists() {
        OrgIdentity::generate()?.create_file(&key)?;
    }
    let mut config = Config::new(name, dir.to_path_buf());
    config.web.listen = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    config.network.mdns = false;
    let p2p_port = port + P2P_OFFSET;
    config.network.listen = vec![
        format!("/ip4/127.0.0.1/tcp/{p2p_port}"),
        format!("/ip4/127.0.0.1/udp/{p2p_port}/quic-v1"),
    ];
    if p2p_port != first_p2p_port {
        config.network.bootstrap = vec![format!("/ip4/127.0.0.1/tcp/{first_p2p_port}")];
    }
    std::fs::write(dir.join(CONFIG_FILE), config.to_toml())?;
    Ok(config)
}

#[derive(Debug, thiserror::Error)]
enum DemoSeedError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error(transparent)]
    Account(#[from] crate::accounts::AccountError),
}

#[derive(Debug, thiserror::Error)]
enum DemoSetupError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Key(#[from] crate::identity::KeyError),
}

/// Every demo account's password. The demo listens on loopback only and
/// its data is thrown away on exit, so a password printed in the terminal
/// is the convenient choice; real nodes get accounts from `user add`.
pub const DEMO_PASSWORD: &str = "skillmesh-demo";

/// The sign-in of sample person `person` of organisation `i`.
pub fn demo_email(i: usize, person: &str) -> String {
    let (_, _, sample) = sample_data::org(i);
    format!("{person}@{}", sample.domain)
}

/// Organisation `i`'s demo accounts to print: (email, is admin). The
/// second sample person of each organisation is its admin.
pub fn demo_accounts(i: usize) -> Vec<(String, bool)> {
    let (_, _, sample) = sample_data::org(i);
    sample
        .people
        .iter()
        .enumerate()
        .map(|(n, p)| (demo_email(i, p.id), n == ADMIN_INDEX))
        .collect()
}

/// Adds the sample organisation's people (each with an account),
/// listings, offers and content.
fn seed(
    service: &Service,
    i: usize,
    password_hash: &str,
    partners: &[OrgKey],
) -> Result<(), DemoSeedError> {
    let (name, _, sample) = sample_data::org(i);
    let now = clock::now();
    service.publish_org_card(
        OrgCard {
            name: name.clone(),
            summary: sample.summary.into(),
            website: Some(format!("https://{}", sample.domain)),
            languages: vec!["en".into()],
        },
        &Actor::Demo,
    )?;
    // Every demo organisation publishes the recognition its people share.
    let mut policy = OutboundPolicy::default();
    policy.fields.recognition = true;
    service.set_outbound_policy(&policy, &Actor::Demo)?;
    for p in sample.people {
        let person = Person {
            id: p.id.into(),
            display_name: p.name.into(),
            email: format!("{}@{}", p.id, sample.domain),
            profile: ProfileDetails {
                headline: p.headline.into(),
                topics: p
                    .topics
                    .iter()
                    .map(|(t, l)| Topic {
                        name: (*t).into(),
                        level: *l,
                    })
                    .collect(),
                languages: p.languages.iter().map(|l| (*l).into()).collect(),
                time_zone: Some(p.time_zone.into()),
                formats: p.formats.to_vec(),
                availability: Some(Availability {
                    status: AvailabilityStatus::Open,
                    hours_per_month: Some(p.hours_per_month),
                    note: None,
                }),
            },
            sharing: if p.shares {
                Sharing {
                    recognition: true,
                    ..Sharing::listing()
                }
            } else {
                Sharing::default()
            },
            listing_pending: false,
            created_at: now,
            updated_at: now,
            questions: Default::default(),
            mail: Default::default(),
        };
        service.add_person(&person, &Actor::Demo)?;
    }
    for (n, p) in sample.people.iter().enumerate() {
        let role = if n == ADMIN_INDEX {
            Role::Admin
        } else {
            Role::Member
        };
        service.add_account_for(
            &demo_email(i, p.id),
            p.id,
            role,
            password_hash.to_string(),
            &Actor::Demo,
        )?;
    }
    for (id, owner, body) in sample_data::items(sample, now, partners) {
        service.create_item(&id, owner, body, &Actor::Demo)?;
        service.publish_item(&id, &Actor::Demo)?;
    }
    for (id, owner, body) in sample_data::kept_inside(sample) {
        service.create_item(&id, owner, body, &Actor::Demo)?;
    }
    Ok(())
}

/// Where the demo keeps its data when no `--data-dir` is given.
pub fn default_root() -> PathBuf {
    std::env::temp_dir().join(format!("skillmesh-demo-{}", std::process::id()))
}
