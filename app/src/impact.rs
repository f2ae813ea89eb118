//! What came of the organisation's peer learning: the feedback our people
//! give after taking part, and the impact figures admins see. Everything
//! is counted on this node from its own records (requests both ways,
//! offers, feedback); the figures are counts and averages, never what one
//! person said, and nothing here is published. Figures fewer than
//! `privacy.min_group_size` of our people stand behind are left out (see
//! [`crate::privacy`]).
//!
//! Requests are counted while they are kept: finished ones older than
//! `privacy.requests_retention_days` are deleted by the node's
//! housekeeping, and then no longer count here (nor in recognition: see
//! [`crate::recognition`]). Feedback is kept on its own and still counts.

use std::collections::{BTreeMap, BTreeSet};

use skillmesh_protocol::{Body, OrgKey};
use skillmesh_web::{FeedbackForm, Impact, ImpactQuery, PartnerImpact};

use crate::catalogue;
use crate::clock;
use crate::privacy::enough_people;
use crate::service::{Result, Service, ServiceError};
use crate::store::{Feedback, InboxStatus, OutboxStatus, Said};

/// Longest "what I will apply" and comment, in bytes.
pub const MAX_FEEDBACK_TEXT_BYTES: usize = 2000;

impl Service {
    /// Whether feedback was given on our request `request_id`.
    pub fn feedback_given(&self, request_id: &str) -> Result<bool> {
        Ok(self.store().feedback(request_id)?.is_some())
    }

    /// Our person `person` says how something they were accepted for went.
    /// Giving feedback again replaces it.
    pub fn give_feedback(
        &self,
        person: &str,
        request_id: &str,
        form: FeedbackForm,
    ) -> Result<Feedback> {
        let entry = self
            .store()
            .outbox_entry(request_id)?
            .filter(|e| e.requester == person)
            .ok_or_else(|| ServiceError::NotFound("request".into()))?;
        if entry.status != OutboxStatus::Accepted || entry.changes_programme() {
            return Err(ServiceError::Invalid(
                "feedback is for what you were accepted for".into(),
            ));
        }
        for (what, value) in [
            ("the rating", form.rating),
            ("the skill before", form.before),
            ("the skill after", form.after),
        ] {
            if !(1..=5).contains(&value) {
                return Err(ServiceError::Invalid(format!("{what} must be 1 to 5")));
            }
        }
        let said = Said {
            rating: form.rating,
            apply: form.apply.trim().to_string(),
            comment: form.comment.trim().to_string(),
            before: form.before,
            after: form.after,
        };
        if said.apply.len() > MAX_FEEDBACK_TEXT_BYTES
            || said.comment.len() > MAX_FEEDBACK_TEXT_BYTES
        {
            return Err(ServiceError::Invalid(format!(
                "keep each answer under {MAX_FEEDBACK_TEXT_BYTES} bytes"
            )));
        }
        let feedback = Feedback {
            request_id: entry.id,
            person: person.to_string(),
            topics: self.topics_held(&entry.offer_org, &entry.offer_id)?,
            offer_org: entry.offer_org,
            offer_id: entry.offer_id,
            said,
            at: clock::now(),
        };
        self.store().put_feedback(&feedback)?;
        Ok(feedback)
    }

    /// The body of a record we hold (ours or another organisation's).
    fn body_held(&self, org: &OrgKey, id: &str) -> Result<Option<Body>> {
        Ok(if *org == self.org() {
            self.store().item(id)?.map(|i| i.body)
        } else {
            match self.store().get_record(org, id)?.filter(|r| !r.tombstone) {
                Some(row) => Some(row.record()?.body),
                None => None,
            }
        })
    }

    /// The topics of a record we hold (ours or another organisation's).
    fn topics_held(&self, org: &OrgKey, id: &str) -> Result<Vec<String>> {
        Ok(topics(self.body_held(org, id)?.as_ref()))
    }

