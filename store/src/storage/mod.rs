//! The storage trait: an ordered key-value space with atomic, durable
//! batches. sled sits behind it (see `sled_backend`); no other module names
//! sled, so the engine can be replaced (sled 0.34 is beta software) without
//! touching the rest of the node.
//!
//! Keys are bytes and sort bytewise; callers write integers big-endian so
//! that they sort numerically.
//!
//! # Faults: a full disk and other write failures
//!
//! What sled 0.34.7 does when a write fails (measured on a full tmpfs, and
//! read in its source, `pagecache/iobuf.rs` and `config.rs`): the failing
//! `flush` returns the I/O error (`ENOSPC`, "No space left on device") and
//! sled records it as a *global error*. From then on every write and every
//! flush of that `Db` returns the same error, also after space is freed;
//! only opening the database again clears it (its periodic flusher thread
//! has stopped too). Reads mostly keep working (a read that meets a page
//! grown too big splits it, a write, and fails with the same error), and
//! they still show the batch whose flush failed (it is in memory, never on
//! disk; after a reopen it is gone). Every write acknowledged before the fault is on disk and comes
//! back on reopen. Opening sled while the disk is still full fails, and
//! leaves an empty `snap.*.generating` file behind that sled then takes for
//! its newest snapshot: every later open fails with "corruption" until that
//! file is removed, which [`SledEngine::open`] does.
//!
//! So the node does not talk to sled directly but through [`Recovering`]
//! (`recovering.rs`), which [`open`] returns:
//!
//! * The first failed write puts the store in a *fault*: the error is
//!   logged once, [`Kv::write_fault`] says what failed (the node's health
//!   shows it as `store_unwritable`), and writes are refused at once with
//!   [`StorageError::Unwritable`] without touching the engine. Reads go on;
//!   the rare one that sled cannot do without writing is refused as part of
//!   the fault ([`StorageError::Unreadable`]), with the same words.
//! * A thread checks every second at first, backing off to every
//!   [`MAX_RETRY`], whether the disk takes writes again: it
//!   writes and fsyncs a probe file of [`PROBE_BYTES`] next to the data
//!   (a failed probe on a full disk costs nothing). A write that arrives
//!   while the store is faulted runs the same check itself when one is
//!   due, so a person who tries again right after space was freed succeeds.
//! * When the probe succeeds, the engine is reopened: new operations wait
//!   while the ones in flight finish, the old engine is closed (releasing
//!   sled's file lock), the new one opened, and operations resume on it.
//!   No caller sees a half-swapped state: every operation runs on one
//!   engine from start to end, and a scan reads in chunks, each from the
//!   engine current at the time, so a scan in flight goes on across a
//!   reopen. A commit (apply and flush) is one operation, so a batch is
//!   never applied to one engine and flushed on another.
//! * If the reopen itself fails (the disk filled again in that moment),
//!   reads fail too ([`StorageError::Unreadable`]) until a later attempt
//!   opens the engine.

mod recovering;
mod sled_backend;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

use std::io::Write;
use std::path::Path;

pub use recovering::{MAX_RETRY, Recovering};
pub use sled_backend::{SledEngine, SledOpener};

/// Errors from the storage engine, with the engine's own message kept for
/// logs. Callers map them to user-facing words.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("storage engine error: {0}")]
    Engine(String),
    #[error("storage I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// A write failed, or was refused because writes fail now.
    #[error("the store cannot save changes: {0}")]
    Unwritable(WriteFault),
    /// A read while the store has no open engine (a reopen after a fault
    /// failed; a later attempt opens it again).
    #[error("the store cannot be read while it recovers: {0}")]
    Unreadable(WriteFault),
}

impl StorageError {
    /// The store's fault, when this error is one (it was logged when the
    /// fault began; callers need not log it again).
    pub fn fault(&self) -> Option<&WriteFault> {
        match self {
            StorageError::Unwritable(f) | StorageError::Unreadable(f) => Some(f),
            StorageError::Engine(_) | StorageError::Io(_) => None,
        }
    }
}

/// Why the store cannot save changes now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteFault {
    pub cause: FaultCause,
    /// The engine's or the operating system's own words.
    pub detail: String,
    /// When writes began to fail (unix seconds).
    pub since: i64,
    /// False while the store has no open engine (a reopen failed).
    pub reads_work: bool,
}

impl std::fmt::Display for WriteFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.cause.words(), self.detail)
    }
}

/// What kind of failure stops writes, as far as the error tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultCause {
    DiskFull,
    QuotaExceeded,
    ReadOnly,
    Io,
    Engine,
}

impl FaultCause {
    /// The cause in words, to follow "the node cannot save changes:".
    pub fn words(self) -> &'static str {
        match self {
            FaultCause::DiskFull => "its disk is full",
            FaultCause::QuotaExceeded => "its disk quota is used up",
            FaultCause::ReadOnly => "its disk is read-only",
            FaultCause::Io => "its disk reported an error",
            FaultCause::Engine => "its storage engine reported an error",
        }
    }

    /// What an operator can do about it.
    pub fn remedy(self) -> &'static str {
        match self {
            FaultCause::DiskFull => "free space on the disk that holds its data directory",
            FaultCause::QuotaExceeded => "raise the disk quota or free space",
            FaultCause::ReadOnly => {
                "make the disk writable again (the system may have remounted it read-only after an error)"
            }
            FaultCause::Io | FaultCause::Engine => "check the disk and the system log",
        }
    }

    /// The cause of a failed write.
    pub fn of(e: &StorageError) -> FaultCause {
        match e {
            StorageError::Io(io) => match io.kind() {
                std::io::ErrorKind::StorageFull => FaultCause::DiskFull,
                std::io::ErrorKind::QuotaExceeded => FaultCause::QuotaExceeded,
                std::io::ErrorKind::ReadOnlyFilesystem => FaultCause::ReadOnly,
                _ => FaultCause::Io,
            },
            StorageError::Unwritable(f) | StorageError::Unreadable(f) => f.cause,
            StorageError::Engine(_) => FaultCause::Engine,
        }
    }
}

