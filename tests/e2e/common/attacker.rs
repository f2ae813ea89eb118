#![allow(dead_code)]

//! A misbehaving organisation's node, written against the wire protocol as
//! docs/PROTOCOL.md §Network specifies it (gossipsub on
//! `skillmesh/records/1`, CBOR request-response on `/skillmesh/sync/2` and
//! `/skillmesh/direct/1`), not through the node's own network code: its
//! own libp2p swarm, its own message types, answers to sync requests that
//! it makes up, and direct messages it sends as it likes.
//!
//! It signs records with `skillmesh_protocol::seal` (the record format),
//! and can publish any bytes it likes. Test files that use it include it
//! with `#[path = "common/attacker.rs"] mod attacker;` (only they link a
//! libp2p swarm of their own).

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use libp2p::gossipsub::{self, IdentTopic, MessageAuthenticity, MessageId, ValidationMode};
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, StreamProtocol, identify, noise, ping, tcp, yamux};
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

pub const TOPIC: &str = "skillmesh/records/1";

/// `/skillmesh/sync/2` requests, as PROTOCOL.md gives them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SyncRequest {
    Digest {
        fingerprint: ByteBuf,
        count: u64,
        settled: Option<ByteBuf>,
    },
    Ranges {
        org: String,
        ranges: Vec<IdRange>,
    },
    Peers,
    Summary,
    Ids {
        org: String,
        after: Option<String>,
        limit: u32,
    },
    Fetch {
        org: String,
        ids: Vec<String>,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdRange {
    pub lower: String,
    pub upper: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrgFingerprint {
    pub org: String,
    pub count: u64,
    pub fingerprint: ByteBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RangePart {
    pub lower: String,
    pub upper: Option<String>,
    pub count: u64,
    pub fingerprint: Option<ByteBuf>,
    pub ids: Option<Vec<(String, u64, ByteBuf)>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KnownPeer {
    pub peer: String,
    pub addrs: Vec<String>,
}

/// `/skillmesh/sync/2` responses.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SyncResponse {
    InSync,
    Unchanged,
    Fingerprints {
        fingerprint: ByteBuf,
        count: u64,
        orgs: Vec<OrgFingerprint>,
    },
    Ranges {
        parts: Vec<RangePart>,
    },
    Peers {
        peers: Vec<KnownPeer>,
    },
    TryLater {
        reason: String,
    },
    Summary {
        orgs: Vec<serde_json::Value>,
    },
    Ids {
        ids: Vec<(String, u64)>,
        more: bool,
    },
    Records {
        envelopes: Vec<ByteBuf>,
    },
    Refused {
        reason: String,
    },
}

/// `/skillmesh/direct/1` messages (the attacker sends only requests).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DirectMessage {
    Request { envelope: ByteBuf },
}

/// `/skillmesh/direct/1` replies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DirectReply {
    Queued,
    Received,
    Refused {
        reason: String,
        #[serde(default)]
        answer: Option<ByteBuf>,
    },
    TryLater {
        reason: String,
    },
}

#[derive(NetworkBehaviour)]
struct Behaviour {
    gossipsub: gossipsub::Behaviour,
    sync: request_response::cbor::Behaviour<SyncRequest, SyncResponse>,
    direct: request_response::cbor::Behaviour<DirectMessage, DirectReply>,
    identify: identify::Behaviour,
    ping: ping::Behaviour,
}

/// How the attacker answers a sync request.
pub type Answer = Box<dyn FnMut(&SyncRequest) -> SyncResponse + Send>;

/// Answers every sync request as a node in agreement would.
pub fn in_sync() -> Answer {
    Box::new(|request| match request {
        SyncRequest::Peers => SyncResponse::Peers { peers: vec![] },
        _ => SyncResponse::InSync,
    })
}

type DirectResult = Result<DirectReply, String>;

enum Command {
    Dial(Multiaddr),
    /// Data to publish; told whether gossipsub took it (it refuses when
    /// no peer on the topic is connected).
    Publish(Vec<u8>, Option<oneshot::Sender<bool>>),
    Direct {
        peer: PeerId,
        addr: Multiaddr,
        message: DirectMessage,
        reply: oneshot::Sender<DirectResult>,
    },
}

/// What the attacker saw.
#[derive(Debug, Clone)]
pub enum Seen {
    Request(SyncRequest),
    Closed(PeerId),
}

/// A running attacker node.
pub struct Attacker {
    pub peer: PeerId,
    commands: mpsc::Sender<Command>,
    pub seen: mpsc::UnboundedReceiver<Seen>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Attacker {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Attacker {
    /// Starts an attacker with identity `key` (its peer id is the org key,
    /// as for every node) that answers sync requests with `answer`.
    pub fn start(key: libp2p::identity::Keypair, mut answer: Answer) -> Attacker {
        let peer = key.public().to_peer_id();
        let mut swarm = libp2p::SwarmBuilder::with_existing_identity(key)
            .with_tokio()
            .with_tcp(
                tcp::Config::default().nodelay(true),
                noise::Config::new,
                yamux::Config::default,
            )
            .expect("tcp")
            .with_behaviour(|key| {
                let config = gossipsub::ConfigBuilder::default()
                    .validation_mode(ValidationMode::Strict)
                    .message_id_fn(|m: &gossipsub::Message| {
                        MessageId::from(Sha256::digest(&m.data).to_vec())
                    })
                    .max_transmit_size(1 << 20)
                    .heartbeat_interval(Duration::from_millis(200))
                    .build()
                    .expect("gossipsub config");
                let gossipsub =
                    gossipsub::Behaviour::new(MessageAuthenticity::Signed(key.clone()), config)
                        .expect("gossipsub");
                let sync = request_response::cbor::Behaviour::new(
                    [(
                        StreamProtocol::new("/skillmesh/sync/2"),
                        ProtocolSupport::Full,
                    )],
                    request_response::Config::default()
                        .with_request_timeout(Duration::from_secs(30)),
                );
                let direct = request_response::cbor::Behaviour::new(
                    [(
                        StreamProtocol::new("/skillmesh/direct/1"),
                        ProtocolSupport::Outbound,
                    )],
                    request_response::Config::default()
                        .with_request_timeout(Duration::from_secs(30)),
                );
                Behaviour {
                    gossipsub,
                    sync,
                    direct,
                    identify: identify::Behaviour::new(identify::Config::new(
                        "/skillmesh/1".into(),
                        key.public(),
                    )),
                    ping: ping::Behaviour::new(ping::Config::new()),
                }
            })
            .expect("behaviour")
            .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
            .build();
        let topic = IdentTopic::new(TOPIC);
        swarm
            .behaviour_mut()
            .gossipsub
            .subscribe(&topic)
            .expect("subscribe");
        swarm
            .listen_on("/ip4/127.0.0.1/tcp/0".parse().expect("addr"))
            .expect("listen");
        let (commands, mut rx) = mpsc::channel::<Command>(64);
        let (seen_tx, seen) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            let mut waiting: HashMap<
                request_response::OutboundRequestId,
                oneshot::Sender<DirectResult>,
            > = HashMap::new();
            loop {
                tokio::select! {
                    command = rx.recv() => match command {
                        Some(Command::Dial(addr)) => {
                            let _ = swarm.dial(addr);
                        }
                        Some(Command::Publish(data, sent)) => {
                            let ok = swarm.behaviour_mut().gossipsub.publish(topic.clone(), data).is_ok();
                            if let Some(sent) = sent {
                                let _ = sent.send(ok);
                            }
                        }
                        Some(Command::Direct { peer, addr, message, reply }) => {
                            let id = swarm
                                .behaviour_mut()
                                .direct
                                .send_request_with_addresses(&peer, message, vec![addr]);
                            waiting.insert(id, reply);
                        }
                        None => break,
                    },
                    event = swarm.select_next_some() => match event {
                        SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. } => {
                            let _ = seen_tx.send(Seen::Closed(peer_id));
                        }
                        SwarmEvent::Behaviour(BehaviourEvent::Direct(
                            request_response::Event::Message {
                                message: request_response::Message::Response { request_id, response },
                                ..
                            },
                        )) => {
                            if let Some(reply) = waiting.remove(&request_id) {
                                let _ = reply.send(Ok(response));
                            }
                        }
                        SwarmEvent::Behaviour(BehaviourEvent::Direct(
                            request_response::Event::OutboundFailure { request_id, error, .. },
                        )) => {
                            if let Some(reply) = waiting.remove(&request_id) {
                                let _ = reply.send(Err(error.to_string()));
                            }
                        }
                        SwarmEvent::Behaviour(BehaviourEvent::Sync(
                            request_response::Event::Message {
                                message: request_response::Message::Request { request, channel, .. },
                                ..
                            },
                        )) => {
                            let response = answer(&request);
                            let _ = seen_tx.send(Seen::Request(request));
                            let _ = swarm.behaviour_mut().sync.send_response(channel, response);
                        }
                        _ => {}
                    },
                }
            }
        });
        Attacker {
            peer,
            commands,
            seen,
            task,
        }
    }

    /// Dials `addr` (a node's listen address).
    pub async fn dial(&self, addr: &str) {
        let addr: Multiaddr = addr.parse().expect("multiaddr");
        self.commands
            .send(Command::Dial(addr))
            .await
            .expect("attacker running");
    }

    /// Publishes `data` on the records topic as it is.
    pub async fn publish(&self, data: Vec<u8>) {
        self.commands
            .send(Command::Publish(data, None))
            .await
            .expect("attacker running");
    }

    /// Publishes `data` on the records topic as it is; whether gossipsub
    /// sent it (false when no peer on the topic is connected).
    pub async fn try_publish(&self, data: Vec<u8>) -> bool {
        let (sent, rx) = oneshot::channel();
        self.commands
            .send(Command::Publish(data, Some(sent)))
            .await
            .expect("attacker running");
        rx.await.unwrap_or(false)
    }

    /// Sends the request `envelope` to the node of `org` at `addr` (dialled
    /// if need be) and waits for its reply.
    pub async fn request(
        &self,
        org: skillmesh_protocol::OrgKey,
        addr: &Multiaddr,
        envelope: Vec<u8>,
    ) -> DirectResult {
        let peer = peer_of(&org);
        let (reply, rx) = oneshot::channel();
        self.commands
            .send(Command::Direct {
                peer,
                addr: addr.clone(),
                message: DirectMessage::Request {
                    envelope: ByteBuf::from(envelope),
                },
                reply,
            })
            .await
            .expect("attacker running");
        rx.await.expect("attacker answers")
    }
}

