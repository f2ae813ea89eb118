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
    pub fields: crate::store::Sharing,
}

impl Default for OutboundPolicy {
    fn default() -> Self {
        OutboundPolicy {
            fields: crate::store::Sharing::listing(),
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
