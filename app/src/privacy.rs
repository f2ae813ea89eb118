//! Figures that cannot single anyone out: a count, figure or summary
//! aggregated over people is shown (or published) only when at least
//! `privacy.min_group_size` distinct people stand behind it (default 5,
//! never below 3; see `skillmesh_config::PrivacySettings`).
//!
//! Where the floor applies, and what takes the place of what is left out:
//!
//! - Demand ([`crate::matching::demand`]): a topic wanted by fewer people
//!   is left out of the rows (page, JSON). No total of the rows is shown,
//!   and no count of the topics left out, so nothing can be subtracted.
//! - Impact ([`Service::impact`]): the figures for a period and topic are
//!   counted over the distinct people here who stand behind them (those
//!   asked, those who asked, those who gave feedback). Fewer than the floor,
//!   and every figure is left out (`withheld`). A partner's row is shown
//!   only when enough of our people were brought together with it; how
//!   many rows were left out is said, their figures are not, and no total
//!   of the partner rows is shown. Feedback (its count and averages) is
//!   shown only when enough people gave it.
//! - Published summaries ([`Service::impact_summary`]): made from the
//!   floored figures before signing, so the withheld feedback is not in
//!   them, and withheld figures cannot be published at all.
//!
//! The headline totals stay next to the partner rows on purpose: they are
//! counts over every partner together, backed by at least the floor, and
//! the rows left out are not counted in any figure that is shown by
//! partner, so a missing row's value cannot be had by subtracting.
//!
//! What the floor does not stop: the figures are floored one query at a
//! time, so an admin who compares two overlapping queries (all topics
//! against all topics but one, two periods a day apart) may still learn
//! the difference between them. The people counted are ours; people of
//! other organisations (`participants`) are counted under the same floor
//! of our people, not one of their own.

use skillmesh_protocol::Body;

use crate::service::Service;
use crate::store::{InboxEntry, OutboxEntry};

/// Whether a figure `people` distinct people stand behind may be shown
/// under a floor of `min_group_size`.
pub fn enough_people(people: usize, min_group_size: u32) -> bool {
    // A floor too large for usize cannot be met.
    usize::try_from(min_group_size).is_ok_and(|floor| people >= floor)
}

impl Service {
    /// `privacy.min_group_size` in force.
    pub fn min_group_size(&self) -> u32 {
        self.inbound().min_group_size
    }

    /// Deletes finished requests, ours and others', that finished before
    /// `cutoff` (unix seconds): the `privacy.requests_retention_days`
    /// housekeeping (see `skillmesh_store::retention` for what counts as
    /// finished). Kept whatever their age: requests for one of our events
    /// or cohorts we still hold, and our people's sign-ups for another
    /// organisation's event or cohort still held here, since rosters,
    /// seats and calendars are made of them.
    ///
    /// Recognition ([`crate::recognition`]) and the impact figures are
    /// counted from the requests kept, so a person's credit for requests
    /// that finished longer ago than the retention goes with them: with
    /// the default (730 days) recognition covers about the last two years.
    pub fn purge_finished_requests_before(&self, cutoff: i64) -> crate::service::Result<usize> {
        let store = self.store();
        let programme =
            |body: Option<Body>| matches!(body, Some(Body::Event(_) | Body::CohortOffer(_)));
        let ours_still_held = |e: &InboxEntry| match store.item(&e.offer_id) {
            Ok(item) => programme(item.map(|i| i.body)),
            // Unsure: keep it.
            Err(_) => true,
        };
        let own = self.org();
        let theirs_still_held = |e: &OutboxEntry| {
            if e.offer_org == own {
                // A sign-up to one of our own events.
                return match store.item(&e.offer_id) {
                    Ok(item) => programme(item.map(|i| i.body)),
                    Err(_) => true,
                };
            }
            match store.get_record(&e.offer_org, &e.offer_id) {
                Ok(Some(row)) if !row.tombstone => programme(row.record().ok().map(|r| r.body)),
                Ok(_) => false,
                Err(_) => true,
            }
        };
        Ok(store.purge_finished_requests_before(cutoff, ours_still_held, theirs_still_held)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_is_inclusive() {
        assert!(!enough_people(0, 5));
        assert!(!enough_people(4, 5));
        assert!(enough_people(5, 5));
        assert!(enough_people(6, 3));
        assert!(enough_people(usize::MAX, 1000));
    }
}
