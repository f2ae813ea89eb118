//! Protocol identifiers and the messages of the request-response
//! protocols, as specified in docs/PROTOCOL.md §Network. Messages are CBOR
//! (RFC 8949), one request and one response per stream.

use libp2p::StreamProtocol;
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

/// Gossipsub topic carrying signed record envelopes.
pub const RECORDS_TOPIC: &str = "skillmesh/records/1";
/// Catch-up sync.
/// Version 2: listed items carry the envelope's digest (version 1 listed
/// `(id, seq)` only, and could not see two versions with the same `seq`).
pub const SYNC_PROTOCOL: StreamProtocol = StreamProtocol::new("/skillmesh/sync/2");
/// Identify's protocol version string.
pub const IDENTIFY_VERSION: &str = "/skillmesh/1";

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

/// Most ranges in one `ranges` request.
pub const MAX_RANGES_PER_REQUEST: usize = 64;
/// A range holding at most this many items is answered with its items;
/// a larger one is split.
pub const RANGE_LIST_THRESHOLD: u64 = 128;
/// How many parts a range that is too large to list is split into.
pub const RANGE_SPLIT: usize = 16;

/// A sync request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SyncRequest {
    /// Reconciliation, first step: "this is the fingerprint of everything I
    /// hold; is yours the same?" `settled` is the fingerprint the asker
    /// last finished reconciling against, if any.
    Digest {
        fingerprint: ByteBuf,
        count: u64,
        settled: Option<ByteBuf>,
    },
    /// Reconciliation within one organisation's ids: for each range, your
    /// items or your fingerprints of its parts.
    Ranges { org: String, ranges: Vec<IdRange> },
    /// Which other organisations' nodes do you know, and where?
    Peers,
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

/// The ids `i` with `lower <= i < upper` in byte order (`upper` null: no
/// upper bound).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdRange {
    pub lower: String,
    pub upper: Option<String>,
}

/// One organisation's fingerprint in a `fingerprints` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgFingerprint {
    pub org: String,
    pub count: u64,
    pub fingerprint: ByteBuf,
}

/// The answer for one part of a requested range: its fingerprint and
/// size, or (when small enough) its items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RangePart {
    pub lower: String,
    pub upper: Option<String>,
    pub count: u64,
    /// Set when the part is summarised, not listed.
    pub fingerprint: Option<ByteBuf>,
    /// Set when the part is listed: its `(id, seq, digest)` items in id
    /// order, `digest` being the SHA-256 of the envelope held (32 bytes).
    pub ids: Option<Vec<(String, u64, ByteBuf)>>,
}

/// Most nodes named in one `peers` answer.
pub const MAX_PEERS_PER_ANSWER: usize = 32;
/// Most addresses given for one node in a `peers` answer.
pub const MAX_ADDRS_PER_PEER: usize = 8;

/// A node another node knows: its peer id and addresses (multiaddrs
/// without `/p2p/`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownPeer {
    pub peer: String,
    pub addrs: Vec<String>,
}

/// A sync response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SyncResponse {
    /// `digest`: the fingerprints are equal.
    InSync,
    /// `digest`: my fingerprint still equals your `settled`.
    Unchanged,
    /// `digest`: they differ; my fingerprint and one per organisation held.
    Fingerprints {
        fingerprint: ByteBuf,
        count: u64,
        orgs: Vec<OrgFingerprint>,
    },
    /// `ranges`: the parts of each requested range, in order.
    Ranges {
        parts: Vec<RangePart>,
    },
    /// `peers`: nodes the answerer has been connected to lately.
    Peers {
        peers: Vec<KnownPeer>,
    },
    /// The node is too busy to answer now; ask again later.
    TryLater {
        reason: String,
    },
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

/// A direct message: a signed `request`, `answer`, `kudos`,
/// `follower_count` or `quota_notice` envelope (the last: the sender
/// refused one of the receiver's records for its quota; see
/// `crate::quota_notice`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DirectMessage {
    Request { envelope: ByteBuf },
    Answer { envelope: ByteBuf },
    Kudos { envelope: ByteBuf },
    FollowerCount { envelope: ByteBuf },
    QuotaNotice { envelope: ByteBuf },
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
    /// Refused for good; `reason` says why. A request refused because the
    /// requesting organisation is blocked here carries `answer`: a signed
    /// `answer` record declining it, so that the requester's node holds a
    /// definite, verifiable refusal (docs/PROTOCOL.md §Direct requests).
    Refused {
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        answer: Option<ByteBuf>,
    },
    /// Not handled now (a local failure at the receiver); send it again later.
    TryLater { reason: String },
}
