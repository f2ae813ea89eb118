//! Gossip propagation latency across 20 in-process nodes on loopback.
//!
//! `cargo bench -p skillmesh-node --bench propagation`
//!
//! Every node bootstraps from node 0 (Kademlia then connects the rest).
//! Once every node has at least 3 peers and the gossip mesh has had time to
//! settle, records are published one at a time from random nodes with
//! `Service::create_item` + `Service::publish_item`; for each, the main
//! thread (not a runtime worker) polls every node's store every 1 ms and
//! notes when the record is present everywhere.
//!
//! Then, in the same run and once the nodes are stopped, bare gossipsub
//! (`propagation/bare.rs`): as many libp2p peers with only gossipsub and
//! the nodes' gossipsub settings, about as many connections each, carry
//! as many messages of the nodes' envelope size, timed from publish to
//! each peer's receive event. The report ends with the ratio of the
//! nodes' latency to bare gossipsub's (issue 21's aim: at most 2).

// Sets up and inspects data through the store, as only tests may.
#![allow(clippy::disallowed_methods)]

#[path = "propagation/bare.rs"]
mod bare;
mod common;

use std::time::{Duration, Instant};

use common::{Node, Rng, ms, percentile};
use skillmesh_node::store::Actor;
use skillmesh_protocol::{Kind, samples};

const NODES: usize = 20;
const RECORDS: usize = 100;
const MIN_PEERS: usize = 3;
const SETTLE: Duration = Duration::from_secs(3);
const POLL: Duration = Duration::from_millis(1);
/// Give up on one record after this long (counted as missed).
const RECORD_TIMEOUT: Duration = Duration::from_secs(10);

