//! The flood benchmark (issue 19): what a flood from 100 fresh
//! organisation keys costs an honest node and its partner.
//!
//! Two real `skillmesh run` processes on loopback: the victim, Northwind,
//! and its partner Contoso (joined by invite, allowed by Northwind's
//! admin). The attacker is 100 libp2p identities, each a fresh
//! organisation key speaking the wire protocol itself
//! (tests/e2e/common/attacker.rs); together they send Northwind 50,000
//! invalid gossip messages and 10,000 signed requests for a real talk of
//! Northwind's, paced over [`FLOOD`]:
//!
//! - Per key, 497 correctly signed records whose times are wrong (expired
//!   an hour ago, or issued an hour from now), then 3 with a bad
//!   signature. A node cannot blame the sender for the first kind (a
//!   relay may have passed on a record that expired in transit), so it
//!   must check every one and can never ban for them: the costly part of a
//!   flood. The last three are faults the sender could have checked: they
//!   get each key banned.
//! - Per key, 100 requests for Ana's talk (the direct protocol), one after
//!   the other.
//!
//! Measured, quiet and then during the flood, with the same method:
//!
//! - edit → searchable: Ben at Contoso edits his published talk (`PUT
//!   /api/v1/offers/{id}` with a title holding a new word); the time from
//!   sending the edit until Northwind's search API (`GET
//!   /api/v1/search?q=word`) returns it;
//! - request → arrival: Ben asks for Ana's talk (`POST /api/v1/requests`);
//!   the time from sending it until it is in Ana's inbox at Northwind
//!   (`GET /api/v1/requests/inbox`), which she then declines.
//!
//! Polls run every 5 ms, so figures are ±5 ms. Also reported: the
//! victim's RSS (sampled every 500 ms), CPU time, disk growth of its data
//! dir and log, the attackers' replies, and the victim's own metrics
//! (rejections, bans, dropped queue items).
//!
//! The attackers run in a child process (this binary again, with
//! `SKILLMESH_FLOOD_ATTACKERS` set) under `nice -n 19`: on one machine
//! their own work would otherwise be counted as the victim's slowness,
//! which a remote attacker's could not be. They still share the 2 cores
//! with both nodes and the measuring client, so the ratios are an upper
//! bound (printed as a caveat too).
//!
//! Run: `cargo build --release -p skillmesh-node && cargo bench -p
//! skillmesh-tests --bench flood` (about 3 minutes once built; the node
//! binary is built first because building it from here would rebuild the
//! dependencies with other features, and an out-of-date one is refused).
//! `SKILLMESH_FLOOD_KEEP=1` keeps the nodes' data dirs and the victim's log.

// Sets up and inspects data through the store, as only tests may.
#![allow(clippy::disallowed_methods)]

#[path = "../node/benches/common/mod.rs"]
mod bench;
#[path = "../tests/e2e/common/mod.rs"]
mod common;

use common::attacker;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use attacker::{Attacker, DirectReply, fresh_identity, in_sync, signed_at, signed_request};
use common::cluster::{api, health, init, invite, peers, publish_talk, run, talk_json, within};
use common::{Running, add_user, api_token, free_port};
use libp2p::Multiaddr;
use reqwest::Method;
use skillmesh_protocol::{Body, Kind, OrgKey, samples};

/// Fresh organisation keys in the flood.
const KEYS: usize = 100;
/// Gossip messages per key: 50,000 in all.
const GOSSIP_PER_KEY: usize = 500;
/// Of those, the last ones carry a bad signature.
const BAD_SIGNATURES: usize = 3;
/// Requests per key: 10,000 in all.
const REQUESTS_PER_KEY: u32 = 100;
/// The flood is paced over this long.
const FLOOD: Duration = Duration::from_secs(60);
/// Samples of each measurement, quiet and under flood (these spread over
/// the flood).
const SAMPLES: usize = 16;
/// How often a sample polls the victim.
const POLL: Duration = Duration::from_millis(5);

/// Set (with the victim's address, key and offer) in the child process
/// that runs the attackers.
const ATTACKERS_ENV: &str = "SKILLMESH_FLOOD_ATTACKERS";

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    if let Ok(target) = std::env::var(ATTACKERS_ENV) {
        runtime.block_on(attackers(&target));
        return;
    }
    let started = Instant::now();
    bench::print_machine("flood");
    println!(
        "caveat:   the {KEYS} attackers run on this machine too, in a child process at the lowest CPU priority (nice 19)"
    );
    runtime.block_on(flood_bench());
    bench::print_footer(started);
}

