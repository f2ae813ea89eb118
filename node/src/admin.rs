//! Admin decisions about other organisations that touch both the service
//! (policy, store, audit) and the network (connections, catch-up sync).
//! The running node's methods and the web API both call these, so a block
//! from the CLI, a test or the admin console does exactly the same thing.

use skillmesh_protocol::OrgKey;

use crate::network::NetworkHandle;
use crate::service::{Result, Service};
use crate::store::Actor;

/// Blocks `org`: refuses its records and requests, purges what we hold of
/// it (store and search), and disconnects its peers. Returns how many
/// records were purged.
pub async fn block_org(
    service: &Service,
    network: &NetworkHandle,
    org: OrgKey,
    actor: &Actor,
) -> Result<usize> {
    let who = actor.clone();
    let purged = service
        .blocking(move |svc| svc.block_org(&org, &who))
        .await?;
    if let Err(e) = network.disconnect_org(org).await {
        tracing::warn!(error = %e, "cannot disconnect a blocked organisation");
    }
    Ok(purged)
}

/// Takes `org` off both lists (after a block: it is let in again, as the
/// federation mode says, and sync brings its records back).
pub async fn unblock_org(
    service: &Service,
    network: &NetworkHandle,
    org: OrgKey,
    actor: &Actor,
) -> Result<()> {
    let who = actor.clone();
    service
        .blocking(move |svc| svc.set_org_listing(&org, None, &who))
        .await?;
    resync(network).await;
    Ok(())
}

/// Puts `org` on the allowlist (a partner), accepting its join request if
/// it was waiting in the queue; sync then brings its records.
pub async fn allow_org(
    service: &Service,
    network: &NetworkHandle,
    org: OrgKey,
    actor: &Actor,
) -> Result<()> {
    let who = actor.clone();
    service
        .blocking(move |svc| {
            let waiting = svc.join_request(&org)?.is_some_and(|r| !r.refused);
            if waiting {
                svc.accept_join(&org, &who)
            } else {
                svc.set_org_listing(&org, Some(crate::store::OrgListing::Allowed), &who)
            }
        })
        .await?;
    resync(network).await;
    Ok(())
}

/// Runs catch-up sync with every peer (after a change let someone in).
pub async fn resync(network: &NetworkHandle) {
    if let Err(e) = network.resync_all().await {
        tracing::warn!(error = %e, "cannot start catch-up sync");
    }
}
