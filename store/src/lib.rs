//! The node's typed store: its own people, profiles, offers and content,
//! the federated records it holds (its own published ones included), the
//! audit log and user accounts. Built on the [`Kv`](crate::storage::Kv)
//! trait; see [`keys`] for the layout.
//!
//! A crate of its own so that its borders are enforced by `Cargo.toml`:
//! it is the only crate that depends on sled (through [`storage`]), and it
//! knows nothing of the web crate or the network. What it stores are its
//! own types (a web form renamed does not change the on-disk format).
//!
//! Durability: every method that changes data returns only after the change
//! is flushed, so a write reported as done survives `kill -9`. Bulk paths
//! (`put_records`) group many changes into one atomic batch and one flush.

pub mod access_links;
pub mod accounts;
pub mod actor;
pub mod api_tokens;
pub mod audit;
pub mod clock;
pub mod feedback;
pub mod fingerprints;
pub mod follower_counts;
pub mod follows;
pub mod goals;
pub mod items;
pub mod keys;
pub mod mail;
pub mod notifications;
pub mod observations;
pub mod orgs_seen;
mod owners;
pub mod peers;
pub mod people;
pub mod policy;
pub mod recommendations;
pub mod records;
pub mod requests;
pub mod retention;
mod schema;
pub mod sessions;
pub mod storage;
pub mod webhook;

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::storage::{Batch, Kv, StorageError, WriteFault};

pub use access_links::{AccessLink, LinkPurpose, LinkRefusal};
pub use accounts::{Account, Role, TokenKind};
pub use actor::Actor;
pub use api_tokens::ApiToken;
pub use audit::{AuditAction, AuditEntry, AuditFilter, RECORD_REJECTED};
pub use feedback::{Feedback, Said};
pub use follower_counts::{ReceivedCount, SentCount};
pub use follows::Follow;
pub use goals::Goals;
pub use items::{ItemState, OwnItem};
pub use mail::OutgoingMail;
pub use notifications::{Notification, NotificationKind};
pub use observations::{Observation, Seen};
pub use peers::{PeerAddr, PeerEntry};
pub use people::{MailChoice, Person, Questions, Sharing};
pub use policy::{JoinRequest, OrgListing, OutboundPolicy, PolicyRefusal, QuotaNotice};
pub use recommendations::Recommendation;
pub use records::{PutOutcome, StoredRecord};
pub use requests::{InboxEntry, InboxStatus, OutboxEntry, OutboxStatus, ReceivedKudos, SentKudos};
pub use schema::CURRENT_SCHEMA;
pub use sessions::StoredSession;
pub use webhook::WebhookMessage;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("stored value under {key} is corrupt: {reason}")]
    Corrupt { key: String, reason: String },
    #[error(
        "the data directory was written by a newer skillmesh (schema {found}); this build reads schema {supported} or older"
    )]
    NewerSchema { found: u32, supported: u32 },
    #[error("the data directory holds data but no schema version; it was not made by skillmesh")]
    NoSchema,
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0} already exists")]
    AlreadyExists(String),
}

impl StoreError {
    /// The store's fault (a full disk, say), when this error comes from
    /// one: writes fail until the store recovers by itself. The storage
    /// layer logged it when it began.
    pub fn fault(&self) -> Option<&WriteFault> {
        match self {
            StoreError::Storage(e) => e.fault(),
            _ => None,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The node's store. Cheap to share behind an `Arc`.
pub struct Store {
    kv: Box<dyn Kv>,
    /// Serialises read-modify-write sequences (record upserts, counters).
    write_lock: Mutex<()>,
    audit_counter: AtomicU64,
    /// Repeated refusals being counted into one audit entry per window.
    aggregates: Mutex<audit::Aggregates>,
}

impl Store {
    /// Opens (or creates) the store in `dir`, checking and migrating the schema.
    pub fn open(dir: &Path) -> Result<Store> {
        let kv = storage::open(dir)?;
        Store::with_kv(Box::new(kv))
    }

    pub fn with_kv(kv: Box<dyn Kv>) -> Result<Store> {
        schema::check_and_migrate(kv.as_ref())?;
        let audit_counter = AtomicU64::new(audit::next_counter(kv.as_ref())?);
        Ok(Store {
            kv,
            write_lock: Mutex::new(()),
            audit_counter,
            aggregates: Mutex::new(Default::default()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        // A panic while holding the lock leaves no half-applied state
        // (batches are atomic), so a poisoned lock is safe to reuse.
        self.write_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Applies `batch` atomically and makes it durable.
    fn commit(&self, batch: Batch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        Ok(self.kv.commit(batch)?)
    }

    fn get_json<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>> {
        match self.kv.get(key)? {
            None => Ok(None),
            Some(v) => decode_json(key, &v).map(Some),
        }
    }

    fn scan_json<T: DeserializeOwned>(&self, prefix: &[u8]) -> Result<Vec<T>> {
        self.kv
            .scan_prefix(prefix)
            .map(|r| {
                let (k, v) = r?;
                decode_json(&k, &v)
            })
            .collect()
    }

    /// Why writes fail now, if they do (the node recovers by itself once
    /// they can succeed again: see [`crate::storage`]).
    pub fn write_fault(&self) -> Option<WriteFault> {
        self.kv.write_fault()
    }

    /// How often the store recovered from a write fault since it opened.
    pub fn recoveries(&self) -> u64 {
        self.kv.recoveries()
    }

    /// Lets go of the pages the engine keeps from earlier reads (closing
    /// and reopening sled, the one way to free them); true when it did.
    /// Worth it once after a scan of the whole store, as at start-up: at
    /// 100,000 records those pages are about 77 MB (docs/BENCHMARKS.md,
    /// "Memory at rest").
    pub fn release_cache(&self) -> Result<bool> {
        Ok(self.kv.release_cache()?)
    }

    /// Bytes used on disk.
    pub fn size_on_disk(&self) -> Result<u64> {
        Ok(self.kv.size_on_disk()?)
    }

    /// Checks the store's invariants: every record row parses and has its
    /// expiry index entry, every index entry has its row, and per-organisation
    /// counters match the rows. Returns the problems found (empty when sound).
    pub fn check_consistency(&self) -> Result<Vec<String>> {
        records::check_consistency(self)
    }
}

pub(crate) fn encode_json<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising our own plain data types to JSON cannot fail (no maps with
    // non-string keys, no custom serialisers that error).
    serde_json::to_vec(value).unwrap_or_default()
}

fn decode_json<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        key: String::from_utf8_lossy(key).into_owned(),
        reason: e.to_string(),
    })
}

impl Store {
    /// Makes every applied write durable.
    pub fn flush(&self) -> Result<()> {
        Ok(self.kv.flush()?)
    }
}