/// The attackers' process: floods the victim described by `target`
/// ("p2p address, org key hex, offer id"), then prints its tally as one
/// JSON line.
async fn attackers(target: &str) {
    let mut parts = target.split(' ');
    let (Some(addr), Some(org), Some(offer)) = (parts.next(), parts.next(), parts.next()) else {
        panic!("{ATTACKERS_ENV}: expected \"address org offer\", got {target:?}");
    };
    let victim: Multiaddr = addr.parse().expect("victim address");
    let org: OrgKey = org.parse().expect("victim org key");
    let tally = Arc::new(Tally::default());
    let keys: Vec<_> = (0..KEYS)
        .map(|_| {
            tokio::spawn(flood_from(
                victim.clone(),
                org,
                offer.to_string(),
                tally.clone(),
            ))
        })
        .collect();
    for k in keys {
        k.await.expect("an attacker");
    }
    let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
    let line = serde_json::json!({
        "gossip_sent": load(&tally.gossip_sent),
        "gossip_unsent": load(&tally.gossip_unsent),
        "redials": load(&tally.redials),
        "requests_sent": load(&tally.requests_sent),
        "queued": load(&tally.queued),
        "refused": load(&tally.refused),
        "try_later": load(&tally.try_later),
        "failed": load(&tally.failed),
    });
    println!("{line}");
}

/// Starts the attackers' process against the victim of `s`, at the
/// lowest CPU priority: on one machine, the attackers' own work should
/// not count as the victim's slowness (a remote attacker's CPU is its
/// own). Returns the process, whose stdout ends with its tally.
fn start_attackers(s: &Setup) -> std::process::Child {
    let exe = std::env::current_exe().expect("bench binary");
    std::process::Command::new("nice")
        .args(["-n", "19"])
        .arg(exe)
        .env(
            ATTACKERS_ENV,
            format!("{} {} {}", s.victim_p2p, s.victim_org.to_hex(), s.ana_talk),
        )
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start the attackers")
}

/// The two organisations, set up and running.
struct Setup {
    victim: Running,
    partner: Running,
    victim_dir: PathBuf,
    victim_log: PathBuf,
    victim_p2p: String,
    victim_org: OrgKey,
    metrics: SocketAddr,
    ana: String,
    ben: String,
    ana_talk: String,
    ben_talk: String,
}

async fn set_up(root: &Path) -> Setup {
    let (n_dir, c_dir) = (root.join("northwind"), root.join("contoso"));
    for d in [&n_dir, &c_dir] {
        std::fs::create_dir_all(d).expect("data dir");
    }
    let victim_p2p = format!("/ip4/127.0.0.1/tcp/{}", free_port());
    let n_cfg = init(&n_dir, "Northwind", &[&victim_p2p], "127.0.0.1:0", None);
    let c_cfg = init(
        &c_dir,
        "Contoso",
        &["/ip4/127.0.0.1/tcp/0"],
        "127.0.0.1:0",
        Some(&invite(&n_cfg)),
    );
    let ana_pw = add_user(&n_cfg, "ana@northwind.example", false);
    let admin_pw = add_user(&n_cfg, "admin@northwind.example", true);
    let ben_pw = add_user(&c_cfg, "ben@contoso.example", false);

    let metrics = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let victim_log = root.join("northwind.log");
    let victim = Running::start_logging(
        &["run", "--config", n_cfg.to_str().expect("utf-8")],
        &[("SKILLMESH_METRICS_LISTEN", &metrics.to_string())],
        &victim_log,
    );
    let partner = run(&c_cfg);
    within(
        Duration::from_secs(30),
        "Contoso joins Northwind",
        || async {
            let (n, c) = (health(victim.web).await?, health(partner.web).await?);
            if peers(&n) >= 1 && peers(&c) >= 1 {
                Ok(())
            } else {
                Err(format!("{n} {c}"))
            }
        },
    )
    .await;
    let key = |h: serde_json::Value| -> OrgKey {
        h["org_key"]
            .as_str()
            .and_then(|k| k.parse().ok())
            .expect("org_key in /healthz")
    };
    let victim_org = key(health(victim.web).await.expect("health"));
    let partner_org = key(health(partner.web).await.expect("health"));

    // Northwind's admin allows Contoso: a partner, not a new organisation.
    let admin = api_token(victim.web, "admin@northwind.example", &admin_pw).await;
    api(
        victim.web,
        &admin,
        Method::POST,
        &format!("/admin/orgs/{}/actions", partner_org.to_hex()),
        Some(serde_json::json!({"action": "allow"})),
    )
    .await;

    let ana = api_token(victim.web, "ana@northwind.example", &ana_pw).await;
    let ben = api_token(partner.web, "ben@contoso.example", &ben_pw).await;
    let ana_talk = publish_talk(victim.web, &ana, "Running incident reviews").await;
    let ben_talk = publish_talk(partner.web, &ben, "Chaos engineering basics").await;
    // Each side holds the other's talk before anything is measured.
    within(Duration::from_secs(30), "the talks cross", || async {
        let n = search(victim.web, &ana, "chaos").await;
        let c = search(partner.web, &ben, "incident").await;
        if has(&n, &ben_talk, None) && has(&c, &ana_talk, None) {
            Ok(())
        } else {
            Err(format!("{n} {c}"))
        }
    })
    .await;
    Setup {
        victim,
        partner,
        victim_dir: n_dir,
        victim_log,
        victim_p2p,
        victim_org,
        metrics,
        ana,
        ben,
        ana_talk,
        ben_talk,
    }
}

