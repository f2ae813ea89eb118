//! Real `skillmesh` processes set up and driven as their operators and
//! scripts would: `skillmesh init` and `invite`, `skillmesh run`, the
//! health endpoint and the JSON API with a bearer token.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{Running, skillmesh};

/// `skillmesh init` into `dir` listening for peers on `p2p` (a multiaddr),
/// the web UI on `web`, optionally joining with `invite`.
pub fn init(dir: &Path, name: &str, p2p: &[&str], web: &str, invite: Option<&str>) -> PathBuf {
    let mut args = vec![
        "init",
        "--org",
        name,
        "--data-dir",
        dir.to_str().expect("utf-8"),
        "--web-listen",
        web,
    ];
    for a in p2p {
        args.extend(["--p2p-listen", a]);
    }
    if let Some(invite) = invite {
        args.extend(["--join", invite]);
    }
    let out = skillmesh(&args);
    assert!(
        out.status.success(),
        "init {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join("skillmesh.toml")
}

/// An invite to join the node of `config` (`skillmesh invite`).
pub fn invite(config: &Path) -> String {
    let out = skillmesh(&["invite", "--config", config.to_str().expect("utf-8")]);
    assert!(
        out.status.success(),
        "invite: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_string()
}

/// Starts `skillmesh run` for `config`; killed when dropped.
pub fn run(config: &Path) -> Running {
    Running::start(&["run", "--config", config.to_str().expect("utf-8")])
}

/// Polls `check` every 100 ms until it holds; returns how long it took.
/// Fails after `limit` with `what` and the last value `check` saw.
pub async fn within<F, Fut>(limit: Duration, what: &str, check: F) -> Duration
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let start = Instant::now();
    loop {
        match check().await {
            Ok(()) => return start.elapsed(),
            Err(last) if start.elapsed() > limit => {
                panic!("{what}: not within {limit:?}; last seen: {last}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// The node's `/healthz` answer, or why it could not be had.
pub async fn health(web: SocketAddr) -> Result<serde_json::Value, String> {
    let res = reqwest::Client::new()
        .get(format!("http://{web}/healthz"))
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    res.json().await.map_err(|e| e.to_string())
}

/// The number of connected peers in a `/healthz` answer.
pub fn peers(h: &serde_json::Value) -> u64 {
    h["peers"].as_u64().unwrap_or(0)
}

/// A JSON API call with a bearer token.
pub async fn api(
    web: SocketAddr,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> serde_json::Value {
    let mut req = reqwest::Client::new()
        .request(method.clone(), format!("http://{web}/api/v1{path}"))
        .bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.expect("API call");
    let status = res.status();
    let text = res.text().await.expect("body");
    assert!(status.is_success(), "{method} {path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
}

/// A 45-minute talk on incident response titled `title`, as the JSON API
/// takes it (`POST /offers`, `PUT /offers/{id}`).
pub fn talk_json(title: &str) -> serde_json::Value {
    serde_json::json!({"kind": "talk_offer", "body": {
        "person": "set-by-the-node", "title": title,
        "abstract": "What we learned.", "topics": ["incident response"],
        "format": "talk", "audience": "everyone", "duration_minutes": 45,
        "languages": ["en"], "delivery": "remote", "status": "open"}})
}

/// Creates and publishes a talk; returns its id.
pub async fn publish_talk(web: SocketAddr, token: &str, title: &str) -> String {
    let created = api(
        web,
        token,
        reqwest::Method::POST,
        "/offers",
        Some(talk_json(title)),
    )
    .await;
    let id = created["id"].as_str().expect("offer id").to_string();
    let action = serde_json::json!({"action": "publish"});
    api(
        web,
        token,
        reqwest::Method::POST,
        &format!("/offers/{id}/actions"),
        Some(action),
    )
    .await;
    id
}
