//! The typed, validated settings a node runs with, and their defaults.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::PathBuf;
use std::str::FromStr;

/// Default `web.listen`: loopback only.
pub const DEFAULT_WEB_LISTEN: SocketAddr =
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080));
/// Default `network.listen`: loopback, any free TCP port.
pub const DEFAULT_NETWORK_LISTEN: &[&str] = &["/ip4/127.0.0.1/tcp/0"];
/// Default `network.idle_timeout_secs`.
pub const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 3600;
/// Smallest accepted `network.idle_timeout_secs`.
pub const MIN_IDLE_TIMEOUT_SECS: u64 = 10;
/// Largest accepted `network.idle_timeout_secs` (one year); larger values
/// risk overflowing `Instant + Duration` arithmetic in the node.
pub const MAX_IDLE_TIMEOUT_SECS: u64 = 365 * 24 * 3600;
/// Default `network.target_peers`.
pub const DEFAULT_TARGET_PEERS: u32 = 8;
/// Largest accepted `network.target_peers`.
pub const MAX_TARGET_PEERS: u32 = 1000;
/// Default `network.reconcile_interval_secs`.
pub const DEFAULT_RECONCILE_INTERVAL_SECS: u64 = 30;
/// Smallest accepted `network.reconcile_interval_secs`.
pub const MIN_RECONCILE_INTERVAL_SECS: u64 = 1;
/// Largest accepted `network.reconcile_interval_secs`.
pub const MAX_RECONCILE_INTERVAL_SECS: u64 = 3600;
/// Default `federation.max_records_per_org`.
pub const DEFAULT_MAX_RECORDS_PER_ORG: u32 = 10_000;
/// Default `federation.requests_per_minute`.
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 60;
/// Default `federation.new_org_hours`: an organisation first seen less
/// than three days ago is new.
pub const DEFAULT_NEW_ORG_HOURS: u32 = 72;
/// Largest accepted `federation.new_org_hours` (a year).
pub const MAX_NEW_ORG_HOURS: u32 = 365 * 24;
/// Default `federation.new_org_requests_per_minute`: shared by every new
/// organisation together.
pub const DEFAULT_NEW_ORG_REQUESTS_PER_MINUTE: u32 = 20;
/// Default `federation.node_requests_per_minute`: all requests together.
pub const DEFAULT_NODE_REQUESTS_PER_MINUTE: u32 = 300;
/// Default `federation.max_pending_per_person`.
pub const DEFAULT_MAX_PENDING_PER_PERSON: u32 = 50;
/// Smallest accepted `federation.max_pending_per_person` (half of it is
/// kept for organisations that are not new, so it must split in two).
pub const MIN_MAX_PENDING_PER_PERSON: u32 = 2;
/// Default `search.cached_results`: a result is about 30 kB, so about 8 MB.
pub const DEFAULT_CACHED_RESULTS: u32 = 256;
/// Largest accepted `search.cached_results` (about 2 GB of results).
pub const MAX_CACHED_RESULTS: u32 = 65_536;
/// Default `log.audit_retention_days`.
pub const DEFAULT_AUDIT_RETENTION_DAYS: u32 = 180;
/// Largest accepted `log.audit_retention_days` (about a hundred years).
pub const MAX_AUDIT_RETENTION_DAYS: u32 = 36_500;
/// Default `privacy.min_group_size`: a figure about people is shown only
/// when at least this many stand behind it.
pub const DEFAULT_MIN_GROUP_SIZE: u32 = 5;
/// Smallest accepted `privacy.min_group_size`: below three, a figure
/// can single out one person to whoever knows one other.
pub const MIN_MIN_GROUP_SIZE: u32 = 3;
/// Largest accepted `privacy.min_group_size`.
pub const MAX_MIN_GROUP_SIZE: u32 = 1000;
/// Default `privacy.requests_retention_days` (about two years).
pub const DEFAULT_REQUESTS_RETENTION_DAYS: u32 = 730;
/// Smallest accepted `privacy.requests_retention_days`.
pub const MIN_REQUESTS_RETENTION_DAYS: u32 = 30;
/// Default `privacy.notifications_retention_days`.
pub const DEFAULT_NOTIFICATIONS_RETENTION_DAYS: u32 = 180;
/// Smallest accepted `privacy.notifications_retention_days`.
pub const MIN_NOTIFICATIONS_RETENTION_DAYS: u32 = 7;
/// Largest accepted `privacy.requests_retention_days` and
/// `privacy.notifications_retention_days` (about a hundred years).
pub const MAX_PRIVACY_RETENTION_DAYS: u32 = 36_500;
/// Default `log.filter`.
pub const DEFAULT_LOG_FILTER: &str = "info";
/// File name of the default `key_file`, inside `data_dir`.
pub const KEY_FILE_NAME: &str = "org.key";
/// Longest accepted `org.name`, in bytes.
pub const MAX_ORG_NAME_BYTES: usize = 100;
/// Longest accepted multiaddr string, in bytes.
pub const MAX_MULTIADDR_BYTES: usize = 512;
/// Most entries accepted in `network.listen` or `network.bootstrap`.
pub const MAX_MULTIADDRS: usize = 64;
/// Most entries accepted in `web.trusted_proxies`.
pub const MAX_TRUSTED_PROXIES: usize = 64;

