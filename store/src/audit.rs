//! The audit log: every record sent, received, rejected, retracted or
//! purged, and every admin action, in time order.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use serde::{Deserialize, Serialize};

use super::{Result, Store, encode_json, keys};
use crate::storage::{Batch, Kv};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Unix seconds.
    pub at: i64,
    /// Who did it: an [`crate::Actor`] as its frozen name (a username,
    /// `node` for automatic actions, `org:…` or a peer).
    pub actor: String,
    /// An [`AuditAction`]'s frozen name, such as `record_received`.
    pub action: String,
    /// The organisation concerned, as hex, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// The record concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
    /// Free text, e.g. the rejection reason.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// The organisation a rejected record or message *claims* to come
    /// from, as hex, when that is not known to be true (its signature did
    /// not check, say). `org` is then the sending peer's organisation: a
    /// forgery is never filed as if the organisation it names had sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_org: Option<String>,
    /// How many times this happened: rejections repeated by one peer for
    /// one reason within a window are one entry (see [`AGGREGATE_SECS`]).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub count: u64,
}

fn one() -> u64 {
    1
}

fn is_one(n: &u64) -> bool {
    *n == 1
}

/// The window over which repeated rejections are aggregated.
pub const AGGREGATE_SECS: i64 = 60;

/// Which entries to return.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub org: Option<String>,
    pub action: Option<String>,
    /// Unix seconds, inclusive.
    pub since: Option<i64>,
    /// Unix seconds, exclusive.
    pub until: Option<i64>,
    pub limit: Option<usize>,
    /// `Some(true)`: only what people did (see [`is_person`]), so an
    /// admin's own actions are found whatever floods the log;
    /// `Some(false)`: only the node's and the network's.
    pub people: Option<bool>,
}

/// Actions of things refused from the network: repeated ones from one
/// peer for one reason within [`AGGREGATE_SECS`] are one entry with a
/// count, so a flood writes a bounded number of rows.
pub fn aggregated_action(action: &str) -> bool {
    [
        AuditAction::RecordRejected,
        AuditAction::RecordRefused,
        AuditAction::RequestRefused,
        AuditAction::AnswerRefused,
    ]
    .iter()
    .any(|a| a.as_str() == action)
}

/// Whether `actor` is a person (a username) rather than the node itself
/// or another organisation's peer: the admin's own actions.
pub fn is_person(actor: &str) -> bool {
    !(actor == "node"
        || actor.starts_with("peer:")
        || actor.starts_with("sync:")
        || actor.starts_with("org:"))
}

/// One aggregated entry being counted: its window and its key.
#[derive(Debug, Clone)]
pub(super) struct Open {
    window: i64,
    key: Vec<u8>,
    entry: AuditEntry,
}

/// The aggregation state, in memory: per (actor, action, reason), the
/// entry of the current window.
pub(super) type Aggregates = std::collections::HashMap<(String, String, String), Open>;

/// Most aggregation keys kept; beyond it, those of past windows go.
const MAX_AGGREGATES: usize = 10_000;

/// The reason an aggregated entry is grouped by: the rejection code of a
/// `record_rejected` entry, else its detail.
fn reason_of(e: &AuditEntry) -> String {
    if e.action == RECORD_REJECTED {
        rejection_code(&e.detail).to_string()
    } else {
        e.detail.clone()
    }
}

/// The counter to use after the last stored entry.
pub(super) fn next_counter(kv: &dyn Kv) -> Result<u64> {
    let mut next = 0;
    if let Some(last) = kv.scan_prefix(keys::AUDIT).next_back() {
        let (k, _) = last?;
        if k.len() >= keys::AUDIT.len() + 16 {
            next = keys::u64_value(&k[k.len() - 8..]) + 1;
        }
    }
    Ok(next)
}

