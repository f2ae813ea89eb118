//! `SKILLMESH_*` environment overrides: an explicit table of variables, each
//! replacing one setting from the file.
//!
//! Values are parsed here only as far as their type (bool, integer, list);
//! everything else is checked by [`crate::validate`], which names the
//! variable rather than the TOML path when the value came from here.

use crate::draft::{Draft, Origin, Sourced};
use crate::error::ConfigError;
use crate::text::shown;

const ORG_NAME: &str = "SKILLMESH_ORG_NAME";
const DATA_DIR: &str = "SKILLMESH_DATA_DIR";
const KEY_FILE: &str = "SKILLMESH_KEY_FILE";
const WEB_LISTEN: &str = "SKILLMESH_WEB_LISTEN";
const WEB_PUBLIC_URL: &str = "SKILLMESH_WEB_PUBLIC_URL";
const WEB_TRUSTED_PROXIES: &str = "SKILLMESH_WEB_TRUSTED_PROXIES";
const NETWORK_LISTEN: &str = "SKILLMESH_NETWORK_LISTEN";
const NETWORK_BOOTSTRAP: &str = "SKILLMESH_NETWORK_BOOTSTRAP";
const NETWORK_MDNS: &str = "SKILLMESH_NETWORK_MDNS";
const NETWORK_PSK_FILE: &str = "SKILLMESH_NETWORK_PSK_FILE";
const NETWORK_IDLE_TIMEOUT_SECS: &str = "SKILLMESH_NETWORK_IDLE_TIMEOUT_SECS";
const NETWORK_TARGET_PEERS: &str = "SKILLMESH_NETWORK_TARGET_PEERS";
const NETWORK_RECONCILE_INTERVAL_SECS: &str = "SKILLMESH_NETWORK_RECONCILE_INTERVAL_SECS";
const FEDERATION_MODE: &str = "SKILLMESH_FEDERATION_MODE";
const FEDERATION_APPROVAL_REQUIRED: &str = "SKILLMESH_FEDERATION_APPROVAL_REQUIRED";
const FEDERATION_MAX_RECORDS_PER_ORG: &str = "SKILLMESH_FEDERATION_MAX_RECORDS_PER_ORG";
const FEDERATION_REQUESTS_PER_MINUTE: &str = "SKILLMESH_FEDERATION_REQUESTS_PER_MINUTE";
const FEDERATION_NEW_ORG_HOURS: &str = "SKILLMESH_FEDERATION_NEW_ORG_HOURS";
const FEDERATION_NEW_ORG_REQUESTS_PER_MINUTE: &str =
    "SKILLMESH_FEDERATION_NEW_ORG_REQUESTS_PER_MINUTE";
