//! [`Recovering`]: the [`Kv`] the node uses, over an engine that it opens
//! again when writes fail and then can succeed again (the module docs of
//! `storage` tell the whole story).
//!
//! Locks, outermost first: `recovering` (one recovery attempt at a time),
//! the `engine` slot, then `state`. Nothing holds `state` while it waits
//! for another lock, and no operation holds the engine while it takes the
//! slot again, so a reopen waiting for operations in flight cannot deadlock
//! with them.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, RwLock, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{Batch, Engine, Entry, FaultCause, Kv, Opener, StorageError, WriteFault};
use crate::clock;

/// The first recovery attempt after a fault waits this long; each attempt
/// that fails doubles the wait, up to [`MAX_RETRY`].
pub const FIRST_RETRY: Duration = Duration::from_secs(1);
/// The longest wait between two recovery attempts.
pub const MAX_RETRY: Duration = Duration::from_secs(10);
/// A store that worked this long since it recovered starts its next fault
/// with [`FIRST_RETRY`] again (a disk that keeps filling up backs off).
const SETTLED: Duration = Duration::from_secs(60);
/// Longest a reopen waits for operations in flight on the old engine
/// (each is one read, one chunk of a scan or one commit).
const DRAIN_WAIT: Duration = Duration::from_secs(5);
/// Entries a scan reads from the engine at a time.
const CHUNK: usize = 256;

/// The node's [`Kv`]: an engine, opened again after a write fault once the
/// disk takes writes again.
pub struct Recovering<O: Opener> {
    shared: Arc<Shared<O>>,
}

struct Shared<O: Opener> {
    opener: O,
    /// [`FIRST_RETRY`] and [`MAX_RETRY`] (shorter in tests).
    first_retry: Duration,
    max_retry: Duration,
    /// The engine; `None` only after a reopen failed.
    engine: RwLock<Option<Arc<O::Engine>>>,
    /// Whether writes are refused now (read without a lock on every write).
    faulted: AtomicBool,
    state: Mutex<State>,
    /// Wakes the recovery thread (when the store is dropped).
    wake: Condvar,
    /// Held while a recovery attempt runs.
    recovering: Mutex<()>,
    prober: Mutex<Option<JoinHandle<()>>>,
    recoveries: AtomicU64,
}

struct State {
    fault: Option<WriteFault>,
    /// When the next recovery attempt may run.
    next_try: Instant,
    /// The wait before the attempt after next.
    delay: Duration,
    /// When the store last recovered.
    recovered_at: Option<Instant>,
    /// The store is being dropped: the recovery thread ends.
    closing: bool,
    /// A recovery thread runs (or is being started). It clears this, under
    /// the lock, when it decides to end, so a fault that begins meanwhile
    /// starts a new one.
    prober_running: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<O: Opener> Recovering<O> {
    /// Opens the engine.
    pub fn open(opener: O) -> Result<Recovering<O>, StorageError> {
        Recovering::open_with(opener, FIRST_RETRY, MAX_RETRY)
    }

    /// Opens the engine, with other waits between recovery attempts.
    pub(crate) fn open_with(
        opener: O,
        first_retry: Duration,
        max_retry: Duration,
    ) -> Result<Recovering<O>, StorageError> {
        let engine = opener.open()?;
        Ok(Recovering {
            shared: Arc::new(Shared {
                opener,
                first_retry,
                max_retry,
                engine: RwLock::new(Some(Arc::new(engine))),
                faulted: AtomicBool::new(false),
                state: Mutex::new(State {
                    fault: None,
                    next_try: Instant::now(),
                    delay: first_retry,
                    recovered_at: None,
                    closing: false,
                    prober_running: false,
                }),
                wake: Condvar::new(),
                recovering: Mutex::new(()),
                prober: Mutex::new(None),
                recoveries: AtomicU64::new(0),
            }),
        })
    }

    /// Starts the recovery thread (the caller marked it running).
    fn start_prober(&self) {
        let mut slot = lock(&self.shared.prober);
        // A thread before it has decided to end: it is gone or about to be.
        if let Some(done) = slot.take() {
            let _ = done.join();
        }
        let weak = Arc::downgrade(&self.shared);
        match std::thread::Builder::new()
            .name("store-recovery".into())
            .spawn(move || prober(&weak))
        {
            Ok(handle) => *slot = Some(handle),
            Err(e) => {
                lock(&self.shared.state).prober_running = false;
                tracing::warn!(error = %e, "cannot start the store's recovery thread; writes retry instead");
            }
        }
    }

    /// Records that a write failed with `e` (unless a fault is recorded
    /// already) and starts the recovery thread; the fault in force.
    fn enter_fault(&self, e: &StorageError) -> WriteFault {
        let (fault, start) = {
            let mut st = lock(&self.shared.state);
            if let Some(f) = &st.fault {
                return f.clone();
            }
            let fault = WriteFault {
                cause: FaultCause::of(e),
                detail: detail_of(e),
                since: clock::now(),
                reads_work: true,
            };
            tracing::error!(
                store = %self.shared.opener.describe(),
                error = %fault.detail,
                "the store cannot save changes ({}); changes are refused until it can, checked every few seconds",
                fault.cause.words()
            );
            if st.recovered_at.is_none_or(|t| t.elapsed() >= SETTLED) {
                st.delay = self.shared.first_retry;
            }
            st.next_try = Instant::now() + st.delay;
            st.fault = Some(fault.clone());
            self.shared.faulted.store(true, Ordering::Release);
            let start = !st.prober_running;
            st.prober_running = true;
            (fault, start)
        };
        if start {
            self.start_prober();
        }
        fault
    }

    fn unwritable(&self) -> StorageError {
        StorageError::Unwritable(self.shared.current_fault())
    }

    /// A scan over `[lo, hi)` that reads a chunk at a time.
    fn scan(
        &self,
        lo: Vec<u8>,
        hi: Option<Vec<u8>>,
    ) -> Box<dyn DoubleEndedIterator<Item = Result<Entry, StorageError>> + '_> {
        Box::new(Scan {
            shared: &self.shared,
            lo,
            hi,
            front: VecDeque::new(),
            back: VecDeque::new(),
            exhausted: false,
            failed: false,
        })
    }
}

