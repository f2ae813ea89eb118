//! Search over the in-memory catalogue (interim, before the tantivy index):
//! query latency with 100,000 records, without HTTP.
//!
//! `cargo bench -p skillmesh-node --bench search`
//!
//! N = 100,000 records of every searchable kind from 50 organisations,
//! titles and topics drawn from small word lists so that terms and facets
//! match realistic shares of the catalogue. Each query shape runs 200 times;
//! p50 and p99 are reported. The aim (DESIGN.md) is p99 under 20 ms through
//! HTTP; this measures the node's part alone. Last, the time to build the
//! catalogue from a store of 100,000 signed records, as a node does at start.

mod common;

use std::time::{Duration, Instant};

use common::{Rng, ms, percentile};
use skillmesh_node::catalogue::Catalogue;
use skillmesh_node::store::Store;
use skillmesh_protocol::{Header, OrgKey, RECORD_VERSION, Record};
use skillmesh_web::SearchQuery;

const N: usize = 100_000;
const ORGS: usize = 50;
const RUNS: usize = 200;

fn main() {
    let started = Instant::now();
    common::print_machine("search");
    let kinds = skillmesh_node::catalogue::SEARCHABLE;
    let mut rng = Rng::new(7);
    let now = common::unix_now();
    let mut catalogue = Catalogue::new(OrgKey::from_bytes([0; 32]));
    let build = Instant::now();
    for i in 0..N {
        let mut org = [0u8; 32];
        org[0] = (i % ORGS) as u8 + 1;
        let kind = kinds[i % kinds.len()];
        catalogue.apply(&Record {
            header: Header {
                version: RECORD_VERSION,
                org: OrgKey::from_bytes(org),
                id: format!("r{i}"),
                seq: 1,
                issued_at: now - rng.below(86_400) as i64,
                expires_at: now + 86_400,
            },
            body: common::varied_body(kind, &mut rng),
        });
    }
    println!(
        "catalogue of {} records built in {:.0} ms",
        catalogue.len(),
        build.elapsed().as_secs_f64() * 1000.0
    );
    let mut org1 = [0u8; 32];
    org1[0] = 2;
    let shapes: Vec<(&str, SearchQuery)> = vec![
        ("everything (no terms)", SearchQuery::default()),
        (
            "one term",
            SearchQuery {
                q: "kubernetes".into(),
                ..SearchQuery::default()
            },
        ),
        (
            "two terms",
            SearchQuery {
                q: "rust practice".into(),
                ..SearchQuery::default()
            },
        ),
        (
            "no match",
            SearchQuery {
                q: "zzzz".into(),
                ..SearchQuery::default()
            },
        ),
        (
            "term + kind + org",
            SearchQuery {
                q: "security".into(),
                kind: "talk_offer".into(),
                org: OrgKey::from_bytes(org1).to_hex(),
                ..SearchQuery::default()
            },
        ),
        (
            "topic facet, page 3",
            SearchQuery {
                topic: "Design".into(),
                page: 3,
                ..SearchQuery::default()
            },
        ),
    ];
    println!();
    println!(
        "{:<24} {:>8} {:>9} {:>9}",
        "query", "matches", "p50 ms", "p99 ms"
    );
    let mut worst = Duration::ZERO;
    for (name, q) in &shapes {
        let mut times = Vec::with_capacity(RUNS);
        let mut total = 0;
        for _ in 0..RUNS {
            let t = Instant::now();
            let r = catalogue.search(q, now);
            times.push(t.elapsed());
            total = r.total;
        }
        times.sort();
        let p99 = percentile(&times, 99.0);
        worst = worst.max(p99);
        println!(
            "{name:<24} {total:>8} {:>9.2} {:>9.2}",
            ms(percentile(&times, 50.0)),
            ms(p99)
        );
    }
    println!();
    println!(
        "worst p99: {:.2} ms (aim: well under 20 ms, leaving room for HTTP)",
        ms(worst)
    );
    drop(catalogue);
    // Start-up: the catalogue is built from the store when a node starts.
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("store")).expect("store");
    for chunk in common::signed_records(1, 20, N, now).chunks(1000) {
        let items: Vec<_> = chunk.iter().map(|(r, e)| (r, e)).collect();
        store.put_records(&items, now).expect("put");
    }
    let build = Instant::now();
    let catalogue = Catalogue::build(OrgKey::from_bytes([0; 32]), &store).expect("build");
    println!(
        "start-up: catalogue of {} records built from the store in {:.0} ms",
        catalogue.len(),
        build.elapsed().as_secs_f64() * 1000.0
    );
    common::print_footer(started);
}
