//! The tantivy index: its schema, where it lives, and the indexer thread
//! that keeps it current off the ingest path.
//!
//! The service sends every change (a record stored, removed, an
//! organisation blocked) down a channel, each numbered with a generation;
//! one thread applies them to tantivy's writer and commits
//! [`COMMIT_AFTER`] after the first change it has not committed yet, but
//! no sooner than [`COMMIT_GAP`] after the previous commit (or after
//! [`COMMIT_DOCS`] changes), then reloads the reader and publishes the
//! generation it reached. So a change after a quiet spell is in the index
//! within 0.1 s, and under a steady stream of records (a sync, a busy
//! network) the index commits every two seconds: each commit starts a new
//! segment, and setting up and merging segments of a few records cost
//! more than the indexing itself (measured: docs/BENCHMARKS.md). Search
//! uses the index for the records whose generation that covers, and plain
//! substring matching for the newer ones (see `Catalogue::search_text`),
//! so a change is searchable at once either way.
//!
//! On disk (`<data_dir>/index/`) the index sits next to a marker file
//! holding its schema version. It is rebuilt from the store when the
//! directory is missing, unreadable, has no marker, or was written with
//! another schema version; and at every start it is reconciled with the
//! store (records missing or out of date are indexed, records no longer
//! held are deleted), in the background, so a crash between a store write
//! and an index commit loses nothing.
//!
//! # When the index cannot be written (a full disk)
//!
//! What tantivy 0.27 does on `ENOSPC` (measured on a full tmpfs): the
//! indexing worker that fails to write a segment file kills the writer
//! (`add_document` then answers "An index writer was killed"), and the
//! commit fails; the last commit stays whole on disk (`meta.json` is
//! replaced atomically, checksums pass). Once space is back, the same
//! writer accepts documents and a commit again *without writing them*, so a
//! writer that failed is never used again. A new writer on the same
//! directory starts from the last commit.
//!
//! So on a failure the indexer drops its writer, marks the index failed
//! (search stops relying on it and matches words by substring, as it does
//! for fresh changes; `/healthz` says `index_failed`), and keeps every
//! change since its last commit, with those that arrive meanwhile. Every
//! second at first, backing off to every `RETRY_MAX`, it probes the disk
//! as the store does and, when that succeeds, opens a new writer, reloads
//! the last commit, applies the kept changes again and commits: the index
//! is whole and ranked search is back. Catching up this way costs only the
//! changes since the last commit; rebuilding from the store instead would
//! need the catalogue's view of what is searchable, which only
//! [`super::Search`] holds. Past `REPLAY_MAX` kept changes the indexer
//! gives up until the next start, whose reconciliation repairs the index.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use skillmesh_protocol::{OrgKey, Record};
use tantivy::indexer::IndexWriterOptions;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};

use super::analysis::{self, Analyzer, KeyMap, doc_key};
use super::query::{self, MatchedTerms, ParsedQuery};
use crate::catalogue;
use skillmesh_store::Store;

/// Bumped whenever the schema, the analyzers or [`doc_key`] change: an
/// index written with another version is rebuilt.
pub const SCHEMA_VERSION: u32 = 1;
/// The marker file inside the index directory.
pub const MARKER: &str = "skillmesh-index.json";
/// The fast field holding each document's [`doc_key`].
pub const KEY: &str = "key";
const SEQ: &str = "seq";
const ORG_HASH: &str = "org_hash";

/// Longest a change waits before it is committed.
pub const COMMIT_AFTER: Duration = Duration::from_millis(100);
/// Shortest time between two commits. Each commit starts a segment, and
/// setting one up (tantivy's hash tables for the minimum writer budget,
/// its files) costs more than indexing a few records: at 0.5 s, 20 nodes
/// receiving a record every quarter second spent 46 % of their CPU in
/// tantivy (docs/BENCHMARKS.md, "Propagation against bare gossipsub").
/// Records changed since the last commit are matched by substring
/// meanwhile, so this delays only their full ranking.
pub const COMMIT_GAP: Duration = Duration::from_secs(2);
/// Changes after which a commit happens anyway.
pub const COMMIT_DOCS: usize = 5_000;
/// The writer's memory budget (tantivy's minimum for one thread).
const WRITER_MEMORY: usize = 15_000_000;

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("search index {path}: {source}")]
    Tantivy {
        path: String,
        source: tantivy::TantivyError,
    },
    #[error("search index {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// Where the index lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// No index: text search is substring matching over the catalogue
    /// (what benchmarks compare against).
    Off,
    /// In memory, rebuilt from the store at every start (tests).
    Memory,
    /// In this directory (a node: `<data_dir>/index`).
    Dir(PathBuf),
}

