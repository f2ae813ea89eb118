//! The event loop that alone owns the swarm: one `select!` over swarm
//! events, commands from handles, and records the service publishes.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use futures::StreamExt;
use libp2p::gossipsub::{self, IdentTopic, MessageAcceptance};
use libp2p::request_response::{self, OutboundRequestId};
use libp2p::swarm::SwarmEvent;
use libp2p::{
    Multiaddr, PeerId, Swarm, SwarmBuilder, Transport, identify, kad, mdns, noise, tcp, yamux,
};
use skillmesh_protocol::Envelope;
use tokio::sync::{mpsc, oneshot};

use super::behaviour::{
    self, Behaviour, BehaviourEvent, DISCONNECT_SCORE, INVALID_MESSAGE_PENALTY,
};
use super::wire::{DirectMessage, DirectReply, RECORDS_TOPIC, SyncResponse};
use super::{Command, NetworkConfig, NetworkError, NetworkHandle, PeerInfo, identity, sync};
use crate::policy::Admission;
use crate::service::{Ingested, Service};

/// How long a peer that sent too many invalid records is kept out.
const BAN_DURATION: Duration = Duration::from_secs(600);

/// The application's verdict on a gossip message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Accept,
    Ignore,
    Reject,
}

pub(crate) struct EventLoop {
    swarm: Swarm<Behaviour>,
    commands: mpsc::Receiver<Command>,
    published: mpsc::UnboundedReceiver<Envelope>,
    handle: NetworkHandle,
    service: Service,
    topic: IdentTopic,
    listen_addrs: Vec<Multiaddr>,
    pending_sync: HashMap<OutboundRequestId, oneshot::Sender<Result<SyncResponse, NetworkError>>>,
    pending_direct: HashMap<OutboundRequestId, oneshot::Sender<Result<DirectReply, NetworkError>>>,
    connected: HashMap<PeerId, Multiaddr>,
    invalid: HashMap<PeerId, u32>,
    banned: HashMap<PeerId, Instant>,
    syncing: HashSet<PeerId>,
    bootstrap: Vec<Multiaddr>,
}

impl EventLoop {
    pub(crate) async fn new(
        config: &NetworkConfig,
        secret: [u8; 32],
        service: Service,
        handle: NetworkHandle,
        commands: mpsc::Receiver<Command>,
        published: mpsc::UnboundedReceiver<Envelope>,
    ) -> Result<Self, NetworkError> {
        let key = identity::keypair(secret).map_err(NetworkError::Setup)?;
        let mdns_on = config.mdns;
        let setup = |e: &dyn std::fmt::Display| NetworkError::Setup(e.to_string());
        let idle = config.idle_timeout;
        let make_behaviour = move |key: &libp2p::identity::Keypair| {
            behaviour::build(key, mdns_on).map_err(Box::<dyn std::error::Error + Send + Sync>::from)
        };
        let mut swarm = match config.psk {
            // Open network: TCP (noise, yamux) and QUIC.
            None => SwarmBuilder::with_existing_identity(key)
                .with_tokio()
                .with_tcp(
                    tcp::Config::default().nodelay(true),
                    noise::Config::new,
                    yamux::Config::default,
                )
                .map_err(|e| setup(&e))?
                .with_quic()
                .with_behaviour(make_behaviour)
                .map_err(|e| setup(&e))?
                .with_swarm_config(|c| c.with_idle_connection_timeout(idle))
                .build(),
            // Private network: the pre-shared-key handshake runs first on
            // every TCP connection, then noise and yamux as usual.
            Some(psk) => SwarmBuilder::with_existing_identity(key)
                .with_tokio()
                .with_other_transport(|key| {
                    let noise = noise::Config::new(key)?;
                    Ok::<_, Box<dyn std::error::Error + Send + Sync>>(
                        tcp::tokio::Transport::new(tcp::Config::default().nodelay(true))
                            .and_then(move |socket, _| {
                                libp2p::pnet::PnetConfig::new(psk).handshake(socket)
                            })
                            .upgrade(libp2p::core::upgrade::Version::V1)
                            .authenticate(noise)
                            .multiplex(yamux::Config::default())
                            .timeout(Duration::from_secs(20)),
                    )
                })
                .map_err(|e| setup(&e))?
                .with_behaviour(make_behaviour)
                .map_err(|e| setup(&e))?
                .with_swarm_config(|c| c.with_idle_connection_timeout(idle))
                .build(),
        };
        let topic = IdentTopic::new(RECORDS_TOPIC);
        swarm
            .behaviour_mut()
            .gossipsub
            .subscribe(&topic)
            .map_err(|e| setup(&e))?;
        for addr in &config.listen {
            swarm
                .listen_on(addr.clone())
                .map_err(|e| NetworkError::Listen {
                    addr: addr.to_string(),
                    reason: e.to_string(),
                })?;
        }
        for addr in &config.bootstrap {
            if let Err(e) = swarm.dial(addr.clone()) {
                tracing::warn!(%addr, error = %e, "cannot dial bootstrap peer");
            }
        }
        Ok(EventLoop {
            swarm,
            commands,
            published,
            handle,
            service,
            topic,
            listen_addrs: Vec::new(),
            pending_sync: HashMap::new(),
            pending_direct: HashMap::new(),
            connected: HashMap::new(),
            invalid: HashMap::new(),
            banned: HashMap::new(),
            syncing: HashSet::new(),
            bootstrap: config.bootstrap.clone(),
        })
    }