/// What an audit entry says happened: one variant per thing the node
/// audits, so that a misspelt action does not build. An entry stores the
/// action's name ([`AuditAction::as_str`]), and the names are frozen: they
/// are in every audit log already written, admins filter by them and the
/// API returns them. A new action gets a new name; an old one is never
/// renamed. [`AuditEntry::action`] stays a string, so a log written by
/// another version reads back whatever it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    // People and what they share
    PersonAdded,
    UserAdded,
    ApiTokenCreated,
    ApiTokenRevoked,
    CalendarTokenCreated,
    SignedOutEverywhere,
    UserDeactivated,
    UserReactivated,
    /// An admin removed an account and its person.
    UserRemoved,
    /// A person's role here changed (the provider's admin claim, at a
    /// single sign-on).
    UserRoleChanged,
    /// An admin made an invitation or password-reset link.
    AccessLinkCreated,
    /// A person chose their password through such a link.
    PasswordSet,
    ItemCreated,
    ItemUpdated,
    ItemDeleted,
    OfferStatusChanged,
    ApprovalRequested,
    Approved,
    RecordPublished,
    RecordRetracted,
    SignedUp,
    // Federation: who may take part
    FederationModeChanged,
    PolicyChanged,
    WebhookChanged,
    OrgAllowed,
    OrgBlocked,
    OrgUnlisted,
    JoinRequested,
    JoinRefused,
    RecordsPurged,
    // Records from other organisations
    RecordReceived,
    RetractionReceived,
    RecordRejected,
    RecordRefused,
    Equivocation,
    // Requests, answers and what follows them
    RequestSent,
    RequestReceived,
    RequestRefused,
    RequestAccepted,
    RequestDeclined,
    AnswerRefused,
    AnswerAcceptedReceived,
    AnswerDeclinedReceived,
    KudosSent,
    KudosReceived,
    KudosRefused,
    FollowerCountReceived,
    FollowerCountRefused,
    QuotaNoticeSent,
    QuotaRefusedByPartner,
}

impl AuditAction {
    /// Every action, for the tests that keep the names frozen.
    pub const ALL: [AuditAction; 50] = [
        AuditAction::PersonAdded,
        AuditAction::UserAdded,
        AuditAction::ApiTokenCreated,
        AuditAction::ApiTokenRevoked,
        AuditAction::CalendarTokenCreated,
        AuditAction::SignedOutEverywhere,
        AuditAction::UserDeactivated,
        AuditAction::UserReactivated,
        AuditAction::UserRemoved,
        AuditAction::UserRoleChanged,
        AuditAction::AccessLinkCreated,
        AuditAction::PasswordSet,
        AuditAction::ItemCreated,
        AuditAction::ItemUpdated,
        AuditAction::ItemDeleted,
        AuditAction::OfferStatusChanged,
        AuditAction::ApprovalRequested,
        AuditAction::Approved,
        AuditAction::RecordPublished,
        AuditAction::RecordRetracted,
        AuditAction::SignedUp,
        AuditAction::FederationModeChanged,
        AuditAction::PolicyChanged,
        AuditAction::WebhookChanged,
        AuditAction::OrgAllowed,
        AuditAction::OrgBlocked,
        AuditAction::OrgUnlisted,
        AuditAction::JoinRequested,
        AuditAction::JoinRefused,
        AuditAction::RecordsPurged,
        AuditAction::RecordReceived,
        AuditAction::RetractionReceived,
        AuditAction::RecordRejected,
        AuditAction::RecordRefused,
        AuditAction::Equivocation,
        AuditAction::RequestSent,
        AuditAction::RequestReceived,
        AuditAction::RequestRefused,
        AuditAction::RequestAccepted,
        AuditAction::RequestDeclined,
        AuditAction::AnswerRefused,
        AuditAction::AnswerAcceptedReceived,
        AuditAction::AnswerDeclinedReceived,
        AuditAction::KudosSent,
        AuditAction::KudosReceived,
        AuditAction::KudosRefused,
        AuditAction::FollowerCountReceived,
        AuditAction::FollowerCountRefused,
        AuditAction::QuotaNoticeSent,
        AuditAction::QuotaRefusedByPartner,
    ];