/// Everything a node needs to know to start, merged from the config file and
/// `SKILLMESH_*` environment variables and validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `[org]`: who this node speaks for.
    pub org: OrgSettings,
    /// `data_dir`: where the node keeps its database and state.
    pub data_dir: PathBuf,
    /// `key_file`: the organisation's signing key; default `<data_dir>/org.key`.
    pub key_file: PathBuf,
    /// `[web]`: the web interface and HTTP API.
    pub web: WebSettings,
    /// `[network]`: the peer-to-peer transport.
    pub network: NetworkSettings,
    /// `[federation]`: which organisations to exchange records with, and limits.
    pub federation: FederationSettings,
    /// `[search]`: how searches are answered.
    pub search: SearchSettings,
    /// `[metrics]`: the Prometheus endpoint.
    pub metrics: MetricsSettings,
    /// `[log]`: what to log, and how.
    pub log: LogSettings,
    /// `[notifications.email]`: mail to people about what happened; none
    /// unless `smtp_url` is set.
    pub email: Option<EmailSettings>,
    /// `[auth]`: how people sign in.
    pub auth: AuthSettings,
    /// `[privacy]`: the smallest group a figure about people may describe,
    /// and how long finished requests and notifications are kept.
    pub privacy: PrivacySettings,
}

/// `[privacy]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivacySettings {
    /// `min_group_size`: a count, figure or summary aggregated over people
    /// (demand per topic, impact per topic or partner, published summaries)
    /// is shown only when at least this many distinct people stand behind
    /// it. Between 3 and 1000; default 5.
    pub min_group_size: u32,
    /// `requests_retention_days`: requests that are finished (answered,
    /// declined, cancelled, delivered), in the inbox and the outbox, are
    /// deleted this many days after they finished. Pending and queued ones
    /// are never deleted. Between 30 and 36500; default 730.
    pub requests_retention_days: u32,
    /// `notifications_retention_days`: notifications older than this are
    /// deleted. Between 7 and 36500; default 180.
    pub notifications_retention_days: u32,
}

impl Default for PrivacySettings {
    fn default() -> Self {
        PrivacySettings {
            min_group_size: DEFAULT_MIN_GROUP_SIZE,
            requests_retention_days: DEFAULT_REQUESTS_RETENTION_DAYS,
            notifications_retention_days: DEFAULT_NOTIFICATIONS_RETENTION_DAYS,
        }
    }
}

/// `[auth]`: how people sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSettings {
    /// `password_sign_in`: whether accounts may sign in with a password
    /// (default true). Off only when `[auth.oidc]` is set, so someone can
    /// always sign in.
    pub password_sign_in: bool,
    /// `[auth.oidc]`: single sign-on with the organisation's OpenID
    /// provider; none unless `issuer_url` is set.
    pub oidc: Option<OidcSettings>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            password_sign_in: true,
            oidc: None,
        }
    }
}

/// Longest accepted `auth.oidc.issuer_url`, in bytes.
pub const MAX_ISSUER_URL_BYTES: usize = 2048;
/// At most this many `auth.oidc.allowed_email_domains` and `scopes`.
pub const MAX_OIDC_LIST: usize = 64;

