//! The storage trait: an ordered key-value space with atomic batches and an
//! explicit durability point. sled sits behind it (see `sled_backend`); no
//! other module names sled, so the engine can be replaced (sled 0.34 is beta
//! software) without touching the rest of the node.
//!
//! Keys are bytes and sort bytewise; callers write integers big-endian so
//! that they sort numerically.

mod sled_backend;

use std::path::Path;

pub use sled_backend::SledKv;

/// Errors from the storage engine, with the engine's own message kept for
/// logs. Callers map them to user-facing words.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("storage engine error: {0}")]
    Engine(String),
    #[error("storage I/O error: {0}")]
    Io(#[from] std::io::Error),
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
    /// Applies `batch` atomically. Not yet durable: see [`Kv::flush`].
    fn apply(&self, batch: Batch) -> Result<(), StorageError>;
    /// Makes every applied write durable (survives a crash or `kill -9`).
    fn flush(&self) -> Result<(), StorageError>;
    /// Bytes the engine uses on disk, if it can tell.
    fn size_on_disk(&self) -> Result<u64, StorageError>;
}

/// Opens the node's storage in `dir` (created if missing).
pub fn open(dir: &Path) -> Result<SledKv, StorageError> {
    SledKv::open(dir)
}
