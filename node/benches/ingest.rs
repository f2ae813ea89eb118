//! Ingest throughput: how close `Service::ingest_many` (decode, verify,
//! policy, quota, store, audit) comes to bare ed25519 verification.
//!
//! `cargo bench -p skillmesh-node --bench ingest`
//!
//! N = 20,000 valid envelopes from 10 organisations; one thread; the node's
//! sled store in a temp dir. Each store measurement uses a fresh store (a
//! second pass over the same envelopes would only find stale records).

// Sets up and inspects data through the store, as only tests may.
#![allow(clippy::disallowed_methods)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use ed25519_dalek::{Signature, VerifyingKey};
use skillmesh_node::identity::OrgIdentity;
use skillmesh_node::service::{InboundSettings, Ingested, Service};
use skillmesh_node::store::Actor;
use skillmesh_node::store::Store;
use skillmesh_protocol::{Envelope, Record};

const N: usize = 20_000;
const ORGS: u32 = 10;
/// Repetitions of each measurement; the median is reported.
const ROUNDS: usize = 3;
/// Rounds of (a) then (b) for the headline ratio.
const PAIRED_ROUNDS: usize = 5;
/// Batch size 1 does two fsyncs per record: cap it by time, not count.
const SINGLE_TIME_CAP: Duration = Duration::from_secs(15);

struct Row {
    name: String,
    records: usize,
    secs: f64,
}

