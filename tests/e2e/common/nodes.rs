//! In-process nodes for multi-node tests: each a real node with its own
//! sled database in a temp dir, talking libp2p over loopback TCP.

use std::future::Future;
use std::time::Duration;

use skillmesh_config::{Config, FederationMode};
use skillmesh_node::identity::OrgIdentity;
use skillmesh_node::runtime::{self, RunningNode};
use skillmesh_node::store::Actor;
use skillmesh_node::store::OutboxStatus;
use skillmesh_protocol::kinds::{
    Audience, Delivery, EventSession, MentoringOffer, OfferStatus, SessionFormat,
};
use skillmesh_protocol::{Body, OrgKey};

pub struct Org {
    pub node: RunningNode,
    pub config: Config,
    pub _dir: tempfile::TempDir,
}

pub async fn start_org(name: &str, bootstrap: &[String], mode: FederationMode) -> Org {
    start_org_with(name, |c| {
        c.network.bootstrap = bootstrap.to_vec();
        c.federation.mode = mode;
    })
    .await
}

/// Starts an organisation's node on loopback, after `configure` adjusts
/// its config (listen on TCP port 0, mDNS off, open federation by default).
pub async fn start_org_with(name: &str, configure: impl FnOnce(&mut Config)) -> Org {
    let dir = tempfile::tempdir().expect("tempdir");
    OrgIdentity::generate()
        .expect("key")
        .create_file(&dir.path().join("org.key"))
        .expect("write key");
    let mut config = Config::new(name, dir.path().to_path_buf());
    config.web.listen = "127.0.0.1:0".parse().expect("addr");
    config.network.listen = vec!["/ip4/127.0.0.1/tcp/0".into()];
    config.network.mdns = false;
    configure(&mut config);
    let node = runtime::start(&config).await.expect("node starts");
    Org {
        node,
        config,
        _dir: dir,
    }
}

pub async fn p2p_addr(org: &Org) -> String {
    wait_for("a listen address", || async {
        !org.node
            .network
            .listen_addrs()
            .await
            .expect("addrs")
            .is_empty()
    })
    .await;
    org.node.network.listen_addrs().await.expect("addrs")[0].to_string()
}

/// Northwind, and Contoso joining it: both open to any organisation.
pub async fn northwind_and_contoso() -> (Org, Org) {
    let northwind = start_org("Northwind", &[], FederationMode::Open).await;
    let contoso = start_org(
        "Contoso",
        &[p2p_addr(&northwind).await],
        FederationMode::Open,
    )
    .await;
    (northwind, contoso)
}

/// Polls `check` until it holds, failing after a deadline.
pub async fn wait_for<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Where request `id` in `org`'s outbox stands, if it is there.
pub fn outbox_status(org: &Org, id: &str) -> Option<OutboxStatus> {
    org.node
        .service
        .store_for_tests()
        .outbox_entry(id)
        .expect("outbox")
        .map(|e| e.status)
}

pub fn held_seq(org: &Org, from: &OrgKey, id: &str) -> Option<(u64, bool)> {
    org.node
        .service
        .store_for_tests()
        .get_record(from, id)
        .expect("get")
        .map(|r| (r.seq, r.tombstone))
}

/// Event `id` of `host` as `org` holds it: its `seq` and its sessions.
pub fn event_sessions(org: &Org, host: &OrgKey, id: &str) -> (u64, Vec<EventSession>) {
    let row = org
        .node
        .service
        .store_for_tests()
        .get_record(host, id)
        .expect("get")
        .expect("held");
    match row.record().expect("decode").body {
        Body::Event(e) => (row.seq, e.sessions),
        other => panic!("not an event: {other:?}"),
    }
}

/// Publishes `body` as item `id` of `org` (owned by `owner`), then waits
/// until every node in `to` holds it.
pub async fn publish_to(org: &Org, id: &str, owner: Option<&str>, body: Body, to: &[&Org]) {
    org.node
        .service
        .create_item(id, owner, body, &Actor::person("test"))
        .expect("create");
    org.node
        .service
        .publish_item(id, &Actor::person("test"))
        .expect("publish");
    let from = org.node.service.org();
    for other in to {
        wait_for("the record reaches the other node", || async {
            held_seq(other, &from, id).is_some()
        })
        .await;
    }
}

/// A one-hour talk in an event's programme, on leadership.
pub fn event_session(
    id: &str,
    title: &str,
    starts_at: i64,
    contributor: Option<OrgKey>,
) -> EventSession {
    EventSession {
        id: id.into(),
        title: title.into(),
        speaker_name: None,
        contributor,
        starts_at,
        duration_minutes: 60,
        format: SessionFormat::Talk,
        audience: Audience::Everyone,
        topics: vec!["leadership".into()],
    }
}

pub fn mentoring(title: &str) -> Body {
    Body::MentoringOffer(MentoringOffer {
        person: "tomas".into(),
        mentor_name: Some("Tomás".into()),
        title: title.into(),
        description: String::new(),
        topics: vec!["Kubernetes".into()],
        languages: vec!["en".into()],
        capacity: 2,
        sessions: 4,
        session_minutes: 45,
        cadence: skillmesh_protocol::kinds::Cadence::Fortnightly,
        slots: vec![],
        delivery: Delivery::Remote,
        status: OfferStatus::Open,
    })
}

/// A 45-minute talk on on-call by `person` ("Tomás Ferreira"), open.
/// A person of a test node who shares their listing, mailed at `email`.
pub fn listed_person(id: &str, name: &str, email: &str) -> skillmesh_node::store::Person {
    skillmesh_node::store::Person {
        sharing: skillmesh_node::store::Sharing::listing(),
        ..skillmesh_node::store::Person::new(id, name, email, 0)
    }
}

pub fn talk_offer(person: &str) -> Body {
    Body::TalkOffer(skillmesh_protocol::kinds::TalkOffer {
        person: person.into(),
        speaker_name: Some("Tomás Ferreira".into()),
        title: "On-call without burnout".into(),
        summary: String::new(),
        session: skillmesh_protocol::kinds::TalkSession {
            topics: vec!["On-call".into()],
            format: SessionFormat::Talk,
            audience: Audience::Everyone,
            duration_minutes: 45,
            languages: vec!["en".into()],
            delivery: Delivery::Remote,
        },
        status: OfferStatus::Open,
    })
}
