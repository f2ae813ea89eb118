//! `skillmesh sample-data` against the real binary: it fills a stopped
//! node with signed records from synthetic organisations, the node then
//! holds and finds them, a second load of the same seed adds nothing, and
//! it refuses while the node runs.

use crate::common::{Running, get_json, one_line_error, post_sign_in, session_cookie, skillmesh};

#[tokio::test]
async fn sample_data_fills_a_stopped_node_that_then_finds_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("northwind");
    let out = skillmesh(&[
        "init",
        "--org",
        "Northwind",
        "--data-dir",
        data.to_str().expect("utf-8"),
        "--web-listen",
        "127.0.0.1:0",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = data.join("skillmesh.toml");
    let cfg = config.to_str().expect("utf-8");

    let load = || {
        skillmesh(&[
            "sample-data",
            "--config",
            cfg,
            "--records",
            "600",
            "--orgs",
            "6",
        ])
    };
    let out = load();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("Added 600 records from 6 synthetic organisations (seed 1)"),
        "{stdout}"
    );
    let again = load();
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(stdout.starts_with("Added 0 records"), "{stdout}");
    assert!(stdout.contains("600 were already here"), "{stdout}");

    let bad = skillmesh(&[
        "sample-data",
        "--config",
        cfg,
        "--records",
        "5",
        "--orgs",
        "9",
    ]);
    assert!(one_line_error(&bad).contains("--orgs (9) is more than --records (5)"));

    let out = skillmesh(&[
        "user",
        "add",
        "ana@northwind.example",
        "--admin",
        "--config",
        cfg,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let password = stdout
        .lines()
        .find_map(|l| l.split("): ").nth(1))
        .unwrap_or_else(|| panic!("a password in {stdout}"))
        .trim()
        .to_string();

    let node = Running::start(&["run", "--config", cfg]);
    let health = get_json(node.web, "/healthz").await;
    assert_eq!(health["federated_records"], 600, "{health}");

    let busy = skillmesh(&["sample-data", "--config", cfg, "--records", "10"]);
    let err = one_line_error(&busy);
    assert!(err.contains("in use by another skillmesh process"), "{err}");

    // A person at Northwind finds partners' mentoring offers on the most
    // common synthetic topic.
    let signed_in = post_sign_in(node.web, "ana@northwind.example", &password, None).await;
    let session = session_cookie(&signed_in);
    let found = reqwest::Client::new()
        .get(format!(
            "http://{}/find?q=leadership&kind=mentoring_offer",
            node.web
        ))
        .header("cookie", session)
        .send()
        .await
        .expect("GET /find")
        .text()
        .await
        .expect("page");
    assert!(found.contains("Mentoring: "), "{found}");
    assert!(!found.contains(">0 results<"), "{found}");
    assert!(node.terminate().success());
}
