//! Rate limits for requests from other organisations, so that neither one
//! organisation nor many fresh keys can flood people's inboxes:
//!
//! 1. each organisation has its own budget
//!    (`federation.requests_per_minute`);
//! 2. organisations first seen recently (see [`Service::is_new_org`]) share
//!    one budget between them all (`federation.new_org_requests_per_minute`):
//!    a hundred fresh keys get no more than one would;
//! 3. all requests together have a node-wide budget
//!    (`federation.node_requests_per_minute`).
//!
//! A request is checked against them in that order and takes a place in
//! each it passes. New organisations can use at most their shared budget
//! of the node-wide one, so the rest stays for organisations the node has
//! known for a while: their requests keep arriving during a flood.
//!
//! The budgets are GCRA limiters from the `governor` crate (well kept,
//! widely used; GCRA is a token bucket without a timer or a float per
//! key): each budget allows its full minute's worth at once and then one
//! request every `60 / n` seconds. They live in memory only; a restart
//! starts them full.
//!
//! [`Service::is_new_org`]: crate::service::Service::is_new_org

use std::num::NonZeroU32;

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota};
use skillmesh_protocol::OrgKey;

/// Above this many organisations with a budget in memory, budgets that
/// are full again are dropped (a flood of fresh keys would grow the map).
const PRUNE_ABOVE: usize = 10_000;

/// Which budget refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exceeded {
    /// The organisation's own.
    Org,
    /// The one all new organisations share.
    NewOrgs,
    /// The node-wide one.
    Node,
}

/// The request budgets of a node.
pub struct RequestLimits {
    per_org: DefaultKeyedRateLimiter<OrgKey>,
    new_orgs: DefaultDirectRateLimiter,
    node: DefaultDirectRateLimiter,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

impl RequestLimits {
    /// Budgets of `per_org` requests a minute for each organisation,
    /// `new_orgs` for all new organisations together and `node` for all.
    pub fn new(per_org: u32, new_orgs: u32, node: u32) -> RequestLimits {
        RequestLimits {
            per_org: DefaultKeyedRateLimiter::keyed(per_minute(per_org)),
            new_orgs: DefaultDirectRateLimiter::direct(per_minute(new_orgs)),
            node: DefaultDirectRateLimiter::direct(per_minute(node)),
        }
    }

    /// Takes a place for one request from `org` (`new`: first seen
    /// recently), or says which budget is spent.
    pub fn check(&self, org: &OrgKey, new: bool) -> Result<(), Exceeded> {
        if self.per_org.len() > PRUNE_ABOVE {
            self.per_org.retain_recent();
        }
        self.per_org.check_key(org).map_err(|_| Exceeded::Org)?;
        if new {
            self.new_orgs.check().map_err(|_| Exceeded::NewOrgs)?;
        }
        self.node.check().map_err(|_| Exceeded::Node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(n: u8) -> OrgKey {
        OrgKey::from_bytes([n; 32])
    }

    /// The budgets refill one place every 60/n seconds; each test spends
    /// a budget of a few a minute within one instant, so no place comes
    /// back while it runs.
    #[test]
    fn fresh_keys_share_one_budget_while_known_organisations_keep_theirs() {
        let limits = RequestLimits::new(5, 3, 10);
        // Ten fresh keys, two requests each: three get through in all.
        let mut allowed = 0;
        let mut by_new_budget = 0;
        for n in 0..10 {
            for _ in 0..2 {
                match limits.check(&org(n), true) {
                    Ok(()) => allowed += 1,
                    Err(Exceeded::NewOrgs) => by_new_budget += 1,
                    Err(other) => panic!("refused by {other:?}"),
                }
            }
        }
        assert_eq!(allowed, 3);
        assert_eq!(by_new_budget, 17);
        // A known organisation still has its own five, within the node's
        // ten (three of which the new ones took).
        for i in 0..5 {
            assert_eq!(limits.check(&org(100), false), Ok(()), "request {i}");
        }
        assert_eq!(limits.check(&org(100), false), Err(Exceeded::Org));
        // Another known one gets the node's last two places, then no more.
        assert_eq!(limits.check(&org(101), false), Ok(()));
        assert_eq!(limits.check(&org(101), false), Ok(()));
        assert_eq!(limits.check(&org(101), false), Err(Exceeded::Node));
    }

    #[test]
    fn one_organisation_is_held_to_its_own_budget() {
        let limits = RequestLimits::new(2, 100, 100);
        assert_eq!(limits.check(&org(1), true), Ok(()));
        assert_eq!(limits.check(&org(1), true), Ok(()));
        assert_eq!(limits.check(&org(1), true), Err(Exceeded::Org));
        assert_eq!(limits.check(&org(2), true), Ok(()));
    }
}
