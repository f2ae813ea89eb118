//! Helpers shared by the benchmark binaries (`ingest`, `propagation`,
//! `catchup`, `search`, `web`): record generation, in-process nodes on
//! loopback, timing statistics and the machine report. Each bench uses a
//! subset.
#![allow(dead_code)]

use std::future::Future;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ed25519_dalek::SigningKey;
use skillmesh_config::Config;
use skillmesh_node::identity::OrgIdentity;
use skillmesh_node::runtime::{self, RunningNode};
use skillmesh_protocol::{Body, Envelope, Header, Kind, OrgKey, RECORD_VERSION, Record, samples};

/// The kinds the generator cycles through: every kind that is federated by
/// gossip and sync and is not a tombstone.
pub const KINDS: [Kind; 7] = [
    Kind::OrgCard,
    Kind::Expertise,
    Kind::TalkOffer,
    Kind::MentoringOffer,
    Kind::CohortOffer,
    Kind::Event,
    Kind::Content,
];

/// A deterministic organisation key (organisation `n` of a benchmark).
pub fn org_key(n: u32) -> SigningKey {
    let mut seed = [0u8; 32];
    seed[..4].copy_from_slice(&n.to_be_bytes());
    seed[4..8].copy_from_slice(b"bnch");
    SigningKey::from_bytes(&seed)
}

/// Unix seconds now.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Record `i` of the organisation with `key`: a sample body of one of
/// [`KINDS`] under a unique id, issued a minute ago, valid for 30 days.
pub fn record(key: &SigningKey, i: usize, now: i64) -> Record {
    let kind = KINDS[i % KINDS.len()];
    Record {
        header: Header {
            version: RECORD_VERSION,
            org: OrgKey::from(&key.verifying_key()),
            id: format!("bench-{i:07}"),
            seq: 1,
            issued_at: now - 60,
            expires_at: now + 30 * 24 * 3600,
        },
        body: samples::body(kind),
    }
}

/// `n` signed records spread round-robin over `orgs` organisations
/// (organisation numbers `first_org..first_org + orgs`).
pub fn signed_records(first_org: u32, orgs: u32, n: usize, now: i64) -> Vec<(Record, Envelope)> {
    let keys: Vec<SigningKey> = (first_org..first_org + orgs).map(org_key).collect();
    (0..n)
        .map(|i| {
            let key = &keys[i % keys.len()];
            let r = record(key, i, now);
            let e = skillmesh_protocol::seal(&r, key).expect("sample record seals");
            (r, e)
        })
        .collect()
}

/// The words [`varied_body`] draws titles and topics from: few enough that
/// every search term and facet value matches a realistic share of a large
/// catalogue (each word is in the title of about one record in twelve, and
/// in its title or topics in about one in six).
pub const WORDS: [&str; 24] = [
    "kubernetes",
    "incident",
    "feedback",
    "rust",
    "design",
    "hiring",
    "pricing",
    "security",
    "postgres",
    "leadership",
    "testing",
    "roadmaps",
    "accessibility",
    "onboarding",
    "budgets",
    "negotiation",
    "observability",
    "mentoring",
    "writing",
    "strategy",
    "caching",
    "compliance",
    "coaching",
    "interviews",
];

/// A sample body of `kind` with its title ("{word} and {word} in
/// practice") and topics drawn from [`WORDS`], so that searches over many
/// records do not all match the same sample text.
pub fn varied_body(kind: Kind, rng: &mut Rng) -> Body {
    let mut body = samples::body(kind);
    let w = |rng: &mut Rng| WORDS[rng.below(WORDS.len())];
    let title = format!("{} and {} in practice", w(rng), w(rng));
    let topics = vec![w(rng).to_string(), w(rng).to_string()];
    match &mut body {
        Body::Expertise(b) => {
            b.headline = Some(title);
            b.topics.truncate(1);
            b.topics[0].name = topics[0].clone();
        }
        Body::TalkOffer(b) => (b.title, b.session.topics) = (title, topics),
        Body::MentoringOffer(b) => (b.title, b.topics) = (title, topics),
        Body::CohortOffer(b) => (b.title, b.topics) = (title, topics),
        Body::Event(b) => b.title = title,
        Body::Content(b) => (b.title, b.topics) = (title, topics),
        _ => {}
    }
    body
}

/// Writes a fresh organisation key and returns the config of a node in
/// `dir` that keeps all traffic on 127.0.0.1 (web and libp2p on port 0, no mDNS).
pub fn loopback_config(name: &str, dir: &Path, bootstrap: &[String]) -> Config {
    let key_file = dir.join(skillmesh_node::datadir::KEY_FILE);
    OrgIdentity::generate()
        .expect("key")
        .create_file(&key_file)
        .expect("write key");
    let mut config = Config::new(name, dir.to_path_buf());
    config.key_file = key_file;
    config.web.listen = "127.0.0.1:0".parse().expect("addr");
    config.network.listen = vec!["/ip4/127.0.0.1/tcp/0".into()];
    config.network.bootstrap = bootstrap.to_vec();
    config.network.mdns = false;
    config
}