/// `[auth.oidc]`: sign-in with an OpenID Connect provider (authorization
/// code flow with PKCE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcSettings {
    /// `issuer_url`: the provider, as its discovery document names itself
    /// (`https://login.example.org/realms/staff`).
    pub issuer_url: String,
    /// `client_id`: this node's client at the provider.
    pub client_id: String,
    /// Where the client secret is read from when the node starts.
    pub client_secret: SecretSource,
    /// `allowed_email_domains`: only people whose verified address is at
    /// one of these domains sign in (lower case; empty: any domain).
    pub allowed_email_domains: Vec<String>,
    /// `admin_claim`: the claim that makes a person an admin here, if any.
    pub admin_claim: Option<String>,
    /// `admin_claim_value`: the value of `admin_claim` that makes an
    /// admin (the claim equal to it, or a list holding it); unset, the
    /// claim must be `true`.
    pub admin_claim_value: Option<String>,
    /// `scopes`: asked for besides `openid email profile` (a provider may
    /// release `groups`, say, only when asked).
    pub scopes: Vec<String>,
    /// `name`: what the sign-in button calls the provider.
    pub name: String,
}

/// Default `auth.oidc.name`.
pub const DEFAULT_OIDC_NAME: &str = "your organisation's account";

/// Where a secret comes from: never the config file itself, so the file
/// can be shared and kept in version control.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// A file holding it (`client_secret_file`), read at start.
    File(PathBuf),
    /// The environment variable's value (`SKILLMESH_AUTH_OIDC_CLIENT_SECRET`).
    Env(String),
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSource::File(path) => f.debug_tuple("File").field(path).finish(),
            SecretSource::Env(_) => f.write_str("Env(<redacted>)"),
        }
    }
}

/// Default `notifications.email.digest_interval_secs`: a day.
pub const DEFAULT_DIGEST_INTERVAL_SECS: u64 = 86_400;
/// Bounds of `notifications.email.digest_interval_secs`.
pub const MIN_DIGEST_INTERVAL_SECS: u64 = 1;
pub const MAX_DIGEST_INTERVAL_SECS: u64 = 7 * 86_400;

/// `[notifications.email]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailSettings {
    /// `smtp_url`: the mail server, as lettre reads it:
    /// `smtp://host:port` (STARTTLS when offered is not tried: plain),
    /// `smtp://host:port?tls=required`, or `smtps://host:port`;
    /// credentials as `smtp://user:password@host`.
    pub smtp_url: String,
    /// `from`: the sender address, such as `Skillmesh <skills@example.org>`.
    pub from: String,
    /// `digest_interval_secs`: how often people who chose a digest get
    /// one (default a day).
    pub digest_interval_secs: u64,
}

impl Config {
    /// A Config with defaults for everything but the org name and data dir.
    ///
    /// `key_file` becomes `<data_dir>/org.key`. The name is not validated here;
    /// [`Config::from_toml_str`] validates it when the rendered file is read back.
    pub fn new(org_name: &str, data_dir: PathBuf) -> Config {
        let key_file = data_dir.join(KEY_FILE_NAME);
        Config {
            org: OrgSettings {
                name: org_name.to_owned(),
            },
            data_dir,
            key_file,
            web: WebSettings::default(),
            network: NetworkSettings::default(),
            federation: FederationSettings::default(),
            search: SearchSettings::default(),
            metrics: MetricsSettings::default(),
            log: LogSettings::default(),
            email: None,
            auth: AuthSettings::default(),
            privacy: PrivacySettings::default(),
        }
    }
}

/// `[org]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgSettings {
    /// `org.name`: display name, 1..=100 bytes, no control characters.
    pub name: String,
}

/// `[web]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSettings {
    /// `web.listen`: address the HTTP server binds.
    pub listen: SocketAddr,
    /// `web.public_url`: how users reach the server, if not via `listen`;
    /// starts with `http://` or `https://`.
    pub public_url: Option<String>,
    /// `web.trusted_proxies`: addresses of reverse proxies in front of the
    /// web server. A request from one of them is taken to come from the
    /// address it names in `X-Forwarded-For`; from anywhere else that
    /// header is ignored, so clients cannot choose their own address.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            listen: DEFAULT_WEB_LISTEN,
            public_url: None,
            trusted_proxies: Vec::new(),
        }
    }
}

/// `[network]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkSettings {
    /// `network.listen`: multiaddrs to listen on (shape-checked only).
    pub listen: Vec<String>,
    /// `network.bootstrap`: multiaddrs of peers to dial at start-up (shape-checked only).
    pub bootstrap: Vec<String>,
    /// `network.mdns`: discover peers on the LAN by multicast.
    pub mdns: bool,
    /// `network.psk_file`: pre-shared key for a private network.
    pub psk_file: Option<PathBuf>,
    /// `network.idle_timeout_secs`: how long idle connections stay open.
    pub idle_timeout_secs: u64,
    /// `network.target_peers`: dial bootstrap and known peers while fewer
    /// than this many are connected.
    pub target_peers: u32,
    /// `network.reconcile_interval_secs`: how often the node compares its
    /// records with each connected peer's.
    pub reconcile_interval_secs: u64,
}

