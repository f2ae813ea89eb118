//! `skillmesh reindex` against the real binary: it rebuilds a node's search
//! index from its store, and refuses while the node runs (the node holds
//! the data directory).

use crate::common::{Running, free_port, one_line_error, skillmesh};

#[test]
fn reindex_rebuilds_the_index_and_refuses_while_the_node_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = loop {
        let p = free_port();
        if p < 60_000 && std::net::TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
            break p;
        }
    };
    // A demo organisation: a store with published listings and offers.
    let demo = Running::start(&[
        "demo",
        "--orgs",
        "1",
        "--base-port",
        &base.to_string(),
        "--data-dir",
        dir.path().to_str().expect("utf-8"),
    ]);
    let data_dir = dir.path().join("northwind");
    let config = data_dir.join("skillmesh.toml");
    let cfg = config.to_str().expect("utf-8");
    assert!(
        data_dir.join("index").join("skillmesh-index.json").exists(),
        "the node built its index"
    );

    let busy = skillmesh(&["reindex", "--config", cfg]);
    let err = one_line_error(&busy);
    assert!(err.contains("in use by another skillmesh process"), "{err}");
    assert!(
        err.contains(&demo.child.id().to_string()),
        "names the holder: {err}"
    );

    assert!(demo.terminate().success());
    // Damaged: reindex does not need what is there.
    std::fs::write(data_dir.join("index").join("meta.json"), "{").expect("damage");
    let out = skillmesh(&["reindex", "--config", cfg]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let count: u64 = stdout
        .strip_prefix("Reindexed ")
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected output: {stdout}"));
    assert!(
        count >= 3,
        "the organisation's listings and offers: {stdout}"
    );
    assert!(data_dir.join("index").join("meta.json").exists());

    // The node starts on the rebuilt index.
    let node = Running::start(&["run", "--config", cfg]);
    assert!(node.terminate().success());
}