/// `GET /api/v1/search?q=word` as JSON (`null` if it failed); `word` is
/// letters only, so it needs no escaping.
async fn search(web: SocketAddr, token: &str, word: &str) -> serde_json::Value {
    let res = reqwest::Client::new()
        .get(format!("http://{web}/api/v1/search?q={word}"))
        .bearer_auth(token)
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    match res {
        Ok(r) => r.json().await.unwrap_or(serde_json::Value::Null),
        Err(_) => serde_json::Value::Null,
    }
}

/// Whether search results hold record `id`, with `title` if given.
fn has(results: &serde_json::Value, id: &str, title: Option<&str>) -> bool {
    results["hits"].as_array().is_some_and(|hits| {
        hits.iter()
            .any(|h| h["id"] == id && title.is_none_or(|t| h["title"] == t))
    })
}

/// A word no record holds yet, for sample `n`: consonants only, so no
/// stemmer shortens it.
fn marker(n: usize) -> String {
    const LETTERS: &[u8] = b"bcfghjkmpq";
    let digits: String = format!("{n:04}")
        .bytes()
        .map(|d| LETTERS[usize::from(d - b'0')] as char)
        .collect();
    format!("zq{digits}")
}

/// Ben edits his talk; the time until Northwind's search finds the edit.
async fn edit_to_searchable(s: &Setup, n: usize) -> Duration {
    let word = marker(n);
    let title = format!("Chaos engineering {word}");
    let start = Instant::now();
    api(
        s.partner.web,
        &s.ben,
        Method::PUT,
        &format!("/offers/{}", s.ben_talk),
        Some(talk_json(&title)),
    )
    .await;
    loop {
        if has(
            &search(s.victim.web, &s.ana, &word).await,
            &s.ben_talk,
            Some(&title),
        ) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "edit {n} not searchable at Northwind within 60 s"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Ben asks for Ana's talk; the time until it is in Ana's inbox. Ana then
/// declines it, so her pending requests do not pile up.
async fn request_to_arrival(s: &Setup, n: usize) -> Duration {
    let start = Instant::now();
    let sent = api(
        s.partner.web,
        &s.ben,
        Method::POST,
        "/requests",
        Some(serde_json::json!({
            "offer_org": s.victim_org.to_hex(), "offer_id": s.ana_talk,
            "goal": format!("Learn how you run reviews ({n})")})),
    )
    .await;
    let id = sent["id"].as_str().expect("request id").to_string();
    let from_org = loop {
        let inbox = reqwest::Client::new()
            .get(format!("http://{}/api/v1/requests/inbox", s.victim.web))
            .bearer_auth(&s.ana)
            .timeout(Duration::from_secs(5))
            .send()
            .await;
        let inbox: serde_json::Value = match inbox {
            Ok(r) => r.json().await.unwrap_or_default(),
            Err(_) => serde_json::Value::Null,
        };
        let found = inbox
            .as_array()
            .and_then(|items| items.iter().find(|r| r["id"] == id.as_str()))
            .and_then(|r| r["from_org"].as_str().map(str::to_string));
        if let Some(from) = found {
            break from;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "request {n} not in Ana's inbox within 60 s"
        );
        tokio::time::sleep(POLL).await;
    };
    let took = start.elapsed();
    api(
        s.victim.web,
        &s.ana,
        Method::POST,
        &format!("/requests/inbox/{from_org}/{id}/answer"),
        Some(serde_json::json!({"accept": false})),
    )
    .await;
    took
}

/// Samples of both measurements, alternating, numbered from `first`, one
/// pair every `every`; stops early once `stop` is set (the flood ended).
async fn sample(
    s: &Setup,
    first: usize,
    every: Duration,
    stop: Option<&AtomicBool>,
) -> (Vec<Duration>, Vec<Duration>) {
    let (mut edits, mut requests) = (Vec::new(), Vec::new());
    for i in 0..SAMPLES {
        if stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
            break;
        }
        let at = Instant::now();
        edits.push(edit_to_searchable(s, first + i).await);
        requests.push(request_to_arrival(s, first + i).await);
        tokio::time::sleep(every.saturating_sub(at.elapsed())).await;
    }
    (edits, requests)
}

/// What the attackers sent and heard back.
#[derive(Default)]
struct Tally {
    /// Gossip messages gossipsub sent (it sends nothing while the victim
    /// has closed the attacker's connection).
    gossip_sent: AtomicU64,
    gossip_unsent: AtomicU64,
    /// Redials after the victim closed the connection.
    redials: AtomicU64,
    requests_sent: AtomicU64,
    queued: AtomicU64,
    refused: AtomicU64,
    try_later: AtomicU64,
    failed: AtomicU64,
}

/// Gossip message `j` of a key: a correctly signed record whose times are
/// wrong, or for the last [`BAD_SIGNATURES`], a bad signature.
fn flood_message(key: &ed25519_dalek::SigningKey, j: usize) -> Vec<u8> {
    let org = OrgKey::from(&key.verifying_key());
    let now = skillmesh_node::clock::now();
    let id = format!("flood-{}-{j}", org.short());
    let body: Body = samples::body(Kind::Expertise);
    let (issued, expires) = if j.is_multiple_of(2) {
        (now - 7200, now - 3600)
    } else {
        (now + 3600, now + 7200)
    };
    let mut bytes = signed_at(key, &id, body, issued, expires);
    if j >= GOSSIP_PER_KEY - BAD_SIGNATURES {
        // Magic (3 bytes), format (1), signer (32), then the signature.
        bytes[4 + 32] ^= 0x55;
    }
    bytes
}

/// Publishes `data`, counting it as sent or not; when it was not (the
/// victim closed the connection), redials, at most once a second.
async fn publish(
    attacker: &Attacker,
    data: Vec<u8>,
    victim: &Multiaddr,
    tally: &Tally,
    last_dial: &mut Instant,
) {
    if attacker.try_publish(data).await {
        tally.gossip_sent.fetch_add(1, Ordering::Relaxed);
        return;
    }
    tally.gossip_unsent.fetch_add(1, Ordering::Relaxed);
    if last_dial.elapsed() >= Duration::from_secs(1) {
        *last_dial = Instant::now();
        tally.redials.fetch_add(1, Ordering::Relaxed);
        attacker.dial(&victim.to_string()).await;
    }
}

/// One fresh key's part of the flood, paced over [`FLOOD`]; it redials
/// whenever the victim closes its connection, as a determined attacker
/// would.
async fn flood_from(victim: Multiaddr, target: OrgKey, offer: String, tally: Arc<Tally>) {
    let (identity, key) = fresh_identity();
    let attacker = Arc::new(Attacker::start(identity, in_sync()));
    attacker.dial(&victim.to_string()).await;
    // Gossipsub publishes to peers it knows are subscribed.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let requests = tokio::spawn({
        let (attacker, key, tally, victim) =
            (attacker.clone(), key.clone(), tally.clone(), victim.clone());
        async move {
            let gap = FLOOD / REQUESTS_PER_KEY;
            for i in 0..REQUESTS_PER_KEY {
                let at = Instant::now();
                let envelope = signed_request(&key, target, &offer, i);
                tally.requests_sent.fetch_add(1, Ordering::Relaxed);
                let counter = match attacker.request(target, &victim, envelope).await {
                    Ok(DirectReply::Queued | DirectReply::Received) => &tally.queued,
                    Ok(DirectReply::Refused { .. }) => &tally.refused,
                    Ok(DirectReply::TryLater { .. }) => &tally.try_later,
                    Err(_) => &tally.failed,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(gap.saturating_sub(at.elapsed())).await;
            }
        }
    });
    let gap = FLOOD / GOSSIP_PER_KEY as u32;
    let mut last_dial = Instant::now();
    for j in 0..GOSSIP_PER_KEY - BAD_SIGNATURES {
        let data = flood_message(&key, j);
        publish(&attacker, data, &victim, &tally, &mut last_dial).await;
        tokio::time::sleep(gap).await;
    }
    let _ = requests.await;
    for j in GOSSIP_PER_KEY - BAD_SIGNATURES..GOSSIP_PER_KEY {
        let data = flood_message(&key, j);
        publish(&attacker, data, &victim, &tally, &mut last_dial).await;
    }
    // Let the last messages go out before the swarm stops.
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Bytes of all files under `dir`.
fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            _ => e.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}