impl<O: Opener> Shared<O> {
    /// The engine for one operation.
    fn engine(&self) -> Result<Arc<O::Engine>, StorageError> {
        let engine = self
            .engine
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        engine.ok_or_else(|| StorageError::Unreadable(self.current_fault()))
    }

    /// A read's error. sled may write while it reads (a read that meets a
    /// page grown too big splits it, or finishes a merge), and while the
    /// store is faulted such a write fails with the fault's error: that
    /// read is refused as part of the fault ([`StorageError::Unreadable`],
    /// with the fault's words), not as an unexplained engine error. Most
    /// reads touch no such page and go on.
    fn read_error(&self, e: StorageError) -> StorageError {
        if e.fault().is_some() || !self.faulted.load(Ordering::Acquire) {
            return e;
        }
        tracing::debug!(error = %e, "store: a read that needed to write was refused while the store is faulted");
        StorageError::Unreadable(WriteFault {
            reads_work: false,
            ..self.current_fault()
        })
    }

    fn current_fault(&self) -> WriteFault {
        lock(&self.state)
            .fault
            .clone()
            .unwrap_or_else(|| WriteFault {
                cause: FaultCause::Engine,
                detail: "the store is being reopened".into(),
                since: clock::now(),
                reads_work: true,
            })
    }

    /// One recovery attempt, if the store is faulted and an attempt is due:
    /// probe the disk, then reopen the engine (waiting for an attempt that
    /// runs already, and then trying only if it failed and another is due).
    /// True when the store takes writes now.
    fn try_recover(&self) -> bool {
        let _turn = lock(&self.recovering);
        {
            let st = lock(&self.state);
            if st.fault.is_none() {
                return true;
            }
            if st.closing || Instant::now() < st.next_try {
                return false;
            }
        }
        if let Err(e) = self.opener.probe() {
            tracing::debug!(error = %e, "store: the disk does not take writes yet");
            self.retry_later();
            return false;
        }
        match self.reopen() {
            Ok(()) => {
                let since = {
                    let mut st = lock(&self.state);
                    st.recovered_at = Some(Instant::now());
                    self.faulted.store(false, Ordering::Release);
                    st.fault.take().map_or(0, |f| f.since)
                };
                self.recoveries.fetch_add(1, Ordering::AcqRel);
                tracing::info!(
                    store = %self.opener.describe(),
                    faulted_secs = clock::now().saturating_sub(since),
                    "the store saves changes again (reopened it)"
                );
                true
            }
            Err(Reopen::Busy) => {
                tracing::debug!(
                    "store: operations in flight kept the engine busy; reopening later"
                );
                self.retry_later();
                false
            }
            Err(Reopen::Failed(e)) => {
                self.reopen_failed(&e);
                self.retry_later();
                false
            }
        }
    }

