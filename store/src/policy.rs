//! The admin's lists of organisations (allowed partners and blocked), the
//! federation mode chosen at runtime, and the outbound policy.

use serde::{Deserialize, Serialize};
use skillmesh_config::{FederationMode, ParseFederationModeError};
use skillmesh_protocol::OrgKey;

use super::{AuditEntry, Result, Store, StoreError, encode_json, keys};
use crate::storage::Batch;

/// Which list an organisation is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgListing {
    Allowed,
    Blocked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct ListEntry {
    listing: OrgListing,
    since: i64,
}

impl Store {
    /// Puts `org` on a list, or takes it off both with `None`.
    pub fn set_org_listing(
        &self,
        org: &OrgKey,
        listing: Option<OrgListing>,
        now: i64,
    ) -> Result<()> {
        let mut b = Batch::new();
        let key = keys::join(keys::ORG_LIST, &[org.as_bytes()]);
        match listing {
            Some(listing) => b.put(
                key,
                encode_json(&ListEntry {
                    listing,
                    since: now,
                }),
            ),
            None => b.delete(key),
        }
        self.commit(b)
    }

    pub fn org_listing(&self, org: &OrgKey) -> Result<Option<OrgListing>> {
        Ok(self
            .get_json::<ListEntry>(&keys::join(keys::ORG_LIST, &[org.as_bytes()]))?
            .map(|e| e.listing))
    }

    /// The organisations an admin blocked.
    pub fn blocked_orgs(&self) -> Result<Vec<OrgKey>> {
        Ok(self
            .org_listings()?
            .into_iter()
            .filter(|(_, l)| *l == OrgListing::Blocked)
            .map(|(o, _)| o)
            .collect())
    }

    /// Every listed organisation.
    pub fn org_listings(&self) -> Result<Vec<(OrgKey, OrgListing)>> {
        self.kv
            .scan_prefix(keys::ORG_LIST)
            .filter_map(|r| {
                let (k, v) = match r {
                    Ok(kv) => kv,
                    Err(e) => return Some(Err(e.into())),
                };
                let org: [u8; 32] = k.get(keys::ORG_LIST.len()..)?.try_into().ok()?;
                Some(
                    super::decode_json::<ListEntry>(&k, &v)
                        .map(|e| (OrgKey::from_bytes(org), e.listing)),
                )
            })
            .collect()
    }
}

/// An organisation that connected while not on the allowlist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRequest {
    pub org: OrgKey,
    /// Its organisation card, once it arrived.
    #[serde(default)]
    pub card: Option<skillmesh_protocol::kinds::OrgCard>,
    pub first_seen: i64,
    pub last_seen: i64,
    /// Refused by an admin: kept so it is not queued again.
    #[serde(default)]
    pub refused: bool,
}

fn join_key(org: &OrgKey) -> Vec<u8> {
    keys::join(keys::JOIN, &[org.as_bytes()])
}

impl Store {
    pub fn join_request(&self, org: &OrgKey) -> Result<Option<JoinRequest>> {
        self.get_json(&join_key(org))
    }

    pub fn put_join_request(&self, request: &JoinRequest) -> Result<()> {
        let mut b = Batch::new();
        b.put(join_key(&request.org), encode_json(request));
        self.commit(b)
    }

    pub fn remove_join_request(&self, org: &OrgKey) -> Result<()> {
        let mut b = Batch::new();
        b.delete(join_key(org));
        self.commit(b)
    }

    /// Organisations waiting for an admin's decision (refused ones excluded).
    pub fn join_requests(&self) -> Result<Vec<JoinRequest>> {
        Ok(self
            .scan_json::<JoinRequest>(keys::JOIN)?
            .into_iter()
            .filter(|r| !r.refused)
            .collect())
    }
}

/// Which listing fields the organisation lets leave at all, whatever a
/// person chose. Email stays in unless an admin allows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OutboundPolicy {
    pub fields: crate::Sharing,
}

impl Default for OutboundPolicy {
    fn default() -> Self {
        OutboundPolicy {
            fields: crate::Sharing::listing(),
        }
    }
}

impl Store {
    pub fn outbound_policy(&self) -> Result<OutboundPolicy> {
        Ok(self.get_json(keys::META_OUTBOUND)?.unwrap_or_default())
    }

    pub fn set_outbound_policy(&self, policy: &OutboundPolicy) -> Result<()> {
        let mut b = Batch::new();
        b.put(keys::META_OUTBOUND, encode_json(policy));
        self.commit(b)
    }
}

