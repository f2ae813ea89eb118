//! Checking a merged [`Draft`] and turning it into a [`Config`]: defaults for
//! what is unset, path resolution, and one error naming the first bad value.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use crate::draft::{Draft, Origin, Sourced};
use crate::error::ConfigError;
use crate::settings::{
    AuthSettings, Config, DEFAULT_DIGEST_INTERVAL_SECS, DEFAULT_OIDC_NAME, EmailSettings,
    FederationMode, FederationSettings, KEY_FILE_NAME, LogFormat, LogSettings,
    MAX_AUDIT_RETENTION_DAYS, MAX_CACHED_RESULTS, MAX_DIGEST_INTERVAL_SECS, MAX_IDLE_TIMEOUT_SECS,
    MAX_ISSUER_URL_BYTES, MAX_MULTIADDR_BYTES, MAX_MULTIADDRS, MAX_NEW_ORG_HOURS, MAX_OIDC_LIST,
    MAX_ORG_NAME_BYTES, MAX_RECONCILE_INTERVAL_SECS, MAX_TARGET_PEERS, MAX_TRUSTED_PROXIES,
    MIN_DIGEST_INTERVAL_SECS, MIN_IDLE_TIMEOUT_SECS, MIN_MAX_PENDING_PER_PERSON,
    MIN_RECONCILE_INTERVAL_SECS, MetricsSettings, NetworkSettings, OidcSettings, OrgSettings,
    PrivacySettings, SearchSettings, SecretSource, WebSettings,
};
use crate::settings::{
    MAX_MIN_GROUP_SIZE, MAX_PRIVACY_RETENTION_DAYS, MIN_MIN_GROUP_SIZE,
    MIN_NOTIFICATIONS_RETENTION_DAYS, MIN_REQUESTS_RETENTION_DAYS,
};
use crate::text::shown;

/// Longest accepted `web.public_url`, in bytes.
const MAX_URL_BYTES: usize = 2048;