const FEDERATION_NODE_REQUESTS_PER_MINUTE: &str = "SKILLMESH_FEDERATION_NODE_REQUESTS_PER_MINUTE";
const FEDERATION_MAX_PENDING_PER_PERSON: &str = "SKILLMESH_FEDERATION_MAX_PENDING_PER_PERSON";
const SEARCH_CACHED_RESULTS: &str = "SKILLMESH_SEARCH_CACHED_RESULTS";
const LOG_AUDIT_RETENTION_DAYS: &str = "SKILLMESH_LOG_AUDIT_RETENTION_DAYS";
const METRICS_LISTEN: &str = "SKILLMESH_METRICS_LISTEN";
const LOG: &str = "SKILLMESH_LOG";
const LOG_FORMAT: &str = "SKILLMESH_LOG_FORMAT";
const EMAIL_SMTP_URL: &str = "SKILLMESH_NOTIFICATIONS_EMAIL_SMTP_URL";
const EMAIL_FROM: &str = "SKILLMESH_NOTIFICATIONS_EMAIL_FROM";
const EMAIL_DIGEST_INTERVAL_SECS: &str = "SKILLMESH_NOTIFICATIONS_EMAIL_DIGEST_INTERVAL_SECS";
const AUTH_PASSWORD_SIGN_IN: &str = "SKILLMESH_AUTH_PASSWORD_SIGN_IN";
const OIDC_ISSUER_URL: &str = "SKILLMESH_AUTH_OIDC_ISSUER_URL";
const OIDC_CLIENT_ID: &str = "SKILLMESH_AUTH_OIDC_CLIENT_ID";
const OIDC_CLIENT_SECRET: &str = "SKILLMESH_AUTH_OIDC_CLIENT_SECRET";
const OIDC_CLIENT_SECRET_FILE: &str = "SKILLMESH_AUTH_OIDC_CLIENT_SECRET_FILE";
const OIDC_ALLOWED_EMAIL_DOMAINS: &str = "SKILLMESH_AUTH_OIDC_ALLOWED_EMAIL_DOMAINS";
const OIDC_ADMIN_CLAIM: &str = "SKILLMESH_AUTH_OIDC_ADMIN_CLAIM";
const OIDC_ADMIN_CLAIM_VALUE: &str = "SKILLMESH_AUTH_OIDC_ADMIN_CLAIM_VALUE";
const OIDC_SCOPES: &str = "SKILLMESH_AUTH_OIDC_SCOPES";
const OIDC_NAME: &str = "SKILLMESH_AUTH_OIDC_NAME";
const PRIVACY_MIN_GROUP_SIZE: &str = "SKILLMESH_PRIVACY_MIN_GROUP_SIZE";
const PRIVACY_REQUESTS_RETENTION_DAYS: &str = "SKILLMESH_PRIVACY_REQUESTS_RETENTION_DAYS";
const PRIVACY_NOTIFICATIONS_RETENTION_DAYS: &str = "SKILLMESH_PRIVACY_NOTIFICATIONS_RETENTION_DAYS";

/// Every environment variable that overrides a setting. Other variables
/// starting with `SKILLMESH_` are ignored (a CLI may warn about them).
pub const ENV_VARS: &[&str] = &[
    ORG_NAME,
    DATA_DIR,
    KEY_FILE,
    WEB_LISTEN,
    WEB_PUBLIC_URL,
    WEB_TRUSTED_PROXIES,
    NETWORK_LISTEN,
    NETWORK_BOOTSTRAP,
    NETWORK_MDNS,
    NETWORK_PSK_FILE,
    NETWORK_IDLE_TIMEOUT_SECS,
    NETWORK_TARGET_PEERS,
    NETWORK_RECONCILE_INTERVAL_SECS,
    FEDERATION_MODE,
    FEDERATION_APPROVAL_REQUIRED,
    FEDERATION_MAX_RECORDS_PER_ORG,
    FEDERATION_REQUESTS_PER_MINUTE,
    FEDERATION_NEW_ORG_HOURS,
    FEDERATION_NEW_ORG_REQUESTS_PER_MINUTE,
    FEDERATION_NODE_REQUESTS_PER_MINUTE,
    FEDERATION_MAX_PENDING_PER_PERSON,
    SEARCH_CACHED_RESULTS,
    METRICS_LISTEN,
    LOG,
    LOG_FORMAT,
    LOG_AUDIT_RETENTION_DAYS,
    EMAIL_SMTP_URL,
    EMAIL_FROM,
    EMAIL_DIGEST_INTERVAL_SECS,
    AUTH_PASSWORD_SIGN_IN,
    OIDC_ISSUER_URL,
    OIDC_CLIENT_ID,
    OIDC_CLIENT_SECRET,
    OIDC_CLIENT_SECRET_FILE,
    OIDC_ALLOWED_EMAIL_DOMAINS,
    OIDC_ADMIN_CLAIM,
    OIDC_ADMIN_CLAIM_VALUE,
    OIDC_SCOPES,
    OIDC_NAME,
    PRIVACY_MIN_GROUP_SIZE,
    PRIVACY_REQUESTS_RETENTION_DAYS,
    PRIVACY_NOTIFICATIONS_RETENTION_DAYS,
];

/// Overlay every supported variable in `env` onto `draft`; unsupported names
/// are skipped. If a name appears twice, the later value wins.
pub(crate) fn apply(
    draft: &mut Draft,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    for (name, value) in env {
        if let Some(&var) = ENV_VARS.iter().find(|var| **var == name) {
            apply_one(draft, var, &value)?;
        }
    }
    Ok(())
}

