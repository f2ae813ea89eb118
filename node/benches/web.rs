//! The web layer of a real node holding 100,000 federated records: the size
//! of each page as served, the time per page over loopback HTTP, the search
//! API's latency per query shape, and its requests per second under
//! concurrent keep-alive clients.
//!
//! `cargo bench -p skillmesh-node --bench web`
//!
//! One node starts in this process (`runtime::start`: web on 127.0.0.1:0,
//! libp2p on loopback, no mDNS, sled in a temp dir) and takes in, through
//! `Service::ingest_many` in batches of 1,000 as catch-up sync would,
//! 100,000 signed records from 50 organisations (2,000 each, the six
//! searchable kinds in turn, titles and topics from `common::varied_body`)
//! and each organisation's card. A member and an admin sign in over HTTP as
//! a browser does (GET /signin, POST the form with its CSRF token, keep the
//! session cookie); the member also gets an API token. The HTTP client
//! (reqwest, keep-alive) runs in its own tokio runtime in the same process,
//! so client and server share the machine's cores. Times are as the client
//! sees them: request sent to the whole body read.

// Sets up and inspects data through the store, as only tests may.
#![allow(clippy::disallowed_methods)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{ms, percentile};
use ed25519_dalek::SigningKey;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, HeaderName, SET_COOKIE};
use skillmesh_node::accounts;
use skillmesh_node::service::Ingested;
use skillmesh_node::store::Actor;
use skillmesh_node::store::{AuditFilter, Role};
use skillmesh_node::web_api::WebState;
use skillmesh_protocol::kinds::OrgCard;
use skillmesh_protocol::{Body, Header, Kind, OrgKey, RECORD_VERSION, Record};
use skillmesh_web::{AccountsApi, SearchQuery};

const RECORDS: usize = 100_000;
const ORGS: u32 = 50;
/// Records signed per step (bounds memory), and per `ingest_many` call.
const GEN_CHUNK: usize = 10_000;
const INGEST_BATCH: usize = 1_000;
/// Quota high enough that it never refuses a record.
const QUOTA: u32 = 1_000_000;
/// Longest wait for the search index to take in every record.
const INDEX_WAIT: Duration = Duration::from_secs(600);

const MEMBER: &str = "mia@bench.example";
const ADMIN: &str = "ada@bench.example";
const PASSWORD: &str = "a long enough bench password";

/// Sequential requests per page or query, after the warm-up; a slow page
/// stops early after `TIME_CAP` (but not before `MIN_RUNS`).
const WARMUP: usize = 20;
const PAGE_RUNS: usize = 200;
const API_RUNS: usize = 300;
const MIN_RUNS: usize = 30;
const TIME_CAP: Duration = Duration::from_secs(10);
/// Load generator: concurrent keep-alive clients and seconds each.
const CONCURRENCY: [usize; 3] = [1, 4, 16];
const LOAD_SECS: u64 = 5;

/// The aims (from the issue).
const PAGE_BYTES_AIM: usize = 100 * 1024;
const PAGE_P99_AIM_MS: f64 = 50.0;
const API_P99_AIM_MS: f64 = 20.0;

/// Who a request is sent as.
#[derive(Clone, Copy, PartialEq, Eq)]
enum As {
    Nobody,
    Member,
    Admin,
    Token,
}

/// The header that authenticates each kind of caller.
struct Credentials {
    member_cookie: String,
    admin_cookie: String,
    bearer: String,
}

impl Credentials {
    fn header(&self, who: As) -> Option<(HeaderName, String)> {
        match who {
            As::Nobody => None,
            As::Member => Some((COOKIE, self.member_cookie.clone())),
            As::Admin => Some((COOKIE, self.admin_cookie.clone())),
            As::Token => Some((AUTHORIZATION, format!("Bearer {}", self.bearer))),
        }
    }
}

/// One timed GET: status, body bytes, time to the end of the body.
struct Sample {
    status: u16,
    bytes: usize,
    time: Duration,
}

