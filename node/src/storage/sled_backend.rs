//! The sled 0.34 implementation of [`Kv`]: one tree, batches through
//! `apply_batch` (atomic), durability through `flush` (fsync).

use std::path::Path;
use std::time::{Duration, Instant};

use super::{Batch, Entry, Kv, Op, StorageError};

pub struct SledKv {
    db: sled::Db,
}

impl From<sled::Error> for StorageError {
    fn from(e: sled::Error) -> Self {
        match e {
            sled::Error::Io(io) => StorageError::Io(io),
            other => StorageError::Engine(other.to_string()),
        }
    }
}

impl SledKv {
    /// Opens the database. sled releases its file lock from a background
    /// thread shortly after the last handle is dropped, so reopening in the
    /// same process (a node restarted in place) can briefly find it held:
    /// that case is retried for a few seconds. Another process holding the
    /// directory is caught earlier, by the data-directory lock.
    pub fn open(dir: &Path) -> Result<Self, StorageError> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let opened = sled::Config::new()
                .path(dir)
                .mode(sled::Mode::HighThroughput)
                // Background flushes bound what an unflushed write can lose;
                // the node still calls `flush` before it reports a write as done.
                .flush_every_ms(Some(500))
                .open();
            match opened {
                Ok(db) => return Ok(SledKv { db }),
                Err(sled::Error::Io(e))
                    if e.to_string().contains("could not acquire lock")
                        && Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

fn entry(r: sled::Result<(sled::IVec, sled::IVec)>) -> Result<Entry, StorageError> {
    let (k, v) = r?;
    Ok((k.to_vec(), v.to_vec()))
}

impl Kv for SledKv {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.db.get(key)?.map(|v| v.to_vec()))
    }

    fn scan_prefix(
        &self,
        prefix: &[u8],
    ) -> Box<dyn DoubleEndedIterator<Item = Result<Entry, StorageError>> + '_> {
        Box::new(self.db.scan_prefix(prefix).map(entry))
    }

    fn range(
        &self,
        start: &[u8],
        end: &[u8],
    ) -> Box<dyn DoubleEndedIterator<Item = Result<Entry, StorageError>> + '_> {
        Box::new(self.db.range(start.to_vec()..end.to_vec()).map(entry))
    }

    fn apply(&self, batch: Batch) -> Result<(), StorageError> {
        let mut b = sled::Batch::default();
        for op in batch.ops() {
            match op {
                Op::Put(k, v) => b.insert(k.as_slice(), v.as_slice()),
                Op::Delete(k) => b.remove(k.as_slice()),
            }
        }
        self.db.apply_batch(b)?;
        Ok(())
    }

    fn flush(&self) -> Result<(), StorageError> {
        self.db.flush()?;
        Ok(())
    }

    fn size_on_disk(&self) -> Result<u64, StorageError> {
        Ok(self.db.size_on_disk()?)
    }
}
