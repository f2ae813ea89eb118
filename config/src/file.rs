//! The config file's schema, and turning its text into a [`Draft`].
//!
//! Deserialisation goes through serde with `deny_unknown_fields`, so a
//! misspelt key is an error. toml reports where an error happened as a byte
//! span; [`locate`] maps that span back to the TOML path of the offending
//! key or value, so the message can name it.

use std::fmt;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::draft::{Draft, Origin, Sourced};
use crate::error::ConfigError;
use crate::text::line_col;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a TOML document")]
struct FileSchema {
    data_dir: Option<String>,
    key_file: Option<String>,
    org: Option<FileOrg>,
    web: Option<FileWeb>,
    network: Option<FileNetwork>,
    federation: Option<FileFederation>,
    search: Option<FileSearch>,
    metrics: Option<FileMetrics>,
    log: Option<FileLog>,
    notifications: Option<FileNotifications>,
    auth: Option<FileAuth>,
    privacy: Option<FilePrivacy>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [privacy] table")]
struct FilePrivacy {
    min_group_size: Option<Int>,
    requests_retention_days: Option<Int>,
    notifications_retention_days: Option<Int>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an [auth] table")]
struct FileAuth {
    password_sign_in: Option<bool>,
    oidc: Option<FileOidc>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an [auth.oidc] table")]
struct FileOidc {
    issuer_url: Option<String>,
    client_id: Option<String>,
    client_secret_file: Option<String>,
    allowed_email_domains: Option<Vec<String>>,
    admin_claim: Option<String>,
    admin_claim_value: Option<String>,
    scopes: Option<Vec<String>>,
    name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [notifications] table")]
struct FileNotifications {
    email: Option<FileEmail>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [notifications.email] table")]
struct FileEmail {
    smtp_url: Option<String>,
    from: Option<String>,
    digest_interval_secs: Option<Int>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an [org] table")]
struct FileOrg {
    name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [web] table")]
struct FileWeb {
    listen: Option<String>,
    public_url: Option<String>,
    trusted_proxies: Option<StringList>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [network] table")]
struct FileNetwork {
    listen: Option<StringList>,
    bootstrap: Option<StringList>,
    mdns: Option<bool>,
    psk_file: Option<String>,
    idle_timeout_secs: Option<Int>,
    target_peers: Option<Int>,
    reconcile_interval_secs: Option<Int>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [federation] table")]
struct FileFederation {
    mode: Option<String>,
    approval_required: Option<bool>,
    max_records_per_org: Option<Int>,
    requests_per_minute: Option<Int>,
    new_org_hours: Option<Int>,
    new_org_requests_per_minute: Option<Int>,
    node_requests_per_minute: Option<Int>,
    max_pending_per_person: Option<Int>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [search] table")]
struct FileSearch {
    cached_results: Option<Int>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [metrics] table")]
struct FileMetrics {
    listen: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [log] table")]
struct FileLog {
    filter: Option<String>,
    format: Option<String>,
    audit_retention_days: Option<Int>,
}

/// An integer of any sign, range-checked later with a message naming the
/// setting's bounds (serde's own would say "expected u32").
#[derive(Debug)]
struct Int(i64);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IntVisitor;
        impl Visitor<'_> for IntVisitor {
            type Value = Int;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a whole number")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Int, E> {
                Ok(Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Int, E> {
                i64::try_from(v)
                    .map(Int)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
        }
        deserializer.deserialize_i64(IntVisitor)
    }
}

/// A list of strings, with an error that says so rather than "a sequence".
#[derive(Debug)]
struct StringList(Vec<String>);

impl<'de> Deserialize<'de> for StringList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor;
        impl<'de> Visitor<'de> for ListVisitor {
            type Value = StringList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of strings, like [\"/ip4/127.0.0.1/tcp/0\"]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StringList, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    items.push(item);
                }
                Ok(StringList(items))
            }
        }
        deserializer.deserialize_seq(ListVisitor)
    }
}

/// Top-level keys that must hold tables.
const SECTIONS: &[&str] = &[
    "org",
    "web",
    "network",
    "federation",
    "search",
    "metrics",
    "log",
    "privacy",
];

/// Parse the file's text into a [`Draft`]. `path` only names the file in errors.
pub(crate) fn parse(text: &str, path: &Path) -> Result<Draft, ConfigError> {
    let parse_error = |message: String| ConfigError::Parse {
        path: path.to_path_buf(),
        message,
    };
    let document = DeTable::parse(text)
        .map_err(|e| parse_error(describe(text, None, e.span(), e.message())))?;
    check_sections(document.get_ref()).map_err(|(field, span, message)| {
        parse_error(describe(text, Some(&field), Some(span), &message))
    })?;
    let schema =
        FileSchema::deserialize(toml::de::Deserializer::from(document.clone())).map_err(|e| {
            let span = e.span();
            let found = span
                .as_ref()
                .and_then(|span| locate(document.get_ref(), span.start));
            let message = match &found {
                Some(Found { datetime: true, .. }) => {
                    "a date or time is not a valid value here (quote it if it is meant as text)"
                }
                _ => e.message(),
            };
            let field = found.as_ref().map(|found| found.path.as_str());
            parse_error(describe(text, field, span, message))
        })?;
    Ok(schema.into_draft())
}

/// serde would happily read a struct from an array (`[[org]]`) and then
/// complain about its first element; say plainly that a table was expected.
fn check_sections(document: &DeTable<'_>) -> Result<(), (String, Range<usize>, String)> {
    for (key, value) in document.iter() {
        let name = key.get_ref().as_ref();
        if SECTIONS.contains(&name) && !matches!(value.get_ref(), DeValue::Table(_)) {
            let found = match value.get_ref() {
                DeValue::Array(items)
                    if !items.is_empty()
                        && items
                            .iter()
                            .all(|i| matches!(i.get_ref(), DeValue::Table(_))) =>
                {
                    "an array of tables".to_owned()
                }
                other => kind(other).to_owned(),
            };
            return Err((
                name.to_owned(),
                value.span(),
                format!("must be a [{name}] table, not {found}"),
            ));
        }
    }
    Ok(())
}

fn kind(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date or time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// `field (line L, column C): message`, leaving out what is unknown.
fn describe(text: &str, field: Option<&str>, span: Option<Range<usize>>, message: &str) -> String {
    let position = span.map(|span| {
        let (line, column) = line_col(text, span.start);
        format!("line {line}, column {column}")
    });
    let message = message.trim_end();
    match (field, position) {
        (Some(field), Some(position)) => format!("{field} ({position}): {message}"),
        (Some(field), None) => format!("{field}: {message}"),
        (None, Some(position)) => format!("{position}: {message}"),
        (None, None) => message.to_owned(),
    }
}

/// What sits at a position in the document.
#[derive(Debug, PartialEq, Eq)]
struct Found {
    /// Its TOML path, such as `network.bootstrap[1]`.
    path: String,
    /// Whether it is a datetime value (which serde reports as a "map").
    datetime: bool,
}

/// The innermost key or value in `table` whose source span contains byte
/// offset `pos`.
fn locate(table: &DeTable<'_>, pos: usize) -> Option<Found> {
    let mut found = Found {
        path: String::new(),
        datetime: false,
    };
    find_in_table(table, pos, &mut found).then_some(found)
}

fn find_in_table(table: &DeTable<'_>, pos: usize, found: &mut Found) -> bool {
    for (key, value) in table.iter() {
        let len = found.path.len();
        if !found.path.is_empty() {
            found.path.push('.');
        }
        push_key(&mut found.path, key.get_ref());
        if key.span().contains(&pos) || find_in_value(value, pos, found) {
            return true;
        }
        found.path.truncate(len);
    }
    false
}

/// Whether `pos` lies in `value`; if so `found` is extended to the innermost
/// part holding it. Tables are searched even when their own span does not
/// cover `pos`, since a `[header]` table's entries sit outside its span.
fn find_in_value(value: &Spanned<DeValue<'_>>, pos: usize, found: &mut Found) -> bool {
    match value.get_ref() {
        DeValue::Table(table) => find_in_table(table, pos, found) || value.span().contains(&pos),
        DeValue::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let len = found.path.len();
                found.path.push_str(&format!("[{index}]"));
                if find_in_value(item, pos, found) {
                    return true;
                }
                found.path.truncate(len);
            }
            value.span().contains(&pos)
        }
        DeValue::Datetime(_) => {
            found.datetime = value.span().contains(&pos);
            found.datetime
        }
        _ => value.span().contains(&pos),
    }
}

/// A key as TOML would need it written: bare if possible, else quoted.
fn push_key(path: &mut String, key: &str) {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare {
        path.push_str(key);
    } else {
        path.push_str(&crate::text::shown(key));
    }
}

impl FileSchema {
    fn into_draft(self) -> Draft {
        fn at<T>(value: Option<T>, path: &'static str) -> Option<Sourced<T>> {
            value.map(|value| Sourced::new(value, Origin::File(path)))
        }
        let org = self.org.unwrap_or_default();
        let web = self.web.unwrap_or_default();
        let network = self.network.unwrap_or_default();
        let federation = self.federation.unwrap_or_default();
        let search = self.search.unwrap_or_default();
        let metrics = self.metrics.unwrap_or_default();
        let log = self.log.unwrap_or_default();
        let auth = self.auth.unwrap_or_default();
        let privacy = self.privacy.unwrap_or_default();
        let oidc = auth.oidc.unwrap_or_default();
        let email = self
            .notifications
            .unwrap_or_default()
            .email
            .unwrap_or_default();
        Draft {
            org_name: at(org.name, "org.name"),
            data_dir: at(self.data_dir, "data_dir"),
            key_file: at(self.key_file, "key_file"),
            web_listen: at(web.listen, "web.listen"),
            web_public_url: at(web.public_url, "web.public_url"),
            web_trusted_proxies: at(web.trusted_proxies.map(|l| l.0), "web.trusted_proxies"),
            network_listen: at(network.listen.map(|l| l.0), "network.listen"),
            network_bootstrap: at(network.bootstrap.map(|l| l.0), "network.bootstrap"),
            network_mdns: at(network.mdns, "network.mdns"),
            network_psk_file: at(network.psk_file, "network.psk_file"),
            network_idle_timeout_secs: at(
                network.idle_timeout_secs.map(|i| i.0),
                "network.idle_timeout_secs",
            ),
            network_target_peers: at(network.target_peers.map(|i| i.0), "network.target_peers"),
            network_reconcile_interval_secs: at(
                network.reconcile_interval_secs.map(|i| i.0),
                "network.reconcile_interval_secs",
            ),
            federation_mode: at(federation.mode, "federation.mode"),
            federation_approval_required: at(
                federation.approval_required,
                "federation.approval_required",
            ),
            federation_max_records_per_org: at(
                federation.max_records_per_org.map(|i| i.0),
                "federation.max_records_per_org",
            ),
            federation_requests_per_minute: at(
                federation.requests_per_minute.map(|i| i.0),
                "federation.requests_per_minute",
            ),
            federation_new_org_hours: at(
                federation.new_org_hours.map(|i| i.0),
                "federation.new_org_hours",
            ),
            federation_new_org_requests_per_minute: at(
                federation.new_org_requests_per_minute.map(|i| i.0),
                "federation.new_org_requests_per_minute",
            ),
            federation_node_requests_per_minute: at(
                federation.node_requests_per_minute.map(|i| i.0),
                "federation.node_requests_per_minute",
            ),
            federation_max_pending_per_person: at(
                federation.max_pending_per_person.map(|i| i.0),
                "federation.max_pending_per_person",
            ),
            search_cached_results: at(search.cached_results.map(|i| i.0), "search.cached_results"),
            metrics_listen: at(metrics.listen, "metrics.listen"),
            log_filter: at(log.filter, "log.filter"),
            log_format: at(log.format, "log.format"),
            log_audit_retention_days: at(
                log.audit_retention_days.map(|i| i.0),
                "log.audit_retention_days",
            ),
            email_smtp_url: at(email.smtp_url, "notifications.email.smtp_url"),
            email_from: at(email.from, "notifications.email.from"),
            email_digest_interval_secs: at(
                email.digest_interval_secs.map(|i| i.0),
                "notifications.email.digest_interval_secs",
            ),
            auth_password_sign_in: at(auth.password_sign_in, "auth.password_sign_in"),
            oidc_issuer_url: at(oidc.issuer_url, "auth.oidc.issuer_url"),
            oidc_client_id: at(oidc.client_id, "auth.oidc.client_id"),
            // Never from the file itself: see `SecretSource`.
            oidc_client_secret: None,
            oidc_client_secret_file: at(oidc.client_secret_file, "auth.oidc.client_secret_file"),
            oidc_allowed_email_domains: at(
                oidc.allowed_email_domains,
                "auth.oidc.allowed_email_domains",
            ),
            oidc_admin_claim: at(oidc.admin_claim, "auth.oidc.admin_claim"),
            oidc_admin_claim_value: at(oidc.admin_claim_value, "auth.oidc.admin_claim_value"),
            oidc_scopes: at(oidc.scopes, "auth.oidc.scopes"),
            oidc_name: at(oidc.name, "auth.oidc.name"),
            privacy_min_group_size: at(
                privacy.min_group_size.map(|i| i.0),
                "privacy.min_group_size",
            ),
            privacy_requests_retention_days: at(
                privacy.requests_retention_days.map(|i| i.0),
                "privacy.requests_retention_days",
            ),
            privacy_notifications_retention_days: at(
                privacy.notifications_retention_days.map(|i| i.0),
                "privacy.notifications_retention_days",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_err(text: &str) -> String {
        match parse(text, Path::new("node.toml")) {
            Ok(draft) => panic!("expected an error for {text:?}, got {draft:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn empty_file_is_an_empty_draft() {
        assert_eq!(parse("", Path::new("x")).ok(), Some(Draft::default()));
    }

    #[test]
    fn values_remember_their_toml_path() {
        let draft = parse(
            "data_dir = \"d\"\n[network]\nbootstrap = [\"/a\"]\nidle_timeout_secs = 20\n",
            Path::new("x"),
        );
        let draft = draft.unwrap_or_default();
        assert_eq!(
            draft.network_bootstrap,
            Some(Sourced::new(
                vec!["/a".to_owned()],
                Origin::File("network.bootstrap")
            ))
        );
        assert_eq!(
            draft.network_idle_timeout_secs,
            Some(Sourced::new(20, Origin::File("network.idle_timeout_secs")))
        );
        assert_eq!(
            draft.data_dir,
            Some(Sourced::new("d".to_owned(), Origin::File("data_dir")))
        );
    }

    #[test]
    fn unknown_key_is_named_with_its_table() {
        let msg = parse_err("[web]\nlisten = \"127.0.0.1:1\"\nlisten_addr = \"x\"\n");
        assert!(
            msg.starts_with("cannot parse config file node.toml: "),
            "{msg}"
        );
        assert!(msg.contains("web.listen_addr (line 3, column 1)"), "{msg}");
        assert!(msg.contains("unknown field `listen_addr`"), "{msg}");
    }

    #[test]
    fn unknown_top_level_table_is_named() {
        let msg = parse_err("[webb]\nlisten = \"x\"\n");
        assert!(msg.contains("webb (line 1, column 2)"), "{msg}");
        assert!(msg.contains("unknown field `webb`"), "{msg}");
    }

    #[test]
    fn unknown_dotted_and_quoted_keys_are_named() {
        let msg = parse_err("network.mdnss = true\n");
        assert!(msg.contains("network.mdnss (line 1"), "{msg}");
        let msg = parse_err("[log]\n\"the filter\" = \"x\"\n");
        assert!(msg.contains("log.\"the filter\" (line 2"), "{msg}");
    }

    #[test]
    fn wrong_type_names_the_field() {
        let msg = parse_err("[web]\nlisten = 8080\n");
        assert!(msg.contains("web.listen (line 2, column 10)"), "{msg}");
        assert!(msg.contains("expected a string"), "{msg}");

        let msg = parse_err("[network]\nidle_timeout_secs = \"60\"\n");
        assert!(msg.contains("network.idle_timeout_secs (line 2"), "{msg}");
        assert!(msg.contains("a whole number"), "{msg}");

        let msg = parse_err("[network]\nmdns = \"yes\"\n");
        assert!(msg.contains("network.mdns (line 2"), "{msg}");

        let msg = parse_err("web = 5\n");
        assert!(msg.contains("web (line 1"), "{msg}");
        assert!(msg.contains("a [web] table"), "{msg}");
    }

    #[test]
    fn wrong_list_entry_names_its_index() {
        let msg = parse_err("[network]\nbootstrap = [\"/a\", 7]\n");
        assert!(
            msg.contains("network.bootstrap[1] (line 2, column 20)"),
            "{msg}"
        );

        let msg = parse_err("[network]\nlisten = \"/ip4/0.0.0.0/tcp/1\"\n");
        assert!(msg.contains("network.listen (line 2"), "{msg}");
        assert!(msg.contains("a list of strings"), "{msg}");
    }

    #[test]
    fn syntax_error_has_line_and_column() {
        let msg = parse_err("[org]\nname = \"unterminated\n");
        assert!(
            msg.starts_with("cannot parse config file node.toml: line 2, column "),
            "{msg}"
        );
        let msg = parse_err("data_dir = \"a\"\ndata_dir = \"b\"\n");
        assert!(msg.contains("line 2"), "{msg}");
    }

    #[test]
    fn sections_must_be_tables() {
        let msg = parse_err("[[org]]\nname = \"x\"\n");
        assert!(
            msg.contains("org (line 1, column 1): must be a [org] table, not an array of tables"),
            "{msg}"
        );
        let msg = parse_err("network = [[1]]\n");
        assert!(
            msg.contains("network (line 1, column 11): must be a [network] table, not an array"),
            "{msg}"
        );
        let msg = parse_err("org = []\n");
        assert!(msg.contains("must be a [org] table, not an array"), "{msg}");
        assert!(!msg.contains("of tables"), "{msg}");
        let msg = parse_err("metrics = \"127.0.0.1:9464\"\n");
        assert!(
            msg.contains("metrics (line 1, column 11): must be a [metrics] table, not a string"),
            "{msg}"
        );
        let msg = parse_err("log = \"debug\"\n");
        assert!(
            msg.contains("log (line 1, column 7): must be a [log] table, not a string"),
            "{msg}"
        );
    }

    #[test]
    fn datetimes_are_called_datetimes() {
        let msg = parse_err("data_dir = 1979-05-27\n");
        assert!(
            msg.contains("data_dir (line 1, column 12): a date or time is not a valid value"),
            "{msg}"
        );
        let msg = parse_err("[network]\nbootstrap = [\"/a\", 07:32:00]\n");
        assert!(
            msg.contains("network.bootstrap[1] (line 2, column 20): a date or time"),
            "{msg}"
        );
    }

    #[test]
    fn nested_arrays_locate_the_inner_entry() {
        let msg = parse_err("[network]\nlisten = [\"/a\", [\"/b\"]]\n");
        assert!(
            msg.contains("network.listen[1] (line 2, column 17)"),
            "{msg}"
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        for n in [50, 100, 100_000] {
            let arrays = format!("network = {}{}", "[".repeat(n), "]".repeat(n));
            let tables = format!("network = {}1{}", "{a=".repeat(n), "}".repeat(n));
            let dotted = format!("network.{} = 1", vec!["a"; n].join("."));
            for text in [arrays, tables, dotted] {
                assert!(parse(&text, Path::new("x")).is_err());
            }
        }
    }

    #[test]
    fn huge_integers_do_not_panic() {
        let msg = parse_err("[network]\nidle_timeout_secs = 99999999999999999999\n");
        assert!(msg.contains("line 2"), "{msg}");
    }

    #[test]
    fn arbitrary_bytes_do_not_panic() {
        let samples = [
            "\u{0}",
            "[",
            "[[org]]\nname = 1",
            "a.b.c.d = [[[]]]",
            "x = {",
            "é = 'é'\n[é]",
            "org = []",
            "[org]\n[org]",
            "network.listen = [[\"a\"]]",
        ];
        for text in samples {
            let _ = parse(text, Path::new("x"));
        }
    }
}
