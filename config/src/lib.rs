//! Skillmesh node settings: one TOML file plus `SKILLMESH_*` environment
//! overrides, merged into a typed, validated [`Config`].
//!
//! # The model
//!
//! 1. **The file** (usually `skillmesh.toml`) holds every setting; only
//!    `data_dir` and `[org] name` are required, the rest have defaults (see
//!    `skillmesh.example.toml` and `minimal.example.toml` next to this
//!    crate's manifest). Unknown keys are an error, so a typo cannot silently
//!    do nothing.
//! 2. **The environment** can override any single setting through the
//!    variables in [`ENV_VARS`] (`SKILLMESH_WEB_LISTEN`, ...). A variable that
//!    is set wins over the file. List settings take comma-separated values,
//!    booleans `true`/`false`/`1`/`0`, and an empty value unsets the optional
//!    `SKILLMESH_WEB_PUBLIC_URL`, `SKILLMESH_NETWORK_PSK_FILE` and
//!    `SKILLMESH_METRICS_LISTEN`. Other
//!    `SKILLMESH_*` variables are ignored here.
//! 3. **Validation** then fills in defaults and checks every value. Relative
//!    paths (`data_dir`, `key_file`, `network.psk_file`) are resolved against
//!    the directory holding the config file — also when they come from the
//!    environment, so the result never depends on the current directory
//!    beyond locating the file itself. `key_file` defaults to
//!    `<data_dir>/org.key`.
//!
//! Every error names the bad setting, as its TOML path (`web.listen`,
//! `network.bootstrap[2]`) or as the environment variable it came from, and
//! says what is wrong in one sentence:
//!
//! ```text
//! web.listen: "8080" is not a socket address (expected something like 127.0.0.1:8080)
//! ```
//!
//! [`Config::to_toml`] writes a complete, commented file that reads back to
//! the same `Config`; `skillmesh init` uses it.
//!
//! ```
//! use std::path::Path;
//! use skillmesh_config::{Config, FederationMode};
//!
//! let text = "data_dir = \"/var/lib/skillmesh\"\n[org]\nname = \"Northwind\"\n";
//! let env = [("SKILLMESH_FEDERATION_MODE".to_owned(), "allowlist".to_owned())];
//! let config = Config::from_toml_str(text, Path::new("/etc/skillmesh"), env)?;
//! assert_eq!(config.federation.mode, FederationMode::Allowlist);
//! assert_eq!(config.key_file, Path::new("/var/lib/skillmesh/org.key"));
//! assert_eq!(Config::from_toml_str(&config.to_toml(), Path::new("/"), []).ok(), Some(config));
//! # Ok::<(), skillmesh_config::ConfigError>(())
//! ```

#![warn(missing_docs)]

mod draft;
mod env;
mod error;
mod file;
mod load;
mod render;
mod settings;
mod text;
mod validate;

pub use env::ENV_VARS;
pub use error::ConfigError;
pub use load::MAX_FILE_BYTES;
pub use settings::{AuthSettings, DEFAULT_OIDC_NAME, OidcSettings, SecretSource};
pub use settings::{
    Config, DEFAULT_IDLE_TIMEOUT_SECS, DEFAULT_LOG_FILTER, DEFAULT_MAX_RECORDS_PER_ORG,
    DEFAULT_NETWORK_LISTEN, DEFAULT_REQUESTS_PER_MINUTE, DEFAULT_WEB_LISTEN, FederationMode,
    FederationSettings, KEY_FILE_NAME, LogFormat, LogSettings, MAX_IDLE_TIMEOUT_SECS,
    MAX_MULTIADDR_BYTES, MAX_MULTIADDRS, MAX_ORG_NAME_BYTES, MIN_IDLE_TIMEOUT_SECS,
    MetricsSettings, NetworkSettings, OrgSettings, ParseFederationModeError, ParseLogFormatError,
    SearchSettings, WebSettings,
};
pub use settings::{
    DEFAULT_AUDIT_RETENTION_DAYS, DEFAULT_MAX_PENDING_PER_PERSON, DEFAULT_NEW_ORG_HOURS,
    DEFAULT_NEW_ORG_REQUESTS_PER_MINUTE, DEFAULT_NODE_REQUESTS_PER_MINUTE,
    MAX_AUDIT_RETENTION_DAYS, MAX_NEW_ORG_HOURS, MIN_MAX_PENDING_PER_PERSON,
};
pub use settings::{DEFAULT_CACHED_RESULTS, MAX_CACHED_RESULTS};
pub use settings::{DEFAULT_DIGEST_INTERVAL_SECS, EmailSettings};
pub use settings::{
    DEFAULT_MIN_GROUP_SIZE, DEFAULT_NOTIFICATIONS_RETENTION_DAYS, DEFAULT_REQUESTS_RETENTION_DAYS,
    MAX_MIN_GROUP_SIZE, MAX_PRIVACY_RETENTION_DAYS, MIN_MIN_GROUP_SIZE,
    MIN_NOTIFICATIONS_RETENTION_DAYS, MIN_REQUESTS_RETENTION_DAYS, PrivacySettings,
};
pub use settings::{
    DEFAULT_RECONCILE_INTERVAL_SECS, DEFAULT_TARGET_PEERS, MAX_RECONCILE_INTERVAL_SECS,
    MAX_TARGET_PEERS, MIN_RECONCILE_INTERVAL_SECS,
};