    /// The name an entry stores.
    pub const fn as_str(self) -> &'static str {
        match self {
            AuditAction::PersonAdded => "person_added",
            AuditAction::UserAdded => "user_added",
            AuditAction::ApiTokenCreated => "api_token_created",
            AuditAction::ApiTokenRevoked => "api_token_revoked",
            AuditAction::CalendarTokenCreated => "calendar_token_created",
            AuditAction::SignedOutEverywhere => "signed_out_everywhere",
            AuditAction::UserDeactivated => "user_deactivated",
            AuditAction::UserReactivated => "user_reactivated",
            AuditAction::UserRemoved => "user_removed",
            AuditAction::UserRoleChanged => "user_role_changed",
            AuditAction::AccessLinkCreated => "access_link_created",
            AuditAction::PasswordSet => "password_set",
            AuditAction::ItemCreated => "item_created",
            AuditAction::ItemUpdated => "item_updated",
            AuditAction::ItemDeleted => "item_deleted",
            AuditAction::OfferStatusChanged => "offer_status_changed",
            AuditAction::ApprovalRequested => "approval_requested",
            AuditAction::Approved => "approved",
            AuditAction::RecordPublished => "record_published",
            AuditAction::RecordRetracted => "record_retracted",
            AuditAction::SignedUp => "signed_up",
            AuditAction::FederationModeChanged => "federation_mode_changed",
            AuditAction::PolicyChanged => "policy_changed",
            AuditAction::WebhookChanged => "webhook_changed",
            AuditAction::OrgAllowed => "org_allowed",
            AuditAction::OrgBlocked => "org_blocked",
            AuditAction::OrgUnlisted => "org_unlisted",
            AuditAction::JoinRequested => "join_requested",
            AuditAction::JoinRefused => "join_refused",
            AuditAction::RecordsPurged => "records_purged",
            AuditAction::RecordReceived => "record_received",
            AuditAction::RetractionReceived => "retraction_received",
            AuditAction::RecordRejected => "record_rejected",
            AuditAction::RecordRefused => "record_refused",
            AuditAction::Equivocation => "equivocation",
            AuditAction::RequestSent => "request_sent",
            AuditAction::RequestReceived => "request_received",
            AuditAction::RequestRefused => "request_refused",
            AuditAction::RequestAccepted => "request_accepted",
            AuditAction::RequestDeclined => "request_declined",
            AuditAction::AnswerRefused => "answer_refused",
            AuditAction::AnswerAcceptedReceived => "answer_accepted_received",
            AuditAction::AnswerDeclinedReceived => "answer_declined_received",
            AuditAction::KudosSent => "kudos_sent",
            AuditAction::KudosReceived => "kudos_received",
            AuditAction::KudosRefused => "kudos_refused",
            AuditAction::FollowerCountReceived => "follower_count_received",
            AuditAction::FollowerCountRefused => "follower_count_refused",
            AuditAction::QuotaNoticeSent => "quota_notice_sent",
            AuditAction::QuotaRefusedByPartner => "quota_refused_by_partner",
        }
    }
}

impl From<AuditAction> for String {
    fn from(action: AuditAction) -> String {
        action.as_str().to_string()
    }
}

/// The audit action of a record refused because it failed verification or
/// validation. Its detail starts with the reason code (`bad_signature: ...`);
/// each is also counted per code (see [`Store::rejection_counts`]).
pub const RECORD_REJECTED: &str = AuditAction::RecordRejected.as_str();

/// The audit action of a record taken in: one entry per record received,
/// so most of a long log.
pub const RECORD_RECEIVED: &str = AuditAction::RecordReceived.as_str();

