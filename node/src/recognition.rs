//! Credit for the people who teach, mentor and run cohorts, counted from
//! what this node itself recorded: the requests a person accepted and the
//! offers they published. It stays on the node (the profile page shows it
//! to the person); nothing here is sent anywhere.
//!
//! What counts:
//! * people helped: requests to the person's offers that they accepted;
//! * organisations reached: the organisations those requests came from;
//! * sessions and hours: for a talk, one session of its length per
//!   accepted request; for mentoring, the sessions agreed per accepted
//!   mentee; for a cohort with at least one member admitted, its scheduled
//!   sessions that have ended;
//! * cohorts run: cohorts with at least one member admitted.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use skillmesh_protocol::Body;
use skillmesh_web::Recognition;

use crate::store::{InboxEntry, InboxStatus, ItemState, OwnItem, Result, Store};

/// What `person` has given, as of `now` (unix seconds).
pub fn recognition(store: &Store, person: &str, now: i64) -> Result<Recognition> {
    tally(store, now, |e, _| e.owner.as_deref() == Some(person))
}

/// What the accepted requests that `counts` picks (with the offer of ours
/// each is for) add up to, by the rules above, as of `now`.
pub fn tally(
    store: &Store,
    now: i64,
    counts: impl Fn(&InboxEntry, &OwnItem) -> bool,
) -> Result<Recognition> {
    let items: HashMap<String, OwnItem> = store
        .items()?
        .into_iter()
        .filter(|i| i.state != ItemState::Draft)
        .map(|i| (i.id.clone(), i))
        .collect();
    // Accepted requests per offer.
    let mut accepted: BTreeMap<&str, u64> = BTreeMap::new();
    let mut orgs = BTreeSet::new();
    let inbox = store.inbox()?;
    for e in &inbox {
        // A session a partner added to our event is its credit, not ours.
        if e.status != InboxStatus::Accepted || e.contribution.is_some() {
            continue;
        }
        if let Some(item) = items.get(&e.offer_id)
            && counts(e, item)
        {
            *accepted.entry(&item.id).or_default() += 1;
            orgs.insert(e.from_org);
        }
    }
    let mut credit = Recognition {
        people_helped: accepted.values().sum(),
        organisations_reached: orgs.len() as u64,
        ..Recognition::default()
    };
    for (id, taken) in accepted {
        let Some(item) = items.get(id) else {
            continue;
        };
        let (sessions, minutes) = match &item.body {
            Body::TalkOffer(t) => (taken, taken * u64::from(t.duration_minutes)),
            Body::MentoringOffer(m) => {
                let sessions = taken * u64::from(m.sessions);
                (sessions, sessions * u64::from(m.session_minutes))
            }
            Body::CohortOffer(c) => {
                credit.cohorts_run += 1;
                c.schedule
                    .iter()
                    .filter(|s| s.starts_at + i64::from(s.duration_minutes) * 60 <= now)
                    .fold((0, 0), |(n, m), s| {
                        (n + 1, m + u64::from(s.duration_minutes))
                    })
            }
            _ => continue,
        };
        credit.sessions += sessions;
        credit.minutes += minutes;
    }
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
            status,
            reply: String::new(),
            answer: None,
            answer_delivered: false,
            received_at: 0,
            answered_at: None,
        }
    }

    #[test]
    fn accepted_requests_count_and_nothing_else_does() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("store");
        let mut talk = samples::body(Kind::TalkOffer);
        if let Body::TalkOffer(t) = &mut talk {
            t.duration_minutes = 45;
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
        ] {
            store.add_inbox(&entry).expect("inbox");
        }
        let credit = recognition(&store, "tomas", 0).expect("credit");
        assert_eq!(
            credit,
            Recognition {
                people_helped: 3,
                organisations_reached: 2,
                // Two talks of 45 minutes, and four mentoring sessions of 30.
                sessions: 6,
                minutes: 2 * 45 + 4 * 30,
                cohorts_run: 0,
            }
        );
        assert_eq!(
            recognition(&store, "nobody", 0).expect("credit"),
            Recognition::default()
        );
    }
}
