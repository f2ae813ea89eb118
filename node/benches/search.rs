//! Search with the tantivy index over 100,000 federated records, without
//! HTTP: index build time, ingest with indexing on against ingest without
//! it, query latency, index size on disk and memory.
//!
//! `cargo bench -p skillmesh-node --bench search`
//!
//! N = 100,000 signed records of every searchable kind from 50
//! organisations (plus their organisation cards), titles and topics drawn
//! from small word lists (`common::varied_body`) so that terms and facets
//! match realistic shares of the catalogue.
//!
//! 1. Ingest: `Service::ingest_many` in batches of 256 (a sync page's
//!    size) into a fresh store, with the index on (in a directory, as a
//!    node runs) and off (the catalogue alone), alternately for
//!    `ROUNDS` paired rounds; the headline is the median ratio of the
//!    rates (aim: at least 0.7). With the index on, also the time until
//!    every record is searchable through the index.
//! 2. Queries: each shape `RUNS` times through `Service::search` on the
//!    last indexed node; p50 and p99 (aim: p99 under 10 ms in-process).
//!    The same shapes without the index, for comparison.
//! 3. Build: the index rebuilt from the store (`search::rebuild`, what
//!    `skillmesh reindex` and a node whose index is missing do), and the
//!    catalogue built from the store (what every start does).
//! 4. Size and memory: the index on disk; resident memory of a process
//!    that opens the store and search (catalogue and index) and runs the
//!    queries, measured in child processes so nothing else is counted.
//! 5. The alternative design, facets in tantivy: counting seven facet
//!    columns over the matches with a collector, against the catalogue.

// Sets up and inspects data through the store, as only tests may.
#![allow(clippy::disallowed_methods)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Rng, ms, percentile};
use ed25519_dalek::SigningKey;
use skillmesh_node::catalogue::Catalogue;
use skillmesh_node::identity::OrgIdentity;
use skillmesh_node::search::SearchQuery;
use skillmesh_node::search::{self, Location, SearchOptions, Synonyms};
use skillmesh_node::service::{InboundSettings, Ingested, Service};
use skillmesh_node::store::Actor;
use skillmesh_node::store::Store;
use skillmesh_protocol::kinds::OrgCard;
use skillmesh_protocol::{Body, Envelope, Header, Kind, OrgKey, RECORD_VERSION, Record};

