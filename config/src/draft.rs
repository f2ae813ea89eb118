//! Settings merged from the file and the environment but not yet validated,
//! each remembering where it came from so errors can name its source.

use std::fmt;

/// Where a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The config file, at this TOML path (`web.listen`).
    File(&'static str),
    /// This environment variable (`SKILLMESH_WEB_LISTEN`).
    Env(&'static str),
}

impl Origin {
    /// The name an error message uses for the value.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Origin::File(path) | Origin::Env(path) => path,
        }
    }

    /// The name of entry `index` of a list value: `network.bootstrap[2]`.
    pub(crate) fn entry(self, index: usize) -> String {
        format!("{}[{index}]", self.name())
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sourced<T> {
    pub(crate) value: T,
    pub(crate) origin: Origin,
}

impl<T> Sourced<T> {
    pub(crate) fn new(value: T, origin: Origin) -> Self {
        Sourced { value, origin }
    }
}

/// One optional slot per setting; `None` means "use the default" (or, for a
/// required setting, "missing"). Paths are still unresolved strings and
/// integers still wide enough to report out-of-range values faithfully.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Draft {
    pub(crate) org_name: Option<Sourced<String>>,
    pub(crate) data_dir: Option<Sourced<String>>,
    pub(crate) key_file: Option<Sourced<String>>,
    pub(crate) web_listen: Option<Sourced<String>>,
    pub(crate) web_public_url: Option<Sourced<String>>,
    pub(crate) web_trusted_proxies: Option<Sourced<Vec<String>>>,
    pub(crate) network_listen: Option<Sourced<Vec<String>>>,
    pub(crate) network_bootstrap: Option<Sourced<Vec<String>>>,
    pub(crate) network_mdns: Option<Sourced<bool>>,
    pub(crate) network_psk_file: Option<Sourced<String>>,
    pub(crate) network_idle_timeout_secs: Option<Sourced<i64>>,
    pub(crate) network_target_peers: Option<Sourced<i64>>,
    pub(crate) network_reconcile_interval_secs: Option<Sourced<i64>>,
    pub(crate) federation_mode: Option<Sourced<String>>,
    pub(crate) federation_approval_required: Option<Sourced<bool>>,
    pub(crate) federation_max_records_per_org: Option<Sourced<i64>>,
    pub(crate) federation_requests_per_minute: Option<Sourced<i64>>,
    pub(crate) federation_new_org_hours: Option<Sourced<i64>>,
    pub(crate) federation_new_org_requests_per_minute: Option<Sourced<i64>>,
    pub(crate) federation_node_requests_per_minute: Option<Sourced<i64>>,
    pub(crate) federation_max_pending_per_person: Option<Sourced<i64>>,
    pub(crate) search_cached_results: Option<Sourced<i64>>,
    pub(crate) metrics_listen: Option<Sourced<String>>,
    pub(crate) log_filter: Option<Sourced<String>>,
    pub(crate) log_format: Option<Sourced<String>>,
    pub(crate) log_audit_retention_days: Option<Sourced<i64>>,
    pub(crate) email_smtp_url: Option<Sourced<String>>,
    pub(crate) email_from: Option<Sourced<String>>,
    pub(crate) auth_password_sign_in: Option<Sourced<bool>>,
    pub(crate) oidc_issuer_url: Option<Sourced<String>>,
    pub(crate) oidc_client_id: Option<Sourced<String>>,
    pub(crate) oidc_client_secret: Option<Sourced<String>>,
    pub(crate) oidc_client_secret_file: Option<Sourced<String>>,
    pub(crate) oidc_allowed_email_domains: Option<Sourced<Vec<String>>>,
    pub(crate) oidc_admin_claim: Option<Sourced<String>>,
    pub(crate) oidc_admin_claim_value: Option<Sourced<String>>,
    pub(crate) oidc_scopes: Option<Sourced<Vec<String>>>,
    pub(crate) oidc_name: Option<Sourced<String>>,
    pub(crate) email_digest_interval_secs: Option<Sourced<i64>>,
    pub(crate) privacy_min_group_size: Option<Sourced<i64>>,
    pub(crate) privacy_requests_retention_days: Option<Sourced<i64>>,
    pub(crate) privacy_notifications_retention_days: Option<Sourced<i64>>,
}