impl Store {
    /// The federation mode an admin set at runtime, if any. It wins over
    /// `federation.mode` in the config from the moment it is set.
    pub fn federation_mode(&self) -> Result<Option<FederationMode>> {
        match self.kv.get(keys::META_FEDERATION_MODE)? {
            None => Ok(None),
            Some(v) => {
                let text = String::from_utf8_lossy(&v);
                text.parse()
                    .map(Some)
                    .map_err(|e: ParseFederationModeError| StoreError::Corrupt {
                        key: "meta/federation-mode".into(),
                        reason: e.to_string(),
                    })
            }
        }
    }

    /// Stores the admin's federation mode and its audit line in one batch.
    pub fn set_federation_mode(&self, mode: FederationMode, audit: &AuditEntry) -> Result<()> {
        let _guard = self.lock();
        let mut b = Batch::new();
        b.put(
            keys::META_FEDERATION_MODE,
            mode.as_str().as_bytes().to_vec(),
        );
        self.audit_into(&mut b, std::slice::from_ref(audit))?;
        self.commit(b)
    }
}

/// Records of one organisation refused by inbound policy for one reason,
/// for the admin console's rejections panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRefusal {
    pub org: OrgKey,
    /// `blocked`, `not_allowed` or `over_quota`.
    pub reason: String,
    pub count: u64,
    pub first_at: i64,
    pub last_at: i64,
}

fn refusal_key(org: &OrgKey, reason: &str) -> Vec<u8> {
    keys::join(keys::POLICY_REFUSALS, &[org.as_bytes(), reason.as_bytes()])
}

impl Store {
    /// Counts records refused at `now` into `b`: one `(org, reason)` per
    /// record. The caller holds the store's write lock, since each call
    /// adds to the counts read before.
    pub(super) fn policy_refusals_into(
        &self,
        b: &mut Batch,
        refused: &[(OrgKey, &str)],
        now: i64,
    ) -> Result<()> {
        let mut counts: std::collections::BTreeMap<(OrgKey, &str), u64> = Default::default();
        for (org, reason) in refused {
            *counts.entry((*org, reason)).or_default() += 1;
        }
        for ((org, reason), n) in counts {
            let key = refusal_key(&org, reason);
            let mut entry = self
                .get_json::<PolicyRefusal>(&key)?
                .unwrap_or(PolicyRefusal {
                    org,
                    reason: reason.to_string(),
                    count: 0,
                    first_at: now,
                    last_at: now,
                });
            entry.count = entry.count.saturating_add(n);
            entry.last_at = now;
            b.put(key, encode_json(&entry));
        }
        Ok(())
    }

    /// Every organisation's policy refusals, most recent first.
    pub fn policy_refusals(&self) -> Result<Vec<PolicyRefusal>> {
        let mut all = self.scan_json::<PolicyRefusal>(keys::POLICY_REFUSALS)?;
        all.sort_by(|a, b| b.last_at.cmp(&a.last_at).then(a.org.cmp(&b.org)));
        Ok(all)
    }
}

/// A partner told us it refused one of our records for its quota.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaNotice {
    /// The partner that refused it.
    pub from: OrgKey,
    /// Our record it refused.
    pub record_id: String,
    /// Our live records it holds, and its quota.
    pub held: u64,
    pub limit: u64,
    /// When the notice was signed (the partner's clock) and received.
    pub issued_at: i64,
    pub received_at: i64,
    /// Notices received from this partner (each replaces the last).
    pub count: u64,
}

fn quota_notice_key(org: &OrgKey) -> Vec<u8> {
    keys::join(keys::QUOTA_NOTICE, &[org.as_bytes()])
}

impl Store {
    pub fn quota_notice(&self, from: &OrgKey) -> Result<Option<QuotaNotice>> {
        self.get_json(&quota_notice_key(from))
    }

    /// Keeps `notice` as the latest from its partner, with `audit` in the
    /// same batch when given.
    pub fn put_quota_notice(&self, notice: &QuotaNotice, audit: Option<&AuditEntry>) -> Result<()> {
        let _guard = self.lock();
        let mut b = Batch::new();
        b.put(quota_notice_key(&notice.from), encode_json(notice));
        if let Some(audit) = audit {
            self.audit_into(&mut b, std::slice::from_ref(audit))?;
        }
        self.commit(b)
    }

    /// The latest notice from every partner, most recent first.
    pub fn quota_notices(&self) -> Result<Vec<QuotaNotice>> {
        let mut all = self.scan_json::<QuotaNotice>(keys::QUOTA_NOTICE)?;
        all.sort_by_key(|n| std::cmp::Reverse(n.received_at));
        Ok(all)
    }
}
