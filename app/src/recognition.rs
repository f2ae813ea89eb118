//! Credit for the people who teach, mentor and run cohorts, counted from
//! what this node itself recorded: the requests a person accepted, the
//! calls for talks of other organisations they answered, the offers they
//! published, the kudos they received and the follower counts partners
//! sent for their learning paths (not those of organisations blocked
//! since). The profile page shows it to
//! the person; it leaves the node only on their listing, and only if both
//! they and the organisation's outbound policy say so (signed with the
//! listing, see `outbound`).
//!
//! What counts:
//! * people helped: requests to the person's offers that they accepted,
//!   questions through their listing that they accepted, and calls for
//!   talks of other organisations that accepted them;
//! * organisations reached: the organisations those came from;
//! * sessions and hours: for a talk, one session of its length per
//!   accepted request; for mentoring, the sessions agreed per accepted
//!   mentee; for a cohort with at least one member admitted, its scheduled
//!   sessions that have ended; for a call for a talk that accepted the
//!   person, one session of its length (a question agrees no length, so
//!   it adds none);
//! * cohorts run: cohorts with at least one member admitted;
//! * kudos: thank-you notes received for requests the person accepted;
//! * curating: follows of the person's learning paths, by other people on
//!   this node and by people elsewhere who let the list's organisation
//!   know (their node sends a count, never who: see `content`), and items
//!   the person recommended to colleagues;
//! * observing: colleagues' sessions the person observed and gave
//!   feedback on.
//!
//! Sessions a partner added to one of our events (contributions) and
//! answers to our own calls for talks are not our people's credit.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use skillmesh_protocol::{Body, OrgKey};
use skillmesh_web::Recognition;

use crate::clock;
use crate::service::Service;

use crate::store::{
    InboxEntry, InboxStatus, ItemState, OutboxEntry, OutboxStatus, OwnItem, Result, Store,
};

impl Service {
    /// What our person `person` has given, as of now.
    pub fn recognition(&self, person: &str) -> Result<Recognition> {
        recognition(self.store(), self.org(), person, clock::now())
    }
}

/// What `person` of organisation `own_org` has given, as of `now`.
fn recognition(store: &Store, own_org: OrgKey, person: &str, now: i64) -> Result<Recognition> {
    let mut credit = tally(
        store,
        now,
        |e, _| e.owner.as_deref() == Some(person),
        |o, _| o.requester == person,
    )?;
    let theirs: BTreeSet<String> = store
        .items_of(person)?
        .into_iter()
        .filter(|i| matches!(i.body, Body::Content(_)))
        .map(|i| i.id)
        .collect();
    let mut followers = store
        .all_follows()?
        .iter()
        .filter(|f| f.person != person && f.org == own_org && theirs.contains(&f.id))
        .count() as u64;
    let blocked = store.blocked_orgs()?;
    for id in &theirs {
        for c in store.received_counts(id)? {
            if !blocked.contains(&c.from_org) {
                followers = followers.saturating_add(u64::from(c.followers));
            }
        }
    }
    let recommended = store
        .all_recommendations()?
        .iter()
        .filter(|r| r.from == person)
        .count();
    add(
        &mut credit.curated,
        followers.saturating_add(recommended as u64),
    );
    let observed = store
        .observations()?
        .iter()
        .filter(|o| o.observer == person && o.feedback.is_some())
        .count();
    add(&mut credit.observed, observed as u64);
    Ok(credit)
}

fn add(total: &mut u32, n: u64) {
    *total = total.saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
}