/// The peer id of `org`'s node (its key, as an ed25519 libp2p identity).
pub fn peer_of(org: &skillmesh_protocol::OrgKey) -> PeerId {
    let key = libp2p::identity::ed25519::PublicKey::try_from_bytes(org.as_bytes()).expect("key");
    PeerId::from(libp2p::identity::PublicKey::from(key))
}

/// `body` as record `id` (`seq` 1, valid for an hour from now) of the
/// organisation of `key`, sealed.
pub fn signed(
    key: &ed25519_dalek::SigningKey,
    id: &str,
    body: skillmesh_protocol::Body,
) -> Vec<u8> {
    let now = skillmesh_node::clock::now();
    signed_at(key, id, body, now, now + 3600)
}

/// `body` as record `id` (`seq` 1) of the organisation of `key`, issued
/// at `issued_at` and expiring at `expires_at` (unix seconds), sealed:
/// correctly signed whatever its times say.
pub fn signed_at(
    key: &ed25519_dalek::SigningKey,
    id: &str,
    body: skillmesh_protocol::Body,
    issued_at: i64,
    expires_at: i64,
) -> Vec<u8> {
    let record = skillmesh_protocol::Record {
        header: skillmesh_protocol::Header {
            version: skillmesh_protocol::RECORD_VERSION,
            org: skillmesh_protocol::OrgKey::from(&key.verifying_key()),
            id: id.into(),
            seq: 1,
            issued_at,
            expires_at,
        },
        body,
    };
    skillmesh_protocol::seal(&record, key)
        .expect("seal")
        .into_bytes()
}