async fn fetch(
    client: &reqwest::Client,
    url: &str,
    header: Option<&(HeaderName, String)>,
) -> Sample {
    let t = Instant::now();
    let mut req = client.get(url);
    if let Some((name, value)) = header {
        req = req.header(name, value);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let body = resp.bytes().await.expect("body");
    Sample {
        status,
        bytes: body.len(),
        time: t.elapsed(),
    }
}

/// Runs `WARMUP` requests, then up to `runs` timed ones (fewer if they
/// take more than `TIME_CAP`). Returns the sorted times, the last body size
/// and every status that was not 200.
async fn measure(
    client: &reqwest::Client,
    url: &str,
    header: Option<&(HeaderName, String)>,
    runs: usize,
) -> (Vec<Duration>, usize, Vec<u16>) {
    let mut bad = Vec::new();
    let mut bytes = 0;
    for _ in 0..WARMUP {
        let s = fetch(client, url, header).await;
        bytes = s.bytes;
    }
    let mut times = Vec::with_capacity(runs);
    let start = Instant::now();
    for i in 0..runs {
        if i >= MIN_RUNS && start.elapsed() >= TIME_CAP {
            break;
        }
        let s = fetch(client, url, header).await;
        if s.status != 200 {
            bad.push(s.status);
        }
        bytes = s.bytes;
        times.push(s.time);
    }
    times.sort();
    bad.dedup();
    (times, bytes, bad)
}

/// Percent-encodes a query or form value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `name=value` of the first non-empty `Set-Cookie` whose name starts with `prefix`.
fn set_cookie(resp: &reqwest::Response, prefix: &str) -> Option<String> {
    resp.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|kv| kv.starts_with(prefix) && kv.split_once('=').is_some_and(|(_, v)| !v.is_empty()))
        .map(str::to_string)
}

/// The value of the form field `name` in a page.
fn field_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = start + html[start..].find('"')?;
    Some(html[start..end].to_string())
}

/// Signs in as a browser does; returns the session cookie as `name=value`.
async fn sign_in(client: &reqwest::Client, base: &str, username: &str) -> String {
    let form = client
        .get(format!("{base}/signin"))
        .send()
        .await
        .expect("GET /signin");
    assert_eq!(form.status(), 200, "GET /signin");
    let signin_cookie = set_cookie(&form, "skillmesh_signin").expect("sign-in cookie");
    let html = form.text().await.expect("sign-in page");
    let csrf = field_value(&html, "csrf").expect("csrf field");
    let body = format!(
        "csrf={}&next=%2F&username={}&password={}",
        enc(&csrf),
        enc(username),
        enc(PASSWORD)
    );
    let resp = client
        .post(format!("{base}/signin"))
        .header(COOKIE, signin_cookie)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("POST /signin");
    assert!(
        resp.status().is_redirection(),
        "sign-in answered {}",
        resp.status()
    );
    set_cookie(&resp, "skillmesh_session").expect("session cookie")
}

fn record_header(key: &SigningKey, id: String, issued_at: i64, now: i64) -> Header {
    Header {
        version: RECORD_VERSION,
        org: OrgKey::from(&key.verifying_key()),
        id,
        seq: 1,
        issued_at,
        expires_at: now + 30 * 24 * 3600,
    }
}

/// Record `i` of the benchmark: organisation `i % ORGS`, kind and id from
/// its number within the organisation, so every organisation holds every
/// kind; issued at some time in the last week, as records of a live network
/// are (search orders by it).
fn record(keys: &[SigningKey], i: usize, now: i64, rng: &mut common::Rng) -> Record {
    let j = i / ORGS as usize;
    let kind = Kind::SEARCHABLE[j % Kind::SEARCHABLE.len()];
    Record {
        header: record_header(
            &keys[i % keys.len()],
            format!("bench-{j:05}"),
            now - 60 - rng.below(7 * 86_400) as i64,
            now,
        ),
        body: common::varied_body(kind, rng),
    }
}

fn ingest(service: &skillmesh_node::service::Service, envelopes: &[Vec<u8>]) {
    for batch in envelopes.chunks(INGEST_BATCH) {
        let refs: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
        for r in service
            .ingest_many(&refs, &Actor::person("bench"))
            .expect("ingest")
        {
            assert!(
                matches!(r, Ok(Ingested::Stored { .. })),
                "every envelope must be stored, got {r:?}"
            );
        }
    }
}

