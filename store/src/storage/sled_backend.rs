//! The sled 0.34 engine: one tree, batches through `apply_batch` (atomic),
//! durability through `flush` (fsync). The [`Recovering`](super::Recovering)
//! layer above reopens it after a fault (see the module docs of `storage`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{Batch, Engine, Entry, Op, Opener, StorageError};

pub struct SledEngine {
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

/// Opens the database. sled releases its file lock from a background
/// thread shortly after the last handle is dropped, so reopening in the
/// same process (a node restarted in place, or the store reopened after a
/// fault) can briefly find it held: that case is retried for a few
/// seconds. Another process holding the directory is caught earlier, by
/// the data-directory lock.
fn open_db(dir: &Path) -> sled::Result<sled::Db> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let opened = sled::Config::new()
            .path(dir)
            .mode(sled::Mode::HighThroughput)
            // No background flusher: every batch is flushed when it is
            // committed (`Kv::commit`), so a timer waking twice a second
            // would find nothing to do (it did, in each of 50 idle nodes).
            .flush_every_ms(None)
            .open();
        match opened {
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock")
                    && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// Removes the snapshot files sled started but did not finish
/// (`snap.<lsn>.generating`); returns how many there were. sled writes a
/// snapshot under that name and renames it when it is complete; a write
/// that failed (a full disk) leaves the file behind, and sled 0.34.7 then
/// reads it as its newest snapshot and reports corruption on every open.
/// Such a file never holds anything sled needs: the previous snapshot and
/// the log are still there.
fn remove_unfinished_snapshots(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => {
                    tracing::warn!(file = %entry.path().display(), "removed a snapshot file sled did not finish (a write failed, a full disk?)");
                    removed += 1;
                }
                Err(e) => {
                    tracing::warn!(file = %entry.path().display(), error = %e, "cannot remove a snapshot file sled did not finish");
                }
            }
        }
    }
    removed
}

impl SledEngine {
    /// Opens the database in `dir` (created if missing); see [`open_db`]
    /// and [`remove_unfinished_snapshots`].
    pub fn open(dir: &Path) -> Result<Self, StorageError> {
        match open_db(dir) {
            Ok(db) => Ok(SledEngine { db }),
            Err(sled::Error::Corruption { .. }) if remove_unfinished_snapshots(dir) > 0 => {
                Ok(SledEngine { db: open_db(dir)? })
            }
            Err(e) => Err(e.into()),
        }
    }
}

fn entry(r: sled::Result<(sled::IVec, sled::IVec)>) -> Result<Entry, StorageError> {
    let (k, v) = r?;
    Ok((k.to_vec(), v.to_vec()))
}

impl Engine for SledEngine {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.db.get(key)?.map(|v| v.to_vec()))
    }

    fn chunk(
        &self,
        lo: &[u8],
        hi: Option<&[u8]>,
        rev: bool,
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError> {
        let iter = match hi {
            Some(hi) => self.db.range(lo.to_vec()..hi.to_vec()),
            None => self.db.range(lo.to_vec()..),
        };
        if rev {
            iter.rev().take(limit).map(entry).collect()
        } else {
            iter.take(limit).map(entry).collect()
        }
    }

    fn apply(&self, batch: &Batch) -> Result<(), StorageError> {
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

/// Opens sled in one directory, and probes that directory's disk.
pub struct SledOpener {
    dir: PathBuf,
}

impl SledOpener {
    pub fn new(dir: &Path) -> SledOpener {
        SledOpener {
            dir: dir.to_path_buf(),
        }
    }
}

impl Opener for SledOpener {
    type Engine = SledEngine;

    fn open(&self) -> Result<SledEngine, StorageError> {
        SledEngine::open(&self.dir)
    }

    fn probe(&self) -> std::io::Result<()> {
        super::probe_writable(&self.dir, super::PROBE_BYTES)
    }

    fn describe(&self) -> String {
        self.dir.display().to_string()
    }
}