impl Default for NetworkSettings {
    fn default() -> Self {
        NetworkSettings {
            listen: DEFAULT_NETWORK_LISTEN
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            bootstrap: Vec::new(),
            mdns: false,
            psk_file: None,
            idle_timeout_secs: DEFAULT_IDLE_TIMEOUT_SECS,
            target_peers: DEFAULT_TARGET_PEERS,
            reconcile_interval_secs: DEFAULT_RECONCILE_INTERVAL_SECS,
        }
    }
}

/// `[federation]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederationSettings {
    /// `federation.mode`: which organisations to federate with.
    pub mode: FederationMode,
    /// `federation.approval_required`: new organisations wait for an admin.
    pub approval_required: bool,
    /// `federation.max_records_per_org`: at least 1.
    pub max_records_per_org: u32,
    /// `federation.requests_per_minute`: per organisation, at least 1.
    pub requests_per_minute: u32,
    /// `federation.new_org_hours`: an organisation first seen by this node
    /// less than this many hours ago, and not an allowed partner, is new.
    /// 0: none is.
    pub new_org_hours: u32,
    /// `federation.new_org_requests_per_minute`: requests from all new
    /// organisations together, at least 1.
    pub new_org_requests_per_minute: u32,
    /// `federation.node_requests_per_minute`: requests from all
    /// organisations together, at least 1.
    pub node_requests_per_minute: u32,
    /// `federation.max_pending_per_person`: unanswered requests one person's
    /// inbox holds; new organisations may fill half of it.
    pub max_pending_per_person: u32,
}

impl Default for FederationSettings {
    fn default() -> Self {
        FederationSettings {
            mode: FederationMode::default(),
            approval_required: false,
            max_records_per_org: DEFAULT_MAX_RECORDS_PER_ORG,
            requests_per_minute: DEFAULT_REQUESTS_PER_MINUTE,
            new_org_hours: DEFAULT_NEW_ORG_HOURS,
            new_org_requests_per_minute: DEFAULT_NEW_ORG_REQUESTS_PER_MINUTE,
            node_requests_per_minute: DEFAULT_NODE_REQUESTS_PER_MINUTE,
            max_pending_per_person: DEFAULT_MAX_PENDING_PER_PERSON,
        }
    }
}

/// `[search]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchSettings {
    /// `search.cached_results`: how many recent search results the node
    /// keeps to answer the same query again without redoing the search.
    /// A result is served again only while nothing it was made of changed
    /// (the catalogue, what the index covers, the expiry of its matches),
    /// so a cached answer is always what a new search would give. A result
    /// is about 30 kB, so the default of 256 is about 8 MB. 0 turns the
    /// cache off; at most 65,536.
    pub cached_results: u32,
}

impl Default for SearchSettings {
    fn default() -> Self {
        SearchSettings {
            cached_results: DEFAULT_CACHED_RESULTS,
        }
    }
}

/// `[metrics]`
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsSettings {
    /// `metrics.listen`: where to serve `GET /metrics` for Prometheus, on a
    /// listener of its own (never the web port: the figures name partner
    /// organisations and volumes). `None`, the default, serves no metrics.
    pub listen: Option<SocketAddr>,
}

/// `[log]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    /// `log.filter`: a tracing `EnvFilter` directive string; only checked to be non-empty.
    pub filter: String,
    /// `log.format`: plain text for people, or one JSON object per line
    /// for log shippers.
    pub format: LogFormat,
    /// `log.audit_retention_days`: audit entries older than this are
    /// deleted by a background task.
    pub audit_retention_days: u32,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            filter: DEFAULT_LOG_FILTER.to_owned(),
            format: LogFormat::default(),
            audit_retention_days: DEFAULT_AUDIT_RETENTION_DAYS,
        }
    }
}

/// `log.format`: how log lines are written (to stderr).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, with `timestamp`, `level`, `target`,
    /// `message` and the event's fields.
    Json,
}

impl LogFormat {
    /// Every format, in the order they are documented.
    pub const ALL: [LogFormat; 2] = [LogFormat::Text, LogFormat::Json];

