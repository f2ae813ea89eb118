//! The node as the admins who run it meet it (issue 18): JSON logs for a
//! log shipper, and a Prometheus endpoint on a listener of its own.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

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
