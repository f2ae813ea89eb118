//! Federation: what this node holds of the network and tells about it.
//!
//! [`Replica`] is the one way outside the application reads the
//! replicated records: the signed records every partner may fetch, their
//! fingerprints and sequence numbers, and the peers this node has been
//! connected to. It reads and never writes, and it reaches nothing of the
//! organisation's own people (profiles, requests, accounts), so the
//! network's reconciliation and sync answers need no store of their own.
//! [`FederationFacts`] is what the admins' federation page counts.

use skillmesh_protocol::OrgKey;
use skillmesh_protocol::fingerprint::Accumulator;

use crate::service::{Result, Service};
use crate::store::{
    JoinRequest, OrgListing, PeerEntry, PolicyRefusal, QuotaNotice, Store, StoreError, StoredRecord,
};

/// The replicated records and the peer list, read-only.
#[derive(Clone, Copy)]
pub struct Replica<'a> {
    store: &'a Store,
}

type StoreResult<T> = std::result::Result<T, StoreError>;

impl<'a> Replica<'a> {
    /// The replica held in `store` (for tests and tools that opened one).
    pub fn of(store: &'a Store) -> Self {
        Replica { store }
    }

    /// The accumulator of every record row held.
    pub fn fingerprint_all(&self) -> StoreResult<Accumulator> {
        self.store.fingerprint_all()
    }

    /// The accumulator of `org`'s rows (empty if none are held).
    pub fn fingerprint_of(&self, org: &OrgKey) -> StoreResult<Accumulator> {
        self.store.fingerprint_of(org)
    }

    /// Every organisation with rows held, with its accumulator, in key order.
    pub fn fingerprints(&self) -> StoreResult<Vec<(OrgKey, Accumulator)>> {
        self.store.fingerprints()
    }

    /// Calls `f` with the `(id, seq, digest)` of every row of `org` whose
    /// id is in `[lower, upper)` (no upper bound when `upper` is `None`),
    /// in id order, until `f` returns false.
    pub fn scan_seqs(
        &self,
        org: &OrgKey,
        lower: &str,
        upper: Option<&str>,
        f: impl FnMut(&str, u64, &[u8; 32]) -> bool,
    ) -> StoreResult<()> {
        self.store.scan_seqs(org, lower, upper, f)
    }

    /// `(id, seq)` of `org`'s rows with ids after `after`, in id order, at
    /// most `limit`.
    pub fn seqs_of(
        &self,
        org: &OrgKey,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<(String, u64)>> {
        self.store.seqs_of(org, after, limit)
    }

    /// Live records held for `org` (what its quota counts).
    pub fn org_live_count(&self, org: &OrgKey) -> StoreResult<u64> {
        self.store.org_live_count(org)
    }

    /// Rows held per organisation.
    pub fn record_counts(&self) -> StoreResult<Vec<(OrgKey, u64)>> {
        self.store.record_counts()
    }

    /// The row of record `id` of `org`, tombstone or not.
    pub fn get_record(&self, org: &OrgKey, id: &str) -> StoreResult<Option<StoredRecord>> {
        self.store.get_record(org, id)
    }

    /// Every peer remembered, in key order.
    pub fn peers(&self) -> StoreResult<Vec<(OrgKey, PeerEntry)>> {
        self.store.peers()
    }
}

/// What the admins' federation page counts, as held now.
pub struct FederationFacts {
    /// Rows held per organisation.
    pub record_counts: Vec<(OrgKey, u64)>,
    /// Live records held per organisation.
    pub live_counts: Vec<(OrgKey, u64)>,
    /// The organisations allowed or blocked by name.
    pub org_listings: Vec<(OrgKey, OrgListing)>,
    /// Organisations asking to join.
    pub join_requests: Vec<JoinRequest>,
    /// Records refused, per rejection code.
    pub rejection_counts: Vec<(String, u64)>,
    /// Records refused by this node's policy, per organisation and reason.
    pub policy_refusals: Vec<PolicyRefusal>,
    /// The latest quota notice from each partner that refused our records.
    pub quota_notices: Vec<QuotaNotice>,
}

/// The federation area of the service.
impl Service {
    /// The replicated records and the peer list, read-only.
    pub fn replica(&self) -> Replica<'_> {
        Replica::of(self.store())
    }

    /// Remembers (or, with `None`, forgets) how to reach `org`'s node.
    pub fn remember_peer(&self, org: &OrgKey, entry: Option<&PeerEntry>) -> Result<()> {
        Ok(self.store().set_peer(org, entry)?)
    }

    /// `org`'s request to join, if it asked.
    pub fn join_request(&self, org: &OrgKey) -> Result<Option<JoinRequest>> {
        Ok(self.store().join_request(org)?)
    }

    /// What the federation page counts.
    pub fn federation_facts(&self) -> Result<FederationFacts> {
        let store = self.store();
        Ok(FederationFacts {
            record_counts: store.record_counts()?,
            live_counts: store.live_counts()?,
            org_listings: store.org_listings()?,
            join_requests: store.join_requests()?,
            rejection_counts: store.rejection_counts()?,
            policy_refusals: store.policy_refusals()?,
            quota_notices: store.quota_notices()?,
        })
    }
}
