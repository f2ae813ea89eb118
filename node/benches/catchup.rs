//! Catch-up sync of a fresh node from one that holds 100,000 records.
//!
//! `cargo bench -p skillmesh-node --bench catchup`
//!
//! The source node's records (from 10 organisations) are written straight
//! into its store with `Store::put_records`; then a fresh node bootstraps
//! from it over loopback and the clock runs from the fresh node's start
//! until its `record_count()` equals the source's.

// Sets up and inspects data through the store, as only tests may.
#![allow(clippy::disallowed_methods)]

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::Node;
use skillmesh_node::store::Store;
use skillmesh_protocol::{Envelope, OrgKey, Record};

const RECORDS: usize = 100_000;
const ORGS: u32 = 10;
/// Records generated, signed and inserted per step (bounds memory).
const CHUNK: usize = 10_000;
const INSERT_BATCH: usize = 5_000;
/// Quota high enough that it never cuts the sync off.
const QUOTA: u32 = 1_000_000;
const GIVE_UP: Duration = Duration::from_secs(120);

fn main() {
    let started = Instant::now();
    common::print_machine("catchup");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let quota = |c: &mut skillmesh_config::Config| c.federation.max_records_per_org = QUOTA;

    let source: Node = rt.block_on(common::start_node("source", &[], quota));
    let addr = rt.block_on(common::p2p_addr(&source.node));

    // Fill the source: 10 organisations x 10,000 records, signed now.
    let t = Instant::now();
    let now = common::unix_now();
    let per_org = RECORDS / ORGS as usize;
    let mut bytes = 0usize;
    for org in 0..ORGS {
        for start in (0..per_org).step_by(CHUNK) {
            let n = CHUNK.min(per_org - start);
            let key = common::org_key(100 + org);
            let records: Vec<(Record, Envelope)> = (start..start + n)
                .map(|i| {
                    let r = common::record(&key, i, now);
                    let e = skillmesh_protocol::seal(&r, &key).expect("seal");
                    (r, e)
                })
                .collect();
            bytes += records.iter().map(|(_, e)| e.len()).sum::<usize>();
            for batch in records.chunks(INSERT_BATCH) {
                let items: Vec<(&Record, &Envelope)> = batch.iter().map(|(r, e)| (r, e)).collect();
                source
                    .node
                    .service
                    .store_for_tests()
                    .put_records(&items, now)
                    .expect("put");
            }
        }
    }
    // What the fresh node must end up holding: every row the source holds
    // now (the benchmark's records, plus the source's own org card if the
    // node publishes one at start). The fresh node's own records and
    // anything the source later receives from it are not counted.
    let snapshot: HashMap<OrgKey, u64> = source
        .node
        .service
        .store_for_tests()
        .record_counts()
        .expect("counts")
        .into_iter()
        .collect();
    let target: u64 = snapshot.values().sum();
    assert!(target >= RECORDS as u64, "source holds {target} records");
    let held = |store: &Store| -> u64 {
        store
            .record_counts()
            .expect("counts")
            .into_iter()
            .map(|(org, n)| n.min(snapshot.get(&org).copied().unwrap_or(0)))
            .sum()
    };
    println!(
        "source: {RECORDS} records from {ORGS} organisations ({:.1} MB of envelopes) signed and stored in {:.2} s; {target} rows to sync in all",
        bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    println!(
        "source store on disk: {:.1} MB",
        source
            .node
            .service
            .store_for_tests()
            .size_on_disk()
            .expect("size") as f64
            / 1e6
    );
    println!();

    // Start the fresh node and time the catch-up.
    let cpu0 = common::cpu_secs();
    let t0 = Instant::now();
    let fresh: Node = rt.block_on(common::start_node(
        "fresh",
        std::slice::from_ref(&addr),
        quota,
    ));
    let start_secs = t0.elapsed().as_secs_f64();
    let store = fresh.node.service.store_for_tests().clone();
    let mut connected: Option<f64> = None;
    let mut last_report = Instant::now();
    let mut progress: Vec<(f64, u64)> = Vec::new();
    let mut count = 0;
    while t0.elapsed() < GIVE_UP {
        count = held(&store);
        if connected.is_none()
            && !rt
                .block_on(fresh.node.network.peers())
                .expect("peers")
                .is_empty()
        {
            connected = Some(t0.elapsed().as_secs_f64());
        }
        if count >= target {
            break;
        }
        if last_report.elapsed() >= Duration::from_secs(1) {
            progress.push((t0.elapsed().as_secs_f64(), count));
            last_report = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let secs = t0.elapsed().as_secs_f64();
    let cpu = common::cpu_secs() - cpu0;

    println!("progress (s since the fresh node started: records held)");
    let line: Vec<String> = progress
        .iter()
        .map(|(s, n)| format!("{s:.0}s:{n}"))
        .collect();
    for chunk in line.chunks(8) {
        println!("  {}", chunk.join("  "));
    }
    println!();
    println!("{:<44} {:>10}", "measurement", "value");
    println!(
        "{:<44} {:>10.3}",
        "fresh node start (runtime::start), s", start_secs
    );
    println!(
        "{:<44} {:>10.3}",
        "first peer connected, s",
        connected.unwrap_or(f64::NAN)
    );
    println!("{:<44} {:>10}", "records held by the fresh node", count);
    println!(
        "{:<44} {:>10.2}",
        "catch-up of the source's records, s", secs
    );
    println!(
        "{:<44} {:>10.0}",
        "records/s over the catch-up",
        count as f64 / secs
    );
    println!(
        "{:<44} {:>10.2}",
        "CPU used by both nodes meanwhile, core-s", cpu
    );
    println!(
        "{:<44} {:>10.2}",
        "  = cores busy on average (of 2)",
        cpu / secs
    );
    println!(
        "{:<44} {:>10.1}",
        "  = CPU per record, us",
        cpu * 1e6 / count.max(1) as f64
    );
    println!();
    let met = count >= target && secs < 10.0;
    println!(
        "catch-up {count}/{target} in {secs:.2} s (aim < 10 s: {})",
        if met { "met" } else { "NOT met" }
    );
    if let Ok(problems) = store.check_consistency() {
        println!("fresh store consistency problems: {}", problems.len());
    }

    rt.block_on(async {
        fresh.node.stop().await;
        source.node.stop().await;
    });
    common::print_footer(started);
}