fn file_bytes(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// The sum of every sample of metric `name` in the victim's metrics.
async fn metric_sum(metrics: SocketAddr, name: &str) -> f64 {
    let text = match reqwest::get(format!("http://{metrics}/metrics")).await {
        Ok(r) => r.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    text.lines()
        .filter(|l| l.starts_with(name) && !l.starts_with('#'))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .fold(0.0, |a, b| a + b)
}

/// RSS samples of `pid` every 500 ms until `stop` is set; the peak in kB.
fn watch_rss(pid: u32, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut peak = 0;
        while !stop.load(Ordering::Relaxed) {
            peak = peak.max(bench::proc_kb(pid, "status", "VmRSS:"));
            std::thread::sleep(Duration::from_millis(500));
        }
        peak
    })
}

/// Median, 90th percentile and largest of `samples`, in ms.
fn summary(samples: &[Duration]) -> (f64, f64, f64) {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let at = |p| bench::ms(bench::percentile(&sorted, p));
    (at(50.0), at(90.0), at(100.0))
}

fn row(what: &str, quiet: &[Duration], flood: &[Duration]) {
    let (qm, q9, qx) = summary(quiet);
    let (fm, f9, fx) = summary(flood);
    println!(
        "{what:<18} {qm:>7.0} {q9:>7.0} {qx:>7.0} {fm:>9.0} {f9:>7.0} {fx:>7.0} {:>8.2}× {:>8.2}× {:>4}/{:<4}",
        fm / qm.max(1.0),
        f9 / q9.max(1.0),
        quiet.len(),
        flood.len()
    );
}

