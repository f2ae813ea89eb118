//! The event loop that alone owns the swarm (the shape of rust-libp2p's
//! file-sharing example): one `select!` over swarm events, commands from
//! handles, records the service publishes and a dial tick. It moves bytes
//! and manages connections; it never does the application's work. What
//! other nodes send goes to the application router ([`Router`]) and comes
//! back as commands (verdicts, responses).
//!
//! Connections are kept honest here:
//! - **Peer book and redial** ([`PeerBook`]): every tick, while fewer than
//!   `target_peers` nodes are connected, the book names what is due to be
//!   dialled (bootstrap nodes and known partners, with backoff).
//! - **Liveness**: libp2p ping every [`PING_INTERVAL`] on every connection;
//!   a connection with no successful ping for [`LIVENESS_TIMEOUT`] (a cut
//!   link, a frozen peer) or a failed ping is closed, which puts the peer
//!   back in the book's hands to redial.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use libp2p::gossipsub::{self, IdentTopic, MessageAcceptance};
use libp2p::request_response::{self, OutboundRequestId};
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{ConnectionId, SwarmEvent};
use libp2p::{
    Multiaddr, PeerId, Swarm, SwarmBuilder, Transport, identify, mdns, noise, ping, tcp, yamux,
};
use skillmesh_protocol::{Envelope, OrgKey};
use tokio::sync::{mpsc, oneshot};

use super::behaviour::{self, Behaviour, BehaviourEvent};
use super::blocked::{BlockedPeers, Door};
use super::peer_book::{PeerBook, Target};
use super::penalties::{Fault, Penalties};
use super::reconciler::PeerEvent;
use super::router::{Router, Work};
use super::trim;
use super::wire::{DirectReply, RECORDS_TOPIC, SyncResponse};
use super::{
    Command, DirectReplyTx, NetworkConfig, NetworkError, NetworkStatus, PeerInfo, SyncReplyTx,
    identity,
};
use crate::clock;
use crate::policy::Admission;
use crate::service::{Service, Verdict};
use crate::store::PeerEntry;

/// How often each connection is pinged.
pub const PING_INTERVAL: Duration = Duration::from_secs(5);
/// A connection with no successful ping for this long is closed: two
/// pings have failed, so a dead link is noticed within about 15 s.
pub const LIVENESS_TIMEOUT: Duration = Duration::from_secs(14);
/// How often the event loop checks liveness and dials what is due.
const TICK: Duration = Duration::from_secs(1);
/// A dial that has not connected after this long fails.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(5);
/// While short of peers with nobody new to dial, ask for more this often
/// (the reconciler decides whom to ask, and how soon to ask one peer
/// again: see `reconciler::ASK_AGAIN_WHEN_SHORT`).
const WANT_PEERS_EVERY: Duration = Duration::from_secs(5);
/// The reply a peer gets when the router's queue for its message is full.
const BUSY: &str = "busy; try again later";

/// A connected peer.
struct Connected {
    org: OrgKey,
    address: Multiaddr,
    since: Instant,
    connections: HashMap<ConnectionId, Conn>,
}

/// One connection to a peer.
struct Conn {
    opened: Instant,
    /// When a ping on it last succeeded (or it opened).
    alive: Instant,
}

/// A connection that closes sooner than this after opening was turned away
/// (the peer has enough connections, or does not want ours): its peer is
/// dialled again only after a longer wait.
const TURNED_AWAY: Duration = Duration::from_secs(2);

