//! Skillmesh protocol: record types, the signed envelope, encoding and
//! validation. Pure: no I/O, no async runtime, no clock (callers pass `now`).
//!
//! The format is specified in `docs/PROTOCOL.md` and pinned by the test
//! vectors in `protocol/testdata/vectors.json`.
//!
//! ```
//! use ed25519_dalek::SigningKey;
//! use skillmesh_protocol::{kinds::Retraction, open, seal, Body, Header, OrgKey, Record, RECORD_VERSION};
//!
//! let key = SigningKey::from_bytes(&[7u8; 32]);
//! let record = Record {
//!     header: Header {
//!         version: RECORD_VERSION,
//!         org: OrgKey::from(&key.verifying_key()),
//!         id: "talk-1".into(),
//!         seq: 2,
//!         issued_at: 1_700_000_000,
//!         expires_at: 1_700_086_400,
//!     },
//!     body: Body::Retraction(Retraction::default()),
//! };
//! let envelope = seal(&record, &key).unwrap();
//! assert_eq!(open(envelope.as_bytes(), 1_700_000_100).unwrap(), record);
//! ```

pub mod envelope;
pub mod error;
pub mod fingerprint;
pub mod keys;
pub mod kinds;
pub mod limits;
pub mod profile;
pub mod record;
pub mod samples;
pub mod synthetic;
pub mod validate;

pub use envelope::{Envelope, open, seal, signed_bytes, split, verify_signature};
pub use error::Rejection;
pub use keys::OrgKey;
pub use record::{Body, Header, Kind, RECORD_VERSION, Record};
pub use validate::{fit_to_relay, validate_record, validate_times};
