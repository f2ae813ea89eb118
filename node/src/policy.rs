//! What enters the organisation: the federation mode from config plus the
//! admin's allow and block lists, and the per-organisation quota.

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
    let listing = store.org_listing(org)?;
    Ok(match (mode, listing) {
        (_, Some(OrgListing::Blocked)) => Admission::Blocked,
        (FederationMode::Allowlist, Some(OrgListing::Allowed)) => Admission::Accept,
        (FederationMode::Allowlist, None) => Admission::NotAllowed,
        (FederationMode::Open | FederationMode::Blocklist, _) => Admission::Accept,
    })
}