    /// The spelling used in the config file and `SKILLMESH_LOG_FORMAT`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LogFormat {
    type Err = ParseLogFormatError;

    /// Accepts exactly `text` or `json`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LogFormat::ALL
            .into_iter()
            .find(|format| format.as_str() == s)
            .ok_or_else(|| ParseLogFormatError {
                value: crate::text::shown(s),
            })
    }
}

/// A string that is not `text` or `json`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value} is not a log format (expected \"text\" or \"json\")")]
pub struct ParseLogFormatError {
    /// The rejected input, quoted (and shortened if long).
    value: String,
}

/// `federation.mode`: which other organisations this node federates with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum FederationMode {
    /// Any organisation.
    #[default]
    Open,
    /// Only organisations that have been allowed.
    Allowlist,
    /// Every organisation except those that have been blocked.
    Blocklist,
}

impl FederationMode {
    /// Every mode, in the order they are documented.
    pub const ALL: [FederationMode; 3] = [
        FederationMode::Open,
        FederationMode::Allowlist,
        FederationMode::Blocklist,
    ];

    /// The spelling used in the config file and `SKILLMESH_FEDERATION_MODE`.
    pub fn as_str(self) -> &'static str {
        match self {
            FederationMode::Open => "open",
            FederationMode::Allowlist => "allowlist",
            FederationMode::Blocklist => "blocklist",
        }
    }
}

impl fmt::Display for FederationMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FederationMode {
    type Err = ParseFederationModeError;

    /// Accepts exactly `open`, `allowlist` or `blocklist`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FederationMode::ALL
            .into_iter()
            .find(|mode| mode.as_str() == s)
            .ok_or_else(|| ParseFederationModeError {
                value: crate::text::shown(s),
            })
    }
}

/// A string that is not `open`, `allowlist` or `blocklist`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value} is not a federation mode (expected \"open\", \"allowlist\" or \"blocklist\")")]
pub struct ParseFederationModeError {
    /// The rejected input, quoted (and shortened if long).
    value: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_fills_defaults() {
        let config = Config::new("Northwind", PathBuf::from("/srv/sm"));
        assert_eq!(config.org.name, "Northwind");
        assert_eq!(config.data_dir, PathBuf::from("/srv/sm"));
        assert_eq!(config.key_file, PathBuf::from("/srv/sm/org.key"));
        assert_eq!(config.web.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.web.public_url, None);
        assert_eq!(config.network.listen, vec!["/ip4/127.0.0.1/tcp/0"]);
        assert!(config.network.bootstrap.is_empty());
        assert!(!config.network.mdns);
        assert_eq!(config.network.psk_file, None);
        assert_eq!(config.network.idle_timeout_secs, 3600);
        assert_eq!(config.federation.mode, FederationMode::Open);
        assert!(!config.federation.approval_required);
        assert_eq!(config.federation.max_records_per_org, 10_000);
        assert_eq!(config.federation.requests_per_minute, 60);
        assert_eq!(config.search.cached_results, 256);
        assert_eq!(config.log.filter, "info");
        assert_eq!(config.log.format, LogFormat::Text);
        assert_eq!(config.metrics.listen, None);
    }

    #[test]
    fn log_format_round_trips_and_rejects_other_spellings() {
        for format in LogFormat::ALL {
            assert_eq!(format.as_str().parse::<LogFormat>(), Ok(format));
            assert_eq!(format.to_string(), format.as_str());
        }
        for bad in ["", "JSON", "txt", " json"] {
            assert!(
                bad.parse::<LogFormat>().is_err(),
                "{bad:?} should be rejected"
            );
        }
        let err = "xml".parse::<LogFormat>().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("\"xml\" is not a log format (expected \"text\" or \"json\")")
        );
    }

    #[test]
    fn federation_mode_round_trips_through_strings() {
        for mode in FederationMode::ALL {
            assert_eq!(mode.as_str().parse::<FederationMode>(), Ok(mode));
            assert_eq!(mode.to_string(), mode.as_str());
        }
    }

    #[test]
    fn federation_mode_rejects_other_spellings() {
        for bad in ["", "Open", "allow", " open", "blocklist\n"] {
            let err = bad.parse::<FederationMode>().err();
            assert!(err.is_some(), "{bad:?} should be rejected");
        }
        let err = "allow"
            .parse::<FederationMode>()
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "\"allow\" is not a federation mode (expected \"open\", \"allowlist\" or \"blocklist\")"
            )
        );
    }
}