    /// The impact figures for `query`, as of now.
    pub fn impact(&self, query: &ImpactQuery) -> Result<Impact> {
        let (since, until) = period(query)?;
        let in_period = |t: i64| since.is_none_or(|s| t >= s) && until.is_none_or(|u| t < u);
        let topic = query.topic.trim().to_lowercase();
        let about = |topics: &[String]| {
            topic.is_empty() || topics.iter().any(|t| t.to_lowercase() == topic)
        };
        let now = clock::now();
        let floor = self.min_group_size();
        let mut impact = Impact {
            min_group_size: floor,
            ..Impact::default()
        };
        let mut given: BTreeMap<OrgKey, u64> = BTreeMap::new();
        let mut received: BTreeMap<OrgKey, u64> = BTreeMap::new();
        let mut connections: BTreeSet<(String, OrgKey)> = BTreeSet::new();
        // Our people who stand behind the figures: asked, asking, or
        // saying how it went.
        let mut people: BTreeSet<String> = BTreeSet::new();

        // Asked of us.
        let mut waits: Vec<i64> = Vec::new();
        // Sessions partners add to our events are not requests for learning.
        for e in self
            .store()
            .inbox()?
            .into_iter()
            .filter(|e| !e.changes_programme())
        {
            let offer = self.body_held(&self.org(), &e.offer_id)?;
            if !in_period(e.received_at) || !about(&topics(offer.as_ref())) {
                continue;
            }
            impact.requests_received += 1;
            if let Some(owner) = &e.owner {
                people.insert(owner.clone());
            }
            if let Some(at) = e.answered_at.filter(|_| e.status != InboxStatus::Pending) {
                impact.requests_received_answered += 1;
                waits.push(at - e.received_at);
            }
            if e.status == InboxStatus::Accepted {
                // An expert elsewhere answering our call for a talk gives
                // to us; anyone else accepted here, we give to.
                let flow = if matches!(offer, Some(Body::TalkWanted(_))) {
                    &mut received
                } else {
                    &mut given
                };
                *flow.entry(e.from_org).or_default() += 1;
                connections.insert((e.owner.clone().unwrap_or_default(), e.from_org));
            }
        }
        waits.sort_unstable();
        impact.median_hours_to_answer = waits
            .get(waits.len() / 2)
            .filter(|_| !waits.is_empty())
            .map(|w| *w as f64 / 3600.0);
        let credit = crate::recognition::tally(
            self.store(),
            now,
            |e, item| {
                e.answered_at.is_some_and(&in_period) && about(&topics(item.map(|i| &i.body)))
            },
            |o, call| in_period(o.updated_at) && about(&topics(Some(call))),
        )?;
        impact.sessions_given = u64::from(credit.sessions);
        impact.minutes_given = u64::from(credit.minutes);
        impact.participants = u64::from(credit.people_helped);

        // Asked by us.
        for e in self
            .store()
            .outbox()?
            .into_iter()
            // Sign-ups to our own events stay inside the organisation.
            .filter(|e| !e.changes_programme() && e.offer_org != self.org())
        {
            let offer = self.body_held(&e.offer_org, &e.offer_id)?;
            if !in_period(e.created_at) || !about(&topics(offer.as_ref())) {
                continue;
            }
            impact.requests_made += 1;
            people.insert(e.requester.clone());
            if matches!(e.status, OutboxStatus::Accepted | OutboxStatus::Declined) {
                impact.requests_made_answered += 1;
            }
            if e.status == OutboxStatus::Accepted {
                // Our expert answering their call for a talk gives to them.
                let flow = if matches!(offer, Some(Body::TalkWanted(_))) {
                    &mut given
                } else {
                    &mut received
                };
                *flow.entry(e.offer_org).or_default() += 1;
                connections.insert((e.requester, e.offer_org));
            }
        }
        impact.connections = connections.len() as u64;

        // What our people said afterwards.
        let said: Vec<Feedback> = self
            .store()
            .all_feedback()?
            .into_iter()
            .filter(|f| in_period(f.at) && about(&f.topics))
            .collect();
        let said_by: BTreeSet<&str> = said.iter().map(|f| f.person.as_str()).collect();
        people.extend(said_by.iter().map(|p| (*p).to_string()));
        if enough_people(said_by.len(), floor) {
            impact.feedback = said.len() as u64;
            let average = |f: fn(&Feedback) -> u8| {
                (!said.is_empty())
                    .then(|| said.iter().map(|x| f64::from(f(x))).sum::<f64>() / said.len() as f64)
            };
            impact.average_rating = average(|f| f.said.rating);
            impact.skill_before = average(|f| f.said.before);
            impact.skill_after = average(|f| f.said.after);
        } else {
            impact.feedback_withheld = !said.is_empty();
        }

        let wanted_without_supply: Vec<String> = crate::matching::demand(self, now)?
            .into_iter()
            .filter(|r| r.supply == 0 && (topic.is_empty() || r.topic.to_lowercase() == topic))
            .map(|r| r.topic)
            .collect();
        if !enough_people(people.len(), floor) {
            // Too few people for any figure: all are left out, whatever
            // was counted above.
            return Ok(Impact {
                min_group_size: floor,
                withheld: true,
                wanted_without_supply,
                ..Impact::default()
            });
        }

        // Our people brought together with each partner.
        let mut met: BTreeMap<OrgKey, BTreeSet<&str>> = BTreeMap::new();
        for (person, org) in &connections {
            met.entry(*org).or_default().insert(person.as_str());
        }
        let partners: BTreeSet<OrgKey> = given.keys().chain(received.keys()).copied().collect();
        let (shown, left_out): (Vec<OrgKey>, Vec<OrgKey>) = partners
            .into_iter()
            .partition(|org| enough_people(met.get(org).map_or(0, BTreeSet::len), floor));
        impact.partners_withheld = left_out.len() as u64;
        impact.partners = shown
            .into_iter()
            .map(|org| PartnerImpact {
                org_name: self.org_display_name(&org),
                org_fingerprint: org.fingerprint(),
                given: given.get(&org).copied().unwrap_or(0),
                received: received.get(&org).copied().unwrap_or(0),
                org,
            })
            .collect();
        impact.wanted_without_supply = wanted_without_supply;
        Ok(impact)
    }
}

/// The period `query` names: its first day's midnight and the midnight
/// after its last day (the last day counts whole), each if given.
pub(crate) fn period(query: &ImpactQuery) -> Result<(Option<i64>, Option<i64>)> {
    let day = |text: &str, what: &str| -> Result<Option<i64>> {
        match text.trim() {
            "" => Ok(None),
            t => skillmesh_web::dates::parse_date(t)
                .map(Some)
                .ok_or_else(|| {
                    ServiceError::Invalid(format!("{what} must be a day written YYYY-MM-DD"))
                }),
        }
    };
    let since = day(&query.since, "the first day")?;
    let until = day(&query.until, "the last day")?.map(|d| d + 86_400);
    Ok((since, until))
}

/// The topics of a body, if there is one.
fn topics(body: Option<&Body>) -> Vec<String> {
    body.and_then(catalogue::extract)
        .map(|x| x.topics)
        .unwrap_or_default()
}