    /// Records, in the fault in force, that the engine did not open again
    /// (with `e`): reads fail too from now on. Logged as an error the first
    /// time.
    fn reopen_failed(&self, e: &StorageError) {
        let first = {
            let mut st = lock(&self.state);
            let f = st.fault.as_mut();
            let first = f.as_ref().is_some_and(|f| f.reads_work);
            if let Some(f) = f {
                f.reads_work = false;
                f.cause = FaultCause::of(e);
                f.detail = format!("reopening: {}", detail_of(e));
            }
            first
        };
        if first {
            tracing::error!(store = %self.opener.describe(), error = %e, "cannot reopen the store; reads fail too until it opens, retried every few seconds");
        } else {
            tracing::debug!(error = %e, "store: reopening failed again");
        }
    }

    /// The next attempt waits twice as long as the last (at most MAX_RETRY).
    fn retry_later(&self) {
        let mut st = lock(&self.state);
        st.next_try = Instant::now() + st.delay;
        st.delay = (st.delay * 2).min(self.max_retry);
    }

    /// Closes the engine and opens it again, once no operation uses it.
    fn reopen(&self) -> Result<(), Reopen> {
        let mut slot = self.engine.write().unwrap_or_else(PoisonError::into_inner);
        let deadline = Instant::now() + DRAIN_WAIT;
        while slot.as_ref().is_some_and(|e| Arc::strong_count(e) > 1) {
            if Instant::now() >= deadline {
                return Err(Reopen::Busy);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        // sled holds a lock on its files until it is closed.
        drop(slot.take());
        match self.opener.open() {
            Ok(engine) => {
                *slot = Some(Arc::new(engine));
                Ok(())
            }
            Err(e) => Err(Reopen::Failed(e)),
        }
    }
}

/// The error in words for a [`WriteFault`]. sled wraps the operating
/// system's error in one whose text is its debug form, so the common
/// causes are named here.
fn detail_of(e: &StorageError) -> String {
    match (e, FaultCause::of(e)) {
        (StorageError::Unwritable(f) | StorageError::Unreadable(f), _) => f.detail.clone(),
        (_, FaultCause::DiskFull) => "no space left on device (ENOSPC)".into(),
        (_, FaultCause::QuotaExceeded) => "disk quota exceeded (EDQUOT)".into(),
        (_, FaultCause::ReadOnly) => "read-only file system (EROFS)".into(),
        (StorageError::Io(io), _) => io.to_string(),
        (StorageError::Engine(m), _) => m.clone(),
    }
}

enum Reopen {
    /// Operations in flight held the old engine too long; it is kept.
    Busy,
    /// The old engine is closed and a new one did not open.
    Failed(StorageError),
}

/// The recovery thread: attempts recovery whenever one is due, until the
/// store takes writes again or is dropped.
fn prober<O: Opener>(weak: &Weak<Shared<O>>) {
    loop {
        let Some(shared) = weak.upgrade() else {
            return;
        };
        {
            let mut st = lock(&shared.state);
            loop {
                if st.closing || st.fault.is_none() {
                    st.prober_running = false;
                    return;
                }
                let now = Instant::now();
                if now >= st.next_try {
                    break;
                }
                let wait = st.next_try - now;
                st = shared
                    .wake
                    .wait_timeout(st, wait)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
        }
        // On success the loop above sees no fault (or a new one) and ends
        // or waits.
        shared.try_recover();
    }
}

impl<O: Opener> Drop for Recovering<O> {
    fn drop(&mut self) {
        lock(&self.shared.state).closing = true;
        self.shared.wake.notify_all();
        let prober = lock(&self.shared.prober).take();
        if let Some(handle) = prober
            && handle.join().is_err()
        {
            tracing::error!("the store's recovery thread panicked");
        }
    }
}

impl<O: Opener> Kv for Recovering<O> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.shared
            .engine()?
            .get(key)
            .map_err(|e| self.shared.read_error(e))
    }

    fn scan_prefix(
        &self,
        prefix: &[u8],
    ) -> Box<dyn DoubleEndedIterator<Item = Result<Entry, StorageError>> + '_> {
        self.scan(prefix.to_vec(), prefix_end(prefix))
    }

