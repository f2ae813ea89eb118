//! A full disk, end to end: a real `skillmesh run` keeps its data directory
//! on a small tmpfs. A ballast file fills it; a change through the JSON API
//! is then refused with a clear error, `/healthz` says `degraded` with
//! `store_unwritable`, reads go on and the log says so once. Once the
//! ballast is removed the node recovers by itself, without a restart:
//! `/healthz` loses the problem, changes succeed, and every change
//! acknowledged before is there, also after a restart.
//!
//! The test mounts the tmpfs itself, so it needs to run as root (as CI
//! does); where mounting fails it fails and says so. The recovery logic
//! itself is also tested without a mount, over a storage engine that fails
//! on demand (store/src/storage/recovering/tests.rs and the web API's
//! `a_full_disk_refuses_changes_with_a_clear_error_until_the_node_recovers`).

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{Running, get_json, init_org, skillmesh};
use skillmesh_protocol::Kind;
use skillmesh_protocol::samples;

/// The tmpfs's size: room for the node's store, index and key, and the
/// room the node wants free before it trusts the disk again (4 MiB).
const TMPFS_MIB: u32 = 32;
/// How long the node may take to notice that space is back.
const RECOVERY: Duration = Duration::from_secs(60);

/// A tmpfs mounted on a directory, unmounted when dropped (also when the
/// test fails).
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(dir: &Path, mib: u32) -> Tmpfs {
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={mib}m,mode=0700"),
                "tmpfs",
            ])
            .arg(dir)
            .output();
        match out {
            Ok(out) if out.status.success() => Tmpfs {
                dir: dir.to_path_buf(),
            },
            Ok(out) => panic!(
                "this test fills a small tmpfs and must mount one (run it as root, as CI does): \
                 `mount -t tmpfs` failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            Err(e) => panic!(
                "this test fills a small tmpfs and must mount one (run it as root, as CI does): \
                 cannot run `mount`: {e}"
            ),
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount")
            .arg(&self.dir)
            .status()
            .is_ok_and(|s| s.success());
        if !unmounted {
            // Still busy (a process that has not exited yet): detach it now,
            // the kernel frees it when the last user goes.
            let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        }
    }
}

/// Fills the file system holding `path` with a file there, to the last
/// byte it takes.
fn fill(path: &Path) {
    let mut file = std::fs::File::create(path).expect("ballast");
    for size in [1 << 20, 4096, 1] {
        let block = vec![0xa5u8; size];
        while file.write_all(&block).is_ok() {}
    }
    let _ = file.sync_all();
}

/// The node's standard error, read as it comes (so the pipe never fills).
fn collect_log(node: &mut Running) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let stderr = node.child.stderr.take().expect("stderr");
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            sink.lock().unwrap_or_else(|e| e.into_inner()).push(line);
        }
    });
    lines
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn cookies(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .map(str::to_string)
        .collect()
}

fn csrf_field(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF field")
        .to_string()
}

/// Signs in at the node's page and makes an API token there.
async fn api_token(web: SocketAddr, username: &str, password: &str) -> String {
    let c = client();
    let form = c
        .get(format!("http://{web}/signin"))
        .send()
        .await
        .expect("GET /signin");
    let jar = cookies(&form).join("; ");
    let csrf = csrf_field(&form.text().await.expect("form"));
    let signed_in = c
        .post(format!("http://{web}/signin"))
        .header("cookie", jar)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "csrf={csrf}&next=%2F&username={}&password={}",
            username.replace('@', "%40"),
            form_urlencoded(password)
        ))
        .send()
        .await
        .expect("POST /signin");
    assert!(
        signed_in.status().is_redirection(),
        "sign-in: {}",
        signed_in.status()
    );
    let session = cookies(&signed_in).join("; ");
    let account = c
        .get(format!("http://{web}/account"))
        .header("cookie", &session)
        .send()
        .await
        .expect("GET /account");
    let csrf = csrf_field(&account.text().await.expect("account page"));
    let made = c
        .post(format!("http://{web}/api/v1/tokens"))
        .header("cookie", &session)
        .header("x-csrf-token", csrf)
        .send()
        .await
        .expect("POST /api/v1/tokens");
    assert_eq!(made.status(), 201);
    let body: serde_json::Value = made.json().await.expect("token");
    body["token"].as_str().expect("token").to_string()
}

