//! `skillmesh invite`: prints an invite for a new organisation, naming this
//! node's peer-to-peer addresses and, for a private network, its key.

use std::path::Path;

use anyhow::{Context, bail};
use clap::Args;
use libp2p::Multiaddr;
use skillmesh_config::Config;
use skillmesh_node::identity::OrgIdentity;
use skillmesh_node::invite::Invite;
use skillmesh_node::network;

#[derive(Args)]
pub struct InviteArgs {
    #[command(flatten)]
    config: super::ConfigArg,
    /// An address at which the new organisation can reach this node, as a
    /// multiaddr (e.g. /dns4/skillmesh.northwind.example/tcp/4001). Repeat
    /// for several. Default: the fixed-port addresses in network.listen.
    #[arg(long)]
    address: Vec<String>,
}

pub fn invite(args: InviteArgs) -> anyhow::Result<()> {
    let config = Config::load(&args.config.config)?;
    let identity = OrgIdentity::load_file(&config.key_file)?;
    let peer = network::identity::peer_id(&identity.org())
        .context("the organisation key is not a valid ed25519 key")?;
    let candidates = if args.address.is_empty() {
        config.network.listen.clone()
    } else {
        args.address.clone()
    };
    let mut bootstrap = Vec::new();
    for text in &candidates {
        let addr: Multiaddr = text
            .parse()
            .with_context(|| format!("{text:?} is not a multiaddr"))?;
        let unspecified_port = addr.iter().any(|p| {
            matches!(
                p,
                libp2p::multiaddr::Protocol::Tcp(0) | libp2p::multiaddr::Protocol::Udp(0)
            )
        });
        if unspecified_port {
            continue;
        }
        bootstrap.push(format!("{addr}/p2p/{peer}"));
    }
    if bootstrap.is_empty() {
        bail!(
            "no address to invite to: network.listen uses port 0; set a fixed port there or pass --address"
        );
    }
    let psk = match &config.network.psk_file {
        Some(path) => Some(psk_hex(path)?),
        None => None,
    };
    let invite = Invite { bootstrap, psk };
    println!("{}", invite.encode());
    eprintln!();
    eprintln!("Give this invite to the new organisation's admin; they run:");
    eprintln!("  skillmesh init --org \"Their name\" --data-dir DIR --join INVITE");
    if invite.psk.is_some() {
        eprintln!("It contains this private network's key: send it over a channel you trust.");
    }
    Ok(())
}

fn psk_hex(path: &Path) -> anyhow::Result<String> {
    network::read_psk(path)?;
    let text = std::fs::read_to_string(path)?;
    Ok(text.lines().nth(2).unwrap_or_default().trim().to_string())
}