/// Validate `draft`, fill in defaults and resolve relative paths against
/// `base_dir`. Settings are checked in file order and the first problem is
/// returned.
pub(crate) fn validate(draft: Draft, base_dir: &Path) -> Result<Config, ConfigError> {
    let name = required(draft.org_name, "org.name", "SKILLMESH_ORG_NAME")?;
    let org = OrgSettings {
        name: org_name(name)?,
    };

    let data_dir = required(draft.data_dir, "data_dir", "SKILLMESH_DATA_DIR")?;
    let data_dir = path(data_dir, base_dir)?;
    let key_file = match draft.key_file {
        Some(key_file) => path(key_file, base_dir)?,
        None => data_dir.join(KEY_FILE_NAME),
    };

    let defaults = WebSettings::default();
    let web = WebSettings {
        listen: match draft.web_listen {
            Some(listen) => socket_addr(listen)?,
            None => defaults.listen,
        },
        public_url: draft.web_public_url.map(public_url).transpose()?,
        trusted_proxies: match draft.web_trusted_proxies {
            Some(proxies) => ip_addrs(proxies)?,
            None => defaults.trusted_proxies,
        },
    };

    let defaults = NetworkSettings::default();
    let network = NetworkSettings {
        listen: match draft.network_listen {
            Some(listen) => multiaddrs(listen)?,
            None => defaults.listen,
        },
        bootstrap: match draft.network_bootstrap {
            Some(bootstrap) => multiaddrs(bootstrap)?,
            None => defaults.bootstrap,
        },
        mdns: draft.network_mdns.map_or(defaults.mdns, |s| s.value),
        psk_file: draft
            .network_psk_file
            .map(|psk| path(psk, base_dir))
            .transpose()?,
        idle_timeout_secs: match draft.network_idle_timeout_secs {
            Some(secs) => in_range(secs, MIN_IDLE_TIMEOUT_SECS, MAX_IDLE_TIMEOUT_SECS)?,
            None => defaults.idle_timeout_secs,
        },
        target_peers: match draft.network_target_peers {
            Some(n) => u32::try_from(in_range(n, 1, u64::from(MAX_TARGET_PEERS))?)
                .unwrap_or(MAX_TARGET_PEERS),
            None => defaults.target_peers,
        },
        reconcile_interval_secs: match draft.network_reconcile_interval_secs {
            Some(secs) => in_range(
                secs,
                MIN_RECONCILE_INTERVAL_SECS,
                MAX_RECONCILE_INTERVAL_SECS,
            )?,
            None => defaults.reconcile_interval_secs,
        },
    };

    let defaults = FederationSettings::default();
    let federation = FederationSettings {
        mode: match draft.federation_mode {
            Some(mode) => federation_mode(mode)?,
            None => defaults.mode,
        },
        approval_required: draft
            .federation_approval_required
            .map_or(defaults.approval_required, |s| s.value),
        max_records_per_org: match draft.federation_max_records_per_org {
            Some(max) => positive_u32(max)?,
            None => defaults.max_records_per_org,
        },
        requests_per_minute: match draft.federation_requests_per_minute {
            Some(rate) => positive_u32(rate)?,
            None => defaults.requests_per_minute,
        },
        new_org_hours: match draft.federation_new_org_hours {
            Some(h) => u32_in(h, 0, MAX_NEW_ORG_HOURS)?,
            None => defaults.new_org_hours,
        },
        new_org_requests_per_minute: match draft.federation_new_org_requests_per_minute {
            Some(rate) => positive_u32(rate)?,
            None => defaults.new_org_requests_per_minute,
        },
        node_requests_per_minute: match draft.federation_node_requests_per_minute {
            Some(rate) => positive_u32(rate)?,
            None => defaults.node_requests_per_minute,
        },
        max_pending_per_person: match draft.federation_max_pending_per_person {
            Some(n) => u32_in(n, MIN_MAX_PENDING_PER_PERSON, u32::MAX)?,
            None => defaults.max_pending_per_person,
        },
    };

    let defaults = SearchSettings::default();
    let search = SearchSettings {
        cached_results: match draft.search_cached_results {
            Some(n) => u32_in(n, 0, MAX_CACHED_RESULTS)?,
            None => defaults.cached_results,
        },
    };

    let metrics = MetricsSettings {
        listen: draft
            .metrics_listen
            .map(|listen| metrics_listen(listen, web.listen))
            .transpose()?,
    };

    let defaults = LogSettings::default();
    let log = LogSettings {
        filter: match draft.log_filter {
            Some(filter) => log_filter(filter)?,
            None => defaults.filter,
        },
        format: match draft.log_format {
            Some(format) => log_format(format)?,
            None => defaults.format,
        },
        audit_retention_days: match draft.log_audit_retention_days {
            Some(days) => u32_in(days, 1, MAX_AUDIT_RETENTION_DAYS)?,
            None => defaults.audit_retention_days,
        },
    };

    let email = match (draft.email_smtp_url, draft.email_from) {
        (None, None) => None,
        (Some(url), Some(from)) => Some(EmailSettings {
            smtp_url: smtp_url(url)?,
            from: mail_from(from)?,
            digest_interval_secs: match draft.email_digest_interval_secs {
                Some(secs) => in_range(secs, MIN_DIGEST_INTERVAL_SECS, MAX_DIGEST_INTERVAL_SECS)?,
                None => DEFAULT_DIGEST_INTERVAL_SECS,
            },
        }),
        (Some(url), None) => {
            return Err(invalid(
                url.origin,
                "needs notifications.email.from (SKILLMESH_NOTIFICATIONS_EMAIL_FROM) too: the address mail comes from",
            ));
        }
        (None, Some(from)) => {
            return Err(invalid(
                from.origin,
                "needs notifications.email.smtp_url (SKILLMESH_NOTIFICATIONS_EMAIL_SMTP_URL) too: the mail server",
            ));
        }
    };

    let oidc = match draft.oidc_issuer_url {
        None => {
            let stray = [
                draft.oidc_client_id.map(|s| s.origin),
                draft.oidc_client_secret.map(|s| s.origin),
                draft.oidc_client_secret_file.map(|s| s.origin),
                draft.oidc_admin_claim.map(|s| s.origin),
            ];
            if let Some(origin) = stray.into_iter().flatten().next() {
                return Err(invalid(
                    origin,
                    "needs auth.oidc.issuer_url (SKILLMESH_AUTH_OIDC_ISSUER_URL) too: the OpenID provider",
                ));
            }
            None
        }
        Some(issuer) => Some(OidcSettings {
            issuer_url: issuer_url(issuer)?,
            client_id: match draft.oidc_client_id {
                Some(id) => plain_text(id, 512)?,
                None => {
                    return Err(ConfigError::invalid(
                        "auth.oidc.client_id",
                        "is required with auth.oidc.issuer_url: this node's client id at the provider (or SKILLMESH_AUTH_OIDC_CLIENT_ID)",
                    ));
                }
            },
            client_secret: match (draft.oidc_client_secret, draft.oidc_client_secret_file) {
                (Some(secret), _) if !secret.value.trim().is_empty() => {
                    SecretSource::Env(secret.value.trim().to_string())
                }
                (_, Some(file)) => SecretSource::File(path(file, base_dir)?),
                _ => {
                    return Err(ConfigError::invalid(
                        "auth.oidc.client_secret_file",
                        "is required with auth.oidc.issuer_url: a file holding the client secret (or SKILLMESH_AUTH_OIDC_CLIENT_SECRET)",
                    ));
                }
            },
            allowed_email_domains: match draft.oidc_allowed_email_domains {
                Some(domains) => email_domains(domains)?,
                None => Vec::new(),
            },
            admin_claim: draft
                .oidc_admin_claim
                .map(|c| plain_text(c, 128))
                .transpose()?,
            admin_claim_value: draft
                .oidc_admin_claim_value
                .map(|v| plain_text(v, 256))
                .transpose()?,
            scopes: match draft.oidc_scopes {
                Some(scopes) => scope_list(scopes)?,
                None => Vec::new(),
            },
            name: match draft.oidc_name {
                Some(name) => plain_text(name, 80)?,
                None => DEFAULT_OIDC_NAME.to_string(),
            },
        }),
    };
    let password_sign_in = match draft.auth_password_sign_in {
        Some(Sourced {
            value: false,
            origin,
        }) if oidc.is_none() => {
            return Err(invalid(
                origin,
                "cannot be false without [auth.oidc]: nobody could sign in",
            ));
        }
        Some(on) => on.value,
        None => true,
    };
    let auth = AuthSettings {
        password_sign_in,
        oidc,
    };

    let defaults = PrivacySettings::default();
    let privacy = PrivacySettings {
        min_group_size: match draft.privacy_min_group_size {
            Some(n) => u32_in(n, MIN_MIN_GROUP_SIZE, MAX_MIN_GROUP_SIZE)?,
            None => defaults.min_group_size,
        },
        requests_retention_days: match draft.privacy_requests_retention_days {
            Some(days) => u32_in(
                days,
                MIN_REQUESTS_RETENTION_DAYS,
                MAX_PRIVACY_RETENTION_DAYS,
            )?,
            None => defaults.requests_retention_days,
        },
        notifications_retention_days: match draft.privacy_notifications_retention_days {
            Some(days) => u32_in(
                days,
                MIN_NOTIFICATIONS_RETENTION_DAYS,
                MAX_PRIVACY_RETENTION_DAYS,
            )?,
            None => defaults.notifications_retention_days,
        },
    };

    Ok(Config {
        org,
        data_dir,
        key_file,
        web,
        network,
        federation,
        search,
        metrics,
        log,
        email,
        auth,
        privacy,
    })
}