pub(crate) struct EventLoop {
    swarm: Swarm<Behaviour>,
    commands: mpsc::Receiver<Command>,
    published: mpsc::Receiver<Envelope>,
    router: Router,
    peer_events: mpsc::Sender<PeerEvent>,
    service: Service,
    topic: IdentTopic,
    listen_addrs: Vec<Multiaddr>,
    pending_sync: HashMap<OutboundRequestId, SyncReplyTx>,
    pending_direct: HashMap<OutboundRequestId, DirectReplyTx>,
    connected: HashMap<PeerId, Connected>,
    /// Dials the peer book asked for, by connection.
    dialing: HashMap<ConnectionId, Target>,
    book: PeerBook,
    target_peers: usize,
    /// Peer scores and bans (see [`Penalties`]).
    penalties: Penalties,
    /// Blocked organisations' nodes: let in briefly to hear their
    /// refusals, then kept out longer each time (see [`BlockedPeers`]).
    blocked: BlockedPeers,
    /// Peers closed to trim, and until when they are turned away.
    trimmed: HashMap<PeerId, Instant>,
    /// When the node last asked for more peers to be found.
    last_want: Option<Instant>,
}

/// What the event loop is connected to on the application's side.
pub(crate) struct Wiring {
    pub commands: mpsc::Receiver<Command>,
    pub published: mpsc::Receiver<Envelope>,
    pub router: Router,
    pub peer_events: mpsc::Sender<PeerEvent>,
    pub known_peers: Vec<(OrgKey, PeerEntry)>,
}