/// Request number `i` from the organisation of `key` (as "Mallory") for
/// offer `offer_id` of `target`, signed by that key.
pub fn signed_request(
    key: &ed25519_dalek::SigningKey,
    target: skillmesh_protocol::OrgKey,
    offer_id: &str,
    i: u32,
) -> Vec<u8> {
    use skillmesh_protocol::{Body, OrgKey, kinds::Request};
    let org = OrgKey::from(&key.verifying_key());
    let body = Body::Request(Request {
        offer_org: target,
        offer_id: offer_id.into(),
        requester: "mallory".into(),
        requester_name: Some("Mallory".into()),
        goal: "Let me in".into(),
        preferred_times: String::new(),
        message: String::new(),
        name_to_group: false,
        session: None,
        contribution: None,
        withdraw: None,
        ask: None,
    });
    signed(key, &format!("req-flood-{}-{i}", org.short()), body)
}

/// The libp2p identity of the organisation whose records `key` signs.
pub fn identity_of(key: &ed25519_dalek::SigningKey) -> libp2p::identity::Keypair {
    libp2p::identity::Keypair::ed25519_from_bytes(key.to_bytes()).expect("ed25519 key")
}

/// A fresh ed25519 identity and the matching signing key for records.
pub fn fresh_identity() -> (libp2p::identity::Keypair, ed25519_dalek::SigningKey) {
    let secret: [u8; 32] = rand_bytes();
    let signing = ed25519_dalek::SigningKey::from_bytes(&secret);
    let mut bytes = secret;
    let key = libp2p::identity::Keypair::ed25519_from_bytes(&mut bytes).expect("ed25519 key");
    (key, signing)
}

fn rand_bytes() -> [u8; 32] {
    // Distinct enough for test identities: a hash of the time and a counter.
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut h = Sha256::new();
    h.update(n.to_be_bytes());
    h.update(t.to_be_bytes());
    h.update(std::process::id().to_be_bytes());
    h.finalize().into()
}

/// The value of the first Prometheus sample named `name` whose labels
/// contain `labels` (e.g. `fault="sync"`), in `text`; 0 when absent.
pub fn metric(text: &str, name: &str, labels: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && l.contains(labels))
        .filter_map(|l| l.rsplit(' ').next()?.parse().ok())
        .next()
        .unwrap_or(0.0)
}
