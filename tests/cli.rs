//! The `skillmesh` command as an operator meets it: init, run, demo, and a
//! clear one-line error with a non-zero exit code for each way it can fail.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::*;

#[test]
fn init_creates_key_0600_and_config_and_never_overwrites() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("northwind");
    let out = skillmesh(&[
        "init",
        "--org",
        "Northwind",
        "--data-dir",
        data.to_str().expect("utf-8"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("public key:"), "{stdout}");
    let key = data.join("org.key");
    let mode = std::fs::metadata(&key).expect("key").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let config = std::fs::read_to_string(data.join("skillmesh.toml")).expect("config");
    assert!(config.contains("Northwind"));
    let key_before = std::fs::read(&key).expect("key");

    let again = skillmesh(&[
        "init",
        "--org",
        "Other",
        "--data-dir",
        data.to_str().expect("utf-8"),
    ]);
    let err = one_line_error(&again);
    assert!(err.contains("already"), "{err}");
    assert_eq!(
        std::fs::read(&key).expect("key"),
        key_before,
        "key untouched"
    );
}

#[test]
fn init_refuses_an_existing_key_even_without_a_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("org.key"), "keep me").expect("write");
    let out = skillmesh(&[
        "init",
        "--org",
        "X",
        "--data-dir",
        dir.path().to_str().expect("utf-8"),
    ]);
    let err = one_line_error(&out);
    assert!(err.contains("refusing to overwrite"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("org.key")).expect("key"),
        "keep me"
    );
}

#[tokio::test]
async fn run_serves_healthz_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = init_org(dir.path(), "Contoso");
    let node = Running::start(&["run", "--config", config.to_str().expect("utf-8")]);
    let health = get_json(node.web, "/healthz").await;
    assert_eq!(health["status"], "ok");
    assert_eq!(health["org"], "Contoso");
    assert_eq!(health["peers"], 0);
    assert_eq!(health["federated_records"], 0);
    let status = node.terminate();
    assert!(status.success(), "{status:?}");
}

#[test]
fn missing_and_malformed_config_are_one_line_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope.toml");
    let err = one_line_error(&skillmesh(&[
        "run",
        "--config",
        missing.to_str().expect("utf-8"),
    ]));
    assert!(
        err.contains("cannot read config file") && err.contains("nope.toml"),
        "{err}"
    );

    let config = init_org(&dir.path().join("org"), "Fabrikam");
    let text = std::fs::read_to_string(&config).expect("read");
    std::fs::write(&config, text.replace("[web]", "[web]\nlisten_port = 3")).expect("write");
    let err = one_line_error(&skillmesh(&[
        "run",
        "--config",
        config.to_str().expect("utf-8"),
    ]));
    assert!(err.contains("listen_port"), "{err}");

    std::fs::write(&config, "this is = = not toml").expect("write");
    let err = one_line_error(&skillmesh(&[
        "run",
        "--config",
        config.to_str().expect("utf-8"),
    ]));
    assert!(err.contains("cannot parse config file"), "{err}");
}

#[test]
fn missing_key_and_loose_key_permissions_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = init_org(dir.path(), "Tailspin");
    let key = dir.path().join("org.key");

    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let err = one_line_error(&skillmesh(&[
        "run",
        "--config",
        config.to_str().expect("utf-8"),
    ]));
    assert!(
        err.contains("readable by others") && err.contains("chmod 600"),
        "{err}"
    );

    std::fs::remove_file(&key).expect("rm");
    let err = one_line_error(&skillmesh(&[
        "run",
        "--config",
        config.to_str().expect("utf-8"),
    ]));
    assert!(err.contains("is missing"), "{err}");
}

#[test]
fn a_port_in_use_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = init_org(dir.path(), "Woodgrove");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr");
    let out = std::process::Command::new(skillmesh_bin())
        .args(["run", "--config", config.to_str().expect("utf-8")])
        .env("SKILLMESH_WEB_LISTEN", addr.to_string())
        .output()
        .expect("run");
    let err = one_line_error(&out);
    assert!(
        err.contains("already in use") && err.contains(&addr.to_string()),
        "{err}"
    );
}

#[test]
fn a_data_directory_held_by_another_process_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = init_org(dir.path(), "Litware");
    let first = Running::start(&["run", "--config", config.to_str().expect("utf-8")]);
    let out = skillmesh(&["run", "--config", config.to_str().expect("utf-8")]);
    let err = one_line_error(&out);
    assert!(err.contains("in use by another skillmesh process"), "{err}");
    assert!(
        err.contains(&first.child.id().to_string()),
        "names the holder's pid: {err}"
    );
}

#[tokio::test]
async fn demo_starts_each_organisation_with_sample_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = loop {
        let p = free_port();
        if p < 60_000 && std::net::TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
            break p;
        }
    };
    let demo = Running::start(&[
        "demo",
        "--orgs",
        "2",
        "--base-port",
        &base.to_string(),
        "--data-dir",
        dir.path().to_str().expect("utf-8"),
    ]);
    let addrs = demo_addresses(&demo);
    assert_eq!(addrs.len(), 2, "{addrs:?}");
    let mut names = Vec::new();
    for addr in addrs {
        let health = get_json(addr, "/healthz").await;
        assert!(
            health["own_records"].as_u64().expect("count") >= 5,
            "{health}"
        );
        names.push(health["org"].as_str().expect("org").to_string());
    }
    assert_eq!(names, ["Northwind", "Contoso"]);
    assert!(demo.terminate().success());
    // --data-dir keeps the data: a second start reuses it without reseeding.
    assert!(dir.path().join("northwind").join("org.key").exists());
}
