//! Why a record was refused: one typed reason per rule, each with a stable
//! code that travels in audit logs, test vectors and APIs.

use thiserror::Error;

/// The reason a record or envelope was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Rejection {
    /// The bytes end before the envelope says they should.
    #[error("truncated envelope: {0}")]
    Truncated(String),
    /// The bytes are not a well-formed envelope or record.
    #[error("malformed record: {0}")]
    Malformed(String),
    /// The signature does not verify under the signer key.
    #[error("bad signature")]
    BadSignature,
    /// The record names one organisation but was signed by another key.
    #[error("wrong key: record names organisation {claimed} but is signed by {signer}")]
    WrongKey { claimed: String, signer: String },
    /// Envelope format or record version this node does not speak.
    #[error("unknown version {0}")]
    UnknownVersion(u64),
    /// Record kind this node does not know.
    #[error("unknown kind {0:?}")]
    UnknownKind(String),
    /// The envelope, a field or a list is larger than its bound.
    #[error("oversize {what}: {len} > {max}")]
    Oversize {
        what: String,
        len: usize,
        max: usize,
    },
    /// `issued_at` lies further in the future than the allowed clock skew.
    #[error("issued too far in the future: issued_at {issued_at}, now {now}")]
    FutureDated { issued_at: i64, now: i64 },
    /// `expires_at` has passed.
    #[error("expired at {expires_at}, now {now}")]
    Expired { expires_at: i64, now: i64 },
    /// `expires_at - issued_at` exceeds the maximum lifetime.
    #[error("lifetime too long: {secs} s > {max} s")]
    LifetimeTooLong { secs: i64, max: i64 },
}

impl Rejection {
    /// The stable code of this reason, as used in test vectors and the audit log.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Truncated(_) => "truncated",
            Rejection::Malformed(_) => "malformed",
            Rejection::BadSignature => "bad_signature",
            Rejection::WrongKey { .. } => "wrong_key",
            Rejection::UnknownVersion(_) => "unknown_version",
            Rejection::UnknownKind(_) => "unknown_kind",
            Rejection::Oversize { .. } => "oversize",
            Rejection::FutureDated { .. } => "future_dated",
            Rejection::Expired { .. } => "expired",
            Rejection::LifetimeTooLong { .. } => "lifetime_too_long",
        }
    }

    /// Whether the reason depends on the receiver's clock (`expired`,
    /// `future_dated`): the same bytes may have been valid at the node that
    /// forwarded them a moment ago, or by a clock a little ahead, so such a
    /// rejection says nothing about the forwarding peer's honesty and is
    /// never counted against it (docs/PROTOCOL.md §Peer scoring).
    pub fn is_clock_dependent(&self) -> bool {
        matches!(
            self,
            Rejection::Expired { .. } | Rejection::FutureDated { .. }
        )
    }

    /// All codes, in documentation order.
    pub const CODES: [&'static str; 10] = [
        "truncated",
        "malformed",
        "bad_signature",
        "wrong_key",
        "unknown_version",
        "unknown_kind",
        "oversize",
        "future_dated",
        "expired",
        "lifetime_too_long",
    ];

    pub(crate) fn malformed(msg: impl Into<String>) -> Self {
        Rejection::Malformed(msg.into())
    }

    pub(crate) fn oversize(what: impl Into<String>, len: usize, max: usize) -> Self {
        Rejection::Oversize {
            what: what.into(),
            len,
            max,
        }
    }
}