/// The index's fields.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub key: Field,
    pub seq: Field,
    pub org_hash: Field,
    pub org: Field,
    pub title: Field,
    pub topics: Field,
    pub body: Field,
    pub words: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let stemmed = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(analysis::STEMMED)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let words = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(analysis::WORDS)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let fields = Fields {
        key: b.add_u64_field(KEY, INDEXED | FAST),
        seq: b.add_u64_field(SEQ, FAST),
        org_hash: b.add_u64_field(ORG_HASH, FAST),
        org: b.add_text_field("org", STRING),
        title: b.add_text_field("title", stemmed.clone()),
        topics: b.add_text_field("topics", stemmed.clone()),
        body: b.add_text_field("body", stemmed),
        words: b.add_text_field("words", words),
    };
    (b.build(), fields)
}

fn org_hash(org: &OrgKey) -> u64 {
    let b = org.as_bytes();
    u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

/// The document for a searchable record (`None` for any other kind).
fn document(fields: &Fields, record: &Record) -> Option<TantivyDocument> {
    let x = catalogue::extract(&record.body)?;
    let h = &record.header;
    let mut doc = TantivyDocument::default();
    doc.add_u64(fields.key, doc_key(&h.org, &h.id));
    doc.add_u64(fields.seq, h.seq);
    doc.add_u64(fields.org_hash, org_hash(&h.org));
    doc.add_text(fields.org, analysis::org_term(&h.org));
    doc.add_text(fields.title, &x.title);
    doc.add_text(fields.words, &x.title);
    for t in &x.topics {
        doc.add_text(fields.topics, t);
        doc.add_text(fields.words, t);
    }
    for t in &x.text {
        doc.add_text(fields.body, t);
        doc.add_text(fields.words, t);
    }
    Some(doc)
}

/// A change for the indexer, numbered by the catalogue's generation.
pub enum Op {
    /// Index `record` (unless what is indexed under its key is as new).
    Upsert {
        generation: u64,
        record: Box<Record>,
    },
    /// Remove what is indexed under `key` if its `seq` is below `below_seq`.
    Remove {
        generation: u64,
        key: u64,
        below_seq: u64,
    },
    /// Remove every record of `org` (blocked).
    RemoveOrg { generation: u64, org: OrgKey },
    /// Make the index hold exactly `wanted` (org, id, seq), reading what
    /// differs from the store, and taking those wanted with `seq`
    /// [`catalogue::INSIDE_SEQ`] from `inside` (content kept inside the
    /// organisation has no record in the store).
    Reconcile {
        generation: u64,
        wanted: Vec<(OrgKey, String, u64)>,
        inside: Vec<Record>,
    },
}

impl Op {
    fn generation(&self) -> u64 {
        match self {
            Op::Upsert { generation, .. }
            | Op::Remove { generation, .. }
            | Op::RemoveOrg { generation, .. }
            | Op::Reconcile { generation, .. } => *generation,
        }
    }
}

/// What the indexer thread and searches share.
#[derive(Default)]
struct Shared {
    /// The generation the last commit (and reader reload) covers.
    committed: AtomicU64,
    /// The last generation sent.
    sent: AtomicU64,
    /// The index could not be written: search stops relying on it until
    /// the indexer has caught it up again.
    failed: AtomicBool,
    /// Failed, and too many changes came meanwhile for it to catch up by
    /// itself: it is rebuilt at the next start.
    gave_up: AtomicBool,
    lock: Mutex<()>,
    changed: Condvar,
}

impl Shared {
    fn publish(&self, generation: u64) {
        let _g = self
            .lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.committed.fetch_max(generation, Ordering::Release);
        self.changed.notify_all();
    }

    fn fail(&self) {
        let _g = self
            .lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.failed.store(true, Ordering::Release);
        self.changed.notify_all();
    }

    /// The index caught up after a failure: it covers `generation`.
    fn recovered(&self, generation: u64) {
        let _g = self
            .lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.committed.fetch_max(generation, Ordering::Release);
        self.failed.store(false, Ordering::Release);
        self.changed.notify_all();
    }
}

/// What the index found for a query: every matching document and its text
/// score, per segment; the terms that matched; and the generation the
/// results cover.
pub struct IndexHits {
    pub segments: Vec<query::SegmentHits>,
    pub terms: MatchedTerms,
    pub covered: u64,
}

/// Size and state of the index, for benchmarks and health.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexStats {
    pub docs: u64,
    pub segments: usize,
    pub bytes_on_disk: u64,
    pub committed: u64,
    pub sent: u64,
    /// The index cannot be written now (it retries by itself unless
    /// `gave_up`).
    pub failed: bool,
    /// It failed, and cannot catch up before the next start.
    pub gave_up: bool,
}