fn invalid(origin: Origin, reason: impl Into<String>) -> ConfigError {
    ConfigError::invalid(origin.name(), reason)
}

fn required<T>(
    value: Option<Sourced<T>>,
    field: &'static str,
    var: &'static str,
) -> Result<Sourced<T>, ConfigError> {
    value.ok_or_else(|| {
        ConfigError::invalid(
            field,
            format!("is required but missing (set it in the config file or with {var})"),
        )
    })
}

fn org_name(name: Sourced<String>) -> Result<String, ConfigError> {
    let Sourced { value, origin } = name;
    if value.trim().is_empty() {
        return Err(invalid(origin, "must not be empty or only spaces"));
    }
    if value.len() > MAX_ORG_NAME_BYTES {
        return Err(invalid(
            origin,
            format!(
                "is {} bytes long (at most {MAX_ORG_NAME_BYTES} bytes allowed)",
                value.len()
            ),
        ));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(invalid(
            origin,
            format!(
                "{} contains the control character {c:?} (names must be plain text on one line)",
                shown(&value)
            ),
        ));
    }
    Ok(value)
}

/// A path as written, made absolute by joining it to `base_dir` if relative.
/// An empty `base_dir` leaves relative paths exactly as written.
pub(crate) fn path(value: Sourced<String>, base_dir: &Path) -> Result<PathBuf, ConfigError> {
    let Sourced { value, origin } = value;
    if value.is_empty() {
        return Err(invalid(
            origin,
            "must not be empty (use \".\" for the config file's directory)",
        ));
    }
    if value.contains('\0') {
        return Err(invalid(
            origin,
            format!("{} contains a NUL byte", shown(&value)),
        ));
    }
    Ok(resolve(Path::new(&value), base_dir))
}

/// `path` if absolute, else `base_dir/path` with `.` components dropped
/// (`/etc/skillmesh` + `.` is `/etc/skillmesh`). `..` is kept: removing it
/// lexically is wrong when symlinks are involved.
pub(crate) fn resolve(path: &Path, base_dir: &Path) -> PathBuf {
    if path.is_absolute() || base_dir.as_os_str().is_empty() {
        return path.to_path_buf();
    }
    base_dir.join(path).components().collect()
}

fn socket_addr(listen: Sourced<String>) -> Result<SocketAddr, ConfigError> {
    let Sourced { value, origin } = listen;
    value.parse().map_err(|_| {
        invalid(
            origin,
            format!(
                "{} is not a socket address (expected something like 127.0.0.1:8080)",
                shown(&value)
            ),
        )
    })
}

/// A socket address that cannot collide with `web`'s: the two servers
/// would fight over one port (and the metrics must not be served to
/// whoever reaches the web port).
fn metrics_listen(listen: Sourced<String>, web: SocketAddr) -> Result<SocketAddr, ConfigError> {
    let origin = listen.origin;
    let addr = socket_addr(listen)?;
    let overlaps = addr.port() != 0
        && addr.port() == web.port()
        && (addr.ip() == web.ip() || addr.ip().is_unspecified() || web.ip().is_unspecified());
    if overlaps {
        return Err(invalid(
            origin,
            format!(
                "{addr} is the web server's port (web.listen is {web}); the metrics need a port of their own"
            ),
        ));
    }
    Ok(addr)
}

/// `smtp://` or `smtps://` with a host; the rest (port, `tls=`,
/// credentials) is read by the mail library when the node starts.
fn smtp_url(url: Sourced<String>) -> Result<String, ConfigError> {
    let Sourced { value, origin } = url;
    let rest = value
        .strip_prefix("smtp://")
        .or_else(|| value.strip_prefix("smtps://"));
    match rest {
        None => Err(invalid(
            origin,
            format!(
                "{} must start with smtp:// or smtps:// (for example smtp://mail.example.org:587?tls=required)",
                shown(&value)
            ),
        )),
        Some(rest) if rest.is_empty() || rest.starts_with(['/', ':', '?']) => Err(invalid(
            origin,
            format!("{} has no host name", shown(&value)),
        )),
        Some(_) if value.chars().any(|c| c.is_whitespace() || c.is_control()) => Err(invalid(
            origin,
            format!("{} contains spaces or control characters", shown(&value)),
        )),
        Some(_) => Ok(value),
    }
}

