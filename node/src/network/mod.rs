//! The network: one libp2p swarm per node, owned by one event-loop task.
//! The rest of the node talks to it through [`NetworkHandle`], a cheap
//! clonable handle that sends typed commands; raw libp2p types stop here.

mod behaviour;
mod courier;
mod event_loop;
pub mod identity;
pub mod sync;
pub mod wire;

use std::time::Duration;

use libp2p::{Multiaddr, PeerId};
use skillmesh_protocol::OrgKey;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::service::Service;
pub use wire::{DirectMessage, DirectReply, SyncRequest, SyncResponse};

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
        reply: oneshot::Sender<Result<SyncResponse, NetworkError>>,
    },
    Direct {
        peer: PeerId,
        message: DirectMessage,
        reply: oneshot::Sender<Result<DirectReply, NetworkError>>,
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
        verdict: event_loop::Verdict,
    },
    DisconnectOrg(OrgKey),
    ResyncAll,
    SyncDone(PeerId),
}

/// The typed handle to the network task.
#[derive(Clone)]
pub struct NetworkHandle {
    tx: mpsc::Sender<Command>,
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

    /// Runs catch-up sync with every connected peer (after a policy change
    /// let an organisation in).
    pub async fn resync_all(&self) -> Result<(), NetworkError> {
        self.tx
            .send(Command::ResyncAll)
            .await
            .map_err(|_| NetworkError::Stopped)
    }

    /// Disconnects every peer of `org` (after it was blocked).
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
        tokio::spawn(async move {
            while let Some(command) = rx.recv().await {
                if let Command::Peers(reply) = command {
                    let _ = reply.send(Vec::new());
                }
            }
        });
        NetworkHandle { tx }
    }
}

/// The network's tasks, stopped together.
pub struct NetworkTasks {
    event_loop: JoinHandle<()>,
    courier: JoinHandle<()>,
}

impl NetworkTasks {
    /// Stops both tasks and waits until they (and what they hold) are gone.
    pub async fn shutdown(self) {
        self.courier.abort();
        self.event_loop.abort();
        let _ = self.courier.await;
        let _ = self.event_loop.await;
    }
}

/// Starts the network task: builds the swarm with the organisation's key,
/// listens, dials bootstrap peers, and gossips every record the service
/// publishes.
pub async fn start(
    config: NetworkConfig,
    secret: [u8; 32],
    service: Service,
) -> Result<(NetworkHandle, NetworkTasks), NetworkError> {
    let (tx, rx) = mpsc::channel(1024);
    let handle = NetworkHandle { tx: tx.clone() };
    let (published_tx, published_rx) = mpsc::unbounded_channel();
    service.set_outbound(published_tx);
    let event_loop = event_loop::EventLoop::new(
        &config,
        secret,
        service.clone(),
        handle.clone(),
        rx,
        published_rx,
    )
    .await?;
    let courier = tokio::spawn(courier::run(handle.clone(), service.clone()));
    let event_loop = tokio::spawn(event_loop.run());
    Ok((
        handle,
        NetworkTasks {
            event_loop,
            courier,
        },
    ))
}