    fn range(
        &self,
        start: &[u8],
        end: &[u8],
    ) -> Box<dyn DoubleEndedIterator<Item = Result<Entry, StorageError>> + '_> {
        self.scan(start.to_vec(), Some(end.to_vec()))
    }

    fn commit(&self, batch: Batch) -> Result<(), StorageError> {
        if self.shared.faulted.load(Ordering::Acquire) && !self.shared.try_recover() {
            return Err(self.unwritable());
        }
        let engine = match self.shared.engine() {
            Ok(e) => e,
            Err(_) => return Err(self.unwritable()),
        };
        let done = engine.apply(&batch).and_then(|()| engine.flush());
        drop(engine);
        done.map_err(|e| StorageError::Unwritable(self.enter_fault(&e)))
    }

    fn flush(&self) -> Result<(), StorageError> {
        if self.shared.faulted.load(Ordering::Acquire) {
            return Err(self.unwritable());
        }
        let done = self.shared.engine()?.flush();
        done.map_err(|e| StorageError::Unwritable(self.enter_fault(&e)))
    }

    fn size_on_disk(&self) -> Result<u64, StorageError> {
        self.shared.engine()?.size_on_disk()
    }

    fn write_fault(&self) -> Option<WriteFault> {
        if !self.shared.faulted.load(Ordering::Acquire) {
            return None;
        }
        lock(&self.shared.state).fault.clone()
    }

    fn recoveries(&self) -> u64 {
        self.shared.recoveries.load(Ordering::Acquire)
    }

    /// Closes the engine and opens it again: sled keeps every page a scan
    /// read for as long as its `Db` is open, whatever its cache limit, and
    /// only closing it frees them (docs/BENCHMARKS.md, "Memory at rest").
    /// A faulted store is left to its recovery, which reopens it anyway;
    /// operations that keep the engine busy past the drain wait leave it
    /// open as it was. If it does not open again, the store is faulted and
    /// recovers as after any failed reopen.
    fn release_cache(&self) -> Result<bool, StorageError> {
        let _turn = lock(&self.shared.recovering);
        if self.shared.faulted.load(Ordering::Acquire) {
            return Ok(false);
        }
        match self.shared.reopen() {
            Ok(()) => Ok(true),
            Err(Reopen::Busy) => {
                tracing::debug!(
                    "store: operations in flight kept the engine busy; its cache is kept"
                );
                Ok(false)
            }
            Err(Reopen::Failed(e)) => {
                self.enter_fault(&e);
                self.shared.reopen_failed(&e);
                Err(StorageError::Unreadable(self.shared.current_fault()))
            }
        }
    }
}

/// The first key after every key that starts with `prefix` (`None` when
/// there is none: the prefix is empty or all `0xff`).
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// A scan of `[lo, hi)`, read a chunk at a time from whichever engine is
/// current, so that it holds no engine between chunks (a reopen can run
/// while a scan is in flight, and the scan goes on over the new engine).
/// Like sled's own iterators it is not a snapshot.
struct Scan<'a, O: Opener> {
    shared: &'a Shared<O>,
    /// What is left to read: `[lo, hi)`.
    lo: Vec<u8>,
    hi: Option<Vec<u8>>,
    /// Read from the front, in key order.
    front: VecDeque<Entry>,
    /// Read from the back, in reverse key order.
    back: VecDeque<Entry>,
    /// Everything in `[lo, hi)` has been read into the buffers.
    exhausted: bool,
    /// A read failed; the error was returned and the scan ends.
    failed: bool,
}

impl<O: Opener> Scan<'_, O> {
    fn fetch(&mut self, rev: bool) -> Result<(), StorageError> {
        if self.hi.as_ref().is_some_and(|hi| self.lo >= *hi) {
            self.exhausted = true;
            return Ok(());
        }
        let chunk = self
            .shared
            .engine()?
            .chunk(&self.lo, self.hi.as_deref(), rev, CHUNK)
            .map_err(|e| self.shared.read_error(e))?;
        if chunk.len() < CHUNK {
            self.exhausted = true;
        }
        if let Some((key, _)) = chunk.last() {
            if rev {
                self.hi = Some(key.clone());
            } else {
                // The first key after `key`.
                let mut next = key.clone();
                next.push(0);
                self.lo = next;
            }
        }
        if rev {
            self.back.extend(chunk);
        } else {
            self.front.extend(chunk);
        }
        Ok(())
    }
}

impl<O: Opener> Iterator for Scan<'_, O> {
    type Item = Result<Entry, StorageError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        if self.front.is_empty()
            && !self.exhausted
            && let Err(e) = self.fetch(false)
        {
            self.failed = true;
            return Some(Err(e));
        }
        self.front
            .pop_front()
            .or_else(|| self.back.pop_back())
            .map(Ok)
    }
}

impl<O: Opener> DoubleEndedIterator for Scan<'_, O> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        if self.back.is_empty()
            && !self.exhausted
            && let Err(e) = self.fetch(true)
        {
            self.failed = true;
            return Some(Err(e));
        }
        self.back
            .pop_front()
            .or_else(|| self.front.pop_back())
            .map(Ok)
    }
}

#[cfg(test)]
mod tests;
