//! The federation as an operator runs it: real `skillmesh run` processes.
//!
//! `cargo bench -p skillmesh-node --bench network`
//!
//! 1. **Fifty nodes started at the same moment.** 50 data directories are
//!    prepared (each bootstraps from the first node only, as after 49
//!    invites from one organisation), then all 50 processes are spawned in
//!    one loop. Measured: the time until every node holds every node's
//!    records (the same records fingerprint on all 50, each holding 49
//!    federated records), then each process's resident memory (RSS, and
//!    PSS, which shares the binary's pages fairly) and, over 120 s of
//!    idleness after 120 s to settle, the CPU all 50 use together. Aims
//!    (docs/DESIGN): all converge within 30 s, under 20 MB RSS per node,
//!    idle CPU under 2% of one core for all together.
//! 2. **Reconciliation when nothing differs.** Two nodes that hold the same
//!    100,000 records (written into both stores before they start), run
//!    for 60 s with a reconciliation interval of 1 s (rounds that find
//!    agreement back off to 8 intervals, so about 15 rounds), then for 60 s
//!    with reconciliation all but off (once an hour). The difference,
//!    divided by the rounds counted in `/metrics`, is the cost of one
//!    round: bytes on the wire
//!    (both directions, TCP payload, from `ss`) and CPU (both processes).
//!
//! Set `SKILLMESH_BENCH_NODES` to run part 1 with another number of nodes,
//! and `SKILLMESH_BENCH_PART=1` or `2` to run one part.

mod common;

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use skillmesh_config::Config;
use skillmesh_node::identity::OrgIdentity;
use skillmesh_node::store::Store;
use skillmesh_protocol::{Envelope, Record};

const NODES: usize = 50;
const CONVERGE_LIMIT: Duration = Duration::from_secs(180);
/// Long enough for trimming (connections older than 30 s) to have run and
/// for reconciliation to slow down with peers found in agreement.
const IDLE_SETTLE: Duration = Duration::from_secs(120);
const IDLE_MEASURE: Duration = Duration::from_secs(120);
const RECORDS: usize = 100_000;
const ORGS: u32 = 10;
const RECONCILE_MEASURE: Duration = Duration::from_secs(60);

fn main() {
    let started = Instant::now();
    common::print_machine("network");
    let part = std::env::var("SKILLMESH_BENCH_PART").unwrap_or_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if part.is_empty() || part == "1" {
        let nodes = std::env::var("SKILLMESH_BENCH_NODES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(NODES);
        rt.block_on(fifty(nodes));
    }
    if part.is_empty() || part == "2" {
        rt.block_on(reconcile_cost());
    }
    common::print_footer(started);
}

/// The `skillmesh` binary of this build (Cargo builds it for benches).
fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_skillmesh"))
}

/// `n` distinct loopback ports that were free a moment ago: all probed
/// at once (so the kernel cannot hand out one twice), then released.
fn free_ports(n: usize) -> Vec<u16> {
    let held: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("free port"))
        .collect();
    held.iter()
        .map(|l| l.local_addr().map(|a| a.port()).expect("port"))
        .collect()
}

/// A `skillmesh run` process, killed when dropped.
struct Proc {
    child: Child,
    web: SocketAddr,
}