/// The supported variables from the process environment. A supported
/// variable whose value is not UTF-8 is an error naming it; others are not
/// looked at.
pub(crate) fn from_process() -> Result<Vec<(String, String)>, ConfigError> {
    let mut pairs = Vec::new();
    for (name, value) in std::env::vars_os() {
        let Some(&var) = ENV_VARS.iter().find(|var| name.to_str() == Some(**var)) else {
            continue;
        };
        match value.into_string() {
            Ok(value) => pairs.push((var.to_owned(), value)),
            Err(_) => return Err(ConfigError::invalid(var, "is not valid UTF-8")),
        }
    }
    Ok(pairs)
}

fn apply_one(draft: &mut Draft, var: &'static str, value: &str) -> Result<(), ConfigError> {
    let origin = Origin::Env(var);
    let text = || Some(Sourced::new(value.to_owned(), origin));
    // An empty value unsets an optional setting rather than being invalid,
    // so the environment can switch off something the file turned on.
    let optional_text = || (!value.is_empty()).then(|| Sourced::new(value.to_owned(), origin));
    let list = || Some(Sourced::new(split_list(value), origin));
    match var {
        ORG_NAME => draft.org_name = text(),
        DATA_DIR => draft.data_dir = text(),
        KEY_FILE => draft.key_file = text(),
        WEB_LISTEN => draft.web_listen = Some(Sourced::new(value.trim().to_owned(), origin)),
        WEB_PUBLIC_URL => draft.web_public_url = optional_text(),
        WEB_TRUSTED_PROXIES => draft.web_trusted_proxies = list(),
        NETWORK_LISTEN => draft.network_listen = list(),
        NETWORK_BOOTSTRAP => draft.network_bootstrap = list(),
        NETWORK_MDNS => draft.network_mdns = Some(Sourced::new(parse_bool(var, value)?, origin)),
        NETWORK_PSK_FILE => draft.network_psk_file = optional_text(),
        NETWORK_IDLE_TIMEOUT_SECS => {
            draft.network_idle_timeout_secs = Some(Sourced::new(parse_int(var, value)?, origin));
        }
        NETWORK_TARGET_PEERS => {
            draft.network_target_peers = Some(Sourced::new(parse_int(var, value)?, origin));
        }
        NETWORK_RECONCILE_INTERVAL_SECS => {
            draft.network_reconcile_interval_secs =
                Some(Sourced::new(parse_int(var, value)?, origin));
        }
        FEDERATION_MODE => {
            draft.federation_mode = Some(Sourced::new(value.trim().to_owned(), origin));
        }
        FEDERATION_APPROVAL_REQUIRED => {
            draft.federation_approval_required =
                Some(Sourced::new(parse_bool(var, value)?, origin));
        }
        FEDERATION_MAX_RECORDS_PER_ORG => {
            draft.federation_max_records_per_org =
                Some(Sourced::new(parse_int(var, value)?, origin));
        }
        FEDERATION_REQUESTS_PER_MINUTE => {
            draft.federation_requests_per_minute =
                Some(Sourced::new(parse_int(var, value)?, origin));
        }
        FEDERATION_NEW_ORG_HOURS => {
            draft.federation_new_org_hours = Some(Sourced::new(parse_int(var, value)?, origin))
        }
        FEDERATION_NEW_ORG_REQUESTS_PER_MINUTE => {
            draft.federation_new_org_requests_per_minute =
                Some(Sourced::new(parse_int(var, value)?, origin))
        }
        FEDERATION_NODE_REQUESTS_PER_MINUTE => {
            draft.federation_node_requests_per_minute =
                Some(Sourced::new(parse_int(var, value)?, origin))
        }
        FEDERATION_MAX_PENDING_PER_PERSON => {
            draft.federation_max_pending_per_person =
                Some(Sourced::new(parse_int(var, value)?, origin))
        }
        SEARCH_CACHED_RESULTS => {
            draft.search_cached_results = Some(Sourced::new(parse_int(var, value)?, origin))
        }
        LOG_AUDIT_RETENTION_DAYS => {
            draft.log_audit_retention_days = Some(Sourced::new(parse_int(var, value)?, origin))
        }
        METRICS_LISTEN => {
            draft.metrics_listen =
                (!value.trim().is_empty()).then(|| Sourced::new(value.trim().to_owned(), origin));
        }
        EMAIL_SMTP_URL => draft.email_smtp_url = optional_text(),
        EMAIL_FROM => draft.email_from = optional_text(),
        EMAIL_DIGEST_INTERVAL_SECS => {
            draft.email_digest_interval_secs = Some(Sourced::new(parse_int(var, value)?, origin))
        }
        AUTH_PASSWORD_SIGN_IN => {
            draft.auth_password_sign_in = Some(Sourced::new(parse_bool(var, value)?, origin))
        }
        OIDC_ISSUER_URL => draft.oidc_issuer_url = optional_text(),
        OIDC_CLIENT_ID => draft.oidc_client_id = optional_text(),
        OIDC_CLIENT_SECRET => draft.oidc_client_secret = optional_text(),
        OIDC_CLIENT_SECRET_FILE => draft.oidc_client_secret_file = optional_text(),
        OIDC_ALLOWED_EMAIL_DOMAINS => draft.oidc_allowed_email_domains = list(),
        OIDC_ADMIN_CLAIM => draft.oidc_admin_claim = optional_text(),
        OIDC_ADMIN_CLAIM_VALUE => draft.oidc_admin_claim_value = optional_text(),
        OIDC_SCOPES => draft.oidc_scopes = list(),
        OIDC_NAME => draft.oidc_name = optional_text(),
        PRIVACY_MIN_GROUP_SIZE => {
            draft.privacy_min_group_size = Some(Sourced::new(parse_int(var, value)?, origin))
        }
        PRIVACY_REQUESTS_RETENTION_DAYS => {
            draft.privacy_requests_retention_days =
                Some(Sourced::new(parse_int(var, value)?, origin))
        }
        PRIVACY_NOTIFICATIONS_RETENTION_DAYS => {
            draft.privacy_notifications_retention_days =
                Some(Sourced::new(parse_int(var, value)?, origin))
        }
        LOG => draft.log_filter = text(),
        LOG_FORMAT => draft.log_format = Some(Sourced::new(value.trim().to_owned(), origin)),
        // Unreachable: `var` comes from ENV_VARS, and a test checks that
        // every entry there changes the draft.
        _ => {}
    }
    Ok(())
}