/// Whether entries with `action` are also kept in the audit-by-action
/// index (`audact/`), so that a filter on a rare action reads only its
/// entries instead of the whole log. `record_received` is left out: it is
/// most of the log (the index would double the audit writes of ingest)
/// and a filter on it is fast anyway, as most entries match it. Only plain
/// codes are indexed, so the `/` after the code in the key is unambiguous.
pub(super) fn indexed_action(action: &str) -> bool {
    action != RECORD_RECEIVED
        && !action.is_empty()
        && action
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The reason code of a `record_rejected` entry: the detail up to its first
/// colon when that is a known code, else `other`.
fn rejection_code(detail: &str) -> &'static str {
    let code = detail.split(':').next().unwrap_or_default().trim();
    skillmesh_protocol::Rejection::CODES
        .into_iter()
        .find(|c| *c == code)
        .unwrap_or("other")
}

/// Schema 1 → 2: builds the audit-by-action index for the entries already
/// in the log. An entry that cannot be decoded stays unindexed (it is
/// reported, and an unfiltered log still shows the error).
pub(super) fn index_by_action(kv: &dyn Kv) -> Result<Batch> {
    #[derive(Deserialize)]
    struct Action {
        action: String,
    }
    let mut batch = Batch::new();
    for r in kv.scan_prefix(keys::AUDIT) {
        let (k, v) = r?;
        match serde_json::from_slice::<Action>(&v) {
            Ok(a) if indexed_action(&a.action) => {
                batch.put(keys::audit_by_action(&a.action, &k), Vec::new());
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(key = %String::from_utf8_lossy(&k), error = %e, "audit entry left out of the action index");
            }
        }
    }
    Ok(batch)
}

impl Store {
    /// Appends entries durably.
    pub fn audit(&self, entries: &[AuditEntry]) -> Result<()> {
        let _guard = self.lock();
        let mut b = Batch::new();
        self.audit_into(&mut b, entries)?;
        self.commit(b)
    }

    /// Adds audit entries to a batch that is committed by the caller, with
    /// the per-code rejection counters they change, so the counters and the
    /// log never disagree. The caller holds the write lock and calls this
    /// at most once per batch (the counters are read, then written).
    pub(super) fn audit_into(&self, batch: &mut Batch, entries: &[AuditEntry]) -> Result<()> {
        let mut rejected: BTreeMap<&'static str, u64> = BTreeMap::new();
        let mut open = self
            .aggregates
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for e in entries {
            if e.action == RECORD_REJECTED {
                *rejected.entry(rejection_code(&e.detail)).or_default() += 1;
            }
            let group = aggregated_action(&e.action)
                .then(|| (e.actor.clone(), e.action.clone(), reason_of(e)));
            let window = e.at.div_euclid(AGGREGATE_SECS);
            if let Some(g) = &group
                && let Some(o) = open.get_mut(g)
            {
                if o.window == window {
                    o.entry.count += e.count;
                    batch.put(o.key.clone(), encode_json(&o.entry));
                    continue;
                }
                if o.entry.count > 1 {
                    tracing::info!(
                        actor = %o.entry.actor,
                        action = %o.entry.action,
                        reason = %g.2,
                        count = o.entry.count,
                        "repeated refusals in the last window"
                    );
                }
            }
            if let Some(g) = &group {
                tracing::info!(actor = %e.actor, action = %e.action, reason = %g.2, "refused; repeats within a minute are counted, not logged");
            }
            let n = self.audit_counter.fetch_add(1, Ordering::Relaxed);
            let key = keys::audit(e.at, n);
            if indexed_action(&e.action) {
                batch.put(keys::audit_by_action(&e.action, &key), Vec::new());
            }
            batch.put(key.clone(), encode_json(e));
            if let Some(g) = group {
                if open.len() >= MAX_AGGREGATES {
                    open.retain(|_, o| o.window >= window);
                }
                open.insert(
                    g,
                    Open {
                        window,
                        key,
                        entry: e.clone(),
                    },
                );
            }
        }
        drop(open);
        for (code, delta) in rejected {
            let key = keys::rejections(code);
            let held = self.kv.get(&key)?.map_or(0, |v| keys::u64_value(&v));
            batch.put(key, (held + delta).to_be_bytes().to_vec());
        }
        Ok(())
    }