/// A search as query-string pairs (the API's parameters).
type Pairs = Vec<(&'static str, String)>;

fn query_string(pairs: &Pairs) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn search_query(pairs: &Pairs) -> SearchQuery {
    let mut q = SearchQuery::default();
    for (k, v) in pairs {
        let v = v.clone();
        match *k {
            "q" => q.q = v,
            "kind" => q.kind = v,
            "topic" => q.topic = v,
            "org" => q.org = v,
            "page" => q.page = v.parse().expect("page"),
            other => panic!("no parameter {other}"),
        }
    }
    q
}

fn yes(met: bool) -> &'static str {
    if met { "yes" } else { "NO" }
}

fn main() {
    let started = Instant::now();
    common::print_machine("web");
    // The node's runtime (a worker per core, as `skillmesh run` has) and
    // the client's own, as a separate process would have.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("client runtime");
    let quota = |c: &mut skillmesh_config::Config| c.federation.max_records_per_org = QUOTA;
    let node = rt.block_on(common::start_node("Bench Org", &[], quota));
    let service = node.node.service.clone();
    let base = format!("http://{}", node.node.web_addr);

    // Fill the node: the organisations' cards first, then their records.
    let t = Instant::now();
    let now = common::unix_now();
    let keys: Vec<SigningKey> = (0..ORGS).map(|n| common::org_key(200 + n)).collect();
    let cards: Vec<Vec<u8>> = keys
        .iter()
        .enumerate()
        .map(|(n, key)| {
            let card = Record {
                header: record_header(key, "org-card".into(), now - 60, now),
                body: Body::OrgCard(OrgCard {
                    name: format!("Partner Organisation {n:02}"),
                    summary: "A benchmark organisation.".into(),
                    website: None,
                    languages: vec!["en".into()],
                }),
            };
            skillmesh_protocol::seal(&card, key)
                .expect("card seals")
                .as_bytes()
                .to_vec()
        })
        .collect();
    ingest(&service, &cards);
    let mut rng = common::Rng::new(11);
    let mut bytes = 0usize;
    let (mut sign_secs, mut ingest_secs) = (0.0, 0.0);
    for start in (0..RECORDS).step_by(GEN_CHUNK) {
        let ts = Instant::now();
        let envelopes: Vec<Vec<u8>> = (start..(start + GEN_CHUNK).min(RECORDS))
            .map(|i| {
                let r = record(&keys, i, now, &mut rng);
                let key = &keys[i % keys.len()];
                let e = skillmesh_protocol::seal(&r, key).expect("record seals");
                e.as_bytes().to_vec()
            })
            .collect();
        bytes += envelopes.iter().map(Vec::len).sum::<usize>();
        sign_secs += ts.elapsed().as_secs_f64();
        let ti = Instant::now();
        ingest(&service, &envelopes);
        ingest_secs += ti.elapsed().as_secs_f64();
    }
    let everything = service.search(&skillmesh_node::search::SearchQuery::default(), now);
    assert_eq!(everything.total, RECORDS, "every record is searchable");
    // The text index takes the records in on a thread of its own. Measure
    // once it holds them all, so that its work does not share the cores
    // with the requests being timed (it did until 2026-12-06).
    let ti = Instant::now();
    assert!(
        service.search_engine().wait_indexed(INDEX_WAIT),
        "the search index caught up"
    );
    println!(
        "search index caught up {:.1} s after the last record was stored",
        ti.elapsed().as_secs_f64()
    );
    println!(
        "node filled in {:.1} s: {RECORDS} records + {ORGS} org cards from {ORGS} organisations ({:.1} MB of envelopes; signing {sign_secs:.1} s, ingest_many {ingest_secs:.1} s); {} rows in the store, {:.0} MB on disk",
        t.elapsed().as_secs_f64(),
        bytes as f64 / 1e6,
        service.store_for_tests().record_count().expect("count"),
        service.store_for_tests().size_on_disk().expect("size") as f64 / 1e6
    );

    // Accounts, the API token, and sign-in over HTTP.
    for (email, name, role) in [
        (MEMBER, "Mia Member", Role::Member),
        (ADMIN, "Ada Admin", Role::Admin),
    ] {
        accounts::add_user(
            service.store_for_tests(),
            email,
            name,
            role,
            PASSWORD,
            &Actor::person("bench"),
        )
        .expect("add user");
    }
    let web = WebState::new(service.clone(), node.node.network.clone());
    let bearer = rt.block_on(async {
        let user = web.user(MEMBER).await.expect("user").expect("member");
        web.new_api_token(&user, "bench")
            .await
            .expect("token")
            .token
    });
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let creds = client_rt.block_on(async {
        Credentials {
            member_cookie: sign_in(&client, &base, MEMBER).await,
            admin_cookie: sign_in(&client, &base, ADMIN).await,
            bearer,
        }
    });
    println!(
        "signed in over HTTP as {MEMBER} (member) and {ADMIN} (admin); session cookie {}",
        creds
            .member_cookie
            .split_once('=')
            .map_or("?", |(name, _)| name)
    );
    println!("{}", common::fsync_report(node.dir.path(), 200));
    println!();

    // The pages, and what each is as served.
    let org0 = OrgKey::from(&keys[0].verifying_key()).to_hex();
    let org1 = OrgKey::from(&keys[1].verifying_key()).to_hex();
    // Record 0 is organisation 0's first (an expertise listing); record
    // ORGS is its second (a talk offer).
    assert_eq!(Kind::SEARCHABLE[0], Kind::Expertise);
    assert_eq!(Kind::SEARCHABLE[1], Kind::TalkOffer);
    let pages: Vec<(&str, String, As)> = vec![
        ("/ (home, signed in)", "/".into(), As::Member),
        (
            "/find?q=kubernetes",
            "/find?q=kubernetes".into(),
            As::Member,
        ),
        (
            "/find?q=security&kind=talk_offer",
            "/find?q=security&kind=talk_offer".into(),
            As::Member,
        ),
        ("/find (no query: all records)", "/find".into(), As::Member),
        (
            "/listing/{org}/{id} expertise",
            format!("/listing/{org0}/bench-00000"),
            As::Member,
        ),
        (
            "/listing/{org}/{id} talk offer",
            format!("/listing/{org0}/bench-00001"),
            As::Member,
        ),
        ("/profile", "/profile".into(), As::Member),
        ("/offers", "/offers".into(), As::Member),
        ("/requests", "/requests".into(), As::Member),
        ("/admin", "/admin".into(), As::Admin),
        ("/admin/audit", "/admin/audit".into(), As::Admin),
        (
            "/admin/audit?limit=1000 (the most)",
            "/admin/audit?limit=1000".into(),
            As::Admin,
        ),
        (
            "/admin/audit?action=api_token_created",
            "/admin/audit?action=api_token_created".into(),
            As::Admin,
        ),
        ("/admin/policy", "/admin/policy".into(), As::Admin),
        ("/signin (signed out)", "/signin".into(), As::Nobody),
        ("/static/style.css", "/static/style.css".into(), As::Nobody),
        (
            "/api/v1/openapi.json",
            "/api/v1/openapi.json".into(),
            As::Nobody,
        ),
    ];
    println!(
        "pages: {WARMUP} warm-up then up to {PAGE_RUNS} sequential GETs each, one keep-alive connection"
    );
    println!(
        "{:<38} {:>5} {:>9} {:>5} {:>8} {:>8} {:>8} {:>7} {:>7}",
        "page", "as", "bytes", "runs", "p50 ms", "p99 ms", "max ms", "<100KB", "p99<50"
    );
    let mut over_size = Vec::new();
    let mut over_time = Vec::new();
    client_rt.block_on(async {
        for (name, path, who) in &pages {
            let url = format!("{base}{path}");
            let h = creds.header(*who);
            let (times, bytes, bad) = measure(&client, &url, h.as_ref(), PAGE_RUNS).await;
            let p99 = ms(percentile(&times, 99.0));
            let size_ok = bytes < PAGE_BYTES_AIM;
            let time_ok = p99 < PAGE_P99_AIM_MS;
            if !size_ok {
                over_size.push(*name);
            }
            if !time_ok {
                over_time.push(*name);
            }
            println!(
                "{name:<38} {:>5} {bytes:>9} {:>5} {:>8.2} {p99:>8.2} {:>8.2} {:>7} {:>7}{}",
                match who {
                    As::Nobody => "-",
                    As::Member => "mbr",
                    As::Admin => "adm",
                    As::Token => "tok",
                },
                times.len(),
                ms(percentile(&times, 50.0)),
                ms(times.last().copied().unwrap_or_default()),
                yes(size_ok),
                yes(time_ok),
                if bad.is_empty() {
                    String::new()
                } else {
                    format!("  status {bad:?}")
                }
            );
        }
    });

    // What grows with the network: /admin has a row (with its forms) per
    // organisation.
    let admin_html = client_rt.block_on(async {
        let (name, value) = creds.header(As::Admin).expect("admin header");
        let resp = client
            .get(format!("{base}/admin"))
            .header(name, value)
            .send();
        resp.await.expect("GET /admin").text().await.expect("body")
    });
    let rows = admin_html.matches("<tr data-org=").count();
    let table = admin_html
        .find("<table id=\"orgs\">")
        .and_then(|a| admin_html[a..].find("</table>"))
        .unwrap_or(0);
    let per_org = table / rows.max(1);
    println!(
        "/admin: {rows} organisation rows of ~{per_org} bytes each; at that rate the page passes 100 KB at ~{} organisations",
        (PAGE_BYTES_AIM - (admin_html.len() - table).min(PAGE_BYTES_AIM)) / per_org.max(1)
    );
    // A filtered audit page: the store's audit-log scan alone, in-process.
    let filter = AuditFilter {
        action: Some("api_token_created".into()),
        limit: Some(200),
        ..AuditFilter::default()
    };
    let mut scan = Vec::new();
    let mut found = 0;
    for _ in 0..20 {
        let t = Instant::now();
        found = service
            .store_for_tests()
            .audit_log(&filter)
            .expect("audit")
            .len();
        scan.push(t.elapsed());
    }
    scan.sort();
    let entries = service
        .store_for_tests()
        .audit_log(&AuditFilter::default())
        .expect("audit")
        .len();
    println!(
        "/admin/audit?action=api_token_created: in-process `Store::audit_log` finds {found} of {entries} entries: p50 {:.3} ms, max {:.3} ms (20 runs)",
        ms(percentile(&scan, 50.0)),
        ms(scan.last().copied().unwrap_or_default())
    );
    println!();

    // The search API, per query shape, against the same search in-process.
    let shapes: Vec<(&str, Pairs)> = vec![
        ("one term", vec![("q", "kubernetes".into())]),
        ("two terms", vec![("q", "rust practice".into())]),
        (
            "term + kind + org",
            vec![
                ("q", "security".into()),
                ("kind", "talk_offer".into()),
                ("org", org1.clone()),
            ],
        ),
        (
            "topic + kind",
            vec![("topic", "design".into()), ("kind", "expertise".into())],
        ),
        (
            "three terms (few match)",
            vec![("q", "kubernetes rust security".into())],
        ),
        ("no match", vec![("q", "zzzz".into())]),
        ("empty, page 1", vec![]),
        ("empty, page 2500", vec![("page", "2500".into())]),
    ];
    let token = creds.header(As::Token);
    println!(
        "search API: GET /api/v1/search with the bearer token, {WARMUP} warm-up then {API_RUNS} sequential GETs per query;"
    );
    println!(
        "in-process: the same query through `Service::search` (the catalogue), and serde_json encoding of its result"
    );
    println!(
        "{:<24} {:>7} {:>7} {:>8} {:>8} {:>8} {:>9} {:>9} {:>8} {:>7}",
        "query",
        "matches",
        "bytes",
        "p50 ms",
        "p99 ms",
        "max ms",
        "cat. p50",
        "cat. p99",
        "json p50",
        "p99<20"
    );
    let mut all_api: Vec<Duration> = Vec::new();
    let mut api_misses = Vec::new();
    let mut search_urls = Vec::new();
    for (name, pairs) in &shapes {
        let qs = query_string(pairs);
        let url = if qs.is_empty() {
            format!("{base}/api/v1/search")
        } else {
            format!("{base}/api/v1/search?{qs}")
        };
        search_urls.push(url.clone());
        let (times, bytes, bad) =
            client_rt.block_on(measure(&client, &url, token.as_ref(), API_RUNS));
        // In-process: the catalogue search alone, and its JSON encoding.
        let q = search_query(pairs);
        let mut cat = Vec::with_capacity(API_RUNS);
        let mut json = Vec::with_capacity(API_RUNS);
        let mut matches = 0;
        for _ in 0..API_RUNS {
            let t = Instant::now();
            let r = service.search(&q, common::unix_now());
            cat.push(t.elapsed());
            matches = r.total;
            // As the API sends them.
            let t = Instant::now();
            std::hint::black_box(serde_json::to_vec(&r).expect("json"));
            json.push(t.elapsed());
        }
        cat.sort();
        json.sort();
        let p99 = ms(percentile(&times, 99.0));
        let ok = p99 < API_P99_AIM_MS;
        if !ok {
            api_misses.push(*name);
        }
        println!(
            "{name:<24} {matches:>7} {bytes:>7} {:>8.2} {p99:>8.2} {:>8.2} {:>9.2} {:>9.2} {:>8.3} {:>7}{}",
            ms(percentile(&times, 50.0)),
            ms(times.last().copied().unwrap_or_default()),
            ms(percentile(&cat, 50.0)),
            ms(percentile(&cat, 99.0)),
            ms(percentile(&json, 50.0)),
            yes(ok),
            if bad.is_empty() {
                String::new()
            } else {
                format!("  status {bad:?}")
            }
        );
        all_api.extend(times);
    }
    all_api.sort();
    let overall_p99 = ms(percentile(&all_api, 99.0));
    println!(
        "{:<24} {:>7} {:>7} {:>8.2} {overall_p99:>8.2} {:>8.2} {:>9} {:>9} {:>8} {:>7}",
        "all queries",
        "",
        "",
        ms(percentile(&all_api, 50.0)),
        ms(all_api.last().copied().unwrap_or_default()),
        "",
        "",
        "",
        yes(overall_p99 < API_P99_AIM_MS)
    );
    // Floors: what any request costs without search.
    println!();
    println!("floors (same method): what a request costs without search");
    println!(
        "{:<44} {:>7} {:>8} {:>8} {:>8}",
        "request", "bytes", "p50 ms", "p99 ms", "max ms"
    );
    let floors: Vec<(&str, String, As)> = vec![
        (
            "GET /static/style.css (no auth, static)",
            "/static/style.css".into(),
            As::Nobody,
        ),
        (
            "GET /api/v1/me (bearer token lookup only)",
            "/api/v1/me".into(),
            As::Token,
        ),
        (
            "GET /healthz (store counts, peers)",
            "/healthz".into(),
            As::Nobody,
        ),
    ];
    client_rt.block_on(async {
        for (name, path, who) in &floors {
            let h = creds.header(*who);
            let (times, bytes, bad) =
                measure(&client, &format!("{base}{path}"), h.as_ref(), API_RUNS).await;
            assert!(bad.is_empty(), "{name}: status {bad:?}");
            println!(
                "{name:<44} {bytes:>7} {:>8.2} {:>8.2} {:>8.2}",
                ms(percentile(&times, 50.0)),
                ms(percentile(&times, 99.0)),
                ms(times.last().copied().unwrap_or_default())
            );
        }
    });
    println!();

    // Requests per second under concurrent keep-alive clients: every query
    // shape above in turn, then only those with terms or filters.
    println!(
        "load: C keep-alive clients (one connection each), {LOAD_SECS} s each, cycling through a mix of the queries above, bearer token"
    );
    println!(
        "{:<28} {:>4} {:>7} {:>6} {:>7} {:>8} {:>8} {:>8} {:>6}",
        "mix", "C", "ok", "errors", "req/s", "p50 ms", "p99 ms", "max ms", "cores"
    );
    let auth = Arc::new(format!("Bearer {}", creds.bearer));
    let with_terms: Vec<String> = shapes
        .iter()
        .zip(&search_urls)
        .filter(|((_, pairs), _)| pairs.iter().any(|(k, _)| *k != "page"))
        .map(|(_, url)| url.clone())
        .collect();
    let mixes = [
        (format!("all {} queries", search_urls.len()), search_urls),
        (
            format!("{} with terms or filters", with_terms.len()),
            with_terms,
        ),
    ];
    for (mix, urls) in mixes {
        let urls = Arc::new(urls);
        for c in CONCURRENCY {
            let (ok, errors, secs, times, cpu) = client_rt.block_on(load(&urls, &auth, c));
            println!(
                "{mix:<28} {c:>4} {ok:>7} {errors:>6} {:>7.0} {:>8.2} {:>8.2} {:>8.2} {:>6.2}",
                ok as f64 / secs,
                ms(percentile(&times, 50.0)),
                ms(percentile(&times, 99.0)),
                ms(times.last().copied().unwrap_or_default()),
                cpu / secs
            );
        }
    }
    println!(
        "(client and server share the machine's cores; \"cores\" is the CPU the whole process used per second)"
    );

    println!();
    println!("aims:");
    println!(
        "  every page under 100 KB: {}",
        if over_size.is_empty() {
            "met".to_string()
        } else {
            format!("NOT met by {}", over_size.join(", "))
        }
    );
    println!(
        "  every page p99 under 50 ms: {}",
        if over_time.is_empty() {
            "met".to_string()
        } else {
            format!("NOT met by {}", over_time.join(", "))
        }
    );
    println!(
        "  search API p99 under 20 ms: overall {overall_p99:.2} ms, {}",
        if api_misses.is_empty() {
            "met for every query".to_string()
        } else {
            format!("NOT met by {}", api_misses.join(", "))
        }
    );

    rt.block_on(node.node.stop());
    common::print_footer(started);
}