impl EventLoop {
    pub(crate) fn new(
        config: &NetworkConfig,
        secret: [u8; 32],
        service: Service,
        wiring: Wiring,
    ) -> Result<Self, NetworkError> {
        let key = identity::keypair(secret).map_err(NetworkError::Setup)?;
        let mdns_on = config.mdns;
        let setup = |e: &dyn std::fmt::Display| NetworkError::Setup(e.to_string());
        let idle = config.idle_timeout;
        let target_peers = config.target_peers;
        let make_behaviour = move |key: &libp2p::identity::Keypair| {
            behaviour::build(key, mdns_on, target_peers)
                .map_err(Box::<dyn std::error::Error + Send + Sync>::from)
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
                .with_connection_timeout(CONNECTION_TIMEOUT)
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
                .with_connection_timeout(CONNECTION_TIMEOUT)
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
        let own = service.org();
        let known: Vec<OrgKey> = wiring.known_peers.iter().map(|(o, _)| *o).collect();
        let book = PeerBook::new(own, &config.bootstrap, wiring.known_peers, Instant::now());
        teach_addresses(&mut swarm, &book, &known);
        Ok(EventLoop {
            swarm,
            commands: wiring.commands,
            published: wiring.published,
            router: wiring.router,
            peer_events: wiring.peer_events,
            service,
            topic,
            listen_addrs: Vec::new(),
            pending_sync: HashMap::new(),
            pending_direct: HashMap::new(),
            connected: HashMap::new(),
            dialing: HashMap::new(),
            book,
            target_peers: config.target_peers,
            penalties: Penalties::default(),
            blocked: BlockedPeers::default(),
            trimmed: HashMap::new(),
            last_want: None,
        })
    }

    /// Runs until told to stop (or every handle is gone); then stops the
    /// router's workers.
    pub(crate) async fn run(mut self, mut stop: oneshot::Receiver<()>) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut housekeeping = tokio::time::interval(Duration::from_secs(60));
        loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                command = self.commands.recv() => match command {
                    Some(c) => self.on_command(c),
                    None => break,
                },
                Some(envelope) = self.published.recv() => self.publish(envelope.into_bytes()),
                _ = tick.tick() => self.on_tick(),
                _ = housekeeping.tick() => self.housekeeping(),
                _ = &mut stop => break,
            }
        }
        tracing::debug!("network task stopped");
        let EventLoop {
            router,
            commands,
            swarm,
            ..
        } = self;
        // Workers blocked handing back a reply see the channel closed.
        drop(commands);
        drop(swarm);
        let _ = tokio::task::spawn_blocking(move || router.shutdown()).await;
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
                    "record not gossiped now (no peers or duplicate); reconciliation will carry it"
                );
            }
            Err(e) => tracing::warn!(error = %e, "gossip publish failed"),
        }
    }

    fn on_tick(&mut self) {
        let now = Instant::now();
        // Liveness: close connections whose pings stopped coming back.
        let mut dead = Vec::new();
        for (peer, c) in &self.connected {
            for (id, conn) in &c.connections {
                if now.duration_since(conn.alive) > LIVENESS_TIMEOUT {
                    dead.push((*peer, *id));
                }
            }
        }
        for (peer, id) in dead {
            tracing::info!(%peer, "closing a connection that stopped answering pings");
            if let Some(c) = self.connected.get_mut(&peer) {
                c.connections.remove(&id);
            }
            self.swarm.close_connection(id);
        }
        for peer in self.blocked.grace_over(now) {
            tracing::debug!(%peer, "closing a blocked organisation's connection");
            let _ = self.swarm.disconnect_peer_id(peer);
        }
        self.trim(now);
        self.dial_due(now);
    }

    /// Closes connections above the high-water mark (see [`trim`]).
    fn trim(&mut self, now: Instant) {
        if self.connected.len() <= trim::high_water(self.target_peers) {
            return;
        }
        let mesh: std::collections::HashSet<PeerId> = self
            .swarm
            .behaviour()
            .gossipsub
            .all_mesh_peers()
            .copied()
            .collect();
        let candidates: Vec<trim::Candidate> = self
            .connected
            .iter()
            .map(|(peer, c)| trim::Candidate {
                peer: *peer,
                since: c.since,
                in_mesh: mesh.contains(peer),
                bootstrap: self.book.is_bootstrap(&c.org),
                // Asked now: an admin may have allowed it since it came.
                new: self.service.is_new_org(&c.org).unwrap_or(true),
            })
            .collect();
        for peer in trim::to_trim(&candidates, self.target_peers, now) {
            tracing::debug!(%peer, "closing a connection above the target");
            self.trimmed.insert(peer, now + trim::COOLDOWN);
            let _ = self.swarm.disconnect_peer_id(peer);
        }
    }

    /// Dials what the peer book says is due.
    fn dial_due(&mut self, now: Instant) {
        let connected: std::collections::HashSet<OrgKey> =
            self.connected.values().map(|c| c.org).collect();
        let banned: std::collections::HashSet<OrgKey> = self
            .penalties
            .banned(now)
            .filter_map(identity::org_of)
            .collect();
        let service = &self.service;
        let due = self.book.due(
            now,
            self.connected.len(),
            self.target_peers,
            |o| connected.contains(o),
            |o| banned.contains(o) || matches!(service.admission(o), Ok(Admission::Blocked)),
        );
        if due.is_empty()
            && !self.connected.is_empty()
            && self.connected.len() < self.target_peers
            && self
                .last_want
                .is_none_or(|t| now.duration_since(t) >= WANT_PEERS_EVERY)
        {
            self.last_want = Some(now);
            self.tell(PeerEvent::WantPeers);
        }
        for target in due {
            let opts = match &target {
                Target::Peer { peer, addrs, .. } => DialOpts::peer_id(*peer)
                    .addresses(addrs.clone())
                    .condition(PeerCondition::DisconnectedAndNotDialing)
                    .build(),
                Target::Address(addr) => DialOpts::unknown_peer_id().address(addr.clone()).build(),
            };
            let id = opts.connection_id();
            match self.swarm.dial(opts) {
                Ok(()) => {
                    tracing::debug!(?target, "dialling");
                    self.dialing.insert(id, target);
                }
                Err(e) => {
                    tracing::debug!(?target, error = %e, "cannot dial");
                    self.book.dial_failed(&target, now, clock::now());
                }
            }
        }
    }

    fn housekeeping(&mut self) {
        let now = Instant::now();
        for (peer, score) in self.penalties.decay(now) {
            self.swarm
                .behaviour_mut()
                .gossipsub
                .set_application_score(&peer, -score);
        }
        self.trimmed.retain(|_, until| *until > now);
        self.blocked.forget_old(now);
        for org in self.book.age_out(clock::now()) {
            self.persist_peer(org, None);
        }
    }

    /// Writes what the book says about `org` (or forgets it) in the store,
    /// off the event loop.
    fn persist_peer(&self, org: OrgKey, entry: Option<PeerEntry>) {
        let service = self.service.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = service.remember_peer(&org, entry.as_ref()) {
                tracing::debug!(error = %e, "cannot save the peer book");
            }
        });
    }

    fn status(&self) -> NetworkStatus {
        let me = *self.swarm.local_peer_id();
        let with_id = |a: &Multiaddr| a.clone().with_p2p(me).unwrap_or_else(|a| a).to_string();
        NetworkStatus {
            peer_id: me.to_string(),
            listen_addrs: self.listen_addrs.iter().map(with_id).collect(),
            peers: self.connected.len(),
            trying: if self.connected.is_empty() {
                self.book.trying()
            } else {
                Vec::new()
            },
        }
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
                    .map(|(p, c)| PeerInfo {
                        peer: p.to_string(),
                        org: Some(c.org),
                        address: c.address.to_string(),
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
                received,
            } => {
                self.service.metrics().gossip_verdict(received.elapsed());
                self.on_validated(id, source, verdict);
            }
            Command::Discovered(found) => {
                for (peer, addrs) in found {
                    self.on_heard(peer, addrs);
                }
                // Dial at once if the node wants more peers.
                self.dial_due(Instant::now());
            }
            Command::Penalise { peer, fault, why } => self.penalise(peer, fault, &why),
            Command::DisconnectOrg(org) => {
                if let Some(peer) = identity::peer_id(&org) {
                    let _ = self.swarm.disconnect_peer_id(peer);
                }
            }
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
        if verdict == Verdict::Reject {
            self.penalise(source, Fault::InvalidRecord, "sent an invalid record");
        }
    }

    /// Counts `fault` against `peer`; disconnects and bans it when its
    /// score reaches the threshold (see [`Penalties`]).
    fn penalise(&mut self, peer: PeerId, fault: Fault, why: &str) {
        let counted = self.penalties.count(peer, fault, Instant::now());
        self.swarm
            .behaviour_mut()
            .gossipsub
            .set_application_score(&peer, -counted.score);
        tracing::debug!(%peer, score = counted.score, why, "peer penalised");
        if let Some(duration) = counted.banned_for {
            tracing::warn!(
                %peer,
                org = ?identity::org_of(&peer).map(|o| o.short()),
                why,
                ban_secs = duration.as_secs(),
                "disconnecting and banning a misbehaving peer"
            );
            self.service.metrics().peer_banned(fault.as_str());
            let _ = self.swarm.disconnect_peer_id(peer);
        }
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr { address, .. } => {
                tracing::info!(%address, "listening for peers");
                self.listen_addrs.push(address);
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => {
                self.listen_addrs.retain(|a| a != &address);
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                endpoint,
                ..
            } => {
                self.dialing.remove(&connection_id);
                let dialed = endpoint
                    .is_dialer()
                    .then(|| endpoint.get_remote_address().clone());
                self.on_connected(
                    peer_id,
                    connection_id,
                    endpoint.get_remote_address().clone(),
                    dialed,
                );
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                connection_id,
                num_established,
                cause,
                ..
            } => {
                let now = Instant::now();
                let lived = self
                    .connected
                    .get_mut(&peer_id)
                    .and_then(|c| c.connections.remove(&connection_id))
                    .map(|conn| now.duration_since(conn.opened));
                if num_established == 0
                    && let Some(c) = self.connected.remove(&peer_id)
                {
                    self.service.metrics().set_peers(self.connected.len());
                    tracing::info!(peer = %peer_id, cause = ?cause.map(|c| c.to_string()), "peer disconnected");
                    if lived.is_some_and(|l| l < TURNED_AWAY) {
                        self.book.turned_away(&c.org, now);
                    } else {
                        self.book.disconnected(&c.org, now);
                    }
                    self.tell(PeerEvent::Disconnected(peer_id));
                }
            }
            SwarmEvent::OutgoingConnectionError {
                connection_id,
                peer_id,
                error,
                ..
            } => {
                tracing::debug!(peer = ?peer_id, error = %error, "dial failed");
                if let Some(target) = self.dialing.remove(&connection_id) {
                    self.book.dial_failed(&target, Instant::now(), clock::now());
                }
            }
            SwarmEvent::IncomingConnectionError {
                error: libp2p::swarm::ListenError::Denied { cause },
                send_back_addr,
                ..
            } => {
                tracing::debug!(%send_back_addr, %cause, "incoming connection over the limits");
                self.service.metrics().connection_refused("limit");
            }
            SwarmEvent::Behaviour(event) => self.on_behaviour_event(event),
            _ => {}
        }
    }

    fn tell(&self, event: PeerEvent) {
        if self.peer_events.try_send(event).is_err() {
            tracing::warn!(
                ?event,
                "the reconciler is not keeping up; a peer event was dropped"
            );
        }
    }

    fn on_connected(
        &mut self,
        peer: PeerId,
        connection: ConnectionId,
        address: Multiaddr,
        dialed: Option<Multiaddr>,
    ) {
        let now = Instant::now();
        if self.penalties.is_banned(&peer, now) {
            let _ = self.swarm.disconnect_peer_id(peer);
            return;
        }
        if self.trimmed.get(&peer).is_some_and(|until| *until > now)
            && self.connected.len() >= self.target_peers
        {
            // Closed to trim a moment ago, and still no room for it.
            let _ = self.swarm.disconnect_peer_id(peer);
            return;
        }
        let Some(org) = identity::org_of(&peer) else {
            tracing::warn!(%peer, "peer id is not an ed25519 organisation key; disconnecting");
            let _ = self.swarm.disconnect_peer_id(peer);
            return;
        };
        if !self.connected.contains_key(&peer)
            && self.connected.len() >= trim::ceiling(self.target_peers)
            && self.service.is_new_org(&org).unwrap_or(true)
        {
            // Full: a crowd of fresh keys does not get to hold connections
            // until trimming catches up, nor to fill the peer book and the
            // join requests; partners still get in.
            tracing::debug!(org = %org.short(), "closing a new organisation's connection: at the ceiling");
            self.service.metrics().connection_refused("ceiling");
            let _ = self.swarm.disconnect_peer_id(peer);
            return;
        }
        match self.service.admission(&org) {
            Ok(Admission::Blocked) => {
                match self.blocked.arrived(peer, now) {
                    Door::LetIn(until) => {
                        // No gossip either way while it is in.
                        self.swarm.behaviour_mut().gossipsub.blacklist_peer(&peer);
                        tracing::info!(
                            org = %org.short(),
                            secs = until.saturating_duration_since(now).as_secs(),
                            "a blocked organisation connected: its requests are refused, then it is closed"
                        );
                        self.service.metrics().blocked_connection("let_in");
                    }
                    Door::Close => {
                        tracing::debug!(org = %org.short(), "closing a blocked organisation's connection at once");
                        self.service.metrics().blocked_connection("closed");
                        let _ = self.swarm.disconnect_peer_id(peer);
                    }
                }
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
        if self.blocked.forget(&peer) {
            // Blocked before and unblocked since: gossip with it again.
            self.swarm
                .behaviour_mut()
                .gossipsub
                .remove_blacklisted_peer(&peer);
        }
        if let Some(entry) = self.book.connected(org, dialed.as_ref(), now, clock::now()) {
            self.persist_peer(org, Some(entry));
        }
        let first = !self.connected.contains_key(&peer);
        self.connected
            .entry(peer)
            .or_insert_with(|| Connected {
                org,
                address,
                since: now,
                connections: HashMap::new(),
            })
            .connections
            .insert(
                connection,
                Conn {
                    opened: now,
                    alive: now,
                },
            );
        if first {
            self.service.metrics().set_peers(self.connected.len());
            tracing::info!(%peer, org = %org.short(), "peer connected");
            self.tell(PeerEvent::Connected(peer));
            // Anything waiting for this organisation can go now.
            self.service.deliveries_changed();
        }
    }

    /// A peer says (identify), or another peer says (peer exchange), where
    /// it listens.
    fn on_heard(&mut self, peer: PeerId, addrs: Vec<Multiaddr>) {
        let Some(org) = identity::org_of(&peer) else {
            return;
        };
        if org == self.service.org() || self.penalties.is_banned(&peer, Instant::now()) {
            return;
        }
        for addr in &addrs {
            self.swarm.add_peer_address(peer, addr.clone());
        }
        if let Some(entry) = self.book.heard(org, &addrs, Instant::now(), clock::now()) {
            self.persist_peer(org, Some(entry));
        }
    }

    fn on_behaviour_event(&mut self, event: BehaviourEvent) {
        match event {
            BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            }) => {
                let work = Work::Gossip {
                    id: message_id,
                    source: propagation_source,
                    data: message.data,
                    received: Instant::now(),
                };
                if let Err(refused) = self.router.submit(work)
                    && let Work::Gossip { id, source, .. } = *refused
                {
                    self.tell(PeerEvent::Missed(source));
                    // Ignored, not rejected: reconciliation brings it later.
                    self.swarm
                        .behaviour_mut()
                        .gossipsub
                        .report_message_validation_result(&id, &source, MessageAcceptance::Ignore);
                }
            }
            BehaviourEvent::Sync(request_response::Event::Message { peer, message, .. }) => {
                match message {
                    request_response::Message::Request {
                        request, channel, ..
                    } => {
                        let work = Work::Sync {
                            peer,
                            request,
                            channel,
                        };
                        if let Err(refused) = self.router.submit(work)
                            && let Work::Sync { channel, .. } = *refused
                        {
                            let busy = SyncResponse::TryLater {
                                reason: BUSY.into(),
                            };
                            let _ = self.swarm.behaviour_mut().sync.send_response(channel, busy);
                        }
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
                        let work = Work::Direct {
                            peer,
                            message: request,
                            channel,
                        };
                        if let Err(refused) = self.router.submit(work)
                            && let Work::Direct { channel, .. } = *refused
                        {
                            let busy = DirectReply::TryLater {
                                reason: BUSY.into(),
                            };
                            let _ = self
                                .swarm
                                .behaviour_mut()
                                .direct
                                .send_response(channel, busy);
                        }
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
                self.on_heard(peer_id, info.listen_addrs);
            }
            BehaviourEvent::Ping(ping::Event {
                peer,
                connection,
                result,
            }) => match result {
                Ok(_) => {
                    if let Some(conn) = self
                        .connected
                        .get_mut(&peer)
                        .and_then(|c| c.connections.get_mut(&connection))
                    {
                        conn.alive = Instant::now();
                    }
                }
                Err(e) => {
                    tracing::info!(%peer, error = %e, "ping failed; closing the connection");
                    self.swarm.close_connection(connection);
                }
            },
            BehaviourEvent::Mdns(mdns::Event::Discovered(found)) => {
                for (peer, addr) in found {
                    let _ = self
                        .swarm
                        .dial(DialOpts::peer_id(peer).addresses(vec![addr]).build());
                }
            }
            _ => {}
        }
    }
}

/// Gives the swarm every address the book knows for its peers, so that
/// a dial started by a protocol (a direct message to a partner that is
/// not connected) finds them.
pub(crate) fn teach_addresses(swarm: &mut Swarm<Behaviour>, book: &PeerBook, orgs: &[OrgKey]) {
    for org in orgs {
        if let Some(peer) = identity::peer_id(org) {
            for addr in book.addrs_of(org) {
                swarm.add_peer_address(peer, addr);
            }
        }
    }
}