/// An address, possibly with a name: `skills@example.org` or
/// `Skillmesh <skills@example.org>`.
fn mail_from(from: Sourced<String>) -> Result<String, ConfigError> {
    let Sourced { value, origin } = from;
    let address = match (value.rfind('<'), value.strip_suffix('>')) {
        (Some(open), Some(_)) => &value[open + 1..value.len() - 1],
        _ => value.trim(),
    };
    let well_formed = matches!(address.split_once('@'), Some((local, domain)) if !local.is_empty() && domain.contains('.') && !domain.contains('@'))
        && !value.chars().any(char::is_control);
    if well_formed {
        Ok(value.trim().to_string())
    } else {
        Err(invalid(
            origin,
            format!(
                "{} is not an email address (for example Skillmesh <skills@example.org>)",
                shown(&value)
            ),
        ))
    }
}

/// `http://` or `https://` with a host, no fragment: what discovery is
/// asked at (plain http is for a provider on loopback, in tests).
fn issuer_url(url: Sourced<String>) -> Result<String, ConfigError> {
    let Sourced { value, origin } = url;
    let value = value.trim().to_string();
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    let problem = match rest {
        None => Some("must start with https:// (or http:// for a provider on this machine)"),
        Some(rest) if rest.is_empty() || rest.starts_with(['/', ':', '?', '#']) => {
            Some("has no host name")
        }
        Some(_) if value.len() > MAX_ISSUER_URL_BYTES => Some("is too long"),
        Some(_) if value.contains('#') || value.contains('?') => {
            Some("must not have a query or a fragment")
        }
        Some(_) if value.chars().any(|c| c.is_whitespace() || c.is_control()) => {
            Some("contains spaces or control characters")
        }
        Some(_) => None,
    };
    match problem {
        Some(p) => Err(invalid(origin, format!("{} {p}", shown(&value)))),
        None => Ok(value),
    }
}

/// Text of at most `max` bytes, trimmed, not empty, no control characters.
fn plain_text(text: Sourced<String>, max: usize) -> Result<String, ConfigError> {
    let Sourced { value, origin } = text;
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(invalid(origin, "is empty"));
    }
    if trimmed.len() > max || trimmed.chars().any(char::is_control) {
        return Err(invalid(
            origin,
            format!(
                "{} must be at most {max} bytes, without control characters",
                shown(&value)
            ),
        ));
    }
    Ok(trimmed.to_string())
}

/// Domain names, lower-cased: `example.org`, without `@`.
fn email_domains(domains: Sourced<Vec<String>>) -> Result<Vec<String>, ConfigError> {
    let Sourced { value, origin } = domains;
    if value.len() > MAX_OIDC_LIST {
        return Err(invalid(origin, format!("at most {MAX_OIDC_LIST} domains")));
    }
    let mut out = Vec::with_capacity(value.len());
    for (i, d) in value.iter().enumerate() {
        let d = d.trim().trim_start_matches('@').to_ascii_lowercase();
        let ok = d.len() <= 253
            && d.contains('.')
            && !d.starts_with('.')
            && !d.ends_with('.')
            && d.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if !ok {
            return Err(ConfigError::invalid(
                origin.entry(i),
                format!(
                    "{} is not a domain name (for example example.org)",
                    shown(&d)
                ),
            ));
        }
        out.push(d);
    }
    Ok(out)
}

/// Scope names: printable ASCII without spaces or quotes (RFC 6749, 3.3).
fn scope_list(scopes: Sourced<Vec<String>>) -> Result<Vec<String>, ConfigError> {
    let Sourced { value, origin } = scopes;
    if value.len() > MAX_OIDC_LIST {
        return Err(invalid(origin, format!("at most {MAX_OIDC_LIST} scopes")));
    }
    for (i, s) in value.iter().enumerate() {
        let ok = !s.is_empty()
            && s.len() <= 128
            && s.bytes()
                .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
        if !ok {
            return Err(ConfigError::invalid(
                origin.entry(i),
                format!("{} is not a scope name", shown(s)),
            ));
        }
    }
    Ok(value)
}

fn public_url(url: Sourced<String>) -> Result<String, ConfigError> {
    let Sourced { value, origin } = url;
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    let Some(rest) = rest else {
        return Err(invalid(
            origin,
            format!(
                "{} must start with http:// or https:// (for example https://skills.example.org)",
                shown(&value)
            ),
        ));
    };
    if rest.is_empty() || rest.starts_with('/') {
        return Err(invalid(
            origin,
            format!("{} has no host name", shown(&value)),
        ));
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(
            origin,
            format!("{} contains spaces or control characters", shown(&value)),
        ));
    }
    if value.len() > MAX_URL_BYTES {
        return Err(invalid(
            origin,
            format!(
                "is {} bytes long (at most {MAX_URL_BYTES} bytes allowed)",
                value.len()
            ),
        ));
    }
    Ok(value)
}

/// Refuses a list of more than `max` entries.
fn at_most(origin: Origin, len: usize, max: usize) -> Result<(), ConfigError> {
    if len > max {
        return Err(invalid(
            origin,
            format!("has {len} entries (at most {max} allowed)"),
        ));
    }
    Ok(())
}

