//! A storage engine for tests that fails as sled does: a disk in memory
//! that can be made full, and an engine that, once a flush failed, refuses
//! every write until it is opened again (see the module docs of `storage`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::{Batch, Engine, Entry, Op, Opener, Recovering, StorageError};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What survives a reopen (flushed writes), and switches for faults.
#[derive(Default)]
pub struct Disk {
    durable: Mutex<BTreeMap<Vec<u8>, Vec<u8>>>,
    /// Flushes, opens and probes fail with "No space left on device".
    pub full: AtomicBool,
    /// Opening fails although the probe succeeds.
    pub refuse_open: AtomicBool,
    /// Reads of a poisoned engine fail as sled's do when a read must
    /// reorganise a page (a write) after a failed flush.
    pub reads_write: AtomicBool,
    /// Engines opened.
    pub opens: AtomicUsize,
    /// Batches that reached an engine's `apply`.
    pub applies: AtomicUsize,
    /// Holds the writer of one key between its apply and its flush.
    pub pause: Pause,
}

/// Holds the thread that writes [`Pause::hold`]'s key: once its batch is
/// applied, until [`Pause::release_apply`]; then in its next flush, until
/// [`Pause::release_flush`].
#[derive(Default)]
pub struct Pause {
    state: Mutex<PauseState>,
    changed: Condvar,
}

#[derive(Default)]
struct PauseState {
    key: Option<Vec<u8>>,
    writer: Option<std::thread::ThreadId>,
    applied: bool,
    apply_released: bool,
    flush_released: bool,
}

impl Pause {
    pub fn hold(&self, key: &[u8]) {
        lock(&self.state).key = Some(key.to_vec());
    }

    /// Waits until the held key's batch is applied.
    pub fn wait_applied(&self) {
        let mut st = lock(&self.state);
        while !st.applied {
            st = self
                .changed
                .wait(st)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    pub fn release_apply(&self) {
        lock(&self.state).apply_released = true;
        self.changed.notify_all();
    }

    pub fn release_flush(&self) {
        lock(&self.state).flush_released = true;
        self.changed.notify_all();
    }

    fn after_apply(&self, batch: &Batch) {
        let mut st = lock(&self.state);
        let held = st.key.as_ref().is_some_and(|key| {
            batch
                .ops()
                .iter()
                .any(|op| matches!(op, Op::Put(k, _) if k == key))
        });
        if !held {
            return;
        }
        st.writer = Some(std::thread::current().id());
        st.applied = true;
        self.changed.notify_all();
        while !st.apply_released {
            st = self
                .changed
                .wait(st)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn before_flush(&self) {
        let mut st = lock(&self.state);
        if st.writer != Some(std::thread::current().id()) {
            return;
        }
        while !st.flush_released {
            st = self
                .changed
                .wait(st)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

fn disk_full() -> StorageError {
    StorageError::Io(std::io::Error::new(
        std::io::ErrorKind::StorageFull,
        "No space left on device (os error 28)",
    ))
}

/// An engine over a [`Disk`]: writes go to memory (and are visible there),
/// a flush copies memory to the disk. Like sled, the first failed flush
/// poisons it: every later write fails, whatever the disk does.
pub struct FaultyEngine {
    disk: Arc<Disk>,
    mem: Mutex<BTreeMap<Vec<u8>, Vec<u8>>>,
    poisoned: AtomicBool,
}

impl FaultyEngine {
    fn read(&self) -> Result<(), StorageError> {
        if self.disk.reads_write.load(Ordering::Acquire) && self.poisoned.load(Ordering::Acquire) {
            return Err(disk_full());
        }
        Ok(())
    }
}

impl Engine for FaultyEngine {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.read()?;
        Ok(lock(&self.mem).get(key).cloned())
    }

    fn chunk(
        &self,
        lo: &[u8],
        hi: Option<&[u8]>,
        rev: bool,
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError> {
        self.read()?;
        let mem = lock(&self.mem);
        let lo = std::ops::Bound::Included(lo.to_vec());
        let hi = match hi {
            Some(h) => std::ops::Bound::Excluded(h.to_vec()),
            None => std::ops::Bound::Unbounded,
        };
        let range = mem.range::<Vec<u8>, _>((lo, hi));
        let clone = |(k, v): (&Vec<u8>, &Vec<u8>)| (k.clone(), v.clone());
        Ok(if rev {
            range.rev().take(limit).map(clone).collect()
        } else {
            range.take(limit).map(clone).collect()
        })
    }

    fn apply(&self, batch: &Batch) -> Result<(), StorageError> {
        if self.poisoned.load(Ordering::Acquire) {
            return Err(disk_full());
        }
        self.disk.applies.fetch_add(1, Ordering::AcqRel);
        let mut mem = lock(&self.mem);
        for op in batch.ops() {
            match op {
                Op::Put(k, v) => {
                    mem.insert(k.clone(), v.clone());
                }
                Op::Delete(k) => {
                    mem.remove(k);
                }
            }
        }
        drop(mem);
        self.disk.pause.after_apply(batch);
        Ok(())
    }

    fn flush(&self) -> Result<(), StorageError> {
        self.disk.pause.before_flush();
        if self.poisoned.load(Ordering::Acquire) || self.disk.full.load(Ordering::Acquire) {
            self.poisoned.store(true, Ordering::Release);
            return Err(disk_full());
        }
        *lock(&self.disk.durable) = lock(&self.mem).clone();
        Ok(())
    }

    fn size_on_disk(&self) -> Result<u64, StorageError> {
        Ok(0)
    }
}

pub struct FaultyOpener(pub Arc<Disk>);

impl Opener for FaultyOpener {
    type Engine = FaultyEngine;

    fn open(&self) -> Result<FaultyEngine, StorageError> {
        if self.0.full.load(Ordering::Acquire) || self.0.refuse_open.load(Ordering::Acquire) {
            return Err(disk_full());
        }
        self.0.opens.fetch_add(1, Ordering::AcqRel);
        Ok(FaultyEngine {
            disk: self.0.clone(),
            mem: Mutex::new(lock(&self.0.durable).clone()),
            poisoned: AtomicBool::new(false),
        })
    }

    fn probe(&self) -> std::io::Result<()> {
        if self.0.full.load(Ordering::Acquire) {
            return Err(std::io::Error::from(std::io::ErrorKind::StorageFull));
        }
        Ok(())
    }

    fn describe(&self) -> String {
        "(test disk)".into()
    }
}

/// A store on `disk` whose recovery attempts wait `first_retry`, doubling
/// up to `max_retry`.
pub fn recovering(
    disk: &Arc<Disk>,
    first_retry: Duration,
    max_retry: Duration,
) -> Recovering<FaultyOpener> {
    Recovering::open_with(FaultyOpener(disk.clone()), first_retry, max_retry).expect("open")
}