fn form_urlencoded(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `POST /api/v1/offers` with a talk titled `title` (and a long abstract,
/// so that a few dozen fill what the store's files hold): the status and
/// body.
async fn new_offer(web: SocketAddr, token: &str, title: &str) -> (u16, serde_json::Value) {
    let mut body = serde_json::to_value(samples::body(Kind::TalkOffer)).expect("body");
    body["body"]["title"] = title.into();
    body["body"]["abstract"] = "What we learnt running it for a year. ".repeat(90).into();
    let res = client()
        .post(format!("http://{web}/api/v1/offers"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("POST /api/v1/offers");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(serde_json::Value::Null))
}

/// The titles of my offers.
async fn offer_titles(web: SocketAddr, token: &str) -> Vec<String> {
    let res = client()
        .get(format!("http://{web}/api/v1/offers"))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET /api/v1/offers");
    assert_eq!(res.status(), 200, "reading my offers");
    let offers: serde_json::Value = res.json().await.expect("offers");
    offers
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|o| o["body"]["title"].as_str().map(str::to_string))
        .collect()
}

fn problem_codes(health: &serde_json::Value) -> Vec<String> {
    health["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .filter_map(|p| p["code"].as_str().map(str::to_string))
        .collect()
}

fn count(log: &Mutex<Vec<String>>, text: &str) -> usize {
    log.lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter(|l| l.contains(text))
        .count()
}

#[tokio::test]
async fn a_full_disk_refuses_changes_and_the_node_recovers_without_a_restart() {
    let base = tempfile::tempdir().expect("tempdir");
    let data = base.path().join("data");
    std::fs::create_dir(&data).expect("mkdir");
    let _tmpfs = Tmpfs::mount(&data, TMPFS_MIB);
    let config = init_org(&data, "Northwind");
    let cfg = config.to_str().expect("utf-8");
    let added = skillmesh(&["user", "add", "ana@northwind.example", "--config", cfg]);
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let password = String::from_utf8_lossy(&added.stdout)
        .lines()
        .find_map(|l| l.split_once("): ").map(|(_, p)| p.trim().to_string()))
        .expect("a generated password");

    let mut node = Running::start_with_env(&["run", "--config", cfg], &[("RUST_LOG", "info")]);
    let log = collect_log(&mut node);
    let web = node.web;
    let token = api_token(web, "ana@northwind.example", &password).await;

    let mut acknowledged = Vec::new();
    for i in 0..3 {
        let title = format!("Before the disk filled {i}");
        let (status, body) = new_offer(web, &token, &title).await;
        assert_eq!(status, 201, "{body}");
        acknowledged.push(title);
    }

    let ballast = data.join("ballast");
    fill(&ballast);
    // A change can still fit in what the store's files already hold (sled
    // fills a log segment of 512 KiB); keep changing until one needs new
    // room. Each that succeeds is acknowledged like any other.
    let mut refused = None;
    for i in 0..1000 {
        let title = format!("While the disk is full {i}");
        let (status, body) = new_offer(web, &token, &title).await;
        match status {
            201 => acknowledged.push(title),
            503 => {
                refused = Some((title, body));
                break;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    let (refused_title, error) = refused.expect("a change was refused on the full disk");
    assert_eq!(error["error"]["code"], "unavailable", "{error}");
    let message = error["error"]["message"].as_str().expect("message");
    assert!(
        message.contains("cannot save changes right now (its disk is full)")
            && message.contains("this change may not have been saved — try again later"),
        "{message}"
    );
    // Further changes are refused the same way. Reads go on, except one
    // that sled can only do by writing (it splits a page grown too big as
    // it reads): that one is refused with the same clear words.
    let (status, again) = new_offer(web, &token, "Refused as well").await;
    assert_eq!(status, 503, "{again}");
    let read = client()
        .get(format!("http://{web}/api/v1/offers"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET /api/v1/offers");
    let status = read.status().as_u16();
    let body: serde_json::Value = read.json().await.expect("json");
    match status {
        200 => assert!(body.as_array().is_some_and(|a| !a.is_empty()), "{body}"),
        503 => {
            let said = body["error"]["message"].as_str().unwrap_or_default();
            assert!(
                said.contains("cannot read or save its data right now (its disk is full)"),
                "{body}"
            );
        }
        other => panic!("reading my offers on a full disk: {other} {body}"),
    }
    let health = get_json(web, "/healthz").await;
    assert_eq!(health["status"], "degraded", "{health}");
    let problem = health["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .find(|p| p["code"] == "store_unwritable")
        .unwrap_or_else(|| panic!("no store_unwritable: {health}"));
    let said = problem["message"].as_str().expect("message");
    assert!(
        said.contains("its disk is full") && said.contains("free space"),
        "{said}"
    );

    std::fs::remove_file(&ballast).expect("remove the ballast");
    // The node notices by itself: no change, no restart.
    let deadline = Instant::now() + RECOVERY;
    loop {
        let health = get_json(web, "/healthz").await;
        let codes = problem_codes(&health);
        // A lone node also says no_peers; the store, and the search index
        // if a commit of it failed too, must be well again.
        if !codes
            .iter()
            .any(|c| c == "store_unwritable" || c == "index_failed")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the node did not recover within {RECOVERY:?}: {health}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, body) = new_offer(web, &token, "After space was freed").await;
    assert_eq!(status, 201, "{body}");
    acknowledged.push("After space was freed".into());
    let titles = offer_titles(web, &token).await;
    for title in &acknowledged {
        assert!(titles.contains(title), "{title} is missing: {titles:?}");
    }
    // Creating an offer is one batch (the offer and its audit line).
    assert!(
        !titles.contains(&refused_title),
        "the refused offer is not there"
    );

    // The log says it once when writes began to fail and once when they
    // worked again, not once per request.
    assert_eq!(count(&log, "the store cannot save changes ("), 1);
    assert_eq!(count(&log, "the store saves changes again"), 1);
    assert_eq!(count(&log, "web request failed inside the node"), 0);
    assert_eq!(
        count(&log, "response failed"),
        0,
        "a line per refused request"
    );

    // And a restart finds everything acknowledged.
    assert!(node.terminate().success());
    let node = Running::start(&["run", "--config", cfg]);
    let titles = offer_titles(node.web, &token).await;
    for title in &acknowledged {
        assert!(titles.contains(title), "{title} is missing after a restart");
    }
    let health = get_json(node.web, "/healthz").await;
    assert!(
        !problem_codes(&health).contains(&"store_unwritable".to_string()),
        "{health}"
    );
}
