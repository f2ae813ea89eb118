//! The composed libp2p behaviour: gossipsub for records, request-response
//! for sync (which also carries peer exchange) and direct messages,
//! identify for addresses, ping for liveness, optional mDNS, and libp2p's
//! connection limits (see [`limits`]).
//!
//! There is no Kademlia. An earlier version ran a private DHT for
//! discovery, but its queries connected every node to most others (a
//! network of 50 became a full mesh), and organisation networks are small
//! enough that asking connected peers whom they know (`peers`, in
//! `sync.rs`) finds everyone with bounded work and no hidden dials.

use std::time::Duration;

use libp2p::gossipsub::{self, MessageAuthenticity, MessageId, ValidationMode};
use libp2p::identity::Keypair;
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::{NetworkBehaviour, behaviour::toggle::Toggle};
use libp2p::{connection_limits, identify, mdns, ping};
use sha2::{Digest, Sha256};

use super::wire::{self, DirectMessage, DirectReply, SyncRequest, SyncResponse};

#[derive(NetworkBehaviour)]
pub struct Behaviour {
    pub limits: connection_limits::Behaviour,
    pub gossipsub: gossipsub::Behaviour,
    pub sync: request_response::cbor::Behaviour<SyncRequest, SyncResponse>,
    pub direct: request_response::cbor::Behaviour<DirectMessage, DirectReply>,
    pub identify: identify::Behaviour,
    pub ping: ping::Behaviour,
    pub mdns: Toggle<mdns::tokio::Behaviour>,
}

/// Message id: SHA-256 of the message data (the envelope bytes), so the
/// same envelope is one message however many nodes forward it.
pub fn message_id(data: &[u8]) -> MessageId {
    MessageId::from(Sha256::digest(data).to_vec())
}

/// Connections still in their handshake (before the other side's key is
/// known), from any number of addresses.
pub const MAX_PENDING_INCOMING: u32 = 64;
/// Connections to one peer at once (both directions, TCP and QUIC).
pub const MAX_PER_PEER: u32 = 4;

/// Hard bounds libp2p enforces before the node knows who connected: a
/// flood of handshakes, or one key opening many connections, is refused
/// at the door. Which organisations keep their connections is the event
/// loop's business (`trim`): above its ceiling a new organisation's
/// connection is closed as it opens, so the cap on established incoming
/// connections here, twice that ceiling, is a backstop it never reaches.
pub fn limits(target_peers: usize) -> connection_limits::ConnectionLimits {
    let ceiling = u32::try_from(super::trim::ceiling(target_peers)).unwrap_or(u32::MAX);
    connection_limits::ConnectionLimits::default()
        .with_max_pending_incoming(Some(MAX_PENDING_INCOMING))
        .with_max_established_incoming(Some(ceiling.saturating_mul(2)))
        .with_max_established_per_peer(Some(MAX_PER_PEER))
}

/// The gossipsub settings of every node (docs/PROTOCOL.md, "Gossip"):
/// public so that the propagation bench runs bare gossipsub with exactly
/// these mesh parameters next to the nodes.
pub fn gossip_config() -> Result<gossipsub::Config, String> {
    gossipsub::ConfigBuilder::default()
        .validation_mode(ValidationMode::Strict)
        .validate_messages()
        .message_id_fn(|m: &gossipsub::Message| message_id(&m.data))
        .max_transmit_size(wire::MAX_GOSSIP_BYTES + 4096)
        // libp2p's default: a new message goes to the mesh at once either
        // way; the heartbeat maintains the mesh and sends gossip about
        // recent messages, and at 500 ms it was the largest share of an
        // idle node's work.
        .heartbeat_interval(Duration::from_secs(1))
        .build()
        .map_err(|e| format!("gossipsub config: {e}"))
}

pub fn build(key: &Keypair, mdns_on: bool, target_peers: usize) -> Result<Behaviour, String> {
    let peer_id = key.public().to_peer_id();
    let mut gossipsub =
        gossipsub::Behaviour::new(MessageAuthenticity::Signed(key.clone()), gossip_config()?)
            .map_err(|e| format!("gossipsub: {e}"))?;
    // The application score (minus our penalty score, see `penalties`)
    // enters the gossipsub score with weight 1,
    // and gossipsub's own thresholds sit far below ours: otherwise
    // gossipsub would graylist a peer after its first invalid record and
    // silently drop the rest, and the node would never see enough of them
    // to disconnect it. All nodes of a test or a demo share one IP, so the
    // IP colocation penalty is off; organisations are few and known.
    let score_params = gossipsub::PeerScoreParams {
        app_specific_weight: 1.0,
        ip_colocation_factor_weight: 0.0,
        ..Default::default()
    };
    let thresholds = gossipsub::PeerScoreThresholds {
        gossip_threshold: -1_000.0,
        publish_threshold: -2_000.0,
        graylist_threshold: -4_000.0,
        ..Default::default()
    };
    gossipsub
        .with_peer_score(score_params, thresholds)
        .map_err(|e| format!("gossipsub scoring: {e}"))?;

    let codec = request_response::cbor::codec::Codec::<SyncRequest, SyncResponse>::default()
        .set_request_size_maximum(wire::MAX_SYNC_REQUEST_BYTES)
        .set_response_size_maximum(wire::MAX_SYNC_RESPONSE_BYTES);
    let sync = request_response::Behaviour::with_codec(
        codec,
        [(wire::SYNC_PROTOCOL, ProtocolSupport::Full)],
        request_response::Config::default().with_request_timeout(Duration::from_secs(30)),
    );

    let direct_codec =
        request_response::cbor::codec::Codec::<DirectMessage, DirectReply>::default()
            .set_request_size_maximum(wire::MAX_DIRECT_BYTES)
            .set_response_size_maximum(wire::MAX_DIRECT_BYTES);
    let direct = request_response::Behaviour::with_codec(
        direct_codec,
        [(wire::DIRECT_PROTOCOL, ProtocolSupport::Full)],
        request_response::Config::default().with_request_timeout(Duration::from_secs(20)),
    );

    let identify = identify::Behaviour::new(identify::Config::new(
        wire::IDENTIFY_VERSION.into(),
        key.public(),
    ));

    let mdns = if mdns_on {
        Some(
            mdns::tokio::Behaviour::new(mdns::Config::default(), peer_id)
                .map_err(|e| format!("mdns: {e}"))?,
        )
    } else {
        None
    };

    // Liveness: the event loop closes a connection whose pings stop coming
    // back (see `event_loop::LIVENESS_TIMEOUT`).
    let ping = ping::Behaviour::new(
        ping::Config::new()
            .with_interval(super::event_loop::PING_INTERVAL)
            .with_timeout(super::event_loop::LIVENESS_TIMEOUT),
    );

    Ok(Behaviour {
        limits: connection_limits::Behaviour::new(limits(target_peers)),
        gossipsub,
        sync,
        direct,
        identify,
        ping,
        mdns: Toggle::from(mdns),
    })
}