async fn flood_bench() {
    let mut root = tempfile::tempdir().expect("temp dir");
    // SKILLMESH_FLOOD_KEEP=1 keeps both nodes' data dirs and the victim's
    // log for a look afterwards.
    if std::env::var_os("SKILLMESH_FLOOD_KEEP").is_some() {
        root.disable_cleanup(true);
        println!("keeping {}", root.path().display());
    }
    println!("setting up Northwind (the victim) and its partner Contoso…");
    let s = set_up(root.path()).await;
    let pid = s.victim.child.id();
    println!("victim pid {pid}; log {}", s.victim_log.display());

    // Quiet figures.
    let quiet = sample(&s, 0, Duration::from_millis(500), None).await;
    let rss_before = bench::proc_kb(pid, "status", "VmRSS:");
    let disk_before = dir_bytes(&s.victim_dir);
    let log_before = file_bytes(&s.victim_log);
    let cpu_before = bench::cpu_ticks(pid);
    let rejected_before = metric_sum(s.metrics, "skillmesh_records_rejected_total").await;

    // The flood, and the same figures during it.
    println!(
        "flooding: {KEYS} fresh keys, {} gossip messages and {} requests over {FLOOD:?}…",
        KEYS * GOSSIP_PER_KEY,
        KEYS as u32 * REQUESTS_PER_KEY
    );
    let flood_started = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let rss_peak = watch_rss(pid, done.clone());
    let child = start_attackers(&s);
    let flood = tokio::task::spawn_blocking({
        let done = done.clone();
        move || {
            let out = child.wait_with_output().expect("the attackers' process");
            done.store(true, Ordering::Relaxed);
            assert!(
                out.status.success(),
                "the attackers failed: {:?}",
                out.status
            );
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            let last = text.lines().last().unwrap_or_default().to_string();
            serde_json::from_str::<serde_json::Value>(&last).expect("the attackers' tally")
        }
    });
    // Let the flood get going before sampling.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let every = FLOOD.saturating_sub(Duration::from_secs(10)) / SAMPLES as u32;
    let flooded = sample(&s, 1000, every, Some(&done)).await;
    let sampled_at = flood_started.elapsed();
    let tally = flood.await.expect("flood");
    let flood_took = flood_started.elapsed();
    let cpu_flood = bench::cpu_ticks(pid).saturating_sub(cpu_before) as f64 / 100.0;
    let disk_flood = dir_bytes(&s.victim_dir);
    let log_flood = file_bytes(&s.victim_log);
    let peak = rss_peak.join().expect("rss watcher");
    // Calm again: memory 10 s and 60 s later.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let rss_after = bench::proc_kb(pid, "status", "VmRSS:");
    tokio::time::sleep(Duration::from_secs(50)).await;
    let rss_later = bench::proc_kb(pid, "status", "VmRSS:");
    let victim_peers = health(s.victim.web).await.map(|h| peers(&h)).unwrap_or(0);

    let rejected =
        metric_sum(s.metrics, "skillmesh_records_rejected_total").await - rejected_before;
    let banned = metric_sum(s.metrics, "skillmesh_peers_banned_total").await;
    let dropped = metric_sum(s.metrics, "skillmesh_queue_dropped_total").await;
    let turned_away = metric_sum(s.metrics, "skillmesh_connections_refused_total").await;
    let load = |name: &str| tally[name].as_u64().unwrap_or(0);

    println!();
    println!(
        "flood: {:.1} s; samples taken in its first {:.1} s",
        flood_took.as_secs_f64(),
        sampled_at.as_secs_f64()
    );
    println!(
        "attackers sent {} gossip messages ({} more found no connection to send on; {} redials) and {} requests; replies: {} queued, {} refused, {} try later, {} failed",
        load("gossip_sent"),
        load("gossip_unsent"),
        load("redials"),
        load("requests_sent"),
        load("queued"),
        load("refused"),
        load("try_later"),
        load("failed")
    );
    println!(
        "victim: {rejected:.0} records rejected, {banned:.0} peers banned, {turned_away:.0} connections refused as they opened, {dropped:.0} queue items dropped, {victim_peers} peers connected after"
    );
    println!();
    println!(
        "{:<18} {:>7} {:>7} {:>7} {:>9} {:>7} {:>7} {:>9} {:>9} {:>9}",
        "ms", "quiet50", "p90", "max", "flood50", "p90", "max", "p50 ×", "p90 ×", "samples"
    );
    row("edit → searchable", &quiet.0, &flooded.0);
    row("request → arrival", &quiet.1, &flooded.1);
    println!();
    let mb = |kb: u64| kb as f64 / 1024.0;
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!(
        "victim RSS: {:.1} MB before, {:.1} MB peak during, {:.1} MB 10 s after, {:.1} MB 60 s after",
        mb(rss_before),
        mb(peak),
        mb(rss_after),
        mb(rss_later)
    );
    println!(
        "victim disk: data dir {:.2} → {:.2} MB (+{:.2}), log (info level) {:.1} → {:.1} kB (+{:.1})",
        mib(disk_before),
        mib(disk_flood),
        mib(disk_flood.saturating_sub(disk_before)),
        log_before as f64 / 1024.0,
        log_flood as f64 / 1024.0,
        log_flood.saturating_sub(log_before) as f64 / 1024.0
    );
    println!(
        "victim CPU during the flood: {cpu_flood:.1} s in {:.1} s ({:.0}% of one core)",
        flood_took.as_secs_f64(),
        100.0 * cpu_flood / flood_took.as_secs_f64()
    );
}
