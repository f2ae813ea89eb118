//! The network: one libp2p swarm per node, owned by one event-loop task,
//! and the application side that serves what other nodes send.
//!
//! ```text
//!  swarm ── event_loop ──(bounded queues)──▶ router workers ──▶ service
//!              ▲   │                               │
//!    commands  │   └── peer events ──▶ reconciler ─┤ (rounds of sync requests)
//!   (handles)  │                                   │
//!              └──────── verdicts, responses ◀─────┘
//!  service ──(bounded outbound channel)──▶ event_loop (gossip publish)
//!  courier: one delivery task per partner, through the handle
//! ```
//!
//! The rest of the node talks to it through [`NetworkHandle`], a cheap
//! clonable handle that sends typed commands; raw libp2p types stop here.

mod behaviour;
mod blocked;
mod courier;
mod direct;
mod event_loop;
/// The bridge between organisation keys and peer ids lives with the
/// application (ingest needs it too); the network uses it from there.
pub use skillmesh_app::peer_identity as identity;
pub mod peer_book;
mod penalties;
pub mod quota_notices;
pub mod reconcile;
mod reconciler;
mod router;
pub mod sync;
mod trim;
pub mod wire;

use std::time::Duration;

use libp2p::{Multiaddr, PeerId};
use skillmesh_protocol::{Envelope, OrgKey};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::service::Service;
pub use behaviour::gossip_config;
pub use event_loop::{LIVENESS_TIMEOUT, PING_INTERVAL};
pub use router::Queue;
pub use wire::{DirectMessage, DirectReply, SyncRequest, SyncResponse};

/// How many newly signed records may wait for the network to gossip them.
/// When it is full the record is not gossiped now (it is stored, and
/// reconciliation carries it to partners).
pub const OUTBOUND_QUEUE: usize = 1024;

/// The channel from the service to the network for records to gossip,
/// made when a node is wired together (`runtime::start`).
pub fn outbound_channel() -> (mpsc::Sender<Envelope>, mpsc::Receiver<Envelope>) {
    mpsc::channel(OUTBOUND_QUEUE)
}

#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error("invalid network address {addr:?}: {reason}")]
    BadAddress { addr: String, reason: String },
    #[error("cannot listen on {addr}: {reason}")]
    Listen { addr: String, reason: String },
    #[error("network.psk_file {path}: {reason}")]
    Psk { path: String, reason: String },
    #[error("network setup failed: {0}")]
    Setup(String),
    #[error("request to peer failed: {0}")]
    Request(String),
    #[error("the network task has stopped")]
    Stopped,
}

/// Network settings, parsed from the node's config.
#[derive(Debug, Clone)]
pub struct NetworkConfig {
    pub listen: Vec<Multiaddr>,
    pub bootstrap: Vec<Multiaddr>,
    pub mdns: bool,
    pub idle_timeout: Duration,
    /// A private network's pre-shared key: only nodes holding it can
    /// connect. Private networks use TCP only (QUIC has its own handshake).
    pub psk: Option<libp2p::pnet::PreSharedKey>,
    /// Dial known peers while fewer than this many are connected.
    pub target_peers: usize,
    /// How often to reconcile with each connected peer.
    pub reconcile_interval: Duration,
}

/// Reads a pre-shared key in the libp2p `swarm.key` format:
/// `/key/swarm/psk/1.0.0/`, `/base16/`, then 64 hex digits, one per line.
pub fn read_psk(path: &std::path::Path) -> Result<libp2p::pnet::PreSharedKey, NetworkError> {
    let text = std::fs::read_to_string(path).map_err(|e| NetworkError::Psk {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    text.parse()
        .map_err(|e: libp2p::pnet::KeyParseError| NetworkError::Psk {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
}

/// A new random pre-shared key, in the `swarm.key` format.
pub fn new_psk_text() -> Result<String, NetworkError> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| NetworkError::Setup(e.to_string()))?;
    Ok(format!(
        "/key/swarm/psk/1.0.0/\n/base16/\n{}\n",
        hex::encode(key)
    ))
}

fn is_quic(addr: &Multiaddr) -> bool {
    addr.iter()
        .any(|p| matches!(p, libp2p::multiaddr::Protocol::QuicV1))
}

impl NetworkConfig {
    pub fn from_settings(s: &skillmesh_config::NetworkSettings) -> Result<Self, NetworkError> {
        let parse = |a: &String| {
            a.parse::<Multiaddr>()
                .map_err(|e| NetworkError::BadAddress {
                    addr: a.clone(),
                    reason: e.to_string(),
                })
        };
        let psk = s.psk_file.as_deref().map(read_psk).transpose()?;
        let listen: Vec<Multiaddr> = s.listen.iter().map(parse).collect::<Result<_, _>>()?;
        let bootstrap: Vec<Multiaddr> = s.bootstrap.iter().map(parse).collect::<Result<_, _>>()?;
        if psk.is_some()
            && let Some(quic) = listen.iter().chain(&bootstrap).find(|a| is_quic(a))
        {
            return Err(NetworkError::BadAddress {
                addr: quic.to_string(),
                reason:
                    "a private network (network.psk_file) runs over TCP only; remove QUIC addresses"
                        .into(),
            });
        }
        Ok(NetworkConfig {
            listen,
            bootstrap,
            mdns: s.mdns,
            idle_timeout: Duration::from_secs(s.idle_timeout_secs),
            psk,
            target_peers: s.target_peers as usize,
            reconcile_interval: Duration::from_secs(s.reconcile_interval_secs),
        })
    }
}

/// A connected peer, as the rest of the node sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    pub peer: String,
    pub org: Option<OrgKey>,
    pub address: String,
}

/// The network's state, for `/healthz` and the admin console.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkStatus {
    /// This node's libp2p peer id (its organisation key; docs/PROTOCOL.md).
    pub peer_id: String,
    /// Addresses other nodes can dial, each ending in `/p2p/<peer id>`.
    pub listen_addrs: Vec<String>,
    /// Peers connected now.
    pub peers: usize,
    /// Addresses the node is trying to reach while it has too few peers.
    pub trying: Vec<String>,
}