const N: usize = 100_000;
const ORGS: u32 = 50;
const RUNS: usize = 200;
const ROUNDS: usize = 3;
const BATCH: usize = 256;
const WAIT: Duration = Duration::from_secs(600);

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The organisation cards, then N varied searchable records, signed, on
/// every core.
fn generate(now: i64) -> Vec<(Record, Envelope)> {
    let keys: Vec<SigningKey> = (1..=ORGS).map(common::org_key).collect();
    let mut rng = Rng::new(7);
    let mut records: Vec<(Record, usize)> = Vec::with_capacity(N + keys.len());
    for (o, key) in keys.iter().enumerate() {
        let card = OrgCard {
            name: format!("Organisation {o}"),
            summary: String::new(),
            website: None,
            languages: Vec::new(),
        };
        records.push((
            record(key, "org-card".into(), now, Body::OrgCard(card), &mut rng),
            o,
        ));
    }
    for i in 0..N {
        let o = i % keys.len();
        let kind = Kind::SEARCHABLE[i % Kind::SEARCHABLE.len()];
        let body = common::varied_body(kind, &mut rng);
        records.push((record(&keys[o], format!("r{i:06}"), now, body, &mut rng), o));
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = records.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = records
            .chunks(chunk)
            .map(|part| {
                let keys = &keys;
                s.spawn(move || {
                    part.iter()
                        .map(|(r, o)| {
                            let e = skillmesh_protocol::seal(r, &keys[*o]).expect("seal");
                            (r.clone(), e)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("signer"))
            .collect()
    })
}

fn record(key: &SigningKey, id: String, now: i64, body: Body, rng: &mut Rng) -> Record {
    Record {
        header: Header {
            version: RECORD_VERSION,
            org: OrgKey::from(&key.verifying_key()),
            id,
            seq: 1,
            issued_at: now - 60 - rng.below(86_400) as i64,
            expires_at: now + 30 * 86_400,
        },
        body,
    }
}

fn service(dir: &std::path::Path, location: Location) -> Service {
    let store = Arc::new(Store::open(&dir.join("store")).expect("store"));
    let identity = OrgIdentity::generate().expect("key");
    let metrics = skillmesh_node::metrics::Metrics::new(identity.org());
    Service::with_search(
        "bench".into(),
        identity,
        store,
        InboundSettings {
            max_records_per_org: 1_000_000,
            ..InboundSettings::default()
        },
        // No results kept: every search here does its whole work.
        SearchOptions {
            location,
            synonyms: Synonyms::builtin(),
            cached_results: 0,
        },
        metrics,
    )
    .expect("service")
}

/// Ingests every envelope in batches of [`BATCH`] into a fresh node;
/// returns it, its temp dir, the seconds the calls took and the seconds
/// until every record was searchable through the index.
fn ingest(envelopes: &[&[u8]], index: bool) -> (Service, tempfile::TempDir, f64, f64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let location = if index {
        Location::Dir(dir.path().join("index"))
    } else {
        Location::Off
    };
    let service = service(dir.path(), location);
    assert!(service.search_engine().wait_indexed(WAIT));
    let t = Instant::now();
    for chunk in envelopes.chunks(BATCH) {
        for r in service
            .ingest_many(chunk, &Actor::person("bench"))
            .expect("ingest")
        {
            assert!(matches!(r, Ok(Ingested::Stored { .. })), "{r:?}");
        }
    }
    let calls = t.elapsed().as_secs_f64();
    assert!(
        service.search_engine().wait_indexed(WAIT),
        "index caught up"
    );
    let searchable = t.elapsed().as_secs_f64();
    assert_eq!(service.search_engine().len(), N);
    (service, dir, calls, searchable)
}

fn shapes() -> Vec<(&'static str, SearchQuery)> {
    let q = |q: &str| SearchQuery {
        q: q.into(),
        ..SearchQuery::default()
    };
    vec![
        ("everything (no text)", SearchQuery::default()),
        ("one word", q("kubernetes ")),
        ("two words", q("rust security ")),
        ("a word in every record", q("practice ")),
        ("a typo", q("kubernets ")),
        ("a prefix being typed", q("kuber")),
        ("a synonym", q("k8s ")),
        ("a phrase", q("\"kubernetes and rust\"")),
        ("no match", q("zzzz ")),
        (
            "word + kind + org",
            SearchQuery {
                q: "security ".into(),
                kind: "talk_offer".into(),
                org: OrgKey::from(&common::org_key(2).verifying_key()).to_hex(),
                ..SearchQuery::default()
            },
        ),
        (
            "topic facet, page 3",
            SearchQuery {
                topic: "design".into(),
                page: 3,
                ..SearchQuery::default()
            },
        ),
    ]
}

/// Runs every shape `RUNS` times; prints p50/p99; returns the worst p99.
fn time_queries(service: &Service, label: &str) -> Duration {
    let now = common::unix_now();
    println!("{label}");
    println!(
        "  {:<26} {:>8} {:>9} {:>9}",
        "query", "matches", "p50 ms", "p99 ms"
    );
    let mut worst = Duration::ZERO;
    for (name, q) in shapes() {
        let mut times = Vec::with_capacity(RUNS);
        let mut total = 0;
        for _ in 0..RUNS {
            let t = Instant::now();
            let r = service.search(&q, now);
            times.push(t.elapsed());
            total = r.total;
        }
        times.sort();
        let p99 = percentile(&times, 99.0);
        worst = worst.max(p99);
        println!(
            "  {name:<26} {total:>8} {:>9.2} {:>9.2}",
            ms(percentile(&times, 50.0)),
            ms(p99)
        );
    }
    println!("  worst p99: {:.2} ms", ms(worst));
    worst
}

/// In a child process: opens the store in `dir` and search (`index`: the
/// index in `dir/index`, else none), waits for it, runs every query shape
/// 20 times, and prints resident memory at each step.
fn memory_child(dir: &str, index: bool) {
    let dir = std::path::Path::new(dir);
    let base = rss_kb();
    let store = Arc::new(Store::open(&dir.join("store")).expect("store"));
    let opened = rss_kb();
    let location = if index {
        Location::Dir(dir.join("index"))
    } else {
        Location::Off
    };
    let t = Instant::now();
    let search = search::Search::open(
        OrgKey::from_bytes([0; 32]),
        store,
        // No results kept: every search here does its whole work.
        SearchOptions {
            location,
            synonyms: Synonyms::builtin(),
            cached_results: 0,
        },
        &|_| true,
    )
    .expect("search");
    let open_ms = t.elapsed().as_secs_f64() * 1000.0;
    assert!(search.wait_indexed(WAIT));
    let ready_ms = t.elapsed().as_secs_f64() * 1000.0;
    let built = rss_kb();
    let now = common::unix_now();
    for _ in 0..20 {
        for (_, q) in shapes() {
            std::hint::black_box(search.search(&q, now));
        }
    }
    let queried = rss_kb();
    println!(
        "MEMORY base={base} store={opened} search={built} queried={queried} open_ms={open_ms:.0} ready_ms={ready_ms:.0} records={}",
        search.len()
    );
}

fn memory(dir: &std::path::Path, index: bool) -> String {
    let out = std::process::Command::new(std::env::current_exe().expect("exe"))
        .args([
            "--memory-child",
            dir.to_str().expect("utf-8"),
            if index { "index" } else { "off" },
        ])
        .output()
        .expect("child");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("MEMORY"))
        .unwrap_or_else(|| panic!("child failed: {}", String::from_utf8_lossy(&out.stderr)));
    let get = |k: &str| -> f64 {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN)
    };
    format!(
        "RSS {:.0} MB after opening the store, {:.0} MB with search ready (+{:.0} MB), {:.0} MB after queries; start-up {:.0} ms, ready {:.0} ms",
        get("store") / 1024.0,
        get("search") / 1024.0,
        (get("search") - get("store")) / 1024.0,
        get("queried") / 1024.0,
        get("open_ms"),
        get("ready_ms"),
    )
}

/// The alternative: facets as tantivy fast fields, counted by a collector.
mod facets_in_tantivy {
    use tantivy::collector::{Collector, SegmentCollector};
    use tantivy::columnar::Column;
    use tantivy::query::{AllQuery, TermQuery};
    use tantivy::schema::{FAST, Field, IndexRecordOption, STRING, Schema};
    use tantivy::{DocId, Index, Score, SegmentReader, TantivyDocument, Term};

    use super::*;

    const DIMS: [&str; 7] = ["topic", "org", "format", "language", "tz", "avail", "kind"];

    struct Counts;
    struct SegmentCounts {
        columns: Vec<Column<u64>>,
        counts: Vec<Vec<u32>>,
    }

    impl Collector for Counts {
        type Fruit = Vec<Vec<u32>>;
        type Child = SegmentCounts;

        fn for_segment(&self, _: u32, reader: &SegmentReader) -> tantivy::Result<SegmentCounts> {
            let columns = DIMS
                .iter()
                .map(|d| reader.fast_fields().u64(d))
                .collect::<tantivy::Result<Vec<_>>>()?;
            Ok(SegmentCounts {
                columns,
                counts: vec![vec![0; 256]; DIMS.len()],
            })
        }

        fn requires_scoring(&self) -> bool {
            false
        }

        fn merge_fruits(&self, fruits: Vec<Vec<Vec<u32>>>) -> tantivy::Result<Vec<Vec<u32>>> {
            let mut out = vec![vec![0u32; 256]; DIMS.len()];
            for f in fruits {
                for (o, c) in out.iter_mut().zip(f) {
                    for (a, b) in o.iter_mut().zip(c) {
                        *a += b;
                    }
                }
            }
            Ok(out)
        }
    }

    impl SegmentCollector for SegmentCounts {
        type Fruit = Vec<Vec<u32>>;

        fn collect(&mut self, doc: DocId, _: Score) {
            for (col, counts) in self.columns.iter().zip(&mut self.counts) {
                for v in col.values_for_doc(doc) {
                    counts[(v & 0xff) as usize] += 1;
                }
            }
        }

        fn harvest(self) -> Vec<Vec<u32>> {
            self.counts
        }
    }

    /// Builds an index of N documents with seven multi-valued facet
    /// columns (about as many values as the catalogue holds per record)
    /// and one text term; times counting every facet over all documents
    /// and over one word's matches.
    pub fn run() {
        let mut b = Schema::builder();
        let dims: Vec<Field> = DIMS.iter().map(|d| b.add_u64_field(d, FAST)).collect();
        let word = b.add_text_field("word", STRING);
        let index = Index::create_in_ram(b.build());
        let mut writer: tantivy::IndexWriter = index.writer(50_000_000).expect("writer");
        let mut rng = Rng::new(3);
        // Values per dimension: topics 2, org 1, formats 1, languages 2,
        // time zone 1, availability 1, kind 1.
        let per_dim = [2, 1, 1, 2, 1, 1, 1];
        for i in 0..N {
            let mut doc = TantivyDocument::default();
            for (f, n) in dims.iter().zip(per_dim) {
                for _ in 0..n {
                    doc.add_u64(*f, rng.below(40) as u64);
                }
            }
            doc.add_text(word, if i % 6 == 0 { "kubernetes" } else { "other" });
            writer.add_document(doc).expect("add");
        }
        writer.commit().expect("commit");
        let reader = index.reader().expect("reader");
        let searcher = reader.searcher();
        let term = TermQuery::new(
            Term::from_field_text(word, "kubernetes"),
            IndexRecordOption::Basic,
        );
        for (name, query) in [
            ("all documents", &AllQuery as &dyn tantivy::query::Query),
            ("one word (1 in 6)", &term),
        ] {
            let mut times = Vec::with_capacity(RUNS);
            for _ in 0..RUNS {
                let t = Instant::now();
                std::hint::black_box(searcher.search(query, &Counts).expect("search"));
                times.push(t.elapsed());
            }
            times.sort();
            println!(
                "  facets in tantivy, {name:<20} p50 {:>6.2} ms  p99 {:>6.2} ms ({} segments)",
                ms(percentile(&times, 50.0)),
                ms(percentile(&times, 99.0)),
                searcher.segment_readers().len()
            );
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--memory-child") {
        memory_child(&args[i + 1], args[i + 2] == "index");
        return;
    }
    let started = Instant::now();
    common::print_machine("search");
    let now = common::unix_now();
    let t = Instant::now();
    let records = generate(now);
    let bytes: usize = records.iter().map(|(_, e)| e.len()).sum();
    println!(
        "generated {} signed envelopes ({N} searchable records from {ORGS} organisations and their cards) in {:.1} s, mean {} bytes",
        records.len(),
        t.elapsed().as_secs_f64(),
        bytes / records.len()
    );
    let envelopes: Vec<&[u8]> = records.iter().map(|(_, e)| e.as_bytes()).collect();
    let probe = tempfile::tempdir().expect("tempdir");
    println!("{}", common::fsync_report(probe.path(), 200));
    println!();

    // 1. Ingest, index off and on, alternately.
    println!(
        "1. ingest of {} envelopes, batches of {BATCH}",
        envelopes.len()
    );
    let mut ratios = Vec::new();
    let mut off_rates = Vec::new();
    let mut on_rates = Vec::new();
    let mut searchable_rates = Vec::new();
    let mut last_on = None;
    let mut last_off = None;
    for round in 0..ROUNDS {
        let (off, off_dir, off_secs, _) = ingest(&envelopes, false);
        let (on, on_dir, on_secs, on_searchable) = ingest(&envelopes, true);
        let n = envelopes.len() as f64;
        println!(
            "  round {}: off {:>6.0} records/s ({:.2} s); on {:>6.0} records/s ({:.2} s), all searchable after {:.2} s ({:.0} records/s); ratio {:.3}",
            round + 1,
            n / off_secs,
            off_secs,
            n / on_secs,
            on_secs,
            on_searchable,
            n / on_searchable,
            off_secs / on_secs
        );
        ratios.push(off_secs / on_secs);
        off_rates.push(n / off_secs);
        on_rates.push(n / on_secs);
        searchable_rates.push(n / on_searchable);
        last_on = Some((on, on_dir));
        last_off = Some((off, off_dir));
    }
    let ratio = median(ratios.clone());
    println!(
        "  median: off {:.0} records/s, on {:.0} records/s, on until searchable {:.0} records/s",
        median(off_rates),
        median(on_rates),
        median(searchable_rates)
    );
    println!(
        "  ingest ratio on/off = {ratio:.3} (median of {ROUNDS}; range {:.3} to {:.3}; aim >= 0.7: {})",
        ratios.iter().copied().fold(f64::INFINITY, f64::min),
        ratios.iter().copied().fold(0.0, f64::max),
        if ratio >= 0.7 { "met" } else { "NOT met" }
    );
    println!();

    // 2. Queries.
    let (on, on_dir) = last_on.expect("a round");
    let (off, off_dir) = last_off.expect("a round");
    let stats = on.search_engine().index_stats().expect("index");
    println!(
        "2. queries ({} records searchable; index: {} documents in {} segments, {:.1} MB on disk)",
        on.search_engine().len(),
        stats.docs,
        stats.segments,
        stats.bytes_on_disk as f64 / 1e6
    );
    let worst = time_queries(&on, "  with the index:");
    println!(
        "  aim: p99 under 10 ms in-process: {}",
        if worst < Duration::from_millis(10) {
            "met"
        } else {
            "NOT met"
        }
    );
    time_queries(
        &off,
        "  without it (substring over the catalogue, for comparison):",
    );
    println!();
    drop(off);
    drop(off_dir);
    let store_dir = on_dir.path().to_path_buf();
    let store = on.store_for_tests().clone();
    drop(on);

    // 3. Build from the store.
    println!("3. building from the store of {} records", envelopes.len());
    let t = Instant::now();
    let own = OrgKey::from_bytes([0; 32]);
    let catalogue = Catalogue::build(own, &store, &[], &|_| true).expect("catalogue");
    println!(
        "  catalogue (every start): {} records in {:.0} ms",
        catalogue.len(),
        t.elapsed().as_secs_f64() * 1000.0
    );
    drop(catalogue);
    let t = Instant::now();
    let (docs, stats) = search::rebuild(&store_dir, own, store.clone(), WAIT).expect("rebuild");
    println!(
        "  index (reindex, or a missing index at start): {docs} documents in {:.1} s, {:.1} MB on disk",
        t.elapsed().as_secs_f64(),
        stats.bytes_on_disk as f64 / 1e6
    );
    drop(store);
    println!();

    // 4. Memory, in fresh processes.
    println!("4. memory (child processes over the same store)");
    println!("  catalogue only: {}", memory(&store_dir, false));
    println!("  with the index: {}", memory(&store_dir, true));
    println!();

    // 5. The alternative design.
    println!("5. facets in tantivy instead of the catalogue ({N} documents)");
    facets_in_tantivy::run();
    common::print_footer(started);
}