fn ip_addrs(list: Sourced<Vec<String>>) -> Result<Vec<IpAddr>, ConfigError> {
    let Sourced { value, origin } = list;
    at_most(origin, value.len(), MAX_TRUSTED_PROXIES)?;
    value
        .iter()
        .enumerate()
        .map(|(index, addr)| {
            addr.parse::<IpAddr>().map_err(|_| {
                ConfigError::invalid(
                    origin.entry(index),
                    format!(
                        "{} is not an IP address (expected something like 127.0.0.1 or ::1; no port, no range)",
                        shown(addr)
                    ),
                )
            })
        })
        .collect()
}

fn multiaddrs(list: Sourced<Vec<String>>) -> Result<Vec<String>, ConfigError> {
    let Sourced { value, origin } = list;
    at_most(origin, value.len(), MAX_MULTIADDRS)?;
    for (index, addr) in value.iter().enumerate() {
        if let Some(reason) = multiaddr_problem(addr) {
            return Err(ConfigError::invalid(origin.entry(index), reason));
        }
    }
    Ok(value)
}

/// Why `addr` cannot be a multiaddr, judging by its shape only.
fn multiaddr_problem(addr: &str) -> Option<String> {
    const EXAMPLE: &str = "(expected a multiaddr like /ip4/127.0.0.1/tcp/4001)";
    if addr.is_empty() {
        Some(format!("is empty {EXAMPLE}"))
    } else if addr.len() > MAX_MULTIADDR_BYTES {
        Some(format!(
            "is {} bytes long (at most {MAX_MULTIADDR_BYTES} bytes allowed)",
            addr.len()
        ))
    } else if !addr.starts_with('/') {
        Some(format!("{} does not start with '/' {EXAMPLE}", shown(addr)))
    } else if addr.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some(format!(
            "{} contains spaces or control characters {EXAMPLE}",
            shown(addr)
        ))
    } else {
        None
    }
}

fn in_range(value: Sourced<i64>, min: u64, max: u64) -> Result<u64, ConfigError> {
    let Sourced { value, origin } = value;
    match u64::try_from(value) {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(invalid(
            origin,
            format!("{value} is out of range (must be between {min} and {max})"),
        )),
    }
}

/// A whole number between `min` and `max` (both within u32).
fn u32_in(value: Sourced<i64>, min: u32, max: u32) -> Result<u32, ConfigError> {
    let v = in_range(value, u64::from(min), u64::from(max))?;
    Ok(u32::try_from(v).unwrap_or(max))
}

fn positive_u32(value: Sourced<i64>) -> Result<u32, ConfigError> {
    let Sourced { value, origin } = value;
    match u32::try_from(value) {
        Ok(v) if v >= 1 => Ok(v),
        _ => Err(invalid(
            origin,
            format!(
                "{value} is out of range (must be between 1 and {})",
                u32::MAX
            ),
        )),
    }
}

fn federation_mode(mode: Sourced<String>) -> Result<FederationMode, ConfigError> {
    let Sourced { value, origin } = mode;
    value.parse().map_err(|e| invalid(origin, format!("{e}")))
}

fn log_format(format: Sourced<String>) -> Result<LogFormat, ConfigError> {
    let Sourced { value, origin } = format;
    value.parse().map_err(|e| invalid(origin, format!("{e}")))
}