impl Row {
    fn rate(&self) -> f64 {
        self.records as f64 / self.secs
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// A node's service over a fresh store in a temp dir.
fn fresh_service() -> (Service, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open(&dir.path().join("store")).expect("store"));
    let identity = OrgIdentity::generate().expect("key");
    let inbound = InboundSettings {
        max_records_per_org: 1_000_000,
        ..InboundSettings::default()
    };
    let service = Service::new("bench".into(), identity, store, inbound).expect("service");
    (service, dir)
}

/// Times `ingest_many` over all envelopes in batches of `batch`, stopping
/// early after `cap`. Returns (records ingested, seconds).
fn time_ingest(envelopes: &[&[u8]], batch: usize, cap: Option<Duration>) -> (usize, f64) {
    let (service, _dir) = fresh_service();
    let mut done = 0;
    let t = Instant::now();
    for chunk in envelopes.chunks(batch) {
        let out = service
            .ingest_many(chunk, &Actor::person("bench"))
            .expect("ingest");
        for r in &out {
            assert!(
                matches!(r, Ok(Ingested::Stored { .. })),
                "every envelope must be stored, got {r:?}"
            );
        }
        done += chunk.len();
        if cap.is_some_and(|c| t.elapsed() >= c) {
            break;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(
        service.store_for_tests().record_count().expect("count"),
        done as u64,
        "store holds what was ingested"
    );
    (done, secs)
}

/// Times `Store::put_records` alone (no verify, no policy, no audit).
fn time_put_records(records: &[(Record, Envelope)], batch: usize) -> f64 {
    let (service, _dir) = fresh_service();
    let now = common::unix_now();
    let t = Instant::now();
    for chunk in records.chunks(batch) {
        let items: Vec<(&Record, &Envelope)> = chunk.iter().map(|(r, e)| (r, e)).collect();
        service
            .store_for_tests()
            .put_records(&items, now)
            .expect("put");
    }
    t.elapsed().as_secs_f64()
}

fn main() {
    let started = Instant::now();
    common::print_machine("ingest");
    let now = common::unix_now();

    let t = Instant::now();
    let records = common::signed_records(0, ORGS, N, now);
    let bytes: usize = records.iter().map(|(_, e)| e.len()).sum();
    println!(
        "generated {N} signed envelopes from {ORGS} organisations in {:.2} s (mean envelope {} bytes)",
        t.elapsed().as_secs_f64(),
        bytes / N
    );
    let envelopes: Vec<&[u8]> = records.iter().map(|(_, e)| e.as_bytes()).collect();
    let probe_dir = tempfile::tempdir().expect("tempdir");
    println!("{}", common::fsync_report(probe_dir.path(), 200));
    println!();

    let mut rows: Vec<Row> = Vec::new();

    // (a) Bare verify_strict over the exact signed bytes, keys and
    // signatures parsed beforehand: the ceiling.
    let prepared: Vec<(VerifyingKey, Signature, Vec<u8>)> = envelopes
        .iter()
        .map(|b| {
            let p = skillmesh_protocol::split(b).expect("split");
            (
                p.signer.verifying_key().expect("key"),
                Signature::from_bytes(&p.signature),
                skillmesh_protocol::signed_bytes(p.payload),
            )
        })
        .collect();
    let time_verify = || {
        let t = Instant::now();
        for (key, sig, msg) in &prepared {
            key.verify_strict(msg, sig).expect("valid signature");
        }
        t.elapsed().as_secs_f64()
    };

    // (a) and (b) measured in alternation, so that a burst of load from
    // elsewhere hits both sides of each round's ratio alike.
    let mut a_times = Vec::new();
    let mut b_times = Vec::new();
    let mut ratios = Vec::new();
    for _ in 0..PAIRED_ROUNDS {
        let a = time_verify();
        let (_, b) = time_ingest(&envelopes, 256, None);
        a_times.push(a);
        b_times.push(b);
        ratios.push(a / b);
    }
    let verify_secs = median(a_times.clone());
    rows.push(Row {
        name: "(a) ed25519 verify_strict only".into(),
        records: N,
        secs: verify_secs,
    });

    // skillmesh_protocol::open: framing, key decompression, verify, JSON
    // parse, validation, clock. No storage.
    let open_secs = median(
        (0..ROUNDS)
            .map(|_| {
                let t = Instant::now();
                for b in &envelopes {
                    std::hint::black_box(skillmesh_protocol::open(b, now).expect("opens"));
                }
                t.elapsed().as_secs_f64()
            })
            .collect(),
    );
    rows.push(Row {
        name: "protocol::open only (no store)".into(),
        records: N,
        secs: open_secs,
    });

    // ingest_many's per-record checks without any write: open, admission
    // (policy), and the existence check on the (empty) store.
    let checks_secs = median(
        (0..ROUNDS)
            .map(|_| {
                let (service, _dir) = fresh_service();
                let t = Instant::now();
                for b in &envelopes {
                    let r = skillmesh_protocol::open(b, now).expect("opens");
                    let org = r.header.org;
                    std::hint::black_box(service.admission(&org).expect("policy"));
                    std::hint::black_box(
                        service
                            .store_for_tests()
                            .get_record(&org, &r.header.id)
                            .expect("get"),
                    );
                }
                t.elapsed().as_secs_f64()
            })
            .collect(),
    );
    rows.push(Row {
        name: "open + admission + existence check, no write".into(),
        records: N,
        secs: checks_secs,
    });

    // Store alone: put_records in batches of 256, one fsync per batch.
    let put_secs = median(
        (0..ROUNDS)
            .map(|_| time_put_records(&records, 256))
            .collect(),
    );
    rows.push(Row {
        name: "Store::put_records only, batch 256".into(),
        records: N,
        secs: put_secs,
    });

    // (b) and the batch-size sweep.
    rows.push(Row {
        name: "(b) Service::ingest_many, batch 256".into(),
        records: N,
        secs: median(b_times.clone()),
    });
    for batch in [100usize, 1024, 32] {
        let secs = median(
            (0..ROUNDS)
                .map(|_| time_ingest(&envelopes, batch, None).1)
                .collect(),
        );
        rows.push(Row {
            name: format!("    Service::ingest_many, batch {batch}"),
            records: N,
            secs,
        });
    }

    // Batch size 1: one envelope per call, as gossip delivers them.
    let (done, secs) = time_ingest(&envelopes, 1, Some(SINGLE_TIME_CAP));
    rows.push(Row {
        name: "    Service::ingest_many, batch 1".into(),
        records: done,
        secs,
    });

    let a_rate = rows[0].rate();
    println!(
        "{:<46} {:>7} {:>8} {:>10} {:>9} {:>7}",
        "measurement", "records", "seconds", "records/s", "us/record", "vs (a)"
    );
    for r in &rows {
        println!(
            "{:<46} {:>7} {:>8.3} {:>10.0} {:>9.1} {:>7.3}",
            r.name,
            r.records,
            r.secs,
            r.rate(),
            1e6 / r.rate(),
            r.rate() / a_rate
        );
    }
    println!();
    let ratio = median(ratios.clone());
    ratios.sort_by(f64::total_cmp);
    println!(
        "ratio (b)/(a), median of {PAIRED_ROUNDS} paired rounds = {ratio:.3} (range {:.3} to {:.3}; aim >= 0.5: {})",
        ratios[0],
        ratios[ratios.len() - 1],
        if ratio >= 0.5 { "met" } else { "NOT met" }
    );
    let fmt = |v: &[f64]| {
        v.iter()
            .map(|s| format!("{:.0}", N as f64 / s))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!("  (a) records/s per round: {}", fmt(&a_times));
    println!("  (b) records/s per round: {}", fmt(&b_times));
    common::print_footer(started);
}