    /// How many records were rejected, by reason code, since the store
    /// began (codes never seen are left out).
    pub fn rejection_counts(&self) -> Result<Vec<(String, u64)>> {
        self.kv
            .scan_prefix(keys::REJECTIONS)
            .map(|r| {
                let (k, v) = r?;
                let code = String::from_utf8_lossy(&k[keys::REJECTIONS.len()..]).into_owned();
                Ok((code, keys::u64_value(&v)))
            })
            .collect()
    }

    /// Deletes audit entries older than `cutoff` (unix seconds), with
    /// their action index keys; returns how many went. Works in batches,
    /// so a long log does not make one huge write.
    pub fn purge_audit_before(&self, cutoff: i64) -> Result<usize> {
        #[derive(Deserialize)]
        struct Action {
            action: String,
        }
        let end = keys::audit(cutoff, 0);
        let mut total = 0;
        loop {
            let _guard = self.lock();
            let mut b = Batch::new();
            let mut n = 0;
            for r in self.kv.range(keys::AUDIT, &end).take(10_000) {
                let (k, v) = r?;
                if let Ok(a) = serde_json::from_slice::<Action>(&v)
                    && indexed_action(&a.action)
                {
                    b.delete(keys::audit_by_action(&a.action, &k));
                }
                b.delete(k.to_vec());
                n += 1;
            }
            if n == 0 {
                return Ok(total);
            }
            self.commit(b)?;
            total += n;
        }
    }

