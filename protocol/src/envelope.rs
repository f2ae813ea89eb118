//! The signed envelope: the bytes that travel between nodes.
//!
//! ```text
//! offset  size  field
//! 0       4     magic: "SKM" followed by the envelope format byte 0x01
//! 4       32    signer: the organisation's ed25519 public key
//! 36      64    signature: ed25519 over DOMAIN || payload
//! 100     4     payload length, unsigned big-endian
//! 104     n     payload: the record as UTF-8 JSON
//! ```
//!
//! Receivers verify the payload bytes exactly as received (never a
//! re-serialisation) with `verify_strict`, then parse them.

use ed25519_dalek::{Signature, Signer, SigningKey};

use crate::error::Rejection;
use crate::keys::OrgKey;
use crate::limits::MAX_ENVELOPE_BYTES;
use crate::record::Record;
use crate::validate::{validate_record, validate_times};

/// First three bytes of every envelope.
pub const MAGIC: &[u8; 3] = b"SKM";
/// The envelope format this crate writes and reads (the fourth byte).
pub const ENVELOPE_FORMAT: u8 = 1;
/// Domain separation: prepended to the payload before signing, so a
/// Skillmesh signature can never be replayed as a signature on anything else.
pub const DOMAIN: &[u8] = b"skillmesh/record/v1\n";
/// Bytes before the payload.
pub const HEADER_LEN: usize = 4 + 32 + 64 + 4;

/// The exact bytes a record signature covers: `DOMAIN || payload`.
pub fn signed_bytes(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(DOMAIN.len() + payload.len());
    out.extend_from_slice(DOMAIN);
    out.extend_from_slice(payload);
    out
}

/// Envelope bytes, as built by [`seal`] or received from a peer.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Envelope(Vec<u8>);

impl Envelope {
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Envelope(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Envelope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Envelope({} bytes)", self.0.len())
    }
}

/// The parts of an envelope, borrowed from its bytes, before verification.
#[derive(Debug, Clone, Copy)]
pub struct Parts<'a> {
    pub signer: OrgKey,
    pub signature: [u8; 64],
    pub payload: &'a [u8],
}

/// Splits envelope bytes into their parts, checking only the framing.
pub fn split(bytes: &[u8]) -> Result<Parts<'_>, Rejection> {
    if bytes.len() > MAX_ENVELOPE_BYTES {
        return Err(Rejection::oversize(
            "envelope",
            bytes.len(),
            MAX_ENVELOPE_BYTES,
        ));
    }
    if bytes.len() < HEADER_LEN {
        return Err(Rejection::Truncated(format!(
            "{} bytes, the envelope header alone is {HEADER_LEN}",
            bytes.len()
        )));
    }
    let (magic, rest) = bytes.split_at(4);
    if &magic[..3] != MAGIC {
        return Err(Rejection::malformed("not a Skillmesh envelope (bad magic)"));
    }
    if magic[3] != ENVELOPE_FORMAT {
        return Err(Rejection::UnknownVersion(u64::from(magic[3])));
    }
    let (signer, rest) = rest.split_at(32);
    let (signature, rest) = rest.split_at(64);
    let (len, payload) = rest.split_at(4);
    let mut len_bytes = [0u8; 4];
    len_bytes.copy_from_slice(len);
    let declared = u32::from_be_bytes(len_bytes) as usize;
    if payload.len() < declared {
        return Err(Rejection::Truncated(format!(
            "payload has {} of {declared} declared bytes",
            payload.len()
        )));
    }
    if payload.len() > declared {
        return Err(Rejection::malformed(format!(
            "{} bytes after the payload",
            payload.len() - declared
        )));
    }
    let mut signer_bytes = [0u8; 32];
    signer_bytes.copy_from_slice(signer);
    let mut sig = [0u8; 64];
    sig.copy_from_slice(signature);
    Ok(Parts {
        signer: OrgKey::from_bytes(signer_bytes),
        signature: sig,
        payload,
    })
}

/// Validates `record` (everything but the clock) and signs it with `key`.
/// The record's `org` must be `key`'s public key.
pub fn seal(record: &Record, key: &SigningKey) -> Result<Envelope, Rejection> {
    let signer = OrgKey::from(&key.verifying_key());
    if record.header.org != signer {
        return Err(Rejection::WrongKey {
            claimed: record.header.org.to_hex(),
            signer: signer.to_hex(),
        });
    }
    validate_record(record)?;
    let payload = record.to_payload()?;
    let total = HEADER_LEN + payload.len();
    if total > MAX_ENVELOPE_BYTES {
        return Err(Rejection::oversize("envelope", total, MAX_ENVELOPE_BYTES));
    }
    let signature = key.sign(&signed_bytes(&payload));
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(MAGIC);
    out.push(ENVELOPE_FORMAT);
    out.extend_from_slice(signer.as_bytes());
    out.extend_from_slice(&signature.to_bytes());
    let len = u32::try_from(payload.len())
        .map_err(|_| Rejection::oversize("payload", payload.len(), MAX_ENVELOPE_BYTES))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&payload);
    Ok(Envelope(out))
}

/// Checks the signature of envelope bytes without parsing the payload.
pub fn verify_signature(parts: &Parts<'_>) -> Result<(), Rejection> {
    let key = parts.signer.verifying_key()?;
    let signature = Signature::from_bytes(&parts.signature);
    key.verify_strict(&signed_bytes(parts.payload), &signature)
        .map_err(|_| Rejection::BadSignature)
}

/// Everything a receiver does with untrusted bytes: framing, signature,
/// parsing, signer = organisation, bounds, and the clock (`now` in unix
/// seconds). Returns the record only if every check passes.
pub fn open(bytes: &[u8], now: i64) -> Result<Record, Rejection> {
    let parts = split(bytes)?;
    verify_signature(&parts)?;
    let record = Record::from_payload(parts.payload)?;
    if record.header.org != parts.signer {
        return Err(Rejection::WrongKey {
            claimed: record.header.org.to_hex(),
            signer: parts.signer.to_hex(),
        });
    }
    validate_record(&record)?;
    validate_times(&record.header, now)?;
    Ok(record)
}
