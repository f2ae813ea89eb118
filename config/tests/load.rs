//! Loading through the public API: files on disk, environment overrides,
//! error messages, round trips.

use std::fs;
use std::path::{Path, PathBuf};

use skillmesh_config::{Config, ConfigError, ENV_VARS, FederationMode, LogFormat, SecretSource};

const MINIMAL: &str = "data_dir = \"/srv/sm\"\n[org]\nname = \"Northwind\"\n";

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn from_str(text: &str, pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::from_toml_str(text, Path::new("/etc/sm"), env(pairs))
}

fn ok(result: Result<Config, ConfigError>) -> Config {
    result.unwrap_or_else(|e| panic!("unexpected error: {e}"))
}

fn err(result: Result<Config, ConfigError>) -> ConfigError {
    match result {
        Ok(config) => panic!("expected an error, got {config:?}"),
        Err(e) => e,
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
    path
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn minimal_file_gets_defaults() {
    let config = ok(from_str(MINIMAL, &[]));
    assert_eq!(config, Config::new("Northwind", PathBuf::from("/srv/sm")));
    assert_eq!(config.key_file, PathBuf::from("/srv/sm/org.key"));
    assert_eq!(config.web.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.network.listen, vec!["/ip4/127.0.0.1/tcp/0"]);
    assert_eq!(config.network.idle_timeout_secs, 3600);
    assert_eq!(config.federation.mode, FederationMode::Open);
    assert_eq!(config.federation.max_records_per_org, 10_000);
    assert_eq!(config.federation.requests_per_minute, 60);
    assert_eq!(config.log.filter, "info");
}

#[test]
fn everything_can_come_from_the_environment() {
    let config = ok(from_str(
        "",
        &[
            ("SKILLMESH_ORG_NAME", "Contoso"),
            ("SKILLMESH_DATA_DIR", "/data"),
            ("SKILLMESH_KEY_FILE", "/keys/contoso.key"),
            ("SKILLMESH_WEB_LISTEN", "0.0.0.0:9000"),
            ("SKILLMESH_WEB_PUBLIC_URL", "https://skills.contoso.example"),
            (
                "SKILLMESH_NETWORK_LISTEN",
                "/ip4/0.0.0.0/tcp/4001,/ip6/::/tcp/4001",
            ),
            ("SKILLMESH_NETWORK_BOOTSTRAP", "/dns4/a.example/tcp/4001"),
            ("SKILLMESH_NETWORK_MDNS", "1"),
            ("SKILLMESH_NETWORK_PSK_FILE", "swarm.key"),
            ("SKILLMESH_NETWORK_IDLE_TIMEOUT_SECS", "120"),
            ("SKILLMESH_FEDERATION_MODE", "blocklist"),
            ("SKILLMESH_FEDERATION_APPROVAL_REQUIRED", "true"),
            ("SKILLMESH_FEDERATION_MAX_RECORDS_PER_ORG", "500"),
            ("SKILLMESH_FEDERATION_REQUESTS_PER_MINUTE", "30"),
            ("SKILLMESH_SEARCH_CACHED_RESULTS", "1024"),
            ("SKILLMESH_METRICS_LISTEN", "127.0.0.1:9464"),
            ("SKILLMESH_LOG", "debug"),
            ("SKILLMESH_LOG_FORMAT", "json"),
        ],
    ));
    assert_eq!(config.org.name, "Contoso");
    assert_eq!(config.data_dir, PathBuf::from("/data"));
    assert_eq!(config.key_file, PathBuf::from("/keys/contoso.key"));
    assert_eq!(config.web.listen.to_string(), "0.0.0.0:9000");
    assert_eq!(
        config.web.public_url.as_deref(),
        Some("https://skills.contoso.example")
    );
    assert_eq!(
        config.network.listen,
        vec!["/ip4/0.0.0.0/tcp/4001", "/ip6/::/tcp/4001"]
    );
    assert_eq!(config.network.bootstrap, vec!["/dns4/a.example/tcp/4001"]);
    assert!(config.network.mdns);
    // Relative env paths resolve against the config file's directory too.
    assert_eq!(
        config.network.psk_file,
        Some(PathBuf::from("/etc/sm/swarm.key"))
    );
    assert_eq!(config.network.idle_timeout_secs, 120);
    assert_eq!(config.federation.mode, FederationMode::Blocklist);
    assert!(config.federation.approval_required);
    assert_eq!(config.federation.max_records_per_org, 500);
    assert_eq!(config.federation.requests_per_minute, 30);
    assert_eq!(config.search.cached_results, 1024);
    assert_eq!(
        config.metrics.listen.map(|a| a.to_string()).as_deref(),
        Some("127.0.0.1:9464")
    );
    assert_eq!(config.log.filter, "debug");
    assert_eq!(config.log.format, LogFormat::Json);
}

#[test]
fn each_env_override_changes_only_its_setting() {
    let base = ok(from_str(MINIMAL, &[]));
    type Case = (&'static str, &'static str, fn(&mut Config));
    let cases: &[Case] = &[
        ("SKILLMESH_ORG_NAME", "Other", |c| {
            c.org.name = "Other".into()
        }),
        ("SKILLMESH_DATA_DIR", "/d2", |c| {
            c.data_dir = "/d2".into();
            c.key_file = "/d2/org.key".into();
        }),
        ("SKILLMESH_KEY_FILE", "/k", |c| c.key_file = "/k".into()),
        ("SKILLMESH_WEB_LISTEN", "127.0.0.1:1", |c| {
            c.web.listen = ([127, 0, 0, 1], 1).into();
        }),
        ("SKILLMESH_WEB_PUBLIC_URL", "http://h", |c| {
            c.web.public_url = Some("http://h".into());
        }),
        ("SKILLMESH_WEB_TRUSTED_PROXIES", "127.0.0.1, ::1", |c| {
            c.web.trusted_proxies =
                vec![[127, 0, 0, 1].into(), std::net::Ipv6Addr::LOCALHOST.into()];
        }),
        ("SKILLMESH_NETWORK_LISTEN", "/l", |c| {
            c.network.listen = vec!["/l".into()];
        }),
        ("SKILLMESH_NETWORK_BOOTSTRAP", "/b1,/b2", |c| {
            c.network.bootstrap = vec!["/b1".into(), "/b2".into()];
        }),
        ("SKILLMESH_NETWORK_MDNS", "true", |c| c.network.mdns = true),
        ("SKILLMESH_NETWORK_PSK_FILE", "/psk", |c| {
            c.network.psk_file = Some("/psk".into());
        }),
        ("SKILLMESH_NETWORK_IDLE_TIMEOUT_SECS", "10", |c| {
            c.network.idle_timeout_secs = 10;
        }),
        ("SKILLMESH_NETWORK_TARGET_PEERS", "3", |c| {
            c.network.target_peers = 3;
        }),
        ("SKILLMESH_NETWORK_RECONCILE_INTERVAL_SECS", "2", |c| {
            c.network.reconcile_interval_secs = 2;
        }),
        ("SKILLMESH_FEDERATION_MODE", "allowlist", |c| {
            c.federation.mode = FederationMode::Allowlist;
        }),
        ("SKILLMESH_FEDERATION_APPROVAL_REQUIRED", "1", |c| {
            c.federation.approval_required = true;
        }),
        ("SKILLMESH_FEDERATION_MAX_RECORDS_PER_ORG", "7", |c| {
            c.federation.max_records_per_org = 7;
        }),
        ("SKILLMESH_FEDERATION_REQUESTS_PER_MINUTE", "8", |c| {
            c.federation.requests_per_minute = 8;
        }),
        ("SKILLMESH_FEDERATION_NEW_ORG_HOURS", "0", |c| {
            c.federation.new_org_hours = 0;
        }),
        (
            "SKILLMESH_FEDERATION_NEW_ORG_REQUESTS_PER_MINUTE",
            "9",
            |c| {
                c.federation.new_org_requests_per_minute = 9;
            },
        ),
        ("SKILLMESH_FEDERATION_NODE_REQUESTS_PER_MINUTE", "90", |c| {
            c.federation.node_requests_per_minute = 90;
        }),
        ("SKILLMESH_FEDERATION_MAX_PENDING_PER_PERSON", "4", |c| {
            c.federation.max_pending_per_person = 4;
        }),
        ("SKILLMESH_SEARCH_CACHED_RESULTS", "0", |c| {
            c.search.cached_results = 0;
        }),
        ("SKILLMESH_METRICS_LISTEN", "127.0.0.1:9464", |c| {
            c.metrics.listen = Some(([127, 0, 0, 1], 9464).into());
        }),
        ("SKILLMESH_LOG", "warn", |c| c.log.filter = "warn".into()),
        ("SKILLMESH_LOG_FORMAT", "json", |c| {
            c.log.format = LogFormat::Json
        }),
        ("SKILLMESH_LOG_AUDIT_RETENTION_DAYS", "30", |c| {
            c.log.audit_retention_days = 30
        }),
        ("SKILLMESH_PRIVACY_MIN_GROUP_SIZE", "3", |c| {
            c.privacy.min_group_size = 3
        }),
        ("SKILLMESH_PRIVACY_REQUESTS_RETENTION_DAYS", "90", |c| {
            c.privacy.requests_retention_days = 90
        }),
        ("SKILLMESH_PRIVACY_NOTIFICATIONS_RETENTION_DAYS", "7", |c| {
            c.privacy.notifications_retention_days = 7
        }),
    ];
    // The mail and sign-in settings go together: see the tests after this one.
    let alone = ENV_VARS
        .iter()
        .filter(|v| {
            !v.starts_with("SKILLMESH_NOTIFICATIONS_EMAIL_") && !v.starts_with("SKILLMESH_AUTH_")
        })
        .count();
    assert_eq!(cases.len(), alone, "every variable has a case");
    for (var, value, change) in cases {
        assert!(ENV_VARS.contains(var), "{var}");
        let mut expected = base.clone();
        change(&mut expected);
        assert_eq!(ok(from_str(MINIMAL, &[(var, value)])), expected, "{var}");
    }
}

#[test]
fn mail_needs_a_server_and_a_sender_and_bad_ones_are_named() {
    let url = (
        "SKILLMESH_NOTIFICATIONS_EMAIL_SMTP_URL",
        "smtp://127.0.0.1:2525",
    );
    let from = (
        "SKILLMESH_NOTIFICATIONS_EMAIL_FROM",
        "Skillmesh <skills@northwind.example>",
    );
    let config = ok(from_str(MINIMAL, &[url, from]));
    let email = config.email.expect("mail is on");
    assert_eq!(email.smtp_url, "smtp://127.0.0.1:2525");
    assert_eq!(email.digest_interval_secs, 86_400);
    let every = ("SKILLMESH_NOTIFICATIONS_EMAIL_DIGEST_INTERVAL_SECS", "5");
    let config = ok(from_str(MINIMAL, &[url, from, every]));
    assert_eq!(config.email.map(|e| e.digest_interval_secs), Some(5));
    for (env, says) in [
        (vec![url], "needs notifications.email.from"),
        (vec![from], "needs notifications.email.smtp_url"),
        (
            vec![
                ("SKILLMESH_NOTIFICATIONS_EMAIL_SMTP_URL", "http://mail"),
                from,
            ],
            "must start with smtp:// or smtps://",
        ),
        (
            vec![url, ("SKILLMESH_NOTIFICATIONS_EMAIL_FROM", "nobody")],
            "is not an email address",
        ),
    ] {
        let err = from_str(MINIMAL, &env).expect_err("refused").to_string();
        assert!(err.contains(says), "{err}");
        assert!(
            err.starts_with("SKILLMESH_NOTIFICATIONS_EMAIL_"),
            "names the variable: {err}"
        );
    }
}

#[test]
fn single_sign_on_needs_a_client_and_its_secret_and_bad_settings_are_named() {
    let text = r#"
data_dir = "/srv/sm"
[org]
name = "Northwind"
[auth]
password_sign_in = false
[auth.oidc]
issuer_url = "https://login.northwind.example/realms/staff"
client_id = "skillmesh"
client_secret_file = "oidc-secret"
allowed_email_domains = ["Northwind.example", "@staff.northwind.example"]
admin_claim = "groups"
admin_claim_value = "skillmesh-admins"
scopes = ["groups"]
"#;
    let config = ok(from_str(text, &[]));
    assert!(!config.auth.password_sign_in);
    let oidc = config.auth.oidc.expect("single sign-on is on");
    assert_eq!(
        oidc.client_secret,
        SecretSource::File(PathBuf::from("/etc/sm/oidc-secret"))
    );
    assert_eq!(
        oidc.allowed_email_domains,
        ["northwind.example", "staff.northwind.example"]
    );
    assert_eq!(oidc.admin_claim.as_deref(), Some("groups"));
    assert_eq!(oidc.name, skillmesh_config::DEFAULT_OIDC_NAME);
    // The secret in the environment wins over the file, and is not shown.
    let config = ok(from_str(
        text,
        &[("SKILLMESH_AUTH_OIDC_CLIENT_SECRET", "s3cret")],
    ));
    let oidc = config.auth.oidc.expect("on");
    assert_eq!(oidc.client_secret, SecretSource::Env("s3cret".into()));
    assert!(!format!("{oidc:?}").contains("s3cret"));
    // It never goes into a rendered file.
    let rendered = ok(from_str(
        text,
        &[("SKILLMESH_AUTH_OIDC_CLIENT_SECRET", "s3cret")],
    ))
    .to_toml();
    assert!(!rendered.contains("s3cret"));

    let issuer = ("SKILLMESH_AUTH_OIDC_ISSUER_URL", "https://login.example");
    let id = ("SKILLMESH_AUTH_OIDC_CLIENT_ID", "skillmesh");
    let secret = ("SKILLMESH_AUTH_OIDC_CLIENT_SECRET", "s3cret");
    assert!(
        ok(from_str(MINIMAL, &[issuer, id, secret]))
            .auth
            .oidc
            .is_some()
    );
    for (env, says) in [
        (
            vec![("SKILLMESH_AUTH_PASSWORD_SIGN_IN", "false")],
            "nobody could sign in",
        ),
        (vec![id], "needs auth.oidc.issuer_url"),
        (vec![issuer, secret], "auth.oidc.client_id: is required"),
        (
            vec![issuer, id],
            "auth.oidc.client_secret_file: is required",
        ),
        (
            vec![
                ("SKILLMESH_AUTH_OIDC_ISSUER_URL", "login.example"),
                id,
                secret,
            ],
            "must start with https://",
        ),
        (
            vec![
                issuer,
                id,
                secret,
                (
                    "SKILLMESH_AUTH_OIDC_ALLOWED_EMAIL_DOMAINS",
                    "example.org, not a domain",
                ),
            ],
            "is not a domain name",
        ),
    ] {
        let err = from_str(MINIMAL, &env).expect_err("refused").to_string();
        assert!(err.contains(says), "{err}");
    }
}

#[test]
fn env_beats_file() {
    let text = r#"
data_dir = "/srv/sm"
[org]
name = "From file"
[web]
listen = "127.0.0.1:1111"
public_url = "https://file.example"
[network]
mdns = true
bootstrap = ["/from/file"]
[federation]
mode = "allowlist"
"#;
    let config = ok(from_str(
        text,
        &[
            ("SKILLMESH_ORG_NAME", "From env"),
            ("SKILLMESH_WEB_LISTEN", "127.0.0.1:2222"),
            ("SKILLMESH_WEB_PUBLIC_URL", ""),
            ("SKILLMESH_NETWORK_MDNS", "false"),
            ("SKILLMESH_NETWORK_BOOTSTRAP", ""),
            ("SKILLMESH_FEDERATION_MODE", "open"),
        ],
    ));
    assert_eq!(config.org.name, "From env");
    assert_eq!(config.web.listen.to_string(), "127.0.0.1:2222");
    assert_eq!(config.web.public_url, None);
    assert!(!config.network.mdns);
    assert!(config.network.bootstrap.is_empty());
    assert_eq!(config.federation.mode, FederationMode::Open);
}

#[test]
fn search_cached_results_comes_from_the_file_and_is_range_checked() {
    let config = ok(from_str(
        &format!("{MINIMAL}[search]\ncached_results = 0\n"),
        &[],
    ));
    assert_eq!(config.search.cached_results, 0);
    let config = ok(from_str(
        &format!("{MINIMAL}[search]\ncached_results = 65536\n"),
        &[("SKILLMESH_SEARCH_CACHED_RESULTS", "16")],
    ));
    assert_eq!(config.search.cached_results, 16, "the environment wins");
    let e = err(from_str(
        &format!("{MINIMAL}[search]\ncached_results = 65537\n"),
        &[],
    ));
    assert_eq!(
        e.to_string(),
        "search.cached_results: 65537 is out of range (must be between 0 and 65536)"
    );
    let e = err(from_str(
        MINIMAL,
        &[("SKILLMESH_SEARCH_CACHED_RESULTS", "-1")],
    ));
    assert!(
        e.to_string()
            .starts_with("SKILLMESH_SEARCH_CACHED_RESULTS: -1 is out of range"),
        "{e}"
    );
}

#[test]
fn unknown_skillmesh_env_vars_are_ignored() {
    let config = ok(from_str(
        MINIMAL,
        &[
            ("SKILLMESH_WEB_LISTN", "garbage"),
            ("SKILLMESH_CONFIG", "/elsewhere.toml"),
            ("PATH", "/bin"),
        ],
    ));
    assert_eq!(config, ok(from_str(MINIMAL, &[])));
}

#[test]
fn unknown_key_in_file_is_rejected_by_name() {
    let e = err(from_str(
        "data_dir = \"/d\"\n[org]\nname = \"N\"\n[federation]\napproval_requried = true\n",
        &[],
    ));
    assert!(matches!(e, ConfigError::Parse { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("federation.approval_requried"), "{msg}");
    assert!(msg.contains("line 5, column 1"), "{msg}");

    let e = err(from_str("datadir = \"/d\"\n", &[]));
    assert!(e.to_string().contains("unknown field `datadir`"), "{e}");
}

#[test]
fn malformed_toml_error_includes_the_file_path() {
    let dir = tempdir();
    let path = write(dir.path(), "broken.toml", "[org\nname = \"N\"\n");
    let e = err(Config::load_with_env(&path, Vec::new()));
    let ConfigError::Parse {
        path: reported,
        message,
    } = &e
    else {
        panic!("expected a parse error, got {e:?}");
    };
    assert_eq!(reported, &path);
    assert!(message.starts_with("line 1, column "), "{message}");
    let shown = e.to_string();
    assert!(
        shown.starts_with(&format!("cannot parse config file {}: ", path.display())),
        "{shown}"
    );
}

#[test]
fn wrong_type_error_has_path_field_and_position() {
    let dir = tempdir();
    let path = write(
        dir.path(),
        "skillmesh.toml",
        "data_dir = \".\"\n[org]\nname = \"N\"\n[network]\nmdns = \"yes\"\n",
    );
    let msg = err(Config::load_with_env(&path, Vec::new())).to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("network.mdns (line 5, column 8)"), "{msg}");
}

#[test]
fn bad_socket_address_names_web_listen() {
    let e = err(from_str(
        &format!("{MINIMAL}[web]\nlisten = \"8080\"\n"),
        &[],
    ));
    assert_eq!(
        e.to_string(),
        "web.listen: \"8080\" is not a socket address (expected something like 127.0.0.1:8080)"
    );
    assert!(matches!(e, ConfigError::Invalid { ref field, .. } if field == "web.listen"));
}

#[test]
fn bad_env_value_names_the_variable() {
    let e = err(from_str(MINIMAL, &[("SKILLMESH_WEB_LISTEN", "8080")]));
    assert_eq!(
        e.to_string(),
        "SKILLMESH_WEB_LISTEN: \"8080\" is not a socket address (expected something like 127.0.0.1:8080)"
    );
    for (var, value) in [
        ("SKILLMESH_NETWORK_MDNS", "on"),
        ("SKILLMESH_NETWORK_IDLE_TIMEOUT_SECS", "5"),
        ("SKILLMESH_FEDERATION_MODE", "closed"),
        ("SKILLMESH_FEDERATION_REQUESTS_PER_MINUTE", "-1"),
        ("SKILLMESH_WEB_PUBLIC_URL", "skills.example"),
        ("SKILLMESH_ORG_NAME", ""),
        ("SKILLMESH_DATA_DIR", ""),
        ("SKILLMESH_LOG", ""),
        ("SKILLMESH_LOG_FORMAT", "logfmt"),
        ("SKILLMESH_METRICS_LISTEN", "localhost:9464"),
    ] {
        let e = err(from_str(MINIMAL, &[(var, value)]));
        assert!(
            matches!(e, ConfigError::Invalid { ref field, .. } if field == var),
            "{var}: {e}"
        );
    }
    let e = err(from_str(
        MINIMAL,
        &[("SKILLMESH_NETWORK_BOOTSTRAP", "/a,/b,tcp/1")],
    ));
    assert!(
        e.to_string()
            .starts_with("SKILLMESH_NETWORK_BOOTSTRAP[2]: \"tcp/1\""),
        "{e}"
    );
}

#[test]
fn bad_list_entry_names_field_and_index() {
    let e = err(from_str(
        &format!("{MINIMAL}[network]\nbootstrap = [\"/a\", \"/b\", \"\"]\n"),
        &[],
    ));
    assert!(
        e.to_string().starts_with("network.bootstrap[2]: is empty"),
        "{e}"
    );
}

#[test]
fn missing_org_name_names_org_name() {
    let e = err(from_str("data_dir = \"/d\"\n", &[]));
    assert!(matches!(e, ConfigError::Invalid { ref field, .. } if field == "org.name"));
    assert!(e.to_string().starts_with("org.name: is required"), "{e}");

    let e = err(from_str("data_dir = \"/d\"\n[org]\n", &[]));
    assert!(e.to_string().starts_with("org.name: "), "{e}");

    let e = err(from_str("[org]\nname = \"N\"\n", &[]));
    assert!(e.to_string().starts_with("data_dir: is required"), "{e}");
}

#[test]
fn missing_file_is_a_read_error() {
    let dir = tempdir();
    let path = dir.path().join("skillmesh.toml");
    let e = err(Config::load_with_env(&path, Vec::new()));
    assert!(matches!(e, ConfigError::Read { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!("cannot read config file {}: ", path.display())),
        "{msg}"
    );

    // A directory is not a config file either.
    let e = err(Config::load_with_env(dir.path(), Vec::new()));
    assert!(e.to_string().starts_with("cannot read config file "), "{e}");
}

#[test]
fn non_utf8_and_huge_files_are_refused() {
    let dir = tempdir();
    let path = dir.path().join("bin.toml");
    fs::write(&path, b"data_dir = \"\xff\"\n").unwrap_or_else(|e| panic!("{e}"));
    let msg = err(Config::load_with_env(&path, Vec::new())).to_string();
    assert!(
        msg.contains("line 1, column 13: the file is not valid UTF-8"),
        "{msg}"
    );

    let big = format!("{MINIMAL}{}", "#".repeat(2 * 1024 * 1024));
    let path = write(dir.path(), "big.toml", &big);
    let msg = err(Config::load_with_env(&path, Vec::new())).to_string();
    assert!(msg.contains("larger than"), "{msg}");
}

#[test]
fn relative_paths_resolve_against_the_config_files_directory() {
    let dir = tempdir();
    let sub = dir.path().join("node");
    fs::create_dir(&sub).unwrap_or_else(|e| panic!("{e}"));
    let path = write(
        &sub,
        "skillmesh.toml",
        "data_dir = \".\"\nkey_file = \"../keys/org.key\"\n[org]\nname = \"N\"\n[network]\npsk_file = \"swarm.key\"\n",
    );
    let config = ok(Config::load_with_env(&path, Vec::new()));
    assert_eq!(config.data_dir, sub);
    assert_eq!(config.key_file, sub.join("../keys/org.key"));
    assert_eq!(config.network.psk_file, Some(sub.join("swarm.key")));

    // Relative paths from the environment use the same base.
    let config = ok(Config::load_with_env(
        &path,
        env(&[("SKILLMESH_DATA_DIR", "state")]),
    ));
    assert_eq!(config.data_dir, sub.join("state"));

    // Absolute paths are kept.
    let config = ok(Config::load_with_env(
        &path,
        env(&[("SKILLMESH_KEY_FILE", "/abs/org.key")]),
    ));
    assert_eq!(config.key_file, PathBuf::from("/abs/org.key"));
}

#[test]
fn default_key_file_sits_in_the_resolved_data_dir() {
    let dir = tempdir();
    let path = write(
        dir.path(),
        "skillmesh.toml",
        "data_dir = \"data\"\n[org]\nname = \"N\"\n",
    );
    let config = ok(Config::load_with_env(&path, Vec::new()));
    assert_eq!(config.key_file, dir.path().join("data").join("org.key"));
}

#[test]
fn to_toml_round_trips_through_a_file() {
    let dir = tempdir();
    let mut config = Config::new("Northwind", dir.path().join("data"));
    config.network.bootstrap = vec![
        "/ip4/192.0.2.1/tcp/4001/p2p/12D3KooWExample1".into(),
        "/dns4/peer.example/tcp/4001/p2p/12D3KooWExample2".into(),
    ];
    config.federation.mode = FederationMode::Allowlist;
    config.federation.approval_required = true;
    config.network.psk_file = Some(dir.path().join("swarm.key"));
    config.web.public_url = Some("https://skills.northwind.example".into());

    let path = write(dir.path(), "skillmesh.toml", &config.to_toml());
    assert_eq!(ok(Config::load_with_env(&path, Vec::new())), config);
    assert_eq!(
        ok(Config::from_toml_str(
            &config.to_toml(),
            dir.path(),
            Vec::new()
        )),
        config
    );
}

#[test]
fn to_toml_with_relative_data_dir_lives_in_that_dir() {
    // `skillmesh init` can write the file into the data dir with data_dir = ".".
    let dir = tempdir();
    let written = Config::new("Northwind", PathBuf::from("."));
    let path = write(dir.path(), "skillmesh.toml", &written.to_toml());
    let loaded = ok(Config::load_with_env(&path, Vec::new()));
    assert_eq!(loaded.data_dir, dir.path());
    assert_eq!(loaded.key_file, dir.path().join("org.key"));
}

#[test]
fn load_reads_only_the_process_environment_it_knows() {
    // Does not set process variables (tests run in parallel); only checks
    // that `load` works with whatever environment the test runner has,
    // unless the runner itself sets SKILLMESH_* overrides.
    if std::env::vars_os().any(|(k, _)| k.to_string_lossy().starts_with("SKILLMESH_")) {
        return;
    }
    let dir = tempdir();
    let path = write(dir.path(), "skillmesh.toml", MINIMAL);
    assert_eq!(
        ok(Config::load(&path)),
        Config::new("Northwind", PathBuf::from("/srv/sm"))
    );
}

#[test]
fn privacy_settings_come_from_the_file_and_bad_ones_are_named() {
    let config = ok(from_str(MINIMAL, &[]));
    assert_eq!(config.privacy.min_group_size, 5);
    assert_eq!(config.privacy.requests_retention_days, 730);
    assert_eq!(config.privacy.notifications_retention_days, 180);

    let text = format!(
        "{MINIMAL}[privacy]\nmin_group_size = 8\nrequests_retention_days = 60\nnotifications_retention_days = 14\n"
    );
    let config = ok(from_str(&text, &[]));
    assert_eq!(config.privacy.min_group_size, 8);
    assert_eq!(config.privacy.requests_retention_days, 60);
    assert_eq!(config.privacy.notifications_retention_days, 14);
    // The environment wins over the file.
    let config = ok(from_str(
        &text,
        &[("SKILLMESH_PRIVACY_MIN_GROUP_SIZE", "4")],
    ));
    assert_eq!(config.privacy.min_group_size, 4);

    for (extra, says) in [
        (
            "[privacy]\nmin_group_size = 2\n",
            "privacy.min_group_size: 2 is out of range (must be between 3 and 1000)",
        ),
        (
            "[privacy]\nrequests_retention_days = 0\n",
            "privacy.requests_retention_days: 0 is out of range",
        ),
        (
            "[privacy]\nnotifications_retention_days = -1\n",
            "privacy.notifications_retention_days: -1 is out of range",
        ),
        ("[privacy]\nmin_group = 5\n", "privacy.min_group"),
    ] {
        let message = err(from_str(&format!("{MINIMAL}{extra}"), &[])).to_string();
        assert!(message.contains(says), "{extra}: {message}");
    }
    let message = err(from_str(&format!("privacy = 5\n{MINIMAL}"), &[])).to_string();
    assert!(
        message.contains("privacy (line 1, column 11): must be a [privacy] table, not an integer"),
        "{message}"
    );
    let message = err(from_str(
        MINIMAL,
        &[("SKILLMESH_PRIVACY_MIN_GROUP_SIZE", "1")],
    ))
    .to_string();
    assert!(
        message.starts_with("SKILLMESH_PRIVACY_MIN_GROUP_SIZE: 1 is out of range"),
        "{message}"
    );
}
