//! Bare gossipsub, the transport's own limit: the same number of peers on
//! loopback, each a libp2p swarm with only gossipsub (TCP, noise, yamux,
//! as nodes use), the nodes' gossipsub settings
//! ([`skillmesh_node::network::gossip_config`]: mesh sizes, heartbeat,
//! strict signing, validation by the application) and their topic. A
//! message is accepted the moment it arrives: no envelope check, no
//! store, no index. What the nodes take beyond this is what Skillmesh
//! adds.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use libp2p::gossipsub::{self, IdentTopic, MessageAcceptance, MessageAuthenticity};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm, noise, tcp, yamux};
use skillmesh_node::network::{gossip_config, wire::RECORDS_TOPIC};
use tokio::sync::mpsc as tmpsc;

use crate::common::Rng;

/// One peer's handle: where to send what it should publish, and its address.
pub struct Peer {
    pub publish: tmpsc::UnboundedSender<Vec<u8>>,
    pub addr: Multiaddr,
    pub peer_id: PeerId,
    task: tokio::task::JoinHandle<()>,
}

/// A message received: (peer index, the message's number, when).
pub type Arrival = (usize, u32, Instant);

/// What each peer task reports.
pub struct Reports {
    pub arrivals: mpsc::Receiver<Arrival>,
    pub peers_of: Vec<tokio::sync::watch::Receiver<usize>>,
}

fn swarm() -> Result<Swarm<gossipsub::Behaviour>, String> {
    let config = gossip_config()?;
    Ok(libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| format!("tcp: {e}"))?
        .with_behaviour(|key| {
            gossipsub::Behaviour::new(MessageAuthenticity::Signed(key.clone()), config)
                .map_err(Box::<dyn std::error::Error + Send + Sync>::from)
        })
        .map_err(|e| format!("gossipsub: {e}"))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(300)))
        .build())
}

/// Which earlier peers each peer dials: every peer dials peer 0, then
/// distinct random pairs are added until there are `connections` in all
/// (at most every pair), so that peers end with the same mean number of
/// connections as the nodes of the same run had.
fn dial_plan(count: usize, connections: usize, rng: &mut Rng) -> Vec<Vec<usize>> {
    let mut plan: Vec<Vec<usize>> = (0..count)
        .map(|i| if i > 0 { vec![0] } else { Vec::new() })
        .collect();
    let most = count * count.saturating_sub(1) / 2;
    let mut made = count.saturating_sub(1);
    while made < connections.min(most) {
        let i = 2 + rng.below(count - 2);
        let j = 1 + rng.below(i - 1);
        if !plan[i].contains(&j) {
            plan[i].push(j);
            made += 1;
        }
    }
    plan
}

/// Starts `count` peers on loopback with `connections` between them in
/// all (see [`dial_plan`]).
pub async fn start(count: usize, connections: usize, rng: &mut Rng) -> (Vec<Peer>, Reports) {
    let plan = dial_plan(count, connections, rng);
    let (arrived_tx, arrivals) = mpsc::channel();
    let mut peers: Vec<Peer> = Vec::with_capacity(count);
    let mut peers_of = Vec::with_capacity(count);
    let topic = IdentTopic::new(RECORDS_TOPIC);
    for (i, dials) in plan.into_iter().enumerate() {
        let mut swarm = swarm().expect("a bare gossipsub swarm");
        swarm.behaviour_mut().subscribe(&topic).expect("subscribe");
        swarm
            .listen_on("/ip4/127.0.0.1/tcp/0".parse().expect("address"))
            .expect("listen");
        let addr = loop {
            if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
                break address;
            }
        };
        for j in dials {
            swarm
                .dial(
                    peers[j]
                        .addr
                        .clone()
                        .with(libp2p::multiaddr::Protocol::P2p(peers[j].peer_id)),
                )
                .expect("dial");
        }
        let (publish, mut to_publish) = tmpsc::unbounded_channel::<Vec<u8>>();
        let (peers_tx, peers_rx) = tokio::sync::watch::channel(0usize);
        let arrived_tx = arrived_tx.clone();
        let topic = topic.clone();
        let peer_id = *swarm.local_peer_id();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    data = to_publish.recv() => {
                        let Some(data) = data else { break };
                        if let Err(e) = swarm.behaviour_mut().publish(topic.clone(), data) {
                            eprintln!("bare peer {i}: publish failed: {e}");
                        }
                    }
                    event = swarm.select_next_some() => match event {
                        SwarmEvent::Behaviour(gossipsub::Event::Message {
                            propagation_source,
                            message_id,
                            message,
                        }) => {
                            let at = Instant::now();
                            let _ = swarm.behaviour_mut().report_message_validation_result(
                                &message_id,
                                &propagation_source,
                                MessageAcceptance::Accept,
                            );
                            let number = message
                                .data
                                .get(..4)
                                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                                .map_or(u32::MAX, u32::from_be_bytes);
                            let _ = arrived_tx.send((i, number, at));
                        }
                        SwarmEvent::ConnectionEstablished { .. }
                        | SwarmEvent::ConnectionClosed { .. } => {
                            let _ = peers_tx.send(swarm.connected_peers().count());
                        }
                        _ => {}
                    }
                }
            }
        });
        peers_of.push(peers_rx);
        peers.push(Peer {
            publish,
            addr,
            peer_id,
            task,
        });
    }
    (peers, Reports { arrivals, peers_of })
}

/// Stops every peer's task.
pub fn stop(peers: Vec<Peer>) {
    for p in peers {
        p.task.abort();
    }
}

/// A message of `size` bytes whose first 4 are `number` (big-endian) and
/// the rest varied, so that each is a new message.
pub fn message(number: u32, size: usize, rng: &mut Rng) -> Vec<u8> {
    let mut data = number.to_be_bytes().to_vec();
    data.extend((4..size.max(4)).map(|_| b'a' + rng.below(26) as u8));
    data
}
