//! Writing a [`Config`] back out as a complete, commented TOML file.

use std::fmt::Write as _;
use std::path::Path;

use crate::settings::{Config, OidcSettings, SecretSource};
use crate::text::toml_string;

impl Config {
    /// Render a complete, commented TOML file that [`Config::from_toml_str`]
    /// reads back to an equal Config (used by `skillmesh init` to write the
    /// node's config file). This holds for any Config that loading could have
    /// produced; out-of-range values are written as they are and rejected
    /// when read back.
    ///
    /// Every setting is written out, unset optional ones as commented-out
    /// examples. Paths are written as given, so relative ones are read back
    /// relative to the file's directory; a path that is not valid UTF-8 is
    /// written lossily (with U+FFFD) and will not round-trip.
    pub fn to_toml(&self) -> String {
        let public_url = match &self.web.public_url {
            Some(url) => format!("public_url = {}", toml_string(url)),
            None => "# public_url = \"https://skills.example.org\"".to_owned(),
        };
        let psk_file = match &self.network.psk_file {
            Some(psk) => format!("psk_file = {}", path(psk)),
            None => "# psk_file = \"swarm.key\"".to_owned(),
        };
        let metrics_listen = match &self.metrics.listen {
            Some(listen) => format!("listen = {}", toml_string(&listen.to_string())),
            None => "# listen = \"127.0.0.1:9464\"".to_owned(),
        };
        format!(
            r#"# Skillmesh node configuration.
#
# Each setting can also be given in the environment variable named in its
# comment; a variable that is set wins over this file. Relative paths, here or
# in the environment, are resolved against the directory holding this file,
# so a config file kept in the data directory can say data_dir = ".".
# Unknown keys are an error, so a misspelt setting cannot silently do nothing.

# Directory where the node keeps its database and state. Required.
# env: SKILLMESH_DATA_DIR
data_dir = {data_dir}

# The organisation's private signing key: its identity in the network.
# Keep it secret and back it up. Default: org.key inside data_dir.
# env: SKILLMESH_KEY_FILE
key_file = {key_file}

[org]
# The organisation's name as other organisations see it.
# Required; 1 to 100 bytes, no control characters.
# env: SKILLMESH_ORG_NAME
name = {org_name}

[web]
# Address of the web interface and HTTP API. Default: "127.0.0.1:8080".
# Keep it on loopback unless a reverse proxy or firewall protects it.
# env: SKILLMESH_WEB_LISTEN
listen = {web_listen}

# The URL people use to reach the web interface, if it differs from the
# listen address (for example behind a reverse proxy). Must start with
# http:// or https://. Default: unset.
# env: SKILLMESH_WEB_PUBLIC_URL (an empty value unsets it)
{public_url}

# IP addresses of reverse proxies in front of the web server. A request from
# one of them counts as coming from the client address the proxy puts in
# X-Forwarded-For (the limit on failed sign-ins per address relies on it);
# from any other address the header is ignored. No port, no range.
# Default: none, e.g. ["127.0.0.1"] for a proxy on the same machine.
# env: SKILLMESH_WEB_TRUSTED_PROXIES (comma-separated)
trusted_proxies = {trusted_proxies}

[network]
# libp2p multiaddrs to accept connections from other organisations' nodes on.
# Default: ["/ip4/127.0.0.1/tcp/0"], loopback on any free port, which other
# machines cannot reach; use for example "/ip4/0.0.0.0/tcp/4001" to accept peers.
# env: SKILLMESH_NETWORK_LISTEN (comma-separated)
listen = {network_listen}

# Multiaddrs of other organisations' nodes to connect to at start-up,
# usually ending in /p2p/<peer id>. Default: none.
# env: SKILLMESH_NETWORK_BOOTSTRAP (comma-separated)
bootstrap = {network_bootstrap}

# Find other nodes on the local network by mDNS. Default: false.
# WARNING: mDNS multicasts on the LAN, announcing this node to every machine
# on the local network segment. Leave it off on shared or untrusted networks.
# env: SKILLMESH_NETWORK_MDNS (true/false/1/0)
mdns = {mdns}

# Pre-shared key file for a private network: only nodes holding the same key
# can connect at all. Default: unset (no pre-shared key).
# env: SKILLMESH_NETWORK_PSK_FILE (an empty value unsets it)
{psk_file}

# Seconds a connection with no traffic is kept open. Default: 3600.
# Between 10 and 31536000 (a year).
# env: SKILLMESH_NETWORK_IDLE_TIMEOUT_SECS
idle_timeout_secs = {idle_timeout_secs}

# Keep dialling the bootstrap nodes and the partners this node has reached
# before (with backoff) while fewer than this many are connected.
# Default: 8. Between 1 and 1000.
# env: SKILLMESH_NETWORK_TARGET_PEERS
target_peers = {target_peers}

# Seconds between two comparisons of this node's records with each
# connected peer's (they also run on every new connection). When nothing
# differs a comparison is one small message each way. Default: 30.
# Between 1 and 3600.
# env: SKILLMESH_NETWORK_RECONCILE_INTERVAL_SECS
reconcile_interval_secs = {reconcile_interval_secs}

[federation]
# Which organisations this node exchanges records with:
#   "open"      - any organisation
#   "allowlist" - only organisations that have been allowed
#   "blocklist" - any organisation except those that have been blocked
# Default: "open".
# env: SKILLMESH_FEDERATION_MODE
mode = {mode}

# Whether an administrator must approve each new organisation before its
# records are accepted. Default: false.
# env: SKILLMESH_FEDERATION_APPROVAL_REQUIRED (true/false/1/0)
approval_required = {approval_required}

# Most records kept from any one other organisation. Default: 10000; at least 1.
# env: SKILLMESH_FEDERATION_MAX_RECORDS_PER_ORG
max_records_per_org = {max_records_per_org}

# Most requests per minute accepted from any one other organisation.
# Default: 60; at least 1.
# env: SKILLMESH_FEDERATION_REQUESTS_PER_MINUTE
requests_per_minute = {requests_per_minute}

# Hours an organisation counts as new after this node first sees it (its
# first record, request or connection), unless an admin allowed it as a
# partner. New organisations share one request budget (below) and may
# fill only half of a person's pending requests. Default: 72. Between 0
# (no organisation is new) and 8760.
# env: SKILLMESH_FEDERATION_NEW_ORG_HOURS
new_org_hours = {new_org_hours}

# Most requests per minute accepted from all new organisations together,
# so that many fresh keys cannot flood people's inboxes. Default: 20;
# at least 1.
# env: SKILLMESH_FEDERATION_NEW_ORG_REQUESTS_PER_MINUTE
new_org_requests_per_minute = {new_org_requests_per_minute}

# Most requests per minute accepted from all organisations together.
# Default: 300; at least 1.
# env: SKILLMESH_FEDERATION_NODE_REQUESTS_PER_MINUTE
node_requests_per_minute = {node_requests_per_minute}

# Most unanswered requests one person's inbox holds; further requests are
# refused ("too many requests are waiting for this person"). New
# organisations may fill only half of it. Default: 50; at least 2.
# env: SKILLMESH_FEDERATION_MAX_PENDING_PER_PERSON
max_pending_per_person = {max_pending_per_person}

[search]
# How many recent search results to keep, to answer the same query again
# without searching anew. A result is served again only while nothing it
# was made of has changed (no record added, changed or removed, none of its
# matches expired), so it is always what a new search would give. A result
# is about 30 kB, so 256 is about 8 MB. Default: 256. Between 0 (no cache)
# and 65536.
# env: SKILLMESH_SEARCH_CACHED_RESULTS
cached_results = {cached_results}

[metrics]
# Address of a separate HTTP listener serving only GET /metrics, for
# Prometheus (OpenMetrics text: peers, records per organisation, ingest and
# rejections, queues, reconciliation, request latencies, process figures).
# The figures name partner organisations and volumes, so they are never on
# the web port; keep this on loopback or behind a firewall.
# Default: unset (no metrics served).
# env: SKILLMESH_METRICS_LISTEN (an empty value unsets it)
{metrics_listen}

[log]
# What to log, as a tracing EnvFilter directive such as "info", "warn" or
# "skillmesh=debug,info". Default: "info".
# env: SKILLMESH_LOG
filter = {log_filter}

# How log lines are written to stderr: "text" for people, or "json" (one
# object per line with timestamp, level, target, message and fields) for
# log shippers. Default: "text".
# env: SKILLMESH_LOG_FORMAT
format = {log_format}

# Days the audit log keeps its entries; older ones are deleted by a
# background task every hour. Default: 180. Between 1 and 36500.
# env: SKILLMESH_LOG_AUDIT_RETENTION_DAYS
audit_retention_days = {audit_retention_days}

[privacy]
# A figure about people (demand per topic, impact per topic or partner,
# the summaries published to partners, their CSV and JSON) is shown only
# when at least this many distinct people stand behind it; smaller ones
# are left out with a note, so nobody can be singled out. Default: 5.
# Between 3 and 1000.
# env: SKILLMESH_PRIVACY_MIN_GROUP_SIZE
min_group_size = {min_group_size}

# Days a finished request (answered, declined, cancelled or delivered, in
# the inbox and the outbox) is kept after it finished; older ones are
# deleted by a background task every hour. Pending and queued requests are
# never deleted. Default: 730. Between 30 and 36500.
# env: SKILLMESH_PRIVACY_REQUESTS_RETENTION_DAYS
requests_retention_days = {requests_retention_days}

# Days a notification is kept; older ones are deleted by the same task.
# Default: 180. Between 7 and 36500.
# env: SKILLMESH_PRIVACY_NOTIFICATIONS_RETENTION_DAYS
notifications_retention_days = {notifications_retention_days}

[notifications.email]
# Mail to people about what happened (a request or a question for them,
# an answer, kudos, approvals waiting), each person choosing per kind:
# at once, in a digest, or never. Off unless both are set.
# smtp_url: smtp://host:port (plain), smtp://host:587?tls=required, or
# smtps://host:465; credentials as smtp://user:password@host.
# env: SKILLMESH_NOTIFICATIONS_EMAIL_SMTP_URL, SKILLMESH_NOTIFICATIONS_EMAIL_FROM
{email}
# How often a digest goes out, in seconds. Default: 86400 (a day).
# env: SKILLMESH_NOTIFICATIONS_EMAIL_DIGEST_INTERVAL_SECS

[auth]
# Whether accounts may sign in with a password. false only with
# [auth.oidc] set. Default: true.
# env: SKILLMESH_AUTH_PASSWORD_SIGN_IN
password_sign_in = {password_sign_in}

[auth.oidc]
# Single sign-on with the organisation's OpenID Connect provider
# (authorization code flow with PKCE). Off unless issuer_url is set. The
# provider must allow the redirect address <web address>/signin/sso/callback.
# The client secret is never written here: put it in a file
# (client_secret_file) or in SKILLMESH_AUTH_OIDC_CLIENT_SECRET.
# allowed_email_domains: only verified addresses at these domains sign in
# (empty: any). admin_claim and admin_claim_value: a person is an admin
# here when that claim equals the value or is a list holding it (no
# value: when the claim is true). The first sign-in makes the account.
# env: SKILLMESH_AUTH_OIDC_ISSUER_URL, SKILLMESH_AUTH_OIDC_CLIENT_ID,
# SKILLMESH_AUTH_OIDC_CLIENT_SECRET, SKILLMESH_AUTH_OIDC_CLIENT_SECRET_FILE,
# SKILLMESH_AUTH_OIDC_ALLOWED_EMAIL_DOMAINS, SKILLMESH_AUTH_OIDC_ADMIN_CLAIM,
# SKILLMESH_AUTH_OIDC_ADMIN_CLAIM_VALUE, SKILLMESH_AUTH_OIDC_SCOPES,
# SKILLMESH_AUTH_OIDC_NAME (lists comma-separated)
{oidc}
"#,
            data_dir = path(&self.data_dir),
            key_file = path(&self.key_file),
            org_name = toml_string(&self.org.name),
            web_listen = toml_string(&self.web.listen.to_string()),
            trusted_proxies = string_list(
                &self
                    .web
                    .trusted_proxies
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
            ),
            network_listen = string_list(&self.network.listen),
            network_bootstrap = string_list(&self.network.bootstrap),
            mdns = self.network.mdns,
            idle_timeout_secs = self.network.idle_timeout_secs,
            target_peers = self.network.target_peers,
            reconcile_interval_secs = self.network.reconcile_interval_secs,
            mode = toml_string(self.federation.mode.as_str()),
            approval_required = self.federation.approval_required,
            max_records_per_org = self.federation.max_records_per_org,
            requests_per_minute = self.federation.requests_per_minute,
            new_org_hours = self.federation.new_org_hours,
            new_org_requests_per_minute = self.federation.new_org_requests_per_minute,
            node_requests_per_minute = self.federation.node_requests_per_minute,
            max_pending_per_person = self.federation.max_pending_per_person,
            cached_results = self.search.cached_results,
            audit_retention_days = self.log.audit_retention_days,
            min_group_size = self.privacy.min_group_size,
            requests_retention_days = self.privacy.requests_retention_days,
            notifications_retention_days = self.privacy.notifications_retention_days,
            log_filter = toml_string(&self.log.filter),
            log_format = toml_string(self.log.format.as_str()),
            email = match &self.email {
                Some(e) => format!(
                    "smtp_url = {}\nfrom = {}\ndigest_interval_secs = {}",
                    toml_string(&e.smtp_url),
                    toml_string(&e.from),
                    e.digest_interval_secs
                ),
                None => "# smtp_url = \"smtp://mail.example.org:587?tls=required\"\n# from = \"Skillmesh <skills@example.org>\"".to_owned(),
            },
            password_sign_in = self.auth.password_sign_in,
            oidc = match &self.auth.oidc {
                Some(o) => oidc_lines(o),
                None => "# issuer_url = \"https://login.example.org/realms/staff\"\n# client_id = \"skillmesh\"\n# client_secret_file = \"oidc-client-secret\"\n# allowed_email_domains = [\"example.org\"]\n# admin_claim = \"groups\"\n# admin_claim_value = \"skillmesh-admins\"\n# scopes = [\"groups\"]\n# name = \"Example account\"".to_owned(),
            },
        )
    }
}

