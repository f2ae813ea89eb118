//! What keeps a node from doing everything it should, for `/healthz`, the
//! admin console and monitors. Each part of the node reports its own
//! problems here (the store, the search index, the network); the web layer
//! only shows them.

/// One reason the node is degraded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    /// What is wrong and what the node is doing about it, in words.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProblemKind {
    /// Writes to the store fail (a full disk, say); reads still work
    /// (unless reopening the store failed too). The store recovers by
    /// itself once writes can succeed again (see [`crate::storage`]).
    StoreUnwritable,
    /// No other organisation's node is connected.
    NoPeers,
    /// The search index failed; searches match by substring only until it
    /// catches up by itself (see [`crate::search::index`]).
    IndexFailed,
    /// The search index is being built afresh; ranking is rough meanwhile.
    IndexRebuilding,
}

impl ProblemKind {
    /// The stable code shown in `/healthz` (docs and monitors rely on it).
    pub fn code(self) -> &'static str {
        match self {
            ProblemKind::StoreUnwritable => "store_unwritable",
            ProblemKind::NoPeers => "no_peers",
            ProblemKind::IndexFailed => "index_failed",
            ProblemKind::IndexRebuilding => "index_rebuilding",
        }
    }
}

impl Problem {
    pub fn new(kind: ProblemKind, message: impl Into<String>) -> Problem {
        Problem {
            kind,
            message: message.into(),
        }
    }
}
