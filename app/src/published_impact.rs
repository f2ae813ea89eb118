//! What leaves the organisation of its impact figures: only what an admin
//! publishes, and only totals and averages. The summary is a signed
//! `impact_summary` record (one per organisation, id [`SUMMARY_ID`]),
//! gossiped like any other, so partners can check which organisation
//! vouches for it; publishing again replaces it and withdrawing sends a
//! retraction. Per-partner figures stay home: they would tell partners
//! about each other. Averages of feedback go only when at least
//! `MIN_FEEDBACK_TO_PUBLISH` people gave it (the protocol refuses them
//! otherwise), so no one's answer can be read back.
//!
//! The summary is made from the figures after the privacy floor
//! (`privacy.min_group_size`, see [`crate::privacy`]) was applied, before it
//! is signed: feedback from fewer people than the floor is left out (its
//! count is 0 and no average goes), and figures fewer of our people stand
//! behind than the floor cannot be published at all.

use skillmesh_protocol::kinds::ImpactSummary;
use skillmesh_protocol::limits::MIN_FEEDBACK_TO_PUBLISH;
use skillmesh_protocol::{Body, OrgKey, Record};
use skillmesh_web::ImpactQuery;

use crate::clock;
use crate::service::{Result, Service, ServiceError};
use crate::store::Actor;

/// The record id of every organisation's published summary.
pub const SUMMARY_ID: &str = "impact-summary";

/// A published summary this node holds: ours or a partner's.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldSummary {
    pub org: OrgKey,
    pub record: Record,
    pub summary: ImpactSummary,
    /// The stored envelope's signature checked out just now, by `org`.
    pub signature_verified: bool,
}

impl Service {
    /// The summary of the figures for `query` that publishing would send.
    pub fn impact_summary(&self, query: &ImpactQuery) -> Result<ImpactSummary> {
        let impact = self.impact(query)?;
        if impact.withheld {
            return Err(ServiceError::Invalid(format!(
                "fewer than {} people here stand behind the figures for this period and topic, so they cannot be published",
                impact.min_group_size
            )));
        }
        let (since, until) = crate::impact::period(query)?;
        let now = clock::now();
        let count = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        // `impact.feedback` is already 0 when fewer people than the floor
        // gave feedback.
        let enough = !impact.feedback_withheld && count(impact.feedback) >= MIN_FEEDBACK_TO_PUBLISH;
        // 1-5 averages in tenths, rounded.
        let tenths = |v: Option<f64>| {
            v.filter(|_| enough)
                .map(|v| (v * 10.0).round().clamp(10.0, 50.0) as u8)
        };
        let topic = query.topic.trim();
        Ok(ImpactSummary {
            period_start: since.unwrap_or_else(|| self.first_activity().unwrap_or(now)),
            period_end: until.map_or(now, |u| u.min(now)),
            topic: (!topic.is_empty()).then(|| topic.to_string()),
            sessions_given: count(impact.sessions_given),
            minutes_given: count(impact.minutes_given),
            participants: count(impact.participants),
            connections: count(impact.connections),
            requests_received: count(impact.requests_received),
            requests_received_answered: count(impact.requests_received_answered),
            requests_made: count(impact.requests_made),
            requests_made_answered: count(impact.requests_made_answered),
            median_minutes_to_answer: impact
                .median_hours_to_answer
                .map(|h| (h * 60.0).round() as u32),
            feedback: count(impact.feedback),
            average_rating_tenths: tenths(impact.average_rating),
            skill_before_tenths: tenths(impact.skill_before),
            skill_after_tenths: tenths(impact.skill_after),
        })
    }

    /// When this node first recorded a request either way, if it has.
    fn first_activity(&self) -> Option<i64> {
        let inbox = self.store().inbox().ok()?;
        let outbox = self.store().outbox().ok()?;
        inbox
            .iter()
            .map(|e| e.received_at)
            .chain(outbox.iter().map(|e| e.created_at))
            .min()
    }

    /// An admin publishes the summary of the figures for `query` to every
    /// partner (replacing the one published before).
    pub fn publish_impact_summary(
        &self,
        query: &ImpactQuery,
        actor: &Actor,
    ) -> Result<ImpactSummary> {
        let summary = self.impact_summary(query)?;
        self.publish_record(SUMMARY_ID, Body::ImpactSummary(summary.clone()), actor)?;
        Ok(summary)
    }

    /// An admin withdraws the published summary; false if there was none.
    pub fn withdraw_impact_summary(&self, actor: &Actor) -> Result<bool> {
        self.retract_record(SUMMARY_ID, actor)
    }

    /// The summaries this node holds: ours first, then partners' by name.
    pub fn impact_summaries(&self) -> Result<Vec<HeldSummary>> {
        let mut out = Vec::new();
        let mut orgs: Vec<OrgKey> = self
            .store()
            .record_counts()?
            .into_iter()
            .map(|(org, _)| org)
            .collect();
        orgs.retain(|o| *o != self.org());
        orgs.insert(0, self.org());
        for org in orgs {
            let Some(row) = self
                .store()
                .get_record(&org, SUMMARY_ID)?
                .filter(|r| !r.tombstone)
            else {
                continue;
            };
            let record = row.record()?;
            let Body::ImpactSummary(summary) = record.body.clone() else {
                continue;
            };
            out.push(HeldSummary {
                org,
                signature_verified: row.signed_by(&org),
                record,
                summary,
            });
        }
        let own = self.org();
        let partners_from = usize::from(out.first().is_some_and(|s| s.org == own));
        out[partners_from..].sort_by_key(|s| self.known_org_name(&s.org).unwrap_or_default());
        Ok(out)
    }
}