impl NetworkStatus {
    /// What keeps the network from doing its job.
    pub fn problems(&self) -> Vec<crate::health::Problem> {
        use crate::health::{Problem, ProblemKind};
        if self.peers > 0 {
            return Vec::new();
        }
        let message = if self.trying.is_empty() {
            "no other organisation's node is connected, and this node knows no address to try: \
             add one to network.bootstrap (from an invite) or wait for a partner to dial in"
                .to_string()
        } else {
            format!(
                "no other organisation's node is connected; trying {}",
                self.trying.join(", ")
            )
        };
        vec![Problem::new(ProblemKind::NoPeers, message)]
    }
}

pub(crate) type SyncReplyTx = oneshot::Sender<Result<SyncResponse, NetworkError>>;
pub(crate) type DirectReplyTx = oneshot::Sender<Result<DirectReply, NetworkError>>;

pub(crate) enum Command {
    PublishRaw {
        data: Vec<u8>,
        reply: oneshot::Sender<Result<(), NetworkError>>,
    },
    Dial {
        addr: Multiaddr,
        reply: oneshot::Sender<Result<(), NetworkError>>,
    },
    ListenAddrs(oneshot::Sender<Vec<Multiaddr>>),
    Peers(oneshot::Sender<Vec<PeerInfo>>),
    Status(oneshot::Sender<NetworkStatus>),
    Sync {
        peer: PeerId,
        request: SyncRequest,
        reply: SyncReplyTx,
    },
    Direct {
        peer: PeerId,
        message: DirectMessage,
        reply: DirectReplyTx,
    },
    DirectRespond {
        channel: libp2p::request_response::ResponseChannel<DirectReply>,
        reply: DirectReply,
    },
    SyncRespond {
        channel: libp2p::request_response::ResponseChannel<SyncResponse>,
        response: SyncResponse,
    },
    Validated {
        id: libp2p::gossipsub::MessageId,
        source: PeerId,
        verdict: crate::service::Verdict,
        /// When the message reached the node.
        received: std::time::Instant,
    },
    DisconnectOrg(OrgKey),
    /// Count a fault against a peer (a sync answer that broke the rules).
    Penalise {
        peer: PeerId,
        fault: penalties::Fault,
        why: String,
    },
    /// Nodes a peer told us about (peer exchange), for the peer book.
    Discovered(Vec<(PeerId, Vec<Multiaddr>)>),
}

/// The typed handle to the network task.
#[derive(Clone)]
pub struct NetworkHandle {
    tx: mpsc::Sender<Command>,
    resync: mpsc::Sender<()>,
}