    pub(crate) async fn run(mut self) {
        let mut housekeeping = tokio::time::interval(Duration::from_secs(60));
        loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                command = self.commands.recv() => match command {
                    Some(c) => self.on_command(c),
                    None => break,
                },
                Some(envelope) = self.published.recv() => self.publish(envelope.into_bytes()),
                _ = housekeeping.tick() => self.housekeeping(),
            }
        }
        tracing::debug!("network task stopped");
    }

    fn publish(&mut self, data: Vec<u8>) {
        match self
            .swarm
            .behaviour_mut()
            .gossipsub
            .publish(self.topic.clone(), data)
        {
            Ok(_) => {}
            Err(gossipsub::PublishError::NoPeersSubscribedToTopic)
            | Err(gossipsub::PublishError::Duplicate) => {
                tracing::debug!(
                    "record not gossiped now (no peers or duplicate); sync will carry it"
                );
            }
            Err(e) => tracing::warn!(error = %e, "gossip publish failed"),
        }
    }

    fn housekeeping(&mut self) {
        let now = Instant::now();
        self.banned.retain(|_, until| *until > now);
        let service = self.service.clone();
        tokio::task::spawn_blocking(move || match service.purge_expired() {
            Ok(0) => {}
            Ok(n) => tracing::info!(records = n, "dropped expired records"),
            Err(e) if e.store_fault().is_some() => {
                tracing::debug!(error = %e, "purging expired records failed");
            }
            Err(e) => tracing::warn!(error = %e, "purging expired records failed"),
        });
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::PublishRaw { data, reply } => {
                let r = self
                    .swarm
                    .behaviour_mut()
                    .gossipsub
                    .publish(self.topic.clone(), data)
                    .map(|_| ())
                    .map_err(|e| NetworkError::Request(e.to_string()));
                let _ = reply.send(r);
            }
            Command::Dial { addr, reply } => {
                let r = self
                    .swarm
                    .dial(addr)
                    .map_err(|e| NetworkError::Request(e.to_string()));
                let _ = reply.send(r);
            }
            Command::ListenAddrs(reply) => {
                let _ = reply.send(self.listen_addrs.clone());
            }
            Command::Status(reply) => {
                let _ = reply.send(self.status());
            }
            Command::Peers(reply) => {
                let peers = self
                    .connected
                    .iter()
                    .map(|(p, a)| PeerInfo {
                        peer: p.to_string(),
                        org: identity::org_of(p),
                        address: a.to_string(),
                    })
                    .collect();
                let _ = reply.send(peers);
            }
            Command::Sync {
                peer,
                request,
                reply,
            } => {
                let id = self.swarm.behaviour_mut().sync.send_request(&peer, request);
                self.pending_sync.insert(id, reply);
            }
            Command::Direct {
                peer,
                message,
                reply,
            } => {
                let id = self
                    .swarm
                    .behaviour_mut()
                    .direct
                    .send_request(&peer, message);
                self.pending_direct.insert(id, reply);
            }
            Command::DirectRespond { channel, reply } => {
                if self
                    .swarm
                    .behaviour_mut()
                    .direct
                    .send_response(channel, reply)
                    .is_err()
                {
                    tracing::debug!("direct reply not sent: the peer went away");
                }
            }
            Command::SyncRespond { channel, response } => {
                if self
                    .swarm
                    .behaviour_mut()
                    .sync
                    .send_response(channel, response)
                    .is_err()
                {
                    tracing::debug!("sync response not sent: the peer went away");
                }
            }
            Command::Validated {
                id,
                source,
                verdict,
            } => self.on_validated(id, source, verdict),
            Command::DisconnectOrg(org) => {
                if let Some(peer) = identity::peer_id(&org) {
                    let _ = self.swarm.disconnect_peer_id(peer);
                }
            }
            Command::ResyncAll => {
                let peers: Vec<PeerId> = self.connected.keys().copied().collect();
                for peer in peers {
                    self.start_sync(peer);
                }
            }
            Command::SyncDone(peer) => {
                self.syncing.remove(&peer);
            }
        }
    }

    fn status(&self) -> super::NetworkStatus {
        let me = *self.swarm.local_peer_id();
        let with_id = |a: &Multiaddr| a.clone().with_p2p(me).unwrap_or_else(|a| a).to_string();
        super::NetworkStatus {
            peer_id: me.to_string(),
            listen_addrs: self.listen_addrs.iter().map(with_id).collect(),
            peers: self.connected.len(),
            trying: if self.connected.is_empty() {
                self.bootstrap.iter().map(ToString::to_string).collect()
            } else {
                Vec::new()
            },
        }
    }

    fn on_validated(&mut self, id: gossipsub::MessageId, source: PeerId, verdict: Verdict) {
        let acceptance = match verdict {
            Verdict::Accept => MessageAcceptance::Accept,
            Verdict::Ignore => MessageAcceptance::Ignore,
            Verdict::Reject => MessageAcceptance::Reject,
        };
        let gossip = &mut self.swarm.behaviour_mut().gossipsub;
        gossip.report_message_validation_result(&id, &source, acceptance);
        if verdict != Verdict::Reject {
            return;
        }
        let count = self.invalid.entry(source).or_default();
        *count += 1;
        let score = INVALID_MESSAGE_PENALTY * f64::from(*count);
        gossip.set_application_score(&source, score);
        tracing::warn!(peer = %source, invalid = *count, score, "peer sent an invalid record");
        if score <= DISCONNECT_SCORE {
            tracing::warn!(peer = %source, "disconnecting peer: too many invalid records");
            self.banned.insert(source, Instant::now() + BAN_DURATION);
            let _ = self.swarm.disconnect_peer_id(source);
        }
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr { address, .. } => {
                tracing::info!(%address, "listening for peers");
                self.listen_addrs.push(address);
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                endpoint,
                num_established,
                ..
            } => {
                self.on_connected(
                    peer_id,
                    endpoint.get_remote_address().clone(),
                    num_established.get(),
                );
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } => {
                self.connected.remove(&peer_id);
                tracing::info!(peer = %peer_id, "peer disconnected");
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                tracing::debug!(peer = ?peer_id, error = %error, "dial failed");
            }
            SwarmEvent::Behaviour(event) => self.on_behaviour_event(event),
            _ => {}
        }
    }

    fn on_connected(&mut self, peer: PeerId, address: Multiaddr, connections: u32) {
        if self.banned.contains_key(&peer) {
            let _ = self.swarm.disconnect_peer_id(peer);
            return;
        }
        let Some(org) = identity::org_of(&peer) else {
            tracing::warn!(%peer, "peer id is not an ed25519 organisation key; disconnecting");
            let _ = self.swarm.disconnect_peer_id(peer);
            return;
        };
        match self.service.admission(&org) {
            Ok(Admission::Blocked) => {
                tracing::info!(org = %org.short(), "refusing connection from a blocked organisation");
                let _ = self.swarm.disconnect_peer_id(peer);
                return;
            }
            Ok(Admission::NotAllowed) => {
                // Allowlist mode: it may stay connected (it can still see
                // what we publish) but nothing of it is let in until an
                // admin accepts it from the "wants to join" queue.
                let service = self.service.clone();
                tokio::task::spawn_blocking(move || {
                    if let Err(e) = service.note_join_request(&org, None) {
                        tracing::warn!(error = %e, "cannot queue a join request");
                    }
                });
            }
            Ok(Admission::Accept) => {}
            Err(e) => tracing::warn!(error = %e, "cannot read policy"),
        }
        self.connected.insert(peer, address.clone());
        self.swarm.behaviour_mut().kad.add_address(&peer, address);
        if connections == 1 {
            tracing::info!(%peer, org = %org.short(), "peer connected");
        }
        // Anything waiting for this organisation can go now.
        self.service.deliveries_changed();
        self.start_sync(peer);
    }

    /// Starts catch-up sync with `peer` unless one is already running.
    fn start_sync(&mut self, peer: PeerId) {
        if self.syncing.insert(peer) {
            let handle = self.handle.clone();
            let service = self.service.clone();
            tokio::spawn(async move {
                match sync::catch_up(&handle, &service, peer).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(%peer, records = n, "caught up from peer"),
                    Err(e) => tracing::info!(%peer, error = %e, "catch-up sync ended early"),
                }
                let _ = handle.tx.send(Command::SyncDone(peer)).await;
            });
        }
    }

    fn on_behaviour_event(&mut self, event: BehaviourEvent) {
        match event {
            BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            }) => {
                let service = self.service.clone();
                let tx = self.handle.tx.clone();
                tokio::task::spawn_blocking(move || {
                    let from = format!("peer:{propagation_source}");
                    let verdict = match service.ingest(&message.data, &from) {
                        Ok(Ok(Ingested::Stored(_))) => Verdict::Accept,
                        Ok(Ok(_)) => Verdict::Ignore,
                        Ok(Err(_)) => Verdict::Reject,
                        // Logged once by the store when the fault began.
                        Err(e) if e.store_fault().is_some() => {
                            tracing::debug!(error = %e, "storing a gossiped record failed");
                            Verdict::Ignore
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "storing a gossiped record failed");
                            Verdict::Ignore
                        }
                    };
                    let _ = tx.blocking_send(Command::Validated {
                        id: message_id,
                        source: propagation_source,
                        verdict,
                    });
                });
            }
            BehaviourEvent::Sync(request_response::Event::Message { peer, message, .. }) => {
                match message {
                    request_response::Message::Request {
                        request, channel, ..
                    } => {
                        let service = self.service.clone();
                        let tx = self.handle.tx.clone();
                        tokio::task::spawn_blocking(move || {
                            let response = sync::answer(&service, &peer, request);
                            let _ = tx.blocking_send(Command::SyncRespond { channel, response });
                        });
                    }
                    request_response::Message::Response {
                        request_id,
                        response,
                    } => {
                        if let Some(reply) = self.pending_sync.remove(&request_id) {
                            let _ = reply.send(Ok(response));
                        }
                    }
                }
            }
            BehaviourEvent::Sync(request_response::Event::OutboundFailure {
                request_id,
                error,
                ..
            }) => {
                if let Some(reply) = self.pending_sync.remove(&request_id) {
                    let _ = reply.send(Err(NetworkError::Request(error.to_string())));
                }
            }
            BehaviourEvent::Direct(request_response::Event::Message { peer, message, .. }) => {
                match message {
                    request_response::Message::Request {
                        request, channel, ..
                    } => {
                        let service = self.service.clone();
                        let tx = self.handle.tx.clone();
                        tokio::task::spawn_blocking(move || {
                            let reply = answer_direct(&service, &peer, request);
                            let _ = tx.blocking_send(Command::DirectRespond { channel, reply });
                        });
                    }
                    request_response::Message::Response {
                        request_id,
                        response,
                    } => {
                        if let Some(reply) = self.pending_direct.remove(&request_id) {
                            let _ = reply.send(Ok(response));
                        }
                    }
                }
            }
            BehaviourEvent::Direct(request_response::Event::OutboundFailure {
                request_id,
                error,
                ..
            }) => {
                if let Some(reply) = self.pending_direct.remove(&request_id) {
                    let _ = reply.send(Err(NetworkError::Request(error.to_string())));
                }
            }
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                for addr in info.listen_addrs {
                    self.swarm.behaviour_mut().kad.add_address(&peer_id, addr);
                }
            }
            // Organisation networks are small: connect to every node we learn of.
            BehaviourEvent::Kad(kad::Event::RoutingUpdated {
                peer, addresses, ..
            }) if !self.swarm.is_connected(&peer) && !self.banned.contains_key(&peer) => {
                let opts = libp2p::swarm::dial_opts::DialOpts::peer_id(peer)
                    .addresses(addresses.into_vec())
                    .build();
                let _ = self.swarm.dial(opts);
            }
            BehaviourEvent::Mdns(mdns::Event::Discovered(found)) => {
                for (peer, addr) in found {
                    let _ = self.swarm.dial(
                        libp2p::swarm::dial_opts::DialOpts::peer_id(peer)
                            .addresses(vec![addr])
                            .build(),
                    );
                }
            }
            _ => {}
        }
    }
}

