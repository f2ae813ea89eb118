//! What enters the organisation: the federation mode from config plus the
//! admin's allow and block lists, and the per-organisation quota.

use std::collections::HashMap;

use skillmesh_config::FederationMode;
use skillmesh_protocol::OrgKey;

use crate::store::{OrgListing, Store, StoreError};

/// Whether records and requests from an organisation are let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Accept,
    /// Blocked by an admin: refused, and its peers disconnected.
    Blocked,
    /// Allowlist mode and the organisation is not (yet) a partner.
    NotAllowed,
}

impl Admission {
    /// The reason code under which refusals are counted for the admin
    /// console (see [`crate::store::PolicyRefusal`]).
    pub fn code(self) -> &'static str {
        match self {
            Admission::Accept => "accepted",
            Admission::Blocked => "blocked",
            Admission::NotAllowed => "not_allowed",
        }
    }

    pub fn reason(self) -> &'static str {
        match self {
            Admission::Accept => "accepted",
            Admission::Blocked => "organisation is blocked",
            Admission::NotAllowed => "organisation is not on the allowlist",
        }
    }
}

/// Decides admission of `org` under `mode`. Our own organisation is always
/// admitted (our records come back to us through sync).
pub fn admit(
    store: &Store,
    mode: FederationMode,
    own: &OrgKey,
    org: &OrgKey,
) -> Result<Admission, StoreError> {
    if org == own {
        return Ok(Admission::Accept);
    }
    Ok(decide(mode, store.org_listing(org)?))
}

/// The one rule: a blocked organisation is refused in every mode; in
/// allowlist mode only an allowed one is let in; `open` and `blocklist`
/// let in every organisation that is not blocked (the two modes behave
/// the same: see README, "What leaves and what enters").
pub fn decide(mode: FederationMode, listing: Option<OrgListing>) -> Admission {
    match (mode, listing) {
        (_, Some(OrgListing::Blocked)) => Admission::Blocked,
        (FederationMode::Allowlist, Some(OrgListing::Allowed)) => Admission::Accept,
        (FederationMode::Allowlist, None) => Admission::NotAllowed,
        (FederationMode::Open | FederationMode::Blocklist, _) => Admission::Accept,
    }
}

/// Who is admitted under one mode, with the admin's lists read once: for
/// work over every organisation held (building the search catalogue,
/// switching modes).
pub struct Admitted {
    mode: FederationMode,
    own: OrgKey,
    listings: HashMap<OrgKey, OrgListing>,
}

impl Admitted {
    pub fn read(store: &Store, mode: FederationMode, own: OrgKey) -> Result<Admitted, StoreError> {
        Ok(Admitted {
            mode,
            own,
            listings: store.org_listings()?.into_iter().collect(),
        })
    }

    pub fn admission(&self, org: &OrgKey) -> Admission {
        if *org == self.own {
            return Admission::Accept;
        }
        decide(self.mode, self.listings.get(org).copied())
    }

    pub fn admits(&self, org: &OrgKey) -> bool {
        self.admission(org) == Admission::Accept
    }
}
