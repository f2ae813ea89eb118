//! Bounds on the CPU-heavy work requests start; for now password checks
//! (argon2). Each runs on a blocking thread; without a bound, every
//! request in flight took a thread of its own, so a burst grew the
//! blocking pool, and with it the memory each thread's work and glibc's
//! per-thread arenas hold, while running more at once than there are
//! cores only made each one slower. A gate lets one per core run;
//! callers past it wait as async tasks, holding neither a thread nor the
//! work's memory. The bounds are per process, not per node, because cores
//! and memory are: the demo runs several nodes in one.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A semaphore with the count of work in progress and its high-water mark
/// (for tests and operators: it never exceeds the limit).
///
/// Searches are not gated yet: one permit per core cut p99 and the memory
/// a load leaves behind, but also throughput, in a first measurement
/// (docs/BENCHMARKS.md, "A node at size").
pub struct Gate {
    pub(crate) permits: tokio::sync::Semaphore,
    limit: usize,
    running: AtomicUsize,
    peak: AtomicUsize,
}

impl Gate {
    fn per_core() -> Gate {
        let limit = std::thread::available_parallelism().map_or(1, usize::from);
        Gate {
            permits: tokio::sync::Semaphore::new(limit),
            limit,
            running: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }

    /// How many may run at once.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The most that have run at once in this process.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    /// Marks one piece of work as running until the guard drops.
    pub(crate) fn running(&self) -> Running<'_> {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        Running(self)
    }
}

pub(crate) struct Running<'a>(&'a Gate);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Argon2 computations (a sign-in's check, a new account's hash): each
/// holds 19 MiB for about a tenth of a second of CPU; 80 sign-ins at once
/// left the process about 800 MB larger.
pub fn passwords() -> &'static Gate {
    static GATE: OnceLock<Gate> = OnceLock::new();
    GATE.get_or_init(Gate::per_core)
}