/// `[auth.oidc]`'s settings as TOML lines. A secret given in the
/// environment stays there: it is never written to the file.
fn oidc_lines(o: &OidcSettings) -> String {
    let mut lines = vec![
        format!("issuer_url = {}", toml_string(&o.issuer_url)),
        format!("client_id = {}", toml_string(&o.client_id)),
    ];
    match &o.client_secret {
        SecretSource::File(file) => lines.push(format!("client_secret_file = {}", path(file))),
        SecretSource::Env(_) => {
            lines.push("# client_secret: from SKILLMESH_AUTH_OIDC_CLIENT_SECRET".to_owned());
        }
    }
    lines.push(format!(
        "allowed_email_domains = {}",
        string_list(&o.allowed_email_domains)
    ));
    if let Some(claim) = &o.admin_claim {
        lines.push(format!("admin_claim = {}", toml_string(claim)));
    }
    if let Some(value) = &o.admin_claim_value {
        lines.push(format!("admin_claim_value = {}", toml_string(value)));
    }
    lines.push(format!("scopes = {}", string_list(&o.scopes)));
    lines.push(format!("name = {}", toml_string(&o.name)));
    lines.join("\n")
}

fn path(path: &Path) -> String {
    toml_string(&path.to_string_lossy())
}

/// `[]`, `["one"]`, or one entry per line for longer lists.
fn string_list(items: &[String]) -> String {
    match items {
        [] => "[]".to_owned(),
        [one] => format!("[{}]", toml_string(one)),
        many => {
            let mut out = String::from("[\n");
            for item in many {
                let _ = writeln!(out, "    {},", toml_string(item));
            }
            out.push(']');
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::settings::FederationMode;

    fn round_trip(config: &Config) {
        let text = config.to_toml();
        let back = Config::from_toml_str(&text, Path::new(""), Vec::new());
        match back {
            Ok(back) => assert_eq!(&back, config, "{text}"),
            Err(e) => panic!("{e}\n{text}"),
        }
    }

    #[test]
    fn defaults_round_trip() {
        round_trip(&Config::new(
            "Northwind",
            PathBuf::from("/var/lib/skillmesh"),
        ));
        round_trip(&Config::new("Northwind", PathBuf::from(".")));
        round_trip(&Config::new("Northwind", PathBuf::from("data")));
    }

    #[test]
    fn everything_set_round_trips() {
        let mut config = Config::new(
            "Fabrikam \"Labs\" \\ Ünïcode ☃",
            PathBuf::from("/srv/sm data"),
        );
        config.key_file = PathBuf::from("/keys/c:\\odd\"name.key");
        config.web.listen = "[::]:443".parse().unwrap_or(config.web.listen);
        config.web.public_url = Some("https://skills.fabrikam.example/".into());
        config.web.trusted_proxies = vec![
            [127, 0, 0, 1].into(),
            std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7).into(),
        ];
        config.network.listen = vec!["/ip4/0.0.0.0/tcp/4001".into(), "/ip6/::/tcp/4001".into()];
        config.network.bootstrap = vec![
            "/dns4/a.example/tcp/4001/p2p/12D3KooWA".into(),
            "/ip4/192.0.2.7/tcp/4001/p2p/12D3KooWB".into(),
            "/ip4/192.0.2.8/udp/4001/quic-v1".into(),
        ];
        config.network.mdns = true;
        config.network.psk_file = Some(PathBuf::from("swarm.key"));
        config.network.idle_timeout_secs = 10;
        config.federation.mode = FederationMode::Allowlist;
        config.federation.approval_required = true;
        config.federation.max_records_per_org = u32::MAX;
        config.federation.requests_per_minute = 1;
        config.search.cached_results = 0;
        config.log.filter = "skillmesh=debug,libp2p=warn,info".into();
        config.log.format = crate::settings::LogFormat::Json;
        config.metrics.listen = "[::1]:9464".parse().ok();
        config.privacy.min_group_size = 3;
        config.privacy.requests_retention_days = 30;
        config.privacy.notifications_retention_days = 36_500;
        round_trip(&config);

        config.network.bootstrap.truncate(1);
        config.web.trusted_proxies.truncate(1);
        config.network.listen.clear();
        config.federation.mode = FederationMode::Blocklist;
        round_trip(&config);
    }

    #[test]
    fn unset_options_are_commented_examples() {
        let text = Config::new("N", PathBuf::from("/d")).to_toml();
        assert!(text.contains("\n# public_url = "), "{text}");
        assert!(text.contains("\n# psk_file = "), "{text}");
        assert!(text.contains("\n# listen = \"127.0.0.1:9464\""), "{text}");
    }
}