/// Comma-separated entries, each trimmed; blank means an empty list.
fn split_list(value: &str) -> Vec<String> {
    if value.trim().is_empty() {
        return Vec::new();
    }
    value
        .split(',')
        .map(|entry| entry.trim().to_owned())
        .collect()
}

fn parse_bool(var: &str, value: &str) -> Result<bool, ConfigError> {
    let trimmed = value.trim();
    if trimmed == "1" || trimmed.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if trimmed == "0" || trimmed.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(ConfigError::invalid(
            var,
            format!(
                "{} is not a boolean (expected true, false, 1 or 0)",
                shown(value)
            ),
        ))
    }
}

fn parse_int(var: &str, value: &str) -> Result<i64, ConfigError> {
    use std::num::IntErrorKind;
    value.trim().parse::<i64>().map_err(|e| {
        let reason = match e.kind() {
            IntErrorKind::PosOverflow | IntErrorKind::NegOverflow => "is far out of range",
            _ => "is not a whole number",
        };
        ConfigError::invalid(var, format!("{} {reason}", shown(value)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(name: &str, value: &str) -> Result<Draft, ConfigError> {
        let mut draft = Draft::default();
        apply(&mut draft, [(name.to_owned(), value.to_owned())]).map(|()| draft)
    }

    fn reason(result: Result<Draft, ConfigError>) -> String {
        match result {
            Ok(draft) => panic!("expected an error, got {draft:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn every_listed_variable_sets_something() {
        // A value every variable accepts at this stage.
        for var in ENV_VARS {
            let draft = applied(var, "1").unwrap_or_default();
            assert_ne!(draft, Draft::default(), "{var} is listed but not applied");
        }
    }

    #[test]
    fn listed_variables_are_unique_and_prefixed() {
        for (i, var) in ENV_VARS.iter().enumerate() {
            assert!(var.starts_with("SKILLMESH_"), "{var}");
            assert!(!ENV_VARS[..i].contains(var), "{var} listed twice");
        }
    }

    #[test]
    fn unknown_skillmesh_variables_are_ignored() {
        let draft = applied("SKILLMESH_WEB_LISTN", "nonsense");
        assert_eq!(draft.ok(), Some(Draft::default()));
        let draft = applied("skillmesh_web_listen", "nonsense");
        assert_eq!(draft.ok(), Some(Draft::default()));
    }

    #[test]
    fn values_remember_their_variable() {
        let draft = applied(WEB_LISTEN, " 0.0.0.0:80 ").unwrap_or_default();
        assert_eq!(
            draft.web_listen,
            Some(Sourced::new(
                "0.0.0.0:80".to_owned(),
                Origin::Env(WEB_LISTEN)
            ))
        );
    }

    #[test]
    fn lists_split_on_commas() {
        let draft = applied(NETWORK_BOOTSTRAP, "/a, /b ,/c").unwrap_or_default();
        let list = draft.network_bootstrap.map(|s| s.value);
        assert_eq!(list, Some(vec!["/a".into(), "/b".into(), "/c".into()]));

        let draft = applied(NETWORK_BOOTSTRAP, "  ").unwrap_or_default();
        assert_eq!(draft.network_bootstrap.map(|s| s.value), Some(vec![]));

        let draft = applied(NETWORK_LISTEN, "/a,,/b").unwrap_or_default();
        let list = draft.network_listen.map(|s| s.value);
        assert_eq!(list, Some(vec!["/a".into(), String::new(), "/b".into()]));
    }

    #[test]
    fn booleans() {
        for (text, want) in [
            ("true", true),
            ("TRUE", true),
            ("1", true),
            (" 0", false),
            ("False", false),
        ] {
            let draft = applied(NETWORK_MDNS, text).unwrap_or_default();
            assert_eq!(draft.network_mdns.map(|s| s.value), Some(want), "{text}");
        }
        let msg = reason(applied(NETWORK_MDNS, "yes"));
        assert_eq!(
            msg,
            "SKILLMESH_NETWORK_MDNS: \"yes\" is not a boolean (expected true, false, 1 or 0)"
        );
    }

    #[test]
    fn integers() {
        let draft = applied(FEDERATION_REQUESTS_PER_MINUTE, " 120 ").unwrap_or_default();
        assert_eq!(
            draft.federation_requests_per_minute.map(|s| s.value),
            Some(120)
        );
        let msg = reason(applied(NETWORK_IDLE_TIMEOUT_SECS, "1h"));
        assert_eq!(
            msg,
            "SKILLMESH_NETWORK_IDLE_TIMEOUT_SECS: \"1h\" is not a whole number"
        );
        let msg = reason(applied(
            FEDERATION_MAX_RECORDS_PER_ORG,
            "99999999999999999999",
        ));
        assert!(
            msg.starts_with("SKILLMESH_FEDERATION_MAX_RECORDS_PER_ORG: "),
            "{msg}"
        );
    }

    #[test]
    fn empty_value_unsets_optional_settings() {
        let mut draft = Draft {
            web_public_url: Some(Sourced::new(
                "https://x".into(),
                Origin::File("web.public_url"),
            )),
            ..Draft::default()
        };
        let env = [(WEB_PUBLIC_URL.to_owned(), String::new())];
        assert!(apply(&mut draft, env).is_ok());
        assert_eq!(draft.web_public_url, None);

        let mut draft = Draft {
            metrics_listen: Some(Sourced::new(
                "127.0.0.1:9464".into(),
                Origin::File("metrics.listen"),
            )),
            ..Draft::default()
        };
        let env = [(METRICS_LISTEN.to_owned(), " ".to_owned())];
        assert!(apply(&mut draft, env).is_ok());
        assert_eq!(draft.metrics_listen, None);
    }

    #[test]
    fn later_duplicate_wins() {
        let mut draft = Draft::default();
        let env = [
            (LOG.to_owned(), "debug".to_owned()),
            (LOG.to_owned(), "warn".to_owned()),
        ];
        assert!(apply(&mut draft, env).is_ok());
        assert_eq!(draft.log_filter.map(|s| s.value).as_deref(), Some("warn"));
    }
}