/// What the accepted requests to our offers that `ours` picks (with the
/// offer each is for, or none for a question through a listing), and our answers to other organisations' calls for
/// talks that `answered` picks (with the call), add up to by the rules
/// above, as of `now`.
pub fn tally(
    store: &Store,
    now: i64,
    ours: impl Fn(&InboxEntry, Option<&OwnItem>) -> bool,
    answered: impl Fn(&OutboxEntry, &Body) -> bool,
) -> Result<Recognition> {
    let items: HashMap<String, OwnItem> = store
        .items()?
        .into_iter()
        .filter(|i| i.state != ItemState::Draft)
        .map(|i| (i.id.clone(), i))
        .collect();
    let mut credit = Recognition::default();
    // Accepted requests per offer.
    let mut accepted: BTreeMap<&str, u64> = BTreeMap::new();
    let mut orgs = BTreeSet::new();
    let mut questions: u64 = 0;
    let inbox = store.inbox()?;
    for e in &inbox {
        if e.status != InboxStatus::Accepted || e.changes_programme() {
            continue;
        }
        if e.ask.is_some() {
            if ours(e, None) {
                questions += 1;
                orgs.insert(e.from_org);
                if e.kudos.is_some() {
                    credit.kudos = credit.kudos.saturating_add(1);
                }
            }
            continue;
        }
        if let Some(item) = items.get(&e.offer_id)
            && !matches!(item.body, Body::TalkWanted(_))
            && ours(e, Some(item))
        {
            *accepted.entry(&item.id).or_default() += 1;
            orgs.insert(e.from_org);
            if e.kudos.is_some() {
                credit.kudos = credit.kudos.saturating_add(1);
            }
        }
    }
    add(
        &mut credit.people_helped,
        accepted.values().sum::<u64>() + questions,
    );
    for (id, taken) in accepted {
        let Some(item) = items.get(id) else {
            continue;
        };
        let (sessions, minutes) = match &item.body {
            Body::TalkOffer(t) => (taken, taken * u64::from(t.session.duration_minutes)),
            Body::MentoringOffer(m) => {
                let sessions = taken * u64::from(m.sessions);
                (sessions, sessions * u64::from(m.session_minutes))
            }
            Body::CohortOffer(c) => {
                credit.cohorts_run = credit.cohorts_run.saturating_add(1);
                c.schedule
                    .iter()
                    .filter(|s| s.starts_at + i64::from(s.duration_minutes) * 60 <= now)
                    .fold((0, 0), |(n, m), s| {
                        (n + 1, m + u64::from(s.duration_minutes))
                    })
            }
            _ => continue,
        };
        add(&mut credit.sessions, sessions);
        add(&mut credit.minutes, minutes);
    }
    // Calls for talks elsewhere that accepted one of our people.
    for o in store.outbox()? {
        if o.status != OutboxStatus::Accepted || o.changes_programme() {
            continue;
        }
        let Some(row) = store.get_record(&o.offer_org, &o.offer_id)? else {
            continue;
        };
        let Ok(record) = row.record() else {
            continue;
        };
        if let Body::TalkWanted(t) = &record.body
            && answered(&o, &record.body)
        {
            add(&mut credit.people_helped, 1);
            add(&mut credit.sessions, 1);
            add(&mut credit.minutes, u64::from(t.session.duration_minutes));
            orgs.insert(o.offer_org);
        }
    }
    add(&mut credit.organisations_reached, orgs.len() as u64);
    Ok(credit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use skillmesh_protocol::samples;
    use skillmesh_protocol::{Kind, OrgKey};

    fn item(id: &str, owner: &str, body: Body, state: ItemState) -> OwnItem {
        OwnItem {
            id: id.into(),
            owner: Some(owner.into()),
            body,
            state,
            published_seq: 1,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn request(from: u8, id: &str, offer: &str, owner: &str, status: InboxStatus) -> InboxEntry {
        InboxEntry {
            from_org: OrgKey::from_bytes([from; 32]),
            id: id.into(),
            offer_id: offer.into(),
            owner: Some(owner.into()),
            requester_name: None,
            goal: "Learn".into(),
            preferred_times: String::new(),
            message: String::new(),
            name_to_group: false,
            session: None,
            contribution: None,
            withdraw: None,
            status,
            reply: String::new(),
            answer: None,
            answer_delivered: false,
            received_at: 0,
            answered_at: None,
            kudos: None,
            ask: None,
        }
    }

    #[test]
    fn accepted_requests_count_and_nothing_else_does() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("store");
        let mut talk = samples::body(Kind::TalkOffer);
        if let Body::TalkOffer(t) = &mut talk {
            t.session.duration_minutes = 45;
        }
        let mut mentoring = samples::body(Kind::MentoringOffer);
        if let Body::MentoringOffer(m) = &mut mentoring {
            m.sessions = 4;
            m.session_minutes = 30;
        }
        store
            .add_item(&item("talk", "tomas", talk, ItemState::Published))
            .expect("talk");
        store
            .add_item(&item("mentoring", "tomas", mentoring, ItemState::Published))
            .expect("mentoring");
        store
            .add_item(&item(
                "theirs",
                "ana",
                samples::body(Kind::TalkOffer),
                ItemState::Published,
            ))
            .expect("ana's");
        for entry in [
            request(2, "r1", "talk", "tomas", InboxStatus::Accepted),
            request(3, "r2", "talk", "tomas", InboxStatus::Accepted),
            request(3, "r3", "mentoring", "tomas", InboxStatus::Accepted),
            request(4, "r4", "mentoring", "tomas", InboxStatus::Declined),
            request(5, "r5", "talk", "tomas", InboxStatus::Pending),
            request(6, "r6", "theirs", "ana", InboxStatus::Accepted),
            // Thanked afterwards.
            InboxEntry {
                kudos: Some(crate::store::ReceivedKudos {
                    message: "Thank you".into(),
                    from_name: None,
                    at: 0,
                }),
                ..request(2, "r7", "talk", "tomas", InboxStatus::Accepted)
            },
            // A session a partner added to an event: not Tomás's credit.
            InboxEntry {
                contribution: Some(skillmesh_protocol::kinds::EventSession {
                    id: "s".into(),
                    title: "Theirs".into(),
                    speaker_name: None,
                    contributor: None,
                    starts_at: 0,
                    duration_minutes: 60,
                    format: skillmesh_protocol::kinds::SessionFormat::Talk,
                    audience: skillmesh_protocol::kinds::Audience::Everyone,
                    topics: Vec::new(),
                }),
                ..request(7, "r8", "talk", "tomas", InboxStatus::Accepted)
            },
        ] {
            store.add_inbox(&entry).expect("inbox");
        }
        let us = OrgKey::from_bytes([1; 32]);
        let credit = recognition(&store, us, "tomas", 0).expect("credit");
        assert_eq!(
            credit,
            Recognition {
                people_helped: 4,
                organisations_reached: 2,
                // Three talks of 45 minutes, and four mentoring sessions of 30.
                sessions: 7,
                minutes: 3 * 45 + 4 * 30,
                cohorts_run: 0,
                kudos: 1,
                curated: 0,
                observed: 0,
            }
        );
        assert_eq!(
            recognition(&store, us, "nobody", 0).expect("credit"),
            Recognition::default()
        );
    }
}