/// Handles a direct message from `peer` with the service.
fn answer_direct(service: &Service, peer: &PeerId, message: DirectMessage) -> DirectReply {
    let Some(sender) = identity::org_of(peer) else {
        return DirectReply::Refused {
            reason: "peer is not an organisation".into(),
        };
    };
    let (result, ok) = match &message {
        DirectMessage::Request { envelope } => (
            service.receive_request(envelope, sender),
            DirectReply::Queued,
        ),
        DirectMessage::Answer { envelope } => (
            service.receive_answer(envelope, sender),
            DirectReply::Received,
        ),
        DirectMessage::Kudos { envelope } => (
            service.receive_kudos(envelope, sender),
            DirectReply::Received,
        ),
        DirectMessage::FollowerCount { envelope } => (
            service.receive_follower_count(envelope, sender),
            DirectReply::Received,
        ),
    };
    match result {
        Ok(Ok(())) => ok,
        // Over the rate limit: the sender keeps it and tries again later.
        Ok(Err(refusal @ crate::requests::Refusal::RateLimited)) => DirectReply::TryLater {
            reason: refusal.to_string(),
        },
        Ok(Err(refusal)) => DirectReply::Refused {
            reason: refusal.to_string(),
        },
        Err(e) if e.store_fault().is_some() => {
            tracing::debug!(error = %e, "handling a direct message failed");
            DirectReply::TryLater {
                reason: "the node cannot save changes right now".into(),
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "handling a direct message failed");
            DirectReply::TryLater {
                reason: "internal error".into(),
            }
        }
    }
}
