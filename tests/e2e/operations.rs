//! The node as the admins who run it meet it (issue 18): JSON logs for a
//! log shipper, and a Prometheus endpoint on a listener of its own.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// `skillmesh run` with `SKILLMESH_LOG_FORMAT=json` and the configured
/// filter (`info`, no `RUST_LOG`): every line on stderr is one JSON object
/// with a timestamp, a level, a target and, for every event of ours, a
/// message (a dependency may log bare fields: libp2p-swarm logs its peer
/// id with no message), the start-up line among them.
#[tokio::test]
async fn json_logs_are_one_object_per_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = init_org(dir.path(), "Northwind");
    let mut child = Command::new(skillmesh_bin())
        .args(["run", "--config", config.to_str().expect("utf-8")])
        .env_remove("RUST_LOG")
        .env("SKILLMESH_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn skillmesh");
    // Its stderr is read to the end on another thread, so the node never
    // blocks on a full pipe.
    let stderr = child.stderr.take().expect("stderr");
    let logs = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<String>>()
    });
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let started = stdout
        .lines()
        .map_while(Result::ok)
        .find(|line| line.contains("is running"))
        .expect("the node did not start");
    // A request, so that something happens while it runs.
    let web = started
        .split_whitespace()
        .find_map(|word| word.strip_prefix("http://"))
        .expect("web address");
    let health = reqwest::get(format!("http://{web}/healthz")).await;
    assert!(health.is_ok_and(|r| r.status().is_success()));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < deadline, "skillmesh did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
    let lines = logs.join().expect("stderr reader");
    assert!(!lines.is_empty(), "no log lines at all");
    for line in &lines {
        let event: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(event["level"].is_string(), "no level: {line}");
        assert!(event["timestamp"].is_string(), "no timestamp: {line}");
        let target = event["target"].as_str().expect("a target");
        if target.starts_with("skillmesh") {
            assert!(event["message"].is_string(), "no message: {line}");
        }
    }
    let start = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["message"] == "node started");
    let start = start.unwrap_or_else(|| panic!("no start-up line in {lines:#?}"));
    assert_eq!(start["level"], "INFO", "{start}");
    // The event's fields sit next to the message, for the shipper to index.
    assert_eq!(start["org"], "Northwind", "{start}");
}

#[test]
fn an_unknown_log_format_is_a_one_line_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = init_org(dir.path(), "Contoso");
    let out = Command::new(skillmesh_bin())
        .args(["run", "--config", config.to_str().expect("utf-8")])
        .env("SKILLMESH_LOG_FORMAT", "logfmt")
        .output()
        .expect("run");
    let err = one_line_error(&out);
    assert!(
        err.contains("SKILLMESH_LOG_FORMAT") && err.contains("\"logfmt\" is not a log format"),
        "{err}"
    );
}

/// The sample lines of an OpenMetrics text, each checked to be
/// `name{labels} value` (comments start with `#`).
fn samples(text: &str) -> Vec<(&str, f64)> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| {
            let (series, value) = line
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("not `series value`: {line}"));
            let value: f64 = value
                .parse()
                .unwrap_or_else(|_| panic!("not a number: {line}"));
            let name_end = series.find('{').unwrap_or(series.len());
            let (name, labels) = series.split_at(name_end);
            assert!(
                !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
                "bad metric name: {line}"
            );
            assert!(
                labels.is_empty() || (labels.starts_with('{') && labels.ends_with('}')),
                "bad labels: {line}"
            );
            (series, value)
        })
        .collect()
}

