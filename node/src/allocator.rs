//! The process's memory allocator: jemalloc, with its background threads
//! on, so that memory freed after start-up or a burst of load goes back to
//! the system within seconds even when the node then sits idle.
//!
//! It is declared here, in the library, so that everything that links the
//! node runs on it: the `skillmesh` binary, and the benches and tests that
//! run nodes in their own process, which then measure what ships.
//!
//! Why not glibc's malloc, the default: it keeps freed memory in its heaps
//! until something calls `malloc_trim`, and freed blocks that lie between
//! live ones are kept for good. After the start-up scan that builds the
//! search catalogue, and after sled's pages from that scan are let go
//! (`Store::release_cache`), glibc kept about 60 MB of a 100,000-record
//! node's memory that a trim then returned (docs/BENCHMARKS.md, "Memory at
//! rest"). Calling `malloc_trim` needs `unsafe` FFI, which the workspace
//! forbids, and would have to be called again after every load.
//!
//! jemalloc purges unused pages by itself after a decay time (10 s for
//! dirty pages, by default). Without its background threads that purging
//! runs only inside later allocations, so an idle node would keep what a
//! burst left behind: the crate's `background_threads` feature
//! (node/Cargo.toml) builds jemalloc with them on from the first
//! allocation, in every process that links the node. Operators can still
//! tune jemalloc with `_RJEM_MALLOC_CONF`. mimalloc was measured too,
//! before searches were gated, and grew far more than glibc or jemalloc
//! under many connections (the allocator table in docs/BENCHMARKS.md).

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