fn log_filter(filter: Sourced<String>) -> Result<String, ConfigError> {
    let Sourced { value, origin } = filter;
    if value.trim().is_empty() {
        return Err(invalid(
            origin,
            "must not be empty (use \"info\", \"warn\", \"skillmesh=debug,info\" or similar)",
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Draft {
        Draft {
            org_name: Some(Sourced::new("Northwind".into(), Origin::File("org.name"))),
            data_dir: Some(Sourced::new("/srv/sm".into(), Origin::File("data_dir"))),
            ..Draft::default()
        }
    }

    fn error(draft: Draft) -> String {
        match validate(draft, Path::new("/etc/sm")) {
            Ok(config) => panic!("expected an error, got {config:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn file<T>(value: T, path: &'static str) -> Option<Sourced<T>> {
        Some(Sourced::new(value, Origin::File(path)))
    }

    fn env<T>(value: T, var: &'static str) -> Option<Sourced<T>> {
        Some(Sourced::new(value, Origin::Env(var)))
    }

    #[test]
    fn defaults_fill_everything_else() {
        let config = validate(base(), Path::new("/etc/sm")).ok();
        assert_eq!(
            config,
            Some(Config::new("Northwind", PathBuf::from("/srv/sm")))
        );
    }

    #[test]
    fn missing_required_fields_are_named() {
        let draft = Draft {
            org_name: None,
            ..base()
        };
        assert_eq!(
            error(draft),
            "org.name: is required but missing (set it in the config file or with SKILLMESH_ORG_NAME)"
        );
        let draft = Draft {
            data_dir: None,
            ..base()
        };
        assert!(error(draft).starts_with("data_dir: is required"));
    }

    #[test]
    fn org_name_rules() {
        let name = |n: &str| Draft {
            org_name: file(n.to_owned(), "org.name"),
            ..base()
        };
        assert!(validate(name(&"x".repeat(100)), Path::new("")).is_ok());
        assert!(validate(name("Ünïcödé Ørg & Co."), Path::new("")).is_ok());
        assert_eq!(
            error(name(&"x".repeat(101))),
            "org.name: is 101 bytes long (at most 100 bytes allowed)"
        );
        assert!(error(name("")).starts_with("org.name: must not be empty"));
        assert!(error(name("  ")).starts_with("org.name: must not be empty"));
        assert!(error(name("a\nb")).contains("control character '\\n'"));
        assert!(error(name("a\u{7f}")).starts_with("org.name: "));
    }

    #[test]
    fn bad_socket_address_names_web_listen() {
        let draft = Draft {
            web_listen: file("8080".into(), "web.listen"),
            ..base()
        };
        assert_eq!(
            error(draft),
            "web.listen: \"8080\" is not a socket address (expected something like 127.0.0.1:8080)"
        );
        let draft = Draft {
            web_listen: env("localhost:80".into(), "SKILLMESH_WEB_LISTEN"),
            ..base()
        };
        assert!(error(draft).starts_with("SKILLMESH_WEB_LISTEN: \"localhost:80\" is not"));
    }

    #[test]
    fn ipv6_listen_is_accepted() {
        let draft = Draft {
            web_listen: file("[::1]:8443".into(), "web.listen"),
            ..base()
        };
        let config = validate(draft, Path::new("")).ok();
        assert_eq!(
            config.map(|c| c.web.listen.to_string()).as_deref(),
            Some("[::1]:8443")
        );
    }

    #[test]
    fn public_url_rules() {
        let url = |u: &str| Draft {
            web_public_url: file(u.to_owned(), "web.public_url"),
            ..base()
        };
        for good in [
            "http://x",
            "https://skills.example.org/",
            "https://[::1]:8443/sm",
        ] {
            assert!(validate(url(good), Path::new("")).is_ok(), "{good}");
        }
        assert!(error(url("skills.example.org")).contains("must start with http:// or https://"));
        assert!(error(url("ftp://x")).starts_with("web.public_url: "));
        assert!(error(url("https://")).contains("no host name"));
        assert!(error(url("https:///path")).contains("no host name"));
        assert!(error(url("https://a b")).contains("spaces"));
        assert!(error(url(&format!("https://{}", "a".repeat(3000)))).contains("bytes long"));
    }

    #[test]
    fn trusted_proxies_are_ip_addresses() {
        let proxies = |list: &[&str]| Draft {
            web_trusted_proxies: file(
                list.iter().map(|s| (*s).to_owned()).collect(),
                "web.trusted_proxies",
            ),
            ..base()
        };
        let config = validate(proxies(&["127.0.0.1", "::1"]), Path::new("")).ok();
        assert_eq!(
            config.map(|c| c.web.trusted_proxies.len()),
            Some(2),
            "an IPv4 and an IPv6 address"
        );
        assert_eq!(
            error(proxies(&["10.0.0.1", "10.0.0.0/8"])),
            "web.trusted_proxies[1]: \"10.0.0.0/8\" is not an IP address (expected something like 127.0.0.1 or ::1; no port, no range)"
        );
        assert!(error(proxies(&["127.0.0.1:80"])).starts_with("web.trusted_proxies[0]: "));
        assert!(error(proxies(&[""])).contains("is not an IP address"));
        assert!(error(proxies(&["::1"; 65])).contains("has 65 entries (at most 64 allowed)"));
    }

    #[test]
    fn multiaddr_shapes() {
        let boot = |list: Vec<&str>| Draft {
            network_bootstrap: file(
                list.into_iter().map(str::to_owned).collect(),
                "network.bootstrap",
            ),
            ..base()
        };
        assert!(validate(boot(vec![]), Path::new("")).is_ok());
        assert!(
            validate(
                boot(vec!["/dns4/a.example/tcp/4001/p2p/12D3KooW"]),
                Path::new("")
            )
            .is_ok()
        );
        assert_eq!(
            error(boot(vec!["/a", "/b", "ip4/1.2.3.4/tcp/1"])),
            "network.bootstrap[2]: \"ip4/1.2.3.4/tcp/1\" does not start with '/' (expected a multiaddr like /ip4/127.0.0.1/tcp/4001)"
        );
        assert!(error(boot(vec![""])).starts_with("network.bootstrap[0]: is empty"));
        assert!(error(boot(vec!["/ip4/1.2.3.4 /tcp/1"])).contains("spaces"));
        let long = format!("/{}", "a".repeat(512));
        assert!(error(boot(vec![&long])).contains("513 bytes long"));
        let max = format!("/{}", "a".repeat(511));
        assert!(validate(boot(vec![&max]), Path::new("")).is_ok());
        assert!(validate(boot(vec!["/a"; 64]), Path::new("")).is_ok());
        assert_eq!(
            error(boot(vec!["/a"; 65])),
            "network.bootstrap: has 65 entries (at most 64 allowed)"
        );
        let draft = Draft {
            network_listen: env(vec!["/a".into(), String::new()], "SKILLMESH_NETWORK_LISTEN"),
            ..base()
        };
        assert!(error(draft).starts_with("SKILLMESH_NETWORK_LISTEN[1]: is empty"));
    }

    #[test]
    fn number_ranges() {
        let idle = |n: i64| Draft {
            network_idle_timeout_secs: file(n, "network.idle_timeout_secs"),
            ..base()
        };
        assert!(validate(idle(10), Path::new("")).is_ok());
        assert!(validate(idle(31_536_000), Path::new("")).is_ok());
        assert_eq!(
            error(idle(9)),
            "network.idle_timeout_secs: 9 is out of range (must be between 10 and 31536000)"
        );
        assert!(error(idle(-1)).starts_with("network.idle_timeout_secs: -1 is out of range"));
        assert!(error(idle(31_536_001)).contains("out of range"));

        let rate = |n: i64| Draft {
            federation_requests_per_minute: env(n, "SKILLMESH_FEDERATION_REQUESTS_PER_MINUTE"),
            ..base()
        };
        assert!(validate(rate(1), Path::new("")).is_ok());
        assert!(validate(rate(i64::from(u32::MAX)), Path::new("")).is_ok());
        assert!(error(rate(0)).starts_with("SKILLMESH_FEDERATION_REQUESTS_PER_MINUTE: 0 is out"));
        assert!(error(rate(i64::from(u32::MAX) + 1)).contains("out of range"));

        let pending = |n: i64| Draft {
            federation_max_pending_per_person: file(n, "federation.max_pending_per_person"),
            ..base()
        };
        assert!(validate(pending(2), Path::new("")).is_ok());
        assert_eq!(
            error(pending(1)),
            "federation.max_pending_per_person: 1 is out of range (must be between 2 and 4294967295)"
        );
        let hours = |n: i64| Draft {
            federation_new_org_hours: file(n, "federation.new_org_hours"),
            ..base()
        };
        assert!(validate(hours(0), Path::new("")).is_ok());
        assert!(error(hours(8761)).starts_with("federation.new_org_hours: 8761 is out of range"));
        let retention = |n: i64| Draft {
            log_audit_retention_days: env(n, "SKILLMESH_LOG_AUDIT_RETENTION_DAYS"),
            ..base()
        };
        assert!(validate(retention(1), Path::new("")).is_ok());
        assert_eq!(
            error(retention(0)),
            "SKILLMESH_LOG_AUDIT_RETENTION_DAYS: 0 is out of range (must be between 1 and 36500)"
        );
        let group = |n: i64| Draft {
            privacy_min_group_size: file(n, "privacy.min_group_size"),
            ..base()
        };
        assert!(validate(group(3), Path::new("")).is_ok());
        assert!(validate(group(1000), Path::new("")).is_ok());
        assert_eq!(
            error(group(2)),
            "privacy.min_group_size: 2 is out of range (must be between 3 and 1000)"
        );
        assert!(error(group(1001)).starts_with("privacy.min_group_size: 1001 is out of range"));
        let kept = |n: i64| Draft {
            privacy_requests_retention_days: env(n, "SKILLMESH_PRIVACY_REQUESTS_RETENTION_DAYS"),
            ..base()
        };
        assert!(validate(kept(30), Path::new("")).is_ok());
        assert_eq!(
            error(kept(29)),
            "SKILLMESH_PRIVACY_REQUESTS_RETENTION_DAYS: 29 is out of range (must be between 30 and 36500)"
        );
        let notes = |n: i64| Draft {
            privacy_notifications_retention_days: file(n, "privacy.notifications_retention_days"),
            ..base()
        };
        assert!(validate(notes(7), Path::new("")).is_ok());
        assert_eq!(
            error(notes(6)),
            "privacy.notifications_retention_days: 6 is out of range (must be between 7 and 36500)"
        );
        assert!(error(notes(36_501)).contains("out of range"));
        let cached = |n: i64| Draft {
            search_cached_results: file(n, "search.cached_results"),
            ..base()
        };
        assert!(validate(cached(0), Path::new("")).is_ok());
        assert!(validate(cached(65_536), Path::new("")).is_ok());
        assert_eq!(
            error(cached(65_537)),
            "search.cached_results: 65537 is out of range (must be between 0 and 65536)"
        );
        assert!(error(cached(-1)).starts_with("search.cached_results: -1 is out of range"));

        let max = Draft {
            federation_max_records_per_org: file(0, "federation.max_records_per_org"),
            ..base()
        };
        assert!(error(max).starts_with("federation.max_records_per_org: 0 is out of range"));

        let target = |n: i64| Draft {
            network_target_peers: file(n, "network.target_peers"),
            ..base()
        };
        assert!(validate(target(1), Path::new("")).is_ok());
        assert!(validate(target(1000), Path::new("")).is_ok());
        assert_eq!(
            error(target(0)),
            "network.target_peers: 0 is out of range (must be between 1 and 1000)"
        );
        assert!(error(target(1001)).contains("out of range"));

        let interval = |n: i64| Draft {
            network_reconcile_interval_secs: env(n, "SKILLMESH_NETWORK_RECONCILE_INTERVAL_SECS"),
            ..base()
        };
        assert!(validate(interval(1), Path::new("")).is_ok());
        assert!(validate(interval(3600), Path::new("")).is_ok());
        assert!(
            error(interval(0)).starts_with("SKILLMESH_NETWORK_RECONCILE_INTERVAL_SECS: 0 is out")
        );
        assert!(error(interval(3601)).contains("out of range"));
    }

    #[test]
    fn federation_mode_and_log_filter() {
        let draft = Draft {
            federation_mode: file("allowlist".into(), "federation.mode"),
            log_filter: file("skillmesh=debug,info".into(), "log.filter"),
            ..base()
        };
        let config = validate(draft, Path::new("")).ok();
        assert_eq!(
            config.as_ref().map(|c| c.federation.mode),
            Some(FederationMode::Allowlist)
        );
        assert_eq!(
            config.map(|c| c.log.filter).as_deref(),
            Some("skillmesh=debug,info")
        );

        let draft = Draft {
            federation_mode: file("closed".into(), "federation.mode"),
            ..base()
        };
        assert_eq!(
            error(draft),
            "federation.mode: \"closed\" is not a federation mode (expected \"open\", \"allowlist\" or \"blocklist\")"
        );
        let draft = Draft {
            log_filter: env(" ".into(), "SKILLMESH_LOG"),
            ..base()
        };
        assert!(error(draft).starts_with("SKILLMESH_LOG: must not be empty"));
    }

    #[test]
    fn log_format_is_text_or_json() {
        let format = |f: &str| Draft {
            log_format: file(f.to_owned(), "log.format"),
            ..base()
        };
        let config = validate(format("json"), Path::new("")).ok();
        assert_eq!(config.map(|c| c.log.format), Some(LogFormat::Json));
        assert_eq!(
            error(format("yaml")),
            "log.format: \"yaml\" is not a log format (expected \"text\" or \"json\")"
        );
        let draft = Draft {
            log_format: env(String::new(), "SKILLMESH_LOG_FORMAT"),
            ..base()
        };
        assert!(error(draft).starts_with("SKILLMESH_LOG_FORMAT: \"\" is not a log format"));
    }

    #[test]
    fn metrics_listen_is_an_address_apart_from_the_web_port() {
        let metrics = |web: &str, listen: &str| Draft {
            web_listen: file(web.to_owned(), "web.listen"),
            metrics_listen: file(listen.to_owned(), "metrics.listen"),
            ..base()
        };
        let config = validate(metrics("127.0.0.1:8080", "127.0.0.1:9464"), Path::new("")).ok();
        assert_eq!(
            config.and_then(|c| c.metrics.listen).map(|a| a.to_string()),
            Some("127.0.0.1:9464".to_owned())
        );
        for (web, listen) in [
            ("127.0.0.1:0", "127.0.0.1:0"),
            ("127.0.0.1:8080", "127.0.0.2:8080"),
            ("[::1]:8080", "127.0.0.1:9464"),
        ] {
            assert!(
                validate(metrics(web, listen), Path::new("")).is_ok(),
                "{web} {listen}"
            );
        }
        assert_eq!(
            error(metrics("127.0.0.1:8080", "127.0.0.1:8080")),
            "metrics.listen: 127.0.0.1:8080 is the web server's port (web.listen is 127.0.0.1:8080); the metrics need a port of their own"
        );
        assert!(error(metrics("0.0.0.0:8080", "127.0.0.1:8080")).contains("port of their own"));
        assert!(error(metrics("127.0.0.1:8080", "[::]:8080")).contains("port of their own"));
        assert_eq!(
            error(metrics("127.0.0.1:8080", "9464")),
            "metrics.listen: \"9464\" is not a socket address (expected something like 127.0.0.1:8080)"
        );
    }

    #[test]
    fn relative_paths_resolve_against_base_dir() {
        let draft = Draft {
            data_dir: file(".".into(), "data_dir"),
            key_file: file("keys/org.key".into(), "key_file"),
            network_psk_file: file("/abs/swarm.key".into(), "network.psk_file"),
            ..base()
        };
        let config = validate(draft, Path::new("/etc/sm"));
        let config = config.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.data_dir, PathBuf::from("/etc/sm"));
        assert_eq!(config.key_file, PathBuf::from("/etc/sm/keys/org.key"));
        assert_eq!(
            config.network.psk_file,
            Some(PathBuf::from("/abs/swarm.key"))
        );
    }

    #[test]
    fn default_key_file_follows_resolved_data_dir() {
        let draft = Draft {
            data_dir: env("data".into(), "SKILLMESH_DATA_DIR"),
            ..base()
        };
        let config = validate(draft, Path::new("/etc/sm")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.data_dir, PathBuf::from("/etc/sm/data"));
        assert_eq!(config.key_file, PathBuf::from("/etc/sm/data/org.key"));
    }

    #[test]
    fn resolve_keeps_relative_paths_when_base_is_empty() {
        assert_eq!(
            resolve(Path::new("./a/./b"), Path::new("")),
            PathBuf::from("./a/./b")
        );
        assert_eq!(
            resolve(Path::new("a/../b"), Path::new("/x")),
            PathBuf::from("/x/a/../b")
        );
        assert_eq!(
            resolve(Path::new("./a"), Path::new("/x/")),
            PathBuf::from("/x/a")
        );
    }

    #[test]
    fn empty_paths_are_rejected() {
        let draft = Draft {
            key_file: file(String::new(), "key_file"),
            ..base()
        };
        assert!(error(draft).starts_with("key_file: must not be empty"));
        let draft = Draft {
            data_dir: env("a\0b".into(), "SKILLMESH_DATA_DIR"),
            ..base()
        };
        assert!(error(draft).starts_with("SKILLMESH_DATA_DIR: "));
    }
}