impl NetworkHandle {
    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, NetworkError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(make(reply))
            .await
            .map_err(|_| NetworkError::Stopped)?;
        rx.await.map_err(|_| NetworkError::Stopped)
    }

    /// Dials a peer address.
    pub async fn dial(&self, addr: Multiaddr) -> Result<(), NetworkError> {
        self.ask(|reply| Command::Dial { addr, reply }).await?
    }

    /// Addresses the node listens on (known so far).
    pub async fn listen_addrs(&self) -> Result<Vec<Multiaddr>, NetworkError> {
        self.ask(Command::ListenAddrs).await
    }

    /// Currently connected peers.
    pub async fn peers(&self) -> Result<Vec<PeerInfo>, NetworkError> {
        self.ask(Command::Peers).await
    }

    /// The network's state, for health reports.
    pub async fn status(&self) -> Result<NetworkStatus, NetworkError> {
        self.ask(Command::Status).await
    }

    /// Sends a sync request to `peer` and waits for the answer.
    pub async fn sync(
        &self,
        peer: PeerId,
        request: SyncRequest,
    ) -> Result<SyncResponse, NetworkError> {
        self.ask(|reply| Command::Sync {
            peer,
            request,
            reply,
        })
        .await?
    }

    /// Sends a direct message to `peer` and waits for its reply.
    pub async fn direct(
        &self,
        peer: PeerId,
        message: DirectMessage,
    ) -> Result<DirectReply, NetworkError> {
        self.ask(|reply| Command::Direct {
            peer,
            message,
            reply,
        })
        .await?
    }

    /// Reconciles with every connected peer afresh (after a policy change
    /// let an organisation in).
    pub async fn resync_all(&self) -> Result<(), NetworkError> {
        // One pending request is as good as many.
        match self.resync.try_send(()) {
            Ok(()) | Err(mpsc::error::TrySendError::Full(())) => Ok(()),
            Err(mpsc::error::TrySendError::Closed(())) => Err(NetworkError::Stopped),
        }
    }

    /// Hands nodes learned by peer exchange to the peer book.
    pub(crate) async fn discovered(
        &self,
        found: Vec<(PeerId, Vec<Multiaddr>)>,
    ) -> Result<(), NetworkError> {
        self.tx
            .send(Command::Discovered(found))
            .await
            .map_err(|_| NetworkError::Stopped)
    }

    /// Disconnects every peer of `org` (after it was blocked).
    /// Counts a sync fault against `peer` (see `penalties`): it is
    /// disconnected and kept out.
    pub(crate) async fn penalise_sync(
        &self,
        peer: PeerId,
        why: String,
    ) -> Result<(), NetworkError> {
        self.tx
            .send(Command::Penalise {
                peer,
                fault: penalties::Fault::Sync,
                why,
            })
            .await
            .map_err(|_| NetworkError::Stopped)
    }

    pub async fn disconnect_org(&self, org: OrgKey) -> Result<(), NetworkError> {
        self.tx
            .send(Command::DisconnectOrg(org))
            .await
            .map_err(|_| NetworkError::Stopped)
    }

    /// Publishes arbitrary bytes on the records topic, bypassing every
    /// check. Only for tests that play a misbehaving peer.
    #[doc(hidden)]
    pub async fn publish_raw(&self, data: Vec<u8>) -> Result<(), NetworkError> {
        self.ask(|reply| Command::PublishRaw { data, reply })
            .await?
    }
}

#[cfg(test)]
impl NetworkHandle {
    /// A handle to no network, for unit tests: it has no peers, and every
    /// other command is dropped.
    pub(crate) fn detached() -> NetworkHandle {
        let (tx, mut rx) = mpsc::channel(16);
        let (resync, _) = mpsc::channel(1);
        tokio::spawn(async move {
            while let Some(command) = rx.recv().await {
                if let Command::Peers(reply) = command {
                    let _ = reply.send(Vec::new());
                }
            }
        });
        NetworkHandle { tx, resync }
    }
}

/// The network's tasks, stopped together.
pub struct NetworkTasks {
    event_loop: JoinHandle<()>,
    stop: Option<oneshot::Sender<()>>,
    courier: JoinHandle<()>,
    reconciler: JoinHandle<()>,
}

impl NetworkTasks {
    /// Stops every task and waits until they (and what they hold: the
    /// router's workers hold the service, and with it the store) are gone.
    pub async fn shutdown(mut self) {
        self.courier.abort();
        self.reconciler.abort();
        let _ = self.courier.await;
        let _ = self.reconciler.await;
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = self.event_loop.await;
    }
}

/// Starts the network: builds the swarm with the organisation's key,
/// listens, dials bootstrap and known peers, gossips every record that
/// arrives on `published` (see [`outbound_channel`]), and serves other
/// nodes through the router's workers.
pub async fn start(
    config: NetworkConfig,
    secret: [u8; 32],
    service: Service,
    published: mpsc::Receiver<Envelope>,
) -> Result<(NetworkHandle, NetworkTasks), NetworkError> {
    let (tx, rx) = mpsc::channel(1024);
    let (events_tx, events_rx) = mpsc::channel(4096);
    let (differs_tx, differs_rx) = mpsc::channel(1024);
    let (resync_tx, resync_rx) = mpsc::channel(1);
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .max(2);
    let svc = service.clone();
    let known_peers = tokio::task::spawn_blocking(move || svc.replica().peers())
        .await
        .map_err(|e| NetworkError::Setup(e.to_string()))?
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot read the peer book; starting without it");
            Vec::new()
        });
    let router = router::Router::start(
        service.clone(),
        router::Outlets {
            commands: tx.clone(),
            differs: differs_tx,
        },
        workers,
    );
    let handle = NetworkHandle {
        tx,
        resync: resync_tx,
    };
    let event_loop = event_loop::EventLoop::new(
        &config,
        secret,
        service.clone(),
        event_loop::Wiring {
            commands: rx,
            published,
            router,
            peer_events: events_tx,
            known_peers,
        },
    )?;
    let (stop_tx, stop_rx) = oneshot::channel();
    let courier = tokio::spawn(courier::run(handle.clone(), service.clone()));
    let reconciler = tokio::spawn(reconciler::run(
        handle.clone(),
        service,
        config.reconcile_interval,
        reconciler::Inputs {
            events: events_rx,
            differs: differs_rx,
            resync: resync_rx,
        },
    ));
    let event_loop = tokio::spawn(event_loop.run(stop_rx));
    Ok((
        handle,
        NetworkTasks {
            event_loop,
            stop: Some(stop_tx),
            courier,
            reconciler,
        },
    ))
}