fn main() {
    let started = Instant::now();
    common::print_machine("propagation");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "tokio runtime: multi-thread, {} workers (default); polling from the main thread",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // Start the network.
    let t = Instant::now();
    let nodes: Vec<Node> = rt.block_on(async {
        let first = common::start_node("org-00", &[], |_| {}).await;
        let addr = common::p2p_addr(&first.node).await;
        let mut nodes = vec![first];
        for i in 1..NODES {
            let name = format!("org-{i:02}");
            nodes.push(common::start_node(&name, std::slice::from_ref(&addr), |_| {}).await);
        }
        nodes
    });
    let started_in = t.elapsed();
    rt.block_on(async {
        for n in &nodes {
            common::wait_for(
                "every node to have enough peers",
                Duration::from_secs(60),
                || async { n.node.network.peers().await.expect("peers").len() >= MIN_PEERS },
            )
            .await;
        }
    });
    let meshed_in = t.elapsed();
    let (cpu0, wall0) = (common::cpu_secs(), Instant::now());
    std::thread::sleep(SETTLE);
    let settle_cores = (common::cpu_secs() - cpu0) / wall0.elapsed().as_secs_f64();
    let peer_counts: Vec<usize> = rt.block_on(async {
        let mut v = Vec::new();
        for n in &nodes {
            v.push(n.node.network.peers().await.expect("peers").len());
        }
        v
    });
    println!(
        "{NODES} nodes started in {:.2} s; all with >= {MIN_PEERS} peers after {:.2} s; settled {} s",
        started_in.as_secs_f64(),
        meshed_in.as_secs_f64(),
        SETTLE.as_secs()
    );
    println!(
        "peers per node after settling: min {} / mean {:.1} / max {}",
        peer_counts.iter().min().copied().unwrap_or(0),
        peer_counts.iter().sum::<usize>() as f64 / NODES as f64,
        peer_counts.iter().max().copied().unwrap_or(0)
    );
    println!(
        "CPU while settling (start-up syncs between every pair, mesh forming): {settle_cores:.2} cores busy"
    );
    println!("{}", common::fsync_report(nodes[0].dir.path(), 200));
    println!();

    // Publish and measure.
    let mut rng = Rng::new(0x5eed_cafe);
    let mut everywhere: Vec<Duration> = Vec::with_capacity(RECORDS);
    let mut first_remote: Vec<Duration> = Vec::new();
    let mut every_arrival: Vec<Duration> = Vec::new();
    let mut publish_call: Vec<Duration> = Vec::with_capacity(RECORDS);
    let mut after_call: Vec<Duration> = Vec::with_capacity(RECORDS);
    let mut missed = 0;
    let mut envelope_bytes: Vec<usize> = Vec::with_capacity(RECORDS);
    let (cpu0, wall0) = (common::cpu_secs(), Instant::now());
    for k in 0..RECORDS {
        let origin = rng.below(NODES);
        let svc = &nodes[origin].node.service;
        let org = svc.org();
        let id = format!("prop-{k:03}");
        svc.create_item(
            &id,
            None,
            samples::body(Kind::MentoringOffer),
            &Actor::person("bench"),
        )
        .expect("create");
        let t0 = Instant::now();
        svc.publish_item(&id, &Actor::person("bench"))
            .expect("publish");
        publish_call.push(t0.elapsed());
        let mut arrived: Vec<Option<Duration>> = vec![None; NODES];
        arrived[origin] = Some(Duration::ZERO);
        let mut left = NODES - 1;
        while left > 0 && t0.elapsed() < RECORD_TIMEOUT {
            for (i, n) in nodes.iter().enumerate() {
                if arrived[i].is_none()
                    && n.node
                        .service
                        .store_for_tests()
                        .get_record(&org, &id)
                        .expect("get")
                        .is_some()
                {
                    arrived[i] = Some(t0.elapsed());
                    left -= 1;
                }
            }
            if left > 0 {
                std::thread::sleep(POLL);
            }
        }
        if let Some(stored) = svc.store_for_tests().get_record(&org, &id).expect("get") {
            envelope_bytes.push(stored.envelope.len());
        }
        if left > 0 {
            missed += 1;
            println!("record {k}: {left} nodes still lack it after {RECORD_TIMEOUT:?}");
            continue;
        }
        let remote: Vec<Duration> = arrived
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != origin)
            .filter_map(|(_, a)| *a)
            .collect();
        let all = remote.iter().max().copied().unwrap_or_default();
        everywhere.push(all);
        after_call.push(all.saturating_sub(publish_call[publish_call.len() - 1]));
        first_remote.push(remote.iter().min().copied().unwrap_or_default());
        every_arrival.extend(remote);
        // A short random gap so publishes do not line up with heartbeats.
        std::thread::sleep(Duration::from_millis(50 + rng.below(100) as u64));
    }
    let publish_cpu = common::cpu_secs() - cpu0;
    let publish_wall = wall0.elapsed().as_secs_f64();
    // The idle network's own cost (heartbeats, keep-alives), to subtract.
    let (cpu1, wall1) = (common::cpu_secs(), Instant::now());
    std::thread::sleep(Duration::from_secs(2));
    let idle_cores = (common::cpu_secs() - cpu1) / wall1.elapsed().as_secs_f64();

    for v in [
        &mut everywhere,
        &mut first_remote,
        &mut every_arrival,
        &mut publish_call,
        &mut after_call,
    ] {
        v.sort();
    }
    println!(
        "{:<40} {:>5} {:>8} {:>8} {:>8} {:>8}",
        "latency (ms)", "n", "p50", "p90", "p99", "max"
    );
    for (name, v) in [
        ("publish -> on all 20 nodes", &everywhere),
        ("publish -> on the first other node", &first_remote),
        ("publish -> on a node (each arrival)", &every_arrival),
        ("publish_item call (sign, store, audit)", &publish_call),
        ("publish_item return -> on all nodes", &after_call),
    ] {
        print_row(name, v);
    }
    println!();
    println!(
        "CPU: idle network {idle_cores:.2} cores busy; while publishing {:.2}; {:.1} ms of CPU per record over all {NODES} nodes beyond idle",
        publish_cpu / publish_wall,
        (publish_cpu - idle_cores * publish_wall) * 1000.0 / RECORDS as f64
    );
    let p99 = percentile(&everywhere, 99.0);
    println!(
        "records published {RECORDS}, missed {missed}; p99 to all nodes {:.1} ms (aim < 250 ms: {})",
        ms(p99),
        if missed == 0 && p99 < Duration::from_millis(250) {
            "met"
        } else {
            "NOT met"
        }
    );

    print_verdict_times(&nodes);

    rt.block_on(async {
        for n in nodes {
            n.node.stop().await;
        }
    });

    let size = envelope_bytes.iter().sum::<usize>() / envelope_bytes.len().max(1);
    let mean_peers = peer_counts.iter().sum::<usize>() as f64 / NODES as f64;
    println!();
    let bare = bare_gossipsub(&rt, size, mean_peers);
    println!();
    let ratio = |p: f64| ms(percentile(&everywhere, p)) / ms(percentile(&bare, p)).max(0.001);
    println!(
        "nodes / bare gossipsub, publish -> on all {NODES}: p50 {:.1}x, p99 {:.1}x (aim <= 2x: {})",
        ratio(50.0),
        ratio(99.0),
        if ratio(50.0) <= 2.0 && ratio(99.0) <= 2.0 {
            "met"
        } else {
            "NOT met"
        }
    );
    common::print_footer(started);
}

/// One row of the latency table: `name`, then the count and the p50,
/// p90, p99 and maximum of the sorted `v`, in ms.
fn print_row(name: &str, v: &[Duration]) {
    println!(
        "{:<40} {:>5} {:>8.1} {:>8.1} {:>8.1} {:>8.1}",
        name,
        v.len(),
        ms(percentile(v, 50.0)),
        ms(percentile(v, 90.0)),
        ms(percentile(v, 99.0)),
        ms(v.last().copied().unwrap_or_default())
    );
}