/// The index and its indexer thread.
pub struct SearchIndex {
    reader: IndexReader,
    fields: Fields,
    dir: Option<PathBuf>,
    tx: Mutex<Option<mpsc::Sender<Op>>>,
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// Why the index was created afresh when it was opened, if it was.
    pub rebuilt: Option<String>,
}

fn register_tokenizers(index: &Index) {
    index
        .tokenizers()
        .register(analysis::STEMMED, analysis::stemmed_analyzer());
    index
        .tokenizers()
        .register(analysis::WORDS, analysis::words_analyzer());
}

/// Why an existing index directory cannot be used as it is, if it cannot.
fn unusable(path: &Path) -> Option<String> {
    let marker = match std::fs::read_to_string(path.join(MARKER)) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Some("no index yet".into());
        }
        Err(e) => return Some(format!("cannot read {MARKER}: {e}")),
    };
    let version = serde_json::from_str::<serde_json::Value>(&marker)
        .ok()
        .and_then(|v| v.get("schema_version").and_then(serde_json::Value::as_u64));
    match version {
        Some(v) if v == u64::from(SCHEMA_VERSION) => None,
        Some(v) => Some(format!(
            "schema version {v}, this node uses {SCHEMA_VERSION}"
        )),
        None => Some(format!("unreadable {MARKER}")),
    }
}

/// Opens the index at `path` with its reader, checking that the files are
/// whole and the schema is ours.
fn open_existing(path: &Path) -> Result<(Index, IndexReader), String> {
    let index = Index::open_in_dir(path).map_err(|e| format!("cannot open: {e}"))?;
    let (ours, _) = schema();
    if index.schema() != ours {
        return Err("its schema differs".into());
    }
    match index.validate_checksum() {
        Ok(damaged) if damaged.is_empty() => {}
        Ok(damaged) => return Err(format!("{} damaged files", damaged.len())),
        Err(e) => return Err(format!("cannot check its files: {e}")),
    }
    register_tokenizers(&index);
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()
        .map_err(|e| format!("cannot read: {e}"))?;
    Ok((index, reader))
}

/// Empties `path` and creates a fresh index there, with its marker.
fn create_fresh(path: &Path) -> Result<Index, IndexError> {
    let io = |source| IndexError::Io {
        path: path.display().to_string(),
        source,
    };
    if path.exists() {
        std::fs::remove_dir_all(path).map_err(io)?;
    }
    std::fs::create_dir_all(path).map_err(io)?;
    let (schema, _) = schema();
    let index = Index::create_in_dir(path, schema).map_err(|source| IndexError::Tantivy {
        path: path.display().to_string(),
        source,
    })?;
    let marker = serde_json::json!({ "schema_version": SCHEMA_VERSION }).to_string();
    let tmp = path.join(format!("{MARKER}.tmp"));
    std::fs::write(&tmp, marker).map_err(io)?;
    std::fs::rename(&tmp, path.join(MARKER)).map_err(io)?;
    Ok(index)
}

/// Lowers the calling thread to the lowest priority of the normal
/// scheduling class (nice 19 on Linux), and with it the threads it starts.
/// Indexing is deferred work: records are searchable by substring until
/// the index has them, so during a burst of ingest (catch-up sync) the
/// cores go to verifying and storing records first, and the index catches
/// up as soon as the burst is over. Nice 19 still gets a share of a busy
/// CPU, so indexing is slowed, never stopped. Failing to lower it (some
/// platforms) only costs ingest speed.
fn background_priority() {
    if let Err(e) =
        thread_priority::set_current_thread_priority(thread_priority::ThreadPriority::Min)
    {
        tracing::debug!(error = ?e, "search indexer: cannot lower its thread priority");
    }
}