#[tokio::test]
async fn metrics_are_served_on_their_own_port_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = init_org(dir.path(), "Fabrikam");
    let metrics = format!("127.0.0.1:{}", free_port());
    let node = Running::start_with_env(
        &["run", "--config", config.to_str().expect("utf-8")],
        &[("SKILLMESH_METRICS_LISTEN", &metrics)],
    );
    let health = get_json(node.web, "/healthz").await;
    let key = health["org_key"].as_str().expect("org key");
    let short = &key[..8];
    // A page whose path holds ids: counted under its route pattern.
    let page = reqwest::get(format!("http://{}/listing/{key}/listing-nobody", node.web))
        .await
        .expect("GET listing");
    assert!(page.status().as_u16() < 500, "{}", page.status());

    let res = reqwest::get(format!("http://{metrics}/metrics"))
        .await
        .expect("GET /metrics");
    assert_eq!(res.status().as_u16(), 200);
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let text = res.text().await.expect("body");
    assert!(text.ends_with("# EOF\n"), "{text}");
    let samples = samples(&text);
    let value = |series: &str| {
        samples
            .iter()
            .find(|(s, _)| *s == series)
            .map(|(_, v)| *v)
            .unwrap_or_else(|| panic!("no {series} in\n{text}"))
    };
    assert_eq!(value("skillmesh_peers_connected"), 0.0);
    // Its own organisation card, at least.
    assert!(value(&format!("skillmesh_records{{org=\"{short}\"}}")) >= 1.0);
    assert_eq!(
        value(
            "skillmesh_http_request_duration_seconds_count{method=\"GET\",route=\"/listing/{org}/{id}\"}"
        ),
        1.0
    );
    assert!(
        value("skillmesh_http_request_duration_seconds_count{method=\"GET\",route=\"/healthz\"}")
            >= 1.0
    );
    assert!(
        !text.contains("listing-nobody"),
        "ids never become labels: {text}"
    );
    for series in [
        "skillmesh_records_ingested_total{outcome=\"stored\",via=\"gossip\"}",
        "skillmesh_records_rejected_total{reason=\"bad_signature\"}",
        "skillmesh_reconcile_rounds_total{result=\"failed\"}",
    ] {
        assert_eq!(value(series), 0.0, "{series}");
    }
    assert!(value("process_resident_memory_bytes") > 0.0);

    // The web port does not serve them, and the metrics port serves
    // nothing else.
    let web = reqwest::get(format!("http://{}/metrics", node.web))
        .await
        .expect("GET web /metrics");
    assert_eq!(web.status().as_u16(), 404);
    let other = reqwest::get(format!("http://{metrics}/"))
        .await
        .expect("GET metrics /");
    assert_eq!(other.status().as_u16(), 404);
    assert!(node.terminate().success());
}

#[test]
fn init_writes_the_metrics_listener_it_is_given() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = skillmesh(&[
        "init",
        "--org",
        "Litware",
        "--data-dir",
        dir.path().to_str().expect("utf-8"),
        "--metrics-listen",
        "127.0.0.1:9464",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = std::fs::read_to_string(dir.path().join("skillmesh.toml")).expect("config");
    assert!(
        config.contains("[metrics]") && config.contains("\nlisten = \"127.0.0.1:9464\"\n"),
        "{config}"
    );
    // On the web port it is refused before anything is written.
    let other = dir.path().join("other");
    let out = skillmesh(&[
        "init",
        "--org",
        "Litware",
        "--data-dir",
        other.to_str().expect("utf-8"),
        "--metrics-listen",
        "127.0.0.1:8080",
    ]);
    let err = one_line_error(&out);
    assert!(err.contains("metrics.listen"), "{err}");
    assert!(!other.join("org.key").exists());
}

#[test]
fn a_metrics_port_in_use_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = init_org(dir.path(), "Woodgrove");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr");
    let out = Command::new(skillmesh_bin())
        .args(["run", "--config", config.to_str().expect("utf-8")])
        .env("SKILLMESH_METRICS_LISTEN", addr.to_string())
        .output()
        .expect("run");
    let err = one_line_error(&out);
    assert!(
        err.contains("metrics.listen")
            && err.contains("already in use")
            && err.contains(&addr.to_string()),
        "{err}"
    );
}
