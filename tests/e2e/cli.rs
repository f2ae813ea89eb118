//! The `skillmesh` command as an operator meets it: init, run, demo, and a
//! clear one-line error with a non-zero exit code for each way it can fail.

use std::os::unix::fs::PermissionsExt;

use crate::common::*;

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
    assert_eq!(health["org"], "Contoso");
    assert_eq!(health["peers"], 0);
    assert_eq!(health["federated_records"], 0);
    // Alone, with no address to try, it says so.
    assert_eq!(health["status"], "degraded", "{health}");
    assert_eq!(health["problems"][0]["code"], "no_peers", "{health}");
    assert!(
        health["problems"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("network.bootstrap")),
        "{health}"
    );
    // Its peer id and dialable addresses, for partners' bootstrap lists.
    let peer_id = health["peer_id"].as_str().expect("peer id");
    assert!(peer_id.starts_with("12D3KooW"), "{health}");
    let addrs = health["listen_addrs"].as_array().expect("addresses");
    assert!(
        !addrs.is_empty()
            && addrs.iter().all(|a| a
                .as_str()
                .is_some_and(|a| a.ends_with(&format!("/p2p/{peer_id}")))),
        "{health}"
    );
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

#[test]
fn a_demo_of_too_many_organisations_is_a_one_line_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().to_str().expect("utf-8");
    let too_many = (skillmesh_node::demo::MAX_ORGS + 1).to_string();
    for orgs in ["0", too_many.as_str()] {
        let err = one_line_error(&skillmesh(&["demo", "--orgs", orgs, "--data-dir", data]));
        assert!(
            err.contains(&format!(
                "--orgs must be between 1 and {}, not {orgs}",
                skillmesh_node::demo::MAX_ORGS
            )),
            "{err}"
        );
    }
    // Nothing was set up.
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
}

