//! Protocol identifiers and the messages of the request-response
//! protocols, as specified in docs/PROTOCOL.md §Network. Messages are CBOR
//! (RFC 8949), one request and one response per stream.

use libp2p::StreamProtocol;
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

/// Gossipsub topic carrying signed record envelopes.
pub const RECORDS_TOPIC: &str = "skillmesh/records/1";
/// Catch-up sync.
pub const SYNC_PROTOCOL: StreamProtocol = StreamProtocol::new("/skillmesh/sync/1");
/// Identify's protocol version string.
pub const IDENTIFY_VERSION: &str = "/skillmesh/1";
/// Kademlia protocol name (a private DHT, not the public IPFS one).
pub const KAD_PROTOCOL: StreamProtocol = StreamProtocol::new("/skillmesh/kad/1");

/// Largest gossip message: one envelope.
pub const MAX_GOSSIP_BYTES: usize = skillmesh_protocol::limits::MAX_ENVELOPE_BYTES;
/// Most ids in one `Ids` page, and most envelopes in one `Records` page.
pub const MAX_IDS_PER_PAGE: u32 = 2000;
pub const MAX_RECORDS_PER_PAGE: usize = 500;
/// Largest sync request.
pub const MAX_SYNC_REQUEST_BYTES: u64 = 64 * 1024;
/// Largest sync response: derived from the page size, so a full page of
/// envelopes of the largest allowed size always fits (32 MiB plus CBOR
/// framing: each byte string's head is at most 9 bytes; 64 KiB for the
/// rest). A node asks for one page per peer at a time.
pub const MAX_SYNC_RESPONSE_BYTES: u64 = (MAX_RECORDS_PER_PAGE
    * (skillmesh_protocol::limits::MAX_ENVELOPE_BYTES + 9)
    + 64 * 1024) as u64;

/// A sync request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SyncRequest {
    /// What do you hold, per organisation?
    Summary,
    /// The `(id, seq)` pairs you hold for `org`, in id order after `after`.
    Ids {
        org: String,
        after: Option<String>,
        limit: u32,
    },
    /// The envelopes you hold for these ids of `org`.
    Fetch { org: String, ids: Vec<String> },
}

/// Per-organisation summary: row count and digest of the sorted `(id, seq)` pairs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgSummary {
    pub org: String,
    pub count: u64,
    pub digest: ByteBuf,
}

/// A sync response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SyncResponse {
    Summary {
        orgs: Vec<OrgSummary>,
    },
    Ids {
        ids: Vec<(String, u64)>,
        more: bool,
    },
    Records {
        envelopes: Vec<ByteBuf>,
    },
    /// The request was refused (e.g. the asking organisation is blocked).
    Refused {
        reason: String,
    },
}

/// Direct requests and answers between two organisations' nodes.
pub const DIRECT_PROTOCOL: StreamProtocol = StreamProtocol::new("/skillmesh/direct/1");
pub const MAX_DIRECT_BYTES: u64 = 128 * 1024;

/// A direct message: a signed `request`, `answer`, `kudos` or
/// `follower_count` envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DirectMessage {
    Request { envelope: ByteBuf },
    Answer { envelope: ByteBuf },
    Kudos { envelope: ByteBuf },
    FollowerCount { envelope: ByteBuf },
}

/// The receiving node's reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DirectReply {
    /// The request is stored in the offering person's inbox.
    Queued,
    /// The answer (or kudos) is stored with the request it follows; a
    /// follower count with the list it counts.
    Received,
    /// Refused for good; `reason` says why.
    Refused { reason: String },
    /// Not handled now (a local failure at the receiver); send it again later.
    TryLater { reason: String },
}