/// One write in a batch.
#[derive(Debug, Clone)]
pub enum Op {
    Put(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
}

/// Writes applied together: all of them or none, even across a crash.
#[derive(Debug, Default, Clone)]
pub struct Batch {
    ops: Vec<Op>,
}

impl Batch {
    pub fn new() -> Self {
        Batch::default()
    }

    pub fn put(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.ops.push(Op::Put(key.into(), value.into()));
    }

    pub fn delete(&mut self, key: impl Into<Vec<u8>>) {
        self.ops.push(Op::Delete(key.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    pub fn ops(&self) -> &[Op] {
        &self.ops
    }
}

/// A key and its value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// The ordered key-value space the store is built on.
pub trait Kv: Send + Sync + 'static {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError>;
    /// Every entry whose key starts with `prefix`, in key order.
    fn scan_prefix(
        &self,
        prefix: &[u8],
    ) -> Box<dyn DoubleEndedIterator<Item = Result<Entry, StorageError>> + '_>;
    /// Entries with keys in `[start, end)`, in key order.
    fn range(
        &self,
        start: &[u8],
        end: &[u8],
    ) -> Box<dyn DoubleEndedIterator<Item = Result<Entry, StorageError>> + '_>;
    /// Applies `batch` atomically and makes it durable: once this returns
    /// `Ok`, the batch survives a crash or `kill -9`.
    fn commit(&self, batch: Batch) -> Result<(), StorageError>;
    /// Makes everything written so far durable (every commit already is).
    fn flush(&self) -> Result<(), StorageError>;
    /// Bytes the engine uses on disk, if it can tell.
    fn size_on_disk(&self) -> Result<u64, StorageError>;
    /// Why writes fail now, if they do.
    fn write_fault(&self) -> Option<WriteFault> {
        None
    }
    /// How often the store recovered from a fault since it was opened.
    fn recoveries(&self) -> u64 {
        0
    }
    /// Lets go of what the engine keeps in memory from earlier reads, if it
    /// can; true when it did. The node calls it once after its start-up
    /// scan (see [`crate::Store::release_cache`]).
    fn release_cache(&self) -> Result<bool, StorageError> {
        Ok(false)
    }
}

/// What a storage engine offers the [`Recovering`] layer, which builds a
/// [`Kv`] on it. An engine whose write failed may refuse every write from
/// then on (sled does): the layer then opens a new one.
pub trait Engine: Send + Sync + 'static {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError>;
    /// Up to `limit` entries with `lo <= key < hi` (no upper bound when
    /// `hi` is `None`), in key order, or in reverse order when `rev`.
    fn chunk(
        &self,
        lo: &[u8],
        hi: Option<&[u8]>,
        rev: bool,
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError>;
    /// Applies `batch` atomically (not yet durable).
    fn apply(&self, batch: &Batch) -> Result<(), StorageError>;
    /// Makes every applied write durable.
    fn flush(&self) -> Result<(), StorageError>;
    fn size_on_disk(&self) -> Result<u64, StorageError>;
}

/// Opens an engine, and tells whether the medium under it takes writes.
pub trait Opener: Send + Sync + 'static {
    type Engine: Engine;
    fn open(&self) -> Result<Self::Engine, StorageError>;
    /// Checks, without the engine, that a write of some size succeeds now
    /// (see [`probe_writable`]).
    fn probe(&self) -> std::io::Result<()>;
    /// Where the data lives, for logs.
    fn describe(&self) -> String;
}

/// Bytes the write probe writes: the room a reopened store needs for a
/// snapshot and a few log segments before it can be trusted with writes.
pub const PROBE_BYTES: usize = 4 << 20;
/// The probe's file, inside the store's directory (removed again at once).
pub const PROBE_FILE: &str = "write-probe.tmp";

/// Writes `bytes` bytes to [`PROBE_FILE`] in `dir`, fsyncs and removes
/// it: whether the disk takes writes now. On a full disk the first write
/// fails at once.
pub fn probe_writable(dir: &Path, bytes: usize) -> std::io::Result<()> {
    let path = dir.join(PROBE_FILE);
    let written = (|| {
        let mut file = std::fs::File::create(&path)?;
        let block = vec![0u8; 64 * 1024];
        let mut left = bytes;
        while left > 0 {
            let n = left.min(block.len());
            file.write_all(&block[..n])?;
            left -= n;
        }
        file.sync_all()
    })();
    let removed = match std::fs::remove_file(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    };
    written.and(removed)
}

/// Opens the node's storage in `dir` (created if missing): sled behind the
/// layer that recovers from write faults.
pub fn open(dir: &Path) -> Result<Recovering<SledOpener>, StorageError> {
    Recovering::open(SledOpener::new(dir))
}