    /// Entries matching `filter`, newest first.
    pub fn audit_log(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        if let Some(action) = filter.action.as_deref().filter(|a| indexed_action(a)) {
            return self.audit_log_of_action(action, filter);
        }
        let start = keys::audit(filter.since.unwrap_or(0), 0);
        let end = match filter.until {
            Some(t) => keys::audit(t, 0),
            None => keys::prefix_end(keys::AUDIT),
        };
        let mut out: Vec<AuditEntry> = Vec::new();
        let limit = filter.limit.unwrap_or(usize::MAX);
        // Entries are compact JSON written by us, so a filter on a plain
        // action code or a hex key can skip rows by their bytes without
        // decoding them (most rows fail a filter when the log is long).
        let plain = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        let mut needles: Vec<Vec<u8>> = Vec::new();
        if let Some(a) = filter.action.as_deref().filter(|a| plain(a)) {
            needles.push(format!("\"action\":\"{a}\"").into_bytes());
        }
        if let Some(o) = filter.org.as_deref().filter(|o| plain(o)) {
            needles.push(format!("\"org\":\"{o}\"").into_bytes());
        }
        for r in self.kv.range(&start, &end).rev() {
            let (k, v) = r?;
            if !needles
                .iter()
                .all(|n| v.windows(n.len()).any(|w| w == n.as_slice()))
            {
                continue;
            }
            let e: AuditEntry = super::decode_json(&k, &v)?;
            if filter
                .org
                .as_ref()
                .is_some_and(|o| e.org.as_ref() != Some(o))
            {
                continue;
            }
            if filter.action.as_ref().is_some_and(|a| &e.action != a)
                || filter.people.is_some_and(|p| is_person(&e.actor) != p)
            {
                continue;
            }
            out.push(e);
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    /// [`Store::audit_log`] for an indexed action: walks that action's
    /// index keys and reads only their entries.
    fn audit_log_of_action(&self, action: &str, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        let start = keys::audit_by_action(action, &keys::audit(filter.since.unwrap_or(0), 0));
        let end = match filter.until {
            Some(t) => keys::audit_by_action(action, &keys::audit(t, 0)),
            None => keys::prefix_end(&keys::audit_action_prefix(action)),
        };
        let tail_at = keys::audit_action_prefix(action).len();
        let limit = filter.limit.unwrap_or(usize::MAX);
        let mut out: Vec<AuditEntry> = Vec::new();
        for r in self.kv.range(&start, &end).rev() {
            let (k, _) = r?;
            let key = keys::join(keys::AUDIT, &[&k[tail_at.min(k.len())..]]);
            let Some(v) = self.kv.get(&key)? else {
                tracing::warn!(key = %String::from_utf8_lossy(&k), "audit index names a missing entry");
                continue;
            };
            let e: AuditEntry = super::decode_json(&key, &v)?;
            if e.action != action
                || filter.people.is_some_and(|p| is_person(&e.actor) != p)
                || filter
                    .org
                    .as_ref()
                    .is_some_and(|o| e.org.as_ref() != Some(o))
            {
                continue;
            }
            out.push(e);
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn audit_action_names_are_frozen_and_distinct() {
        // Stored in every audit log written: renaming one would split an
        // action's history in two and break admins' filters.
        let names: Vec<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(
            names,
            [
                "person_added",
                "user_added",
                "api_token_created",
                "api_token_revoked",
                "calendar_token_created",
                "signed_out_everywhere",
                "user_deactivated",
                "user_reactivated",
                "user_removed",
                "user_role_changed",
                "access_link_created",
                "password_set",
                "item_created",
                "item_updated",
                "item_deleted",
                "offer_status_changed",
                "approval_requested",
                "approved",
                "record_published",
                "record_retracted",
                "signed_up",
                "federation_mode_changed",
                "policy_changed",
                "webhook_changed",
                "org_allowed",
                "org_blocked",
                "org_unlisted",
                "join_requested",
                "join_refused",
                "records_purged",
                "record_received",
                "retraction_received",
                "record_rejected",
                "record_refused",
                "equivocation",
                "request_sent",
                "request_received",
                "request_refused",
                "request_accepted",
                "request_declined",
                "answer_refused",
                "answer_accepted_received",
                "answer_declined_received",
                "kudos_sent",
                "kudos_received",
                "kudos_refused",
                "follower_count_received",
                "follower_count_refused",
                "quota_notice_sent",
                "quota_refused_by_partner",
            ]
        );
        let distinct: std::collections::BTreeSet<&str> = names.iter().copied().collect();
        assert_eq!(distinct.len(), names.len());
    }

    use super::*;
    use crate::storage::{self, Kv};

    fn entry(at: i64, action: &str, org: &str) -> AuditEntry {
        AuditEntry {
            at,
            actor: "node".into(),
            action: action.into(),
            org: Some(org.into()),
            record_id: None,
            detail: String::new(),
            claimed_org: None,
            count: 1,
        }
    }

    fn actions(log: &[AuditEntry]) -> Vec<(i64, &str)> {
        log.iter().map(|e| (e.at, e.action.as_str())).collect()
    }

    fn rejected(at: i64, actor: &str, code: &str) -> AuditEntry {
        AuditEntry {
            actor: actor.into(),
            detail: format!("{code}: something"),
            ..entry(at, RECORD_REJECTED, "aa")
        }
    }

    /// Thousands of rejections from one peer for one reason make one row
    /// per minute, with the count; another peer or reason has its own;
    /// the per-code counters still count each one.
    #[test]
    fn repeated_rejections_are_one_row_per_window_with_a_count() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("store");
        let start = 6_000; // a window boundary
        for i in 0..3000 {
            store
                .audit(&[rejected(start + i / 25, "peer:x", "bad_signature")])
                .expect("audit");
        }
        store
            .audit(&[
                rejected(start, "peer:y", "bad_signature"),
                rejected(start, "peer:x", "expired"),
            ])
            .expect("audit");
        store
            .audit(&[entry(start + 5, "policy_changed", "aa")])
            .expect("admin");
        let all = store.audit_log(&AuditFilter::default()).expect("log");
        assert_eq!(all.len(), 5, "{all:?}");
        let x: Vec<u64> = all
            .iter()
            .filter(|e| e.actor == "peer:x" && e.detail.starts_with("bad_signature"))
            .map(|e| e.count)
            .collect();
        assert_eq!(x.iter().sum::<u64>(), 3000);
        assert_eq!(x.len(), 2, "two windows");
        let counts = store.rejection_counts().expect("counts");
        assert!(counts.contains(&("bad_signature".to_string(), 3001)));
    }

    /// Retention drops old entries and their action index keys; people's
    /// actions are found apart from the network's.
    #[test]
    fn retention_drops_old_entries_and_the_index_follows() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("store");
        store
            .audit(&[
                AuditEntry {
                    actor: "ana".into(),
                    ..entry(100, "policy_changed", "aa")
                },
                rejected(150, "peer:x", "bad_signature"),
                AuditEntry {
                    actor: "ana".into(),
                    ..entry(300, "policy_changed", "aa")
                },
                rejected(350, "peer:x", "bad_signature"),
            ])
            .expect("audit");
        let people = store
            .audit_log(&AuditFilter {
                people: Some(true),
                ..Default::default()
            })
            .expect("people");
        assert_eq!(
            actions(&people),
            [(300, "policy_changed"), (100, "policy_changed")]
        );
        assert_eq!(store.purge_audit_before(200).expect("purge"), 2);
        let left = store.audit_log(&AuditFilter::default()).expect("log");
        assert_eq!(
            actions(&left),
            [(350, RECORD_REJECTED), (300, "policy_changed")]
        );
        let changed = store
            .audit_log(&AuditFilter {
                action: Some("policy_changed".into()),
                ..Default::default()
            })
            .expect("by action");
        assert_eq!(actions(&changed), [(300, "policy_changed")]);
        assert_eq!(store.kv.scan_prefix(keys::AUDIT_BY_ACTION).count(), 2);
    }

    /// A store of schema 1 (no action index) is indexed when opened, and a
    /// filter on a rare action then reads the index, with the time range,
    /// organisation and limit applied as on the log.
    #[test]
    fn a_rare_action_is_found_through_the_index_also_after_a_migration() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let kv = storage::open(dir.path()).expect("kv");
            let mut b = Batch::new();
            b.put(keys::META_SCHEMA, 1u32.to_be_bytes().to_vec());
            for (n, e) in [
                entry(100, "policy_changed", "aa"),
                entry(150, RECORD_RECEIVED, "aa"),
                entry(200, "policy_changed", "bb"),
            ]
            .iter()
            .enumerate()
            {
                b.put(keys::audit(e.at, n as u64), encode_json(e));
            }
            kv.commit(b).expect("commit");
        }
        let store = Store::open(dir.path()).expect("open and migrate");
        assert_eq!(
            super::super::schema::read_version(store.kv.as_ref()).expect("version"),
            Some(super::super::CURRENT_SCHEMA)
        );
        let mut more: Vec<AuditEntry> = (0..50)
            .map(|i| entry(300 + i, RECORD_RECEIVED, "aa"))
            .collect();
        more.push(entry(400, "policy_changed", "aa"));
        store.audit(&more).expect("audit");
        let index_rows = store.kv.scan_prefix(keys::AUDIT_BY_ACTION).count();
        assert_eq!(index_rows, 3, "record_received is not indexed");

        let of = |filter: AuditFilter| store.audit_log(&filter).expect("log");
        let changed = |rest: AuditFilter| {
            of(AuditFilter {
                action: Some("policy_changed".into()),
                ..rest
            })
        };
        assert_eq!(
            actions(&changed(AuditFilter::default())),
            [
                (400, "policy_changed"),
                (200, "policy_changed"),
                (100, "policy_changed")
            ]
        );
        assert_eq!(
            actions(&changed(AuditFilter {
                since: Some(100),
                until: Some(400),
                ..Default::default()
            })),
            [(200, "policy_changed"), (100, "policy_changed")]
        );
        assert_eq!(
            actions(&changed(AuditFilter {
                org: Some("aa".into()),
                limit: Some(1),
                ..Default::default()
            })),
            [(400, "policy_changed")]
        );
        // Unindexed actions still come from the log itself.
        assert_eq!(
            of(AuditFilter {
                action: Some(RECORD_RECEIVED.into()),
                ..Default::default()
            })
            .len(),
            51
        );
        assert!(
            changed(AuditFilter {
                since: Some(401),
                ..Default::default()
            })
            .is_empty()
        );
    }
}