/// Opens the writer, retrying for a few seconds while a writer of this
/// process that is shutting down still holds the directory's lock.
fn writer(index: &Index) -> tantivy::Result<IndexWriter> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let options = IndexWriterOptions::builder()
            .memory_budget_per_thread(WRITER_MEMORY)
            .num_worker_threads(1)
            .num_merge_threads(1)
            .build();
        match index.writer_with_options(options) {
            Err(tantivy::TantivyError::LockFailure(..)) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// Recursively sums file sizes under `path`.
fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

impl SearchIndex {
    /// Opens (or creates, or rebuilds) the index at `location` and starts
    /// its indexer thread. `None` for [`Location::Off`]. The caller sends
    /// [`Op::Reconcile`] first, so the index comes to match the store.
    pub fn open(location: &Location, store: Arc<Store>) -> Result<Option<SearchIndex>, IndexError> {
        let err = |path: &str| {
            let path = path.to_string();
            move |source| IndexError::Tantivy { path, source }
        };
        let (index, reader, dir, rebuilt) = match location {
            Location::Off => return Ok(None),
            Location::Memory => {
                let index = Index::create_in_ram(schema().0);
                register_tokenizers(&index);
                let reader = index
                    .reader_builder()
                    .reload_policy(ReloadPolicy::Manual)
                    .try_into()
                    .map_err(err("(memory)"))?;
                (index, reader, None, None)
            }
            Location::Dir(path) => {
                let shown = path.display().to_string();
                let existing = match unusable(path) {
                    None => open_existing(path),
                    Some(why) => Err(why),
                };
                match existing {
                    Ok((index, reader)) => (index, reader, Some(path.clone()), None),
                    Err(why) => {
                        if path.join(MARKER).exists() {
                            tracing::warn!(path = %shown, reason = %why, "rebuilding the search index");
                        } else {
                            tracing::info!(path = %shown, reason = %why, "building the search index");
                        }
                        let index = create_fresh(path)?;
                        register_tokenizers(&index);
                        let reader = index
                            .reader_builder()
                            .reload_policy(ReloadPolicy::Manual)
                            .try_into()
                            .map_err(err(&shown))?;
                        (index, reader, Some(path.clone()), Some(why))
                    }
                }
            }
        };
        SearchIndex::start(index, reader, dir, rebuilt, store).map(Some)
    }

    /// Starts the indexer thread over `index` (in `dir`, if on disk).
    fn start(
        index: Index,
        reader: IndexReader,
        dir: Option<PathBuf>,
        rebuilt: Option<String>,
        store: Arc<Store>,
    ) -> Result<SearchIndex, IndexError> {
        let shown = dir
            .as_ref()
            .map_or_else(|| "(memory)".to_string(), |d| d.display().to_string());
        let (_, fields) = schema();
        let shared = Arc::new(Shared::default());
        let (tx, rx) = mpsc::channel();
        // The writer is made on the indexer thread, after that thread has
        // lowered its priority, so that tantivy's worker and merge threads
        // (started with the writer) inherit the lower priority too.
        let (ready_tx, ready_rx) = mpsc::sync_channel::<tantivy::Result<()>>(1);
        let thread = {
            let (reader, shared) = (reader.clone(), shared.clone());
            let probe_dir = dir.clone();
            std::thread::Builder::new()
                .name("search-indexer".into())
                .spawn(move || {
                    background_priority();
                    let writer = match writer(&index) {
                        Ok(w) => w,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    Indexer {
                        index,
                        dir: probe_dir,
                        writer: Some(writer),
                        reader,
                        fields,
                        store,
                        shared,
                        indexed: KeyMap::default(),
                        uncommitted: 0,
                        last: 0,
                        replay: Vec::new(),
                        retry_at: None,
                        retry_delay: RETRY_FIRST,
                    }
                    .run(rx)
                })
                .map_err(|source| IndexError::Io {
                    path: shown.clone(),
                    source,
                })?
        };
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(source)) => {
                return Err(IndexError::Tantivy {
                    path: shown,
                    source,
                });
            }
            Err(_) => {
                return Err(IndexError::Io {
                    path: shown,
                    source: std::io::Error::other("the indexer thread ended while starting"),
                });
            }
        }
        Ok(SearchIndex {
            reader,
            fields,
            dir,
            tx: Mutex::new(Some(tx)),
            shared,
            thread: Mutex::new(Some(thread)),
            rebuilt,
        })
    }

    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    /// Hands a change to the indexer. Callers send in generation order
    /// (the catalogue's write lock orders them).
    pub fn send(&self, op: Op) {
        let generation = op.generation();
        let tx = self
            .tx
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(tx) = tx.as_ref()
            && tx.send(op).is_ok()
        {
            self.shared.sent.fetch_max(generation, Ordering::Release);
        }
    }

    /// The generation every search from now on sees in the index; 0 when
    /// the index failed (nothing is relied on then).
    pub fn covered(&self) -> u64 {
        if self.shared.failed.load(Ordering::Acquire) {
            0
        } else {
            self.shared.committed.load(Ordering::Acquire)
        }
    }

    pub fn failed(&self) -> bool {
        self.shared.failed.load(Ordering::Acquire)
    }

    /// Waits until every change sent so far is searchable (or the index
    /// failed, or `timeout` passed). True when caught up.
    pub fn wait_caught_up(&self, timeout: Duration) -> bool {
        let target = self.shared.sent.load(Ordering::Acquire);
        self.wait_for(target, timeout)
    }

    /// Waits until generation `target` is searchable.
    pub fn wait_for(&self, target: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut g = self
            .shared
            .lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        loop {
            if self.shared.failed.load(Ordering::Acquire) {
                return false;
            }
            if self.shared.committed.load(Ordering::Acquire) >= target {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            g = self
                .shared
                .changed
                .wait_timeout(g, deadline - now)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }

    /// Runs `parsed` against the index.
    pub fn search(
        &self,
        parsed: &ParsedQuery,
        analyzer: &mut Analyzer,
    ) -> tantivy::Result<IndexHits> {
        // Read before taking the searcher: the searcher is at least as new.
        let covered = self.covered();
        let searcher: Searcher = self.reader.searcher();
        let expansions = query::expand(parsed, &searcher, &self.fields, analyzer)?;
        let built = query::build(parsed, &expansions, &self.fields, analyzer);
        let segments = searcher.search(&*built, &query::DocScores)?;
        let mut terms = MatchedTerms::of(parsed, analyzer);
        for e in expansions.into_iter().flatten() {
            terms.words.insert(e.word);
        }
        Ok(IndexHits {
            segments,
            terms,
            covered,
        })
    }

    pub fn stats(&self) -> IndexStats {
        let searcher = self.reader.searcher();
        IndexStats {
            docs: searcher.num_docs(),
            segments: searcher.segment_readers().len(),
            bytes_on_disk: self.dir.as_deref().map_or(0, dir_size),
            committed: self.shared.committed.load(Ordering::Acquire),
            sent: self.shared.sent.load(Ordering::Acquire),
            failed: self.failed(),
            gave_up: self.shared.gave_up.load(Ordering::Acquire),
        }
    }

    /// Commits what is pending and stops the indexer thread (searches keep
    /// working on what was committed). Also done on drop.
    pub fn shutdown(&self) {
        self.tx
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(t) = thread
            && t.join().is_err()
        {
            tracing::error!("the search indexer thread panicked");
        }
    }
}

impl Drop for SearchIndex {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The indexer thread's state.
struct Indexer {
    index: Index,
    /// The index's directory, where the disk is probed before a retry.
    dir: Option<PathBuf>,
    /// `None` while the index is failed: a writer whose commit failed is
    /// not used again (tantivy may then accept documents and a commit
    /// without writing them).
    writer: Option<IndexWriter>,
    reader: IndexReader,
    fields: Fields,
    store: Arc<Store>,
    shared: Arc<Shared>,
    /// What the index holds: key → (seq, organisation hash).
    indexed: KeyMap<(u64, u64)>,
    /// Changes applied since the last commit.
    uncommitted: usize,
    /// The generation of the last change applied.
    last: u64,
    /// Every change received since the last commit, in order: after a
    /// failure they are applied again to a new writer on the last commit.
    replay: Vec<Op>,
    /// When the next attempt to catch up after a failure is due.
    retry_at: Option<Instant>,
    retry_delay: Duration,
}

/// The first retry after the index failed waits this long, each failed
/// retry twice as long, up to [`RETRY_MAX`] (as the store does).
const RETRY_FIRST: Duration = Duration::from_secs(1);
const RETRY_MAX: Duration = Duration::from_secs(10);
/// Changes held for a retry at most; past that the index gives up until
/// the next start (which reconciles it with the store).
const REPLAY_MAX: usize = 20_000;

type AnyError = Box<dyn std::error::Error>;

impl Indexer {
    fn run(&mut self, rx: mpsc::Receiver<Op>) {
        if let Err(e) = self.load_indexed() {
            tracing::error!(error = %e, "search index: cannot read what it holds");
            self.fail();
        }
        let mut first_uncommitted: Option<Instant> = None;
        let mut last_commit: Option<Instant> = None;
        loop {
            let due = if self.shared.failed.load(Ordering::Acquire) {
                self.retry_at
            } else {
                first_uncommitted.map(|at| match last_commit {
                    Some(c) => (at + COMMIT_AFTER).max(c + COMMIT_GAP),
                    None => at + COMMIT_AFTER,
                })
            };
            let next = match due {
                None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                Some(due) => rx.recv_timeout(due.saturating_duration_since(Instant::now())),
            };
            match next {
                Ok(op) => {
                    self.last = op.generation();
                    if self.shared.failed.load(Ordering::Acquire) {
                        self.keep(op);
                        continue;
                    }
                    let applied = self.apply(&op);
                    self.keep(op);
                    if let Err(e) = applied {
                        tracing::error!(error = %e, "search index: cannot index a change; text search falls back to substring matching until it can");
                        self.fail();
                        continue;
                    }
                    first_uncommitted.get_or_insert_with(Instant::now);
                    if self.uncommitted >= COMMIT_DOCS {
                        self.commit();
                        first_uncommitted = None;
                        last_commit = Some(Instant::now());
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    if self.shared.failed.load(Ordering::Acquire) {
                        self.retry();
                    } else {
                        self.commit();
                    }
                    first_uncommitted = None;
                    last_commit = Some(Instant::now());
                }
                Err(RecvTimeoutError::Disconnected) => {
                    if first_uncommitted.is_some() {
                        self.commit();
                    }
                    break;
                }
            }
        }
    }

    fn writer(&mut self) -> tantivy::Result<&mut IndexWriter> {
        self.writer.as_mut().ok_or_else(|| {
            tantivy::TantivyError::SystemError("the index writer is closed after a failure".into())
        })
    }

    /// Holds `op` for a retry, unless too many are held already.
    fn keep(&mut self, op: Op) {
        if self.shared.gave_up.load(Ordering::Acquire) {
            return;
        }
        if self.replay.len() >= REPLAY_MAX && self.shared.failed.load(Ordering::Acquire) {
            tracing::error!(
                changes = self.replay.len(),
                "search index: too many changes while it could not be written; searches match by substring until the next start rebuilds it"
            );
            self.replay = Vec::new();
            self.retry_at = None;
            self.shared.gave_up.store(true, Ordering::Release);
            return;
        }
        self.replay.push(op);
    }

    /// Stops using the writer (its work since the last commit is lost:
    /// [`Indexer::retry`] does it again) and schedules a retry.
    fn fail(&mut self) {
        self.writer = None;
        self.retry_delay = RETRY_FIRST;
        self.retry_at = (!self.shared.gave_up.load(Ordering::Acquire))
            .then(|| Instant::now() + self.retry_delay);
        self.shared.fail();
    }

    fn commit(&mut self) {
        if self.shared.failed.load(Ordering::Acquire) {
            return;
        }
        match self.commit_and_reload() {
            Ok(()) => {
                self.uncommitted = 0;
                self.replay.clear();
                self.shared.publish(self.last);
            }
            Err(e) => {
                tracing::error!(error = %e, "search index: commit failed; text search falls back to substring matching until it can commit again");
                self.fail();
            }
        }
    }

    fn commit_and_reload(&mut self) -> tantivy::Result<()> {
        self.writer()?.commit()?;
        self.reader.reload()
    }

    /// After a failure: if the disk takes writes, opens a new writer on the
    /// last commit and applies again every change since, then commits.
    fn retry(&mut self) {
        if let Some(dir) = &self.dir
            && let Err(e) =
                skillmesh_store::storage::probe_writable(dir, skillmesh_store::storage::PROBE_BYTES)
        {
            tracing::debug!(error = %e, "search index: the disk does not take writes yet");
            self.retry_later();
            return;
        }
        match self.catch_up() {
            Ok(changes) => {
                self.retry_at = None;
                self.replay.clear();
                self.shared.recovered(self.last);
                tracing::info!(
                    changes,
                    "search index: caught up after a failure; ranked search is back"
                );
            }
            Err(e) => {
                tracing::debug!(error = %e, "search index: catching up failed; retrying later");
                self.writer = None;
                self.retry_later();
            }
        }
    }

    fn retry_later(&mut self) {
        self.retry_at = Some(Instant::now() + self.retry_delay);
        self.retry_delay = (self.retry_delay * 2).min(RETRY_MAX);
    }

    /// A new writer on the last commit, the held changes applied again and
    /// committed; how many changes that was.
    fn catch_up(&mut self) -> Result<usize, AnyError> {
        self.writer = None;
        self.writer = Some(writer(&self.index)?);
        self.reader.reload()?;
        self.load_indexed()?;
        self.uncommitted = 0;
        let replay = std::mem::take(&mut self.replay);
        let applied = replay.iter().try_for_each(|op| self.apply(op));
        let changes = replay.len();
        self.replay = replay;
        applied?;
        self.commit_and_reload()?;
        self.uncommitted = 0;
        Ok(changes)
    }

    /// Reads (key, seq, organisation) of every live document.
    fn load_indexed(&mut self) -> tantivy::Result<()> {
        self.indexed.clear();
        let searcher = self.reader.searcher();
        for segment in searcher.segment_readers() {
            let ff = segment.fast_fields();
            let (keys, seqs, orgs) = (ff.u64(KEY)?, ff.u64(SEQ)?, ff.u64(ORG_HASH)?);
            let alive = segment.alive_bitset();
            for doc in 0..segment.max_doc() {
                if alive.is_some_and(|a| a.is_deleted(doc)) {
                    continue;
                }
                if let Some(key) = keys.first(doc) {
                    let seq = seqs.first(doc).unwrap_or(0);
                    let org = orgs.first(doc).unwrap_or(0);
                    self.indexed.insert(key, (seq, org));
                }
            }
        }
        Ok(())
    }

    fn key_term(&self, key: u64) -> Term {
        Term::from_field_u64(self.fields.key, key)
    }

    fn upsert(&mut self, record: &Record) -> tantivy::Result<()> {
        let h = &record.header;
        let key = doc_key(&h.org, &h.id);
        if self.indexed.get(&key).is_some_and(|(seq, _)| *seq >= h.seq) {
            return Ok(());
        }
        let Some(doc) = document(&self.fields, record) else {
            return Ok(());
        };
        let term = self.key_term(key);
        let replaces = self.indexed.contains_key(&key);
        let writer = self.writer()?;
        if replaces {
            writer.delete_term(term);
        }
        writer.add_document(doc)?;
        self.indexed.insert(key, (h.seq, org_hash(&h.org)));
        self.uncommitted += 1;
        Ok(())
    }

    fn remove(&mut self, key: u64, below_seq: u64) -> tantivy::Result<()> {
        if self
            .indexed
            .get(&key)
            .is_some_and(|(seq, _)| *seq < below_seq)
        {
            let term = self.key_term(key);
            self.writer()?.delete_term(term);
            self.indexed.remove(&key);
            self.uncommitted += 1;
        }
        Ok(())
    }

    fn apply(&mut self, op: &Op) -> Result<(), AnyError> {
        match op {
            Op::Upsert { record, .. } => self.upsert(record)?,
            Op::Remove { key, below_seq, .. } => self.remove(*key, *below_seq)?,
            Op::RemoveOrg { org, .. } => {
                let term = Term::from_field_text(self.fields.org, &analysis::org_term(org));
                self.writer()?.delete_term(term);
                let h = org_hash(org);
                self.indexed.retain(|_, (_, o)| *o != h);
                self.uncommitted += 1;
            }
            Op::Reconcile { wanted, inside, .. } => self.reconcile(wanted, inside)?,
        }
        Ok(())
    }

    /// Brings the index to hold exactly `wanted`: deletes what is not
    /// wanted, and indexes from the store what is missing or out of date.
    /// Entries kept inside are indexed again from `inside` every time:
    /// their `seq` never changes, so it cannot tell an edit the index
    /// missed (they are an organisation's own few, so this is cheap).
    fn reconcile(
        &mut self,
        wanted: &[(OrgKey, String, u64)],
        inside: &[Record],
    ) -> Result<(), AnyError> {
        let started = Instant::now();
        let mut inside: KeyMap<&Record> = inside
            .iter()
            .map(|r| (doc_key(&r.header.org, &r.header.id), r))
            .collect();
        let mut keep: KeyMap<()> = KeyMap::default();
        let mut fetch: Vec<(OrgKey, String)> = Vec::new();
        let mut added = 0usize;
        for (org, id, seq) in wanted {
            let key = doc_key(org, id);
            keep.insert(key, ());
            if *seq == catalogue::INSIDE_SEQ {
                if let Some(record) = inside.remove(&key) {
                    self.remove(key, u64::MAX)?;
                    self.upsert(record)?;
                    added += 1;
                }
            } else if self.indexed.get(&key).map(|(s, _)| *s) != Some(*seq) {
                fetch.push((*org, id.clone()));
            }
        }
        let stale: Vec<u64> = self
            .indexed
            .keys()
            .filter(|k| !keep.contains_key(*k))
            .copied()
            .collect();
        for key in &stale {
            self.remove(*key, u64::MAX)?;
        }
        drop(keep);
        for (org, id) in &fetch {
            let Some(row) = self.store.get_record(org, id)? else {
                self.remove(doc_key(org, id), u64::MAX)?;
                continue;
            };
            if row.tombstone {
                self.remove(doc_key(org, id), u64::MAX)?;
                continue;
            }
            match catalogue::decode_row(&row) {
                Some(record) => {
                    self.upsert(&record)?;
                    added += 1;
                }
                None => {
                    tracing::warn!(org = %org.short(), id = %id, "search index: skipping an unreadable record")
                }
            }
        }
        tracing::info!(
            indexed = added,
            removed = stale.len(),
            held = self.indexed.len(),
            ms = started.elapsed().as_millis() as u64,
            "search index reconciled with the store"
        );
        Ok(())
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// `(name, nice)` of this process's threads, from `/proc`.
    fn threads() -> Vec<(String, i64)> {
        let mut out = Vec::new();
        for task in std::fs::read_dir("/proc/self/task")
            .expect("tasks")
            .flatten()
        {
            let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
                continue;
            };
            // `pid (comm) state ppid ...`: nice is the 19th field, the
            // 17th after the closing parenthesis.
            let Some((head, rest)) = stat.rsplit_once(')') else {
                continue;
            };
            let name = head.split_once('(').map_or("", |(_, n)| n).to_string();
            let nice = rest
                .split_whitespace()
                .nth(16)
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            out.push((name, nice));
        }
        out
    }

    #[test]
    fn the_indexer_and_the_threads_it_starts_run_at_the_lowest_priority() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(Store::open(dir.path()).expect("store"));
        let index = SearchIndex::open(&Location::Memory, store)
            .expect("open")
            .expect("index");
        // Other tests run in this process too: look only at the threads
        // this one names and the ones tantivy's writer starts.
        let ours = |name: &str| {
            name == "search-indexer"
                || name == "segment_updater"
                || name.starts_with("merge_thread")
                || name.starts_with("thrd-tantivy")
        };
        let started: Vec<(String, i64)> = threads().into_iter().filter(|(n, _)| ours(n)).collect();
        assert!(
            started.iter().any(|(n, _)| n == "search-indexer"),
            "{started:?}"
        );
        // Every such thread alive now runs at nice 19. tantivy starts and
        // ends its own threads as it works (they were seen alive at times
        // and never at another priority), so only the indexer's presence
        // is certain.
        assert!(started.iter().all(|(_, nice)| *nice == 19), "{started:?}");
        drop(index);
    }
}

#[cfg(test)]
mod recovery_tests {
    use std::path::Path;

    use skillmesh_protocol::Kind;
    use skillmesh_protocol::samples;
    use tantivy::directory::error::{DeleteError, OpenReadError, OpenWriteError};
    use tantivy::directory::{
        Directory, FileHandle, RamDirectory, WatchCallback, WatchHandle, WritePtr,
    };

    use super::*;

    /// An index directory in memory whose writes fail while `full` is set,
    /// as on a full disk.
    #[derive(Clone, Debug)]
    struct FullableDir {
        inner: RamDirectory,
        full: Arc<AtomicBool>,
    }

    impl FullableDir {
        fn check(&self) -> std::io::Result<()> {
            if self.full.load(Ordering::Acquire) {
                return Err(std::io::Error::from(std::io::ErrorKind::StorageFull));
            }
            Ok(())
        }
    }

    impl Directory for FullableDir {
        fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
            self.inner.get_file_handle(path)
        }
        fn delete(&self, path: &Path) -> Result<(), DeleteError> {
            self.inner.delete(path)
        }
        fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
            self.inner.exists(path)
        }
        fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
            self.check()
                .map_err(|e| OpenWriteError::wrap_io_error(e, path.to_path_buf()))?;
            self.inner.open_write(path)
        }
        fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
            self.inner.atomic_read(path)
        }
        fn atomic_write(&self, path: &Path, data: &[u8]) -> std::io::Result<()> {
            self.check()?;
            self.inner.atomic_write(path, data)
        }
        fn sync_directory(&self) -> std::io::Result<()> {
            self.inner.sync_directory()
        }
        fn watch(&self, callback: WatchCallback) -> tantivy::Result<WatchHandle> {
            self.inner.watch(callback)
        }
    }

    fn upsert(generation: u64, id: &str) -> Op {
        let org = OrgKey::from_bytes([7; 32]);
        let mut record = samples::record(org, Kind::TalkOffer);
        record.header.id = id.into();
        Op::Upsert {
            generation,
            record: Box::new(record),
        }
    }

    /// A commit that fails (the disk is full) stops search from relying on
    /// the index; once writes succeed again the indexer catches up by
    /// itself, with the changes since its last commit and those that came
    /// while it was failed.
    #[test]
    fn a_failed_index_catches_up_by_itself_when_writes_succeed_again() {
        let store_dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(Store::open(store_dir.path()).expect("store"));
        let full = Arc::new(AtomicBool::new(false));
        let dir = FullableDir {
            inner: RamDirectory::create(),
            full: full.clone(),
        };
        let index =
            Index::create(dir, schema().0, tantivy::IndexSettings::default()).expect("index");
        register_tokenizers(&index);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .expect("reader");
        let ix = SearchIndex::start(index, reader, None, None, store).expect("start");

        ix.send(upsert(1, "a"));
        assert!(ix.wait_for(1, Duration::from_secs(10)));
        assert_eq!(ix.stats().docs, 1);

        full.store(true, Ordering::Release);
        ix.send(upsert(2, "b"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ix.failed() {
            assert!(Instant::now() < deadline, "the commit did not fail");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(ix.covered(), 0, "search does not rely on a failed index");
        ix.send(upsert(3, "c"));
        let stats = ix.stats();
        assert!(stats.failed && !stats.gave_up);

        full.store(false, Ordering::Release);
        let deadline = Instant::now() + Duration::from_secs(20);
        while ix.failed() || ix.covered() < 3 {
            assert!(Instant::now() < deadline, "the index did not catch up");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(
            ix.stats().docs,
            3,
            "the change from before and the one during"
        );
        ix.send(upsert(4, "d"));
        assert!(ix.wait_for(4, Duration::from_secs(10)));
        assert_eq!(ix.stats().docs, 4);
    }
}