impl Proc {
    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(config: &Path, web: SocketAddr) -> Proc {
    let child = Command::new(binary())
        .args(["run", "--config"])
        .arg(config)
        .env("SKILLMESH_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn skillmesh");
    Proc { child, web }
}

/// Writes a node's key and config in `dir`: web and libp2p on fixed
/// loopback ports, `tweak` applied. Returns (config path, web address,
/// libp2p address with its peer id).
fn prepare(
    dir: &Path,
    name: &str,
    ports: (u16, u16),
    tweak: impl FnOnce(&mut Config),
) -> (PathBuf, SocketAddr, String) {
    let key_file = dir.join(skillmesh_node::datadir::KEY_FILE);
    let identity = if key_file.exists() {
        OrgIdentity::load_file(&key_file).expect("read key")
    } else {
        let identity = OrgIdentity::generate().expect("key");
        identity.create_file(&key_file).expect("write key");
        identity
    };
    let peer = skillmesh_node::network::identity::peer_id(&identity.org()).expect("peer id");
    let web: SocketAddr = format!("127.0.0.1:{}", ports.0).parse().expect("addr");
    let p2p = format!("/ip4/127.0.0.1/tcp/{}", ports.1);
    let mut config = Config::new(name, dir.to_path_buf());
    config.key_file = key_file;
    config.web.listen = web;
    config.network.listen = vec![p2p.clone()];
    config.network.mdns = false;
    tweak(&mut config);
    let path = dir.join(skillmesh_node::datadir::CONFIG_FILE);
    std::fs::write(&path, config.to_toml()).expect("write config");
    (path, web, format!("{p2p}/p2p/{peer}"))
}

async fn health(client: &reqwest::Client, web: SocketAddr) -> Option<serde_json::Value> {
    client
        .get(format!("http://{web}/healthz"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()
}

fn memory_report(what: &str, procs: &[Proc]) {
    let rss: Vec<u64> = procs
        .iter()
        .map(|p| common::proc_kb(p.pid(), "status", "VmRSS:"))
        .collect();
    let anon: Vec<u64> = procs
        .iter()
        .map(|p| common::proc_kb(p.pid(), "status", "RssAnon:"))
        .collect();
    let pss: Vec<u64> = procs
        .iter()
        .map(|p| common::proc_kb(p.pid(), "smaps_rollup", "Pss:"))
        .collect();
    let mb = |v: u64| v as f64 / 1024.0;
    let stats = |v: &[u64]| {
        let total: u64 = v.iter().sum();
        let max = v.iter().copied().max().unwrap_or(0);
        (mb(total), mb(total) / v.len().max(1) as f64, mb(max))
    };
    let (rt, ra, rm) = stats(&rss);
    let (at, aa, am) = stats(&anon);
    let (pt, pa, pm) = stats(&pss);
    println!("memory {what}:");
    println!("  RSS      total {rt:.0} MB, mean {ra:.1} MB, max {rm:.1} MB per node");
    println!(
        "  RssAnon  total {at:.0} MB, mean {aa:.1} MB, max {am:.1} MB per node (heap and stacks)"
    );
    println!(
        "  PSS      total {pt:.0} MB, mean {pa:.1} MB, max {pm:.1} MB per node (shared binary pages split fairly)"
    );
}

/// Part 1.
async fn fifty(n: usize) {
    println!("-- {n} nodes started at the same moment --");
    let root = tempfile::tempdir().expect("tempdir");
    let mut prepared = Vec::with_capacity(n);
    let mut first_addr = String::new();
    let ports = free_ports(2 * n);
    for i in 0..n {
        let dir = root.path().join(format!("org{i:02}"));
        std::fs::create_dir_all(&dir).expect("dir");
        let bootstrap = first_addr.clone();
        let (config, web, addr) = prepare(
            &dir,
            &format!("Org {i:02}"),
            (ports[2 * i], ports[2 * i + 1]),
            |c| {
                if i > 0 {
                    c.network.bootstrap = vec![bootstrap];
                }
            },
        );
        if i == 0 {
            first_addr = addr;
        }
        prepared.push((config, web));
    }
    let t0 = Instant::now();
    let procs: Vec<Proc> = prepared.iter().map(|(c, w)| spawn(c, *w)).collect();
    let spawned = t0.elapsed();
    let client = reqwest::Client::new();
    let mut last = String::new();
    let converged = loop {
        let mut fingerprints: HashMap<String, usize> = HashMap::new();
        let mut complete = 0;
        let mut peers = Vec::with_capacity(n);
        for p in &procs {
            if let Some(h) = health(&client, p.web).await {
                if h["federated_records"].as_u64() == Some(n as u64 - 1) {
                    complete += 1;
                }
                *fingerprints
                    .entry(h["records_fingerprint"].as_str().unwrap_or("").to_string())
                    .or_default() += 1;
                peers.push(h["peers"].as_u64().unwrap_or(0));
            }
        }
        if complete == n && fingerprints.len() == 1 {
            let elapsed = t0.elapsed();
            peers.sort_unstable();
            println!(
                "spawned {n} processes in {:.0} ms; all hold all {n} organisations' records {:.1} s after the first spawn",
                spawned.as_secs_f64() * 1000.0,
                elapsed.as_secs_f64()
            );
            println!(
                "connections per node at convergence: min {}, median {}, max {}",
                peers.first().copied().unwrap_or(0),
                peers.get(peers.len() / 2).copied().unwrap_or(0),
                peers.last().copied().unwrap_or(0)
            );
            break elapsed;
        }
        last = format!(
            "{complete} of {n} complete, {} distinct fingerprints; first node: {}",
            fingerprints.len(),
            health(&client, procs[0].web)
                .await
                .map_or_else(|| "no answer".to_string(), |h| h.to_string())
        );
        assert!(
            t0.elapsed() < CONVERGE_LIMIT,
            "no convergence within {CONVERGE_LIMIT:?}: {last}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let _ = (converged, last);
    memory_report("at convergence", &procs);
    tokio::time::sleep(IDLE_SETTLE).await;
    let before: Vec<u64> = procs.iter().map(|p| common::cpu_ticks(p.pid())).collect();
    tokio::time::sleep(IDLE_MEASURE).await;
    let after: Vec<u64> = procs.iter().map(|p| common::cpu_ticks(p.pid())).collect();
    let ticks: u64 = after.iter().zip(&before).map(|(a, b)| a - b).sum();
    let per_node: Vec<u64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
    let busiest = per_node.iter().copied().max().unwrap_or(0);
    let share = ticks as f64 / 100.0 / IDLE_MEASURE.as_secs_f64() * 100.0;
    println!(
        "idle CPU over {} s (after {} s settling): {share:.2}% of one core for all {n} together \
         ({:.3}% per node on average, busiest node {:.2}%)",
        IDLE_MEASURE.as_secs(),
        IDLE_SETTLE.as_secs(),
        share / n as f64,
        busiest as f64 / 100.0 / IDLE_MEASURE.as_secs_f64() * 100.0
    );
    memory_report("after the idle minute", &procs);
    let mut peers = Vec::with_capacity(n);
    for p in &procs {
        if let Some(h) = health(&client, p.web).await {
            peers.push(h["peers"].as_u64().unwrap_or(0));
        }
    }
    peers.sort_unstable();
    println!(
        "connections per node when idle: min {}, median {}, max {}",
        peers.first().copied().unwrap_or(0),
        peers.get(peers.len() / 2).copied().unwrap_or(0),
        peers.last().copied().unwrap_or(0)
    );
    drop(procs);
    println!();
}

/// The TCP payload bytes sent both ways on connections to or from `port`,
/// summed over its sockets (`ss -tin`: bytes_sent and bytes_received).
fn tcp_bytes(port: u16) -> u64 {
    let out = Command::new("ss")
        .args(["-tinH", "state", "established"])
        .arg(format!("( sport = :{port} or dport = :{port} )"))
        .output()
        .expect("ss (iproute2)");
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |name: &str| -> u64 {
        text.split_whitespace()
            .filter_map(|w| w.strip_prefix(name))
            .filter_map(|v| v.parse::<u64>().ok())
            .sum()
    };
    // Each connection appears twice on loopback (once per end); count the
    // bytes each end sent, which is every byte once.
    field("bytes_sent:")
}

/// A counter from a node's `/metrics`.
async fn metric(client: &reqwest::Client, addr: SocketAddr, line_start: &str) -> f64 {
    let text = client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// Part 2.
async fn reconcile_cost() {
    println!("-- reconciliation when nothing differs, {RECORDS} records held --");
    let root = tempfile::tempdir().expect("tempdir");
    let dirs = [root.path().join("a"), root.path().join("b")];
    let now = common::unix_now();
    let t = Instant::now();
    for dir in &dirs {
        std::fs::create_dir_all(dir.join(skillmesh_node::datadir::STORE_DIR)).expect("dir");
    }
    {
        let stores: Vec<Store> = dirs
            .iter()
            .map(|d| Store::open(&d.join(skillmesh_node::datadir::STORE_DIR)).expect("store"))
            .collect();
        let per_org = RECORDS / ORGS as usize;
        for org in 0..ORGS {
            let key = common::org_key(200 + org);
            let records: Vec<(Record, Envelope)> = (0..per_org)
                .map(|i| {
                    let r = common::record(&key, i, now);
                    let e = skillmesh_protocol::seal(&r, &key).expect("seal");
                    (r, e)
                })
                .collect();
            for store in &stores {
                for chunk in records.chunks(5_000) {
                    let items: Vec<(&Record, &Envelope)> =
                        chunk.iter().map(|(r, e)| (r, e)).collect();
                    store.put_records(&items, now).expect("put");
                }
            }
        }
        println!(
            "wrote {RECORDS} records into both stores in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    let client = reqwest::Client::new();
    let mut phases = Vec::new();
    for interval in [1u64, 3600] {
        let ports = free_ports(6);
        let metrics_addrs: Vec<SocketAddr> = ports[4..]
            .iter()
            .map(|p| format!("127.0.0.1:{p}").parse().expect("addr"))
            .collect();
        let (a_cfg, a_web, a_addr) = prepare(&dirs[0], "A", (ports[0], ports[1]), |c| {
            c.network.reconcile_interval_secs = interval;
            c.federation.max_records_per_org = 1_000_000;
            c.metrics.listen = Some(metrics_addrs[0]);
        });
        let a_port: u16 = a_addr
            .split('/')
            .nth(4)
            .and_then(|p| p.parse().ok())
            .expect("port");
        let (b_cfg, b_web, _) = prepare(&dirs[1], "B", (ports[2], ports[3]), |c| {
            c.network.reconcile_interval_secs = interval;
            c.federation.max_records_per_org = 1_000_000;
            c.network.bootstrap = vec![a_addr.clone()];
            c.metrics.listen = Some(metrics_addrs[1]);
        });
        let procs = [spawn(&a_cfg, a_web), spawn(&b_cfg, b_web)];
        // Wait until they are connected and agree (each holds the other's
        // organisation card on top of the shared records).
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let (ha, hb) = (health(&client, a_web).await, health(&client, b_web).await);
            if let (Some(ha), Some(hb)) = (ha, hb)
                && ha["peers"] == 1
                && hb["peers"] == 1
                && ha["records_fingerprint"] == hb["records_fingerprint"]
            {
                break;
            }
            assert!(Instant::now() < deadline, "the two nodes did not agree");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
        let rounds = || async {
            let mut n = 0.0;
            for m in &metrics_addrs {
                n += metric(
                    &client,
                    *m,
                    "skillmesh_reconcile_rounds_total{result=\"in_sync\"}",
                )
                .await;
                n += metric(
                    &client,
                    *m,
                    "skillmesh_reconcile_rounds_total{result=\"differed\"}",
                )
                .await;
            }
            n
        };
        let (r0, b0) = (rounds().await, tcp_bytes(a_port));
        let c0: u64 = procs.iter().map(|p| common::cpu_ticks(p.pid())).sum();
        tokio::time::sleep(RECONCILE_MEASURE).await;
        let (r1, b1) = (rounds().await, tcp_bytes(a_port));
        let c1: u64 = procs.iter().map(|p| common::cpu_ticks(p.pid())).sum();
        let (rounds, bytes, cpu) = (r1 - r0, b1.saturating_sub(b0), c1 - c0);
        println!(
            "interval {interval} s: {rounds} rounds in {} s, {bytes} bytes on the wire, {:.2} s CPU (both nodes)",
            RECONCILE_MEASURE.as_secs(),
            cpu as f64 / 100.0
        );
        phases.push((rounds, bytes as f64, cpu as f64 / 100.0));
        drop(procs);
    }
    let (r, b, c) = phases[0];
    let (r2, b2, c2) = phases[1];
    let extra = (r - r2).max(1.0);
    println!(
        "one round when nothing differs: {:.0} bytes on the wire (both ways, with libp2p's framing), {:.2} ms CPU (asker and answerer together)",
        (b - b2) / extra,
        (c - c2) * 1000.0 / extra
    );
    println!();
}
