//! Bounds on the CPU-heavy work requests start: password checks (argon2)
//! and searches. Each runs on a blocking thread; without a bound, every
//! request in flight took a thread of its own, so a burst grew the
//! blocking pool, and with it the memory each thread's work and glibc's
//! per-thread arenas hold, while running more at once than there are
//! cores only made each one slower. A gate lets a few per core run;
//! callers past it wait as async tasks, holding neither a thread nor the
//! work's memory. The bounds are per process, not per node, because cores
//! and memory are: the demo runs several nodes in one.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A semaphore with the count of work in progress and its high-water mark
/// (for tests and operators: it never exceeds the limit).
pub struct Gate {
    pub(crate) permits: tokio::sync::Semaphore,
    limit: usize,
    running: AtomicUsize,
    peak: AtomicUsize,
}

impl Gate {
    /// `per_core` permits for each core the process may use.
    fn per_core(per_core: usize) -> Gate {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let limit = cores * per_core;
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
    GATE.get_or_init(|| Gate::per_core(1))
}

/// Searches: mostly CPU over the index and the catalogue, with some
/// waiting on the index's mmap and the store. Two per core: one per core
/// cost a third of the throughput, two kept it and, against no gate,
/// halved p99 and the memory a load leaves behind (docs/BENCHMARKS.md,
/// "Search load on it, and three allocators").
pub fn searches() -> &'static Gate {
    static GATE: OnceLock<Gate> = OnceLock::new();
    GATE.get_or_init(|| Gate::per_core(2))
}

#[cfg(test)]
mod tests {
    use crate::service::{Service, ServiceError};

    /// Searches started together run no more at once than the limit
    /// (each holds its thread a while, so without the gate they overlap).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn searches_run_no_more_at_once_than_the_limit() {
        let (_dir, svc) = Service::for_tests();
        let limit = super::searches().limit();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..4 * limit + 2 {
            let svc = svc.clone();
            tasks.spawn(async move {
                svc.gated(super::searches(), |svc| {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    Ok::<_, ServiceError>(svc.org())
                })
                .await
            });
        }
        while let Some(done) = tasks.join_next().await {
            assert_eq!(done.expect("task").expect("search"), svc.org());
        }
        let peak = super::searches().peak();
        assert!((1..=limit).contains(&peak), "{peak} at once, limit {limit}");
    }
}