/// A node started in this process, with its temp dir.
pub struct Node {
    pub node: RunningNode,
    pub dir: tempfile::TempDir,
}

pub async fn start_node(name: &str, bootstrap: &[String], tweak: impl FnOnce(&mut Config)) -> Node {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = loopback_config(name, dir.path(), bootstrap);
    tweak(&mut config);
    let node = runtime::start(&config).await.expect("node starts");
    Node { node, dir }
}

/// The node's first libp2p listen address.
pub async fn p2p_addr(node: &RunningNode) -> String {
    wait_for("a listen address", Duration::from_secs(30), || async {
        !node.network.listen_addrs().await.expect("addrs").is_empty()
    })
    .await;
    node.network.listen_addrs().await.expect("addrs")[0].to_string()
}

/// Polls `check` every 20 ms until it holds; panics after `limit`.
pub async fn wait_for<F, Fut>(what: &str, limit: Duration, check: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out after {limit:?} waiting for {what}");
}

/// A small deterministic PRNG (xorshift64*), enough to pick nodes.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Nearest-rank percentile of sorted durations (`p` in 0..=100).
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn proc_status(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split(':').nth(1))
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// CPU time (user + system) this process has used so far, all threads, in
/// seconds (assumes the usual 100 ticks a second).
pub fn cpu_secs() -> f64 {
    ticks("self").map_or(f64::NAN, |t| t as f64 / 100.0)
}

/// (utime + stime) of process `pid` in clock ticks (100 a second); 0 if
/// it cannot be read.
pub fn cpu_ticks(pid: u32) -> u64 {
    ticks(&pid.to_string()).unwrap_or(0)
}

/// utime + stime from `/proc/<proc>/stat`.
fn ticks(proc: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{proc}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are
    // fields 14 and 15 of the whole line.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// A `kB` figure (such as `VmRSS:`) from `/proc/<pid>/<file>`; 0 if it
/// cannot be read.
pub fn proc_kb(pid: u32, file: &str, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/{file}"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Times of `rounds` fsyncs of a 4 KiB write in `dir`, sorted: the price of
/// one durable commit on this disk, for reading the store numbers.
pub fn fsync_times(dir: &Path, rounds: usize) -> Vec<Duration> {
    use std::io::Write;
    let path = dir.join("fsync-probe");
    let mut f = std::fs::File::create(&path).expect("probe file");
    let block = [0x5au8; 4096];
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        f.write_all(&block).expect("write");
        let t = Instant::now();
        f.sync_data().expect("fsync");
        times.push(t.elapsed());
    }
    let _ = std::fs::remove_file(&path);
    times.sort();
    times
}

/// One line on fsync latency in `dir` (p50, p99, max of `rounds`).
pub fn fsync_report(dir: &Path, rounds: usize) -> String {
    let t = fsync_times(dir, rounds);
    format!(
        "fsync of a 4 KiB write ({rounds} rounds): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        ms(percentile(&t, 50.0)),
        ms(percentile(&t, 99.0)),
        ms(t.last().copied().unwrap_or_default())
    )
}

/// The commit the workspace is at, and how many files under `node/src` and
/// `protocol/src` differ from it (the code measured may be uncommitted).
fn code_version() -> String {
    // The package's directory: node/, or the root for a root-package bench.
    let root = env!("CARGO_MANIFEST_DIR");
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match git(&["rev-parse", "--short", "HEAD"]) {
        Some(head) => {
            let dirty = git(&[
                "status",
                "--porcelain",
                "--",
                ":/node/src",
                ":/protocol/src",
            ])
            .map_or(0, |s| s.lines().count());
            format!("commit {head}, {dirty} uncommitted changes under node/src and protocol/src")
        }
        None => "unknown (no git)".into(),
    }
}

/// Prints the header every bench starts with.
pub fn print_machine(bench: &str) {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("== skillmesh bench: {bench} ==");
    println!("date:     {}", skillmesh_web::dates::datetime(unix_now()));
    println!("machine:  {cores} cores, {}", cpu_model());
    println!("load avg: {} (at start)", loadavg());
    println!("temp dir: {}", std::env::temp_dir().display());
    println!("code:     {}", code_version());
    println!("caveat:   the 2 cores are shared with another engineer's builds; numbers are noisy");
    println!();
}

/// Prints the footer every bench ends with: peak RSS and load.
pub fn print_footer(started: Instant) {
    println!();
    println!("peak RSS (VmHWM): {}", proc_status("VmHWM"));
    println!("load avg: {} (at end)", loadavg());
    println!("wall time: {:.1} s", started.elapsed().as_secs_f64());
}
