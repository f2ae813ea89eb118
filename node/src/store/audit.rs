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
    /// Who did it: a username, `node` for automatic actions, or a peer.
    pub actor: String,
    /// A stable code such as `record_received`, `record_rejected`, `policy_changed`.
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
}

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

/// The audit action of a record refused because it failed verification or
/// validation. Its detail starts with the reason code (`bad_signature: ...`);
/// each is also counted per code (see [`Store::rejection_counts`]).
pub const RECORD_REJECTED: &str = "record_rejected";

/// The reason code of a `record_rejected` entry: the detail up to its first
/// colon when that is a known code, else `other`.
fn rejection_code(detail: &str) -> &'static str {
    let code = detail.split(':').next().unwrap_or_default().trim();
    skillmesh_protocol::Rejection::CODES
        .into_iter()
        .find(|c| *c == code)
        .unwrap_or("other")
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
        for e in entries {
            let n = self.audit_counter.fetch_add(1, Ordering::Relaxed);
            batch.put(keys::audit(e.at, n), encode_json(e));
            if e.action == RECORD_REJECTED {
                *rejected.entry(rejection_code(&e.detail)).or_default() += 1;
            }
        }
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

    /// Entries matching `filter`, newest first.
    pub fn audit_log(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
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
            if filter.action.as_ref().is_some_and(|a| &e.action != a) {
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