#[tokio::test]
async fn demo_starts_each_organisation_with_sample_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The two web ports and the two peer ports (TCP and QUIC) the demo
    // takes must all be free: a peer port taken by another test running
    // at the same time stopped the demo now and then.
    let p2p = skillmesh_node::demo::P2P_OFFSET;
    let base = loop {
        let p = free_port();
        let free = |port: u16| {
            std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
                && std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok()
        };
        if p < 60_000 && free(p + 1) && free(p + p2p) && free(p + p2p + 1) {
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
    // The printed demo sign-in works: Tomás signs in at Northwind's node.
    let client = reqwest::Client::new();
    let signed_in = post_sign_in(
        demo.web,
        "tomas@northwind.example",
        skillmesh_node::demo::DEMO_PASSWORD,
        None,
    )
    .await;
    assert_eq!(signed_in.status(), reqwest::StatusCode::SEE_OTHER);
    let session = session_cookie(&signed_in);
    // Northwind's people find the runbook it keeps inside, marked so.
    let found = client
        .get(format!("http://{}/find?q=runbook", demo.web))
        .header("cookie", session)
        .send()
        .await
        .expect("GET /find")
        .text()
        .await
        .expect("page");
    for expected in [
        "1 result<",
        "/runbook-tomas\">Northwind's on-call",
        "kept inside: not shared with partners",
    ] {
        assert!(found.contains(expected), "{expected:?} in {found}");
    }
    assert!(demo.terminate().success());
    // --data-dir keeps the data: a second start reuses it without reseeding.
    assert!(dir.path().join("northwind").join("org.key").exists());
}

#[tokio::test]
async fn an_invite_sets_up_a_new_organisation_that_joins_a_private_network() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a_dir, b_dir) = (dir.path().join("a"), dir.path().join("b"));
    let port = free_port();
    let listen = format!("/ip4/127.0.0.1/tcp/{port}");
    let out = skillmesh(&[
        "init",
        "--org",
        "Northwind",
        "--data-dir",
        a_dir.to_str().expect("utf-8"),
        "--web-listen",
        "127.0.0.1:0",
        "--p2p-listen",
        &listen,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let psk = a_dir.join("swarm.key");
    std::fs::write(
        &psk,
        format!("/key/swarm/psk/1.0.0/\n/base16/\n{}\n", "7a".repeat(32)),
    )
    .expect("psk");
    let a_config = a_dir.join("skillmesh.toml");

    let out = std::process::Command::new(skillmesh_bin())
        .args(["invite", "--config", a_config.to_str().expect("utf-8")])
        .env("SKILLMESH_NETWORK_PSK_FILE", &psk)
        .output()
        .expect("invite");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let invite = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(invite.starts_with("skillmesh-invite-1:"), "{invite}");

    let bad = skillmesh(&[
        "init",
        "--org",
        "X",
        "--data-dir",
        dir.path().join("x").to_str().expect("utf-8"),
        "--join",
        "nonsense",
    ]);
    assert!(one_line_error(&bad).contains("not a skillmesh invite"));

    let out = skillmesh(&[
        "init",
        "--org",
        "Contoso",
        "--data-dir",
        b_dir.to_str().expect("utf-8"),
        "--web-listen",
        "127.0.0.1:0",
        "--join",
        &invite,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let b_psk = b_dir.join("swarm.key");
    assert_eq!(
        std::fs::metadata(&b_psk).expect("psk").permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::read_to_string(&b_psk).expect("psk"),
        std::fs::read_to_string(&psk).expect("psk")
    );
    let b_config_text = std::fs::read_to_string(b_dir.join("skillmesh.toml")).expect("config");
    assert!(b_config_text.contains(&listen), "{b_config_text}");

    let a = Running::start_with_env(
        &["run", "--config", a_config.to_str().expect("utf-8")],
        &[("SKILLMESH_NETWORK_PSK_FILE", psk.to_str().expect("utf-8"))],
    );
    let b = Running::start(&[
        "run",
        "--config",
        b_dir.join("skillmesh.toml").to_str().expect("utf-8"),
    ]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (ha, hb) = (
            get_json(a.web, "/healthz").await,
            get_json(b.web, "/healthz").await,
        );
        if ha["peers"] == 1 && hb["peers"] == 1 && hb["federated_records"].as_u64() >= Some(1) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "B did not join A: {ha} {hb}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[test]
fn user_add_creates_the_first_admin_and_refuses_duplicates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = init_org(dir.path(), "Northwind");
    let cfg = config.to_str().expect("utf-8");
    let out = skillmesh(&[
        "user",
        "add",
        "priya@northwind.example",
        "--admin",
        "--name",
        "Priya Raman",
        "--config",
        cfg,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("as an admin") && stdout.contains("Password"),
        "{stdout}"
    );

    let again = skillmesh(&["user", "add", "priya@northwind.example", "--config", cfg]);
    assert!(one_line_error(&again).contains("already exists"));
    let bad = skillmesh(&["user", "add", "not an email", "--config", cfg]);
    assert!(one_line_error(&bad).contains("not an email address"));

    // While the node runs, it holds the data directory.
    let node = Running::start(&["run", "--config", cfg]);
    let busy = skillmesh(&["user", "add", "tomas@northwind.example", "--config", cfg]);
    assert!(one_line_error(&busy).contains("in use"));
    drop(node);
}

/// One sign-in attempt with a wrong password from `forwarded_for`, behind
/// a proxy; the status of the post.
async fn failed_sign_in(web: std::net::SocketAddr, username: &str, forwarded_for: &str) -> u16 {
    post_sign_in(web, username, "wrong", Some(forwarded_for))
        .await
        .status()
        .as_u16()
}

/// Failed sign-ins are limited per client address (20 in 15 minutes).
/// Behind a reverse proxy every request comes from the proxy, so without
/// `web.trusted_proxies` one person guessing would lock everyone out;
/// with it, the node counts per forwarded client. A node that does not
/// trust the sender ignores the header, so a client cannot dodge the
/// limit by making addresses up.
#[tokio::test]
async fn behind_a_trusted_proxy_the_sign_in_limit_is_per_client() {
    const PER_ADDRESS: usize = 20;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = init_org(dir.path(), "Northwind");
    let cfg = config.to_str().expect("utf-8");

    // The test is the proxy: it connects from 127.0.0.1.
    let node = Running::start_with_env(
        &["run", "--config", cfg],
        &[("SKILLMESH_WEB_TRUSTED_PROXIES", "127.0.0.1")],
    );
    for i in 0..PER_ADDRESS {
        // A different account each time, to stay under the per-account limit.
        let user = format!("guess{i}@northwind.example");
        let status = failed_sign_in(node.web, &user, "203.0.113.5").await;
        assert_eq!(status, 401, "attempt {i}");
    }
    let blocked = failed_sign_in(node.web, "guess99@northwind.example", "203.0.113.5").await;
    assert_eq!(blocked, 429, "the guessing client is held back");
    let other = failed_sign_in(node.web, "amara@northwind.example", "203.0.113.6").await;
    assert_eq!(other, 401, "another client behind the same proxy is not");
    // What the client wrote in front of the proxy's entry does not count.
    let spoofed = failed_sign_in(
        node.web,
        "guess98@northwind.example",
        "198.51.100.1, 203.0.113.5",
    )
    .await;
    assert_eq!(spoofed, 429);
    assert!(node.terminate().success());

    // Without trusted proxies the header is ignored: all of it is
    // 127.0.0.1, however many addresses the client claims.
    let node = Running::start(&["run", "--config", cfg]);
    for i in 0..PER_ADDRESS {
        let user = format!("guess{i}@northwind.example");
        let status = failed_sign_in(node.web, &user, &format!("203.0.113.{i}")).await;
        assert_eq!(status, 401, "attempt {i}");
    }
    let made_up = failed_sign_in(node.web, "guess99@northwind.example", "203.0.113.200").await;
    assert_eq!(made_up, 429);
    assert!(node.terminate().success());
}