/// What each hop adds: every node's `gossip_verdict_duration` histogram
/// (receipt to verdict: queue, verification, admission), summed.
fn print_verdict_times(nodes: &[Node]) {
    const NAME: &str = "skillmesh_gossip_verdict_duration_seconds_bucket{le=\"";
    let mut buckets: Vec<(String, f64)> = Vec::new();
    for n in nodes {
        let text = n.node.service.metrics().render(&[]).expect("metrics");
        for line in text.lines().filter_map(|l| l.strip_prefix(NAME)) {
            let Some((le, count)) = line.split_once("\"} ") else {
                continue;
            };
            let count: f64 = count.parse().unwrap_or(0.0);
            match buckets.iter_mut().find(|(b, _)| b == le) {
                Some((_, c)) => *c += count,
                None => buckets.push((le.to_string(), count)),
            }
        }
    }
    let total = buckets.last().map_or(0.0, |(_, c)| *c).max(1.0);
    let shares: Vec<String> = buckets
        .iter()
        .filter(|(le, _)| le != "+Inf")
        .map(|(le, c)| {
            let ms = le.parse::<f64>().unwrap_or(0.0) * 1000.0;
            format!("<= {ms} ms {:.0}%", c * 100.0 / total)
        })
        .collect();
    println!(
        "receipt -> verdict in a node ({} gossip messages, all nodes): {}",
        total,
        shares.join(", ")
    );
}

/// Bare gossipsub with the nodes' settings, `size`-byte messages and
/// about `mean_peers` connections a peer: publish -> on all, sorted.
fn bare_gossipsub(rt: &tokio::runtime::Runtime, size: usize, mean_peers: f64) -> Vec<Duration> {
    let mut rng = Rng::new(0xba4e_9055);
    // Each connection counts at both ends.
    let connections = (mean_peers * NODES as f64 / 2.0).round() as usize;
    let (peers, reports) = rt.block_on(bare::start(NODES, connections, &mut rng));
    rt.block_on(async {
        for (i, peers_of) in reports.peers_of.iter().enumerate() {
            let mut peers_of = peers_of.clone();
            let enough = peers_of.wait_for(|n| *n >= MIN_PEERS.min(NODES - 1));
            if tokio::time::timeout(Duration::from_secs(60), enough)
                .await
                .is_err()
            {
                println!("bare peer {i} has fewer than {MIN_PEERS} connections after 60 s");
            }
        }
    });
    std::thread::sleep(SETTLE);
    let counts: Vec<usize> = reports.peers_of.iter().map(|p| *p.borrow()).collect();
    println!(
        "bare gossipsub: {NODES} peers, connections per peer min {} / mean {:.1} / max {}; \
         messages of {size} bytes (the nodes' mean envelope); settled {} s",
        counts.iter().min().copied().unwrap_or(0),
        counts.iter().sum::<usize>() as f64 / NODES as f64,
        counts.iter().max().copied().unwrap_or(0),
        SETTLE.as_secs()
    );
    let mut everywhere = Vec::with_capacity(RECORDS);
    let mut missed = 0;
    let (cpu0, wall0) = (common::cpu_secs(), Instant::now());
    for k in 0..RECORDS {
        let origin = rng.below(NODES);
        let number = u32::try_from(k).unwrap_or(u32::MAX);
        let data = bare::message(number, size, &mut rng);
        let t0 = Instant::now();
        if peers[origin].publish.send(data).is_err() {
            println!("bare peer {origin} has stopped");
            break;
        }
        let mut arrived = [false; NODES];
        arrived[origin] = true;
        let mut left = NODES - 1;
        let mut last = Duration::ZERO;
        while left > 0 {
            let wait = RECORD_TIMEOUT.saturating_sub(t0.elapsed());
            match reports.arrivals.recv_timeout(wait) {
                Ok((i, n, at)) if n == number && !arrived[i] => {
                    arrived[i] = true;
                    left -= 1;
                    last = last.max(at.saturating_duration_since(t0));
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        if left > 0 {
            missed += 1;
            println!("bare message {k}: {left} peers still lack it after {RECORD_TIMEOUT:?}");
        } else {
            everywhere.push(last);
        }
        std::thread::sleep(Duration::from_millis(50 + rng.below(100) as u64));
    }
    let cpu = common::cpu_secs() - cpu0;
    let wall = wall0.elapsed().as_secs_f64();
    bare::stop(peers);
    everywhere.sort();
    print_row("bare: publish -> on all 20 peers (ms)", &everywhere);
    println!(
        "bare: messages missed {missed}; CPU while publishing {:.2} cores busy",
        cpu / wall
    );
    everywhere
}