/// `clients` concurrent clients, each with its own connection, sending the
/// search URLs in turn for `LOAD_SECS`. Returns (200 responses, other
/// outcomes, seconds, sorted latencies of the 200s, CPU seconds used).
async fn load(
    urls: &Arc<Vec<String>>,
    auth: &Arc<String>,
    clients: usize,
) -> (usize, usize, f64, Vec<Duration>, f64) {
    // Connect every client and warm up before the clock starts.
    let mut conns = Vec::with_capacity(clients);
    for _ in 0..clients {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()
            .expect("client");
        let s = fetch(&client, &urls[0], Some(&(AUTHORIZATION, auth.to_string()))).await;
        assert_eq!(s.status, 200, "warm-up search");
        conns.push(client);
    }
    let cpu0 = common::cpu_secs();
    let t0 = Instant::now();
    let deadline = t0 + Duration::from_secs(LOAD_SECS);
    let tasks: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(n, client)| {
            let (urls, auth) = (Arc::clone(urls), Arc::clone(auth));
            tokio::spawn(async move {
                let mut times = Vec::new();
                let mut errors = 0;
                let mut i = n;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let resp = client
                        .get(&urls[i % urls.len()])
                        .header(AUTHORIZATION, auth.as_str())
                        .send()
                        .await;
                    i += 1;
                    match resp {
                        Ok(r) if r.status() == 200 => match r.bytes().await {
                            Ok(_) => times.push(t.elapsed()),
                            Err(_) => errors += 1,
                        },
                        _ => errors += 1,
                    }
                }
                (times, errors)
            })
        })
        .collect();
    let mut times = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (t, e) = task.await.expect("client task");
        times.extend(t);
        errors += e;
    }
    let secs = t0.elapsed().as_secs_f64();
    let cpu = common::cpu_secs() - cpu0;
    times.sort();
    (times.len(), errors, secs, times, cpu)
}
