//! A cohort's seat limits (seats in all, seats per organisation) hold when
//! applications arrive at the same moment from several nodes and the owner
//! admits them at the same moment from several threads: real nodes on
//! loopback, real sled stores.

use std::collections::BTreeMap;

use crate::common::nodes::*;
use skillmesh_config::FederationMode;
use skillmesh_node::accounts;
use skillmesh_node::service::ServiceError;
use skillmesh_node::store::Actor;
use skillmesh_node::store::{InboxStatus, OutboxStatus, Person, Role, Sharing};
use skillmesh_node::web_api::WebState;
use skillmesh_protocol::kinds::{CohortOffer, Delivery, OfferStatus, Slot};
use skillmesh_protocol::{Body, OrgKey};
use skillmesh_web::AccountsApi;

const SEATS_TOTAL: u8 = 5;
const SEATS_PER_ORG: u8 = 2;
/// Applicants per applying organisation.
const APPLICANTS: usize = 4;

fn cohort() -> Body {
    Body::CohortOffer(CohortOffer {
        person: "olga".into(),
        owner_name: Some("Olga".into()),
        title: "New managers: your first performance review".into(),
        goal: "Run a fair first review".into(),
        topics: vec!["leadership".into()],
        seats_total: SEATS_TOTAL,
        seats_per_org: SEATS_PER_ORG,
        weeks: 6,
        weekly_hours: 2,
        starts_at: 1_900_000_000,
        schedule: vec![
            Slot {
                starts_at: 1_900_000_000,
                duration_minutes: 120,
            },
            Slot {
                starts_at: 1_900_604_800,
                duration_minutes: 120,
            },
        ],
        languages: vec!["en".into()],
        delivery: Delivery::Remote,
        status: OfferStatus::Open,
    })
}

fn person(id: &str) -> Person {
    Person {
        sharing: Sharing::listing(),
        ..Person::new(id, id, &format!("{id}@example.org"), 0)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn seat_limits_hold_under_simultaneous_applications_and_admissions() {
    let owner = start_org("Contoso", &[], FederationMode::Open).await;
    let addr = p2p_addr(&owner).await;
    let owner_org = owner.node.service.org();
    owner
        .node
        .service
        .add_person(&person("olga"), &Actor::person("test"))
        .expect("olga");
    owner
        .node
        .service
        .create_item("cohort", Some("olga"), cohort(), &Actor::person("test"))
        .expect("cohort");
    owner
        .node
        .service
        .publish_item("cohort", &Actor::person("test"))
        .expect("publish");

    let mut applicants = Vec::new();
    for name in ["Northwind", "Fabrikam", "Tailspin"] {
        let org = start_org(name, std::slice::from_ref(&addr), FederationMode::Open).await;
        for n in 0..APPLICANTS {
            org.node
                .service
                .add_person(&person(&format!("p{n}")), &Actor::person("test"))
                .expect("person");
        }
        wait_for("the cohort reaches the applicant's node", || async {
            held_seq(&org, &owner_org, "cohort").is_some()
        })
        .await;
        applicants.push(org);
    }

    // Everyone applies at once: 12 requests from three nodes.
    let mut sends = Vec::new();
    for org in &applicants {
        for n in 0..APPLICANTS {
            let service = org.node.service.clone();
            sends.push(tokio::task::spawn_blocking(move || {
                service.request_offer(
                    &format!("p{n}"),
                    owner_org,
                    "cohort",
                    "Learn",
                    "",
                    "",
                    // The first of each organisation lets the group see
                    // their name: three of twelve, so whoever wins the five
                    // seats, some admitted member is shown without one (with
                    // half of them named, all five could be, and the check
                    // of the hidden names below then failed now and then).
                    n == 0,
                )
            }));
        }
    }
    for send in sends {
        send.await.expect("task").expect("request signed");
    }
    let total = applicants.len() * APPLICANTS;
    wait_for("every application reaches the owner's inbox", || async {
        owner
            .node
            .service
            .store_for_tests()
            .inbox()
            .expect("inbox")
            .len()
            == total
    })
    .await;

    // The owner admits everyone at once, from as many threads.
    let inbox = owner.node.service.store_for_tests().inbox().expect("inbox");
    let mut answers = Vec::new();
    for entry in &inbox {
        let (service, from, id) = (owner.node.service.clone(), entry.from_org, entry.id.clone());
        answers.push(tokio::task::spawn_blocking(move || {
            (
                from,
                service.answer_request(from, &id, true, "Welcome", &Actor::person("olga")),
            )
        }));
    }
    let mut admitted: BTreeMap<OrgKey, usize> = BTreeMap::new();
    let mut refused = 0;
    for answer in answers {
        match answer.await.expect("task") {
            (from, Ok(_)) => *admitted.entry(from).or_default() += 1,
            (_, Err(ServiceError::Invalid(why))) => {
                assert!(why.contains("no places left"), "{why}");
                refused += 1;
            }
            (_, Err(e)) => panic!("unexpected error: {e}"),
        }
    }
    let admitted_total: usize = admitted.values().sum();
    assert_eq!(admitted_total, usize::from(SEATS_TOTAL), "{admitted:?}");
    assert_eq!(refused, total - admitted_total);
    assert!(
        admitted.values().all(|n| *n <= usize::from(SEATS_PER_ORG)),
        "{admitted:?}"
    );
    // The stored state agrees with the answers given.
    let accepted: Vec<_> = owner
        .node
        .service
        .store_for_tests()
        .inbox()
        .expect("inbox")
        .into_iter()
        .filter(|e| e.status == InboxStatus::Accepted)
        .collect();
    assert_eq!(accepted.len(), usize::from(SEATS_TOTAL));
    // The roster every admitted member should come to see: each member's
    // organisation, and a name only where the member allowed it.
    let mut roster: Vec<(OrgKey, Option<String>)> = accepted
        .iter()
        .map(|e| {
            (
                e.from_org,
                e.requester_name.clone().filter(|_| e.name_to_group),
            )
        })
        .collect();
    roster.sort();
    assert!(roster.iter().any(|(_, name)| name.is_none()), "{roster:?}");

    // Each applicant's node learns its answers: as many acceptances there
    // as the owner gave to that organisation.
    for org in &applicants {
        let key = org.node.service.org();
        let expected = admitted.get(&key).copied().unwrap_or(0);
        wait_for("the acceptances reach the applicant's node", || async {
            org.node
                .service
                .store_for_tests()
                .outbox()
                .expect("outbox")
                .iter()
                .filter(|e| e.status == OutboxStatus::Accepted)
                .count()
                == expected
        })
        .await;
        // And every admitted member's node comes to hold the full roster
        // (later answers with a higher seq replace the earlier ones).
        wait_for("the full roster reaches the admitted members", || async {
            org.node
                .service
                .store_for_tests()
                .outbox()
                .expect("outbox")
                .iter()
                .filter(|e| e.status == OutboxStatus::Accepted)
                .all(|e| {
                    e.group.as_ref().is_some_and(|g| {
                        let mut seen: Vec<(OrgKey, Option<String>)> =
                            g.members.iter().map(|m| (m.org, m.name.clone())).collect();
                        seen.sort();
                        seen == roster && g.goal == "Run a fair first review" && g.weeks == 6
                    })
                })
        })
        .await;
    }
    // The owner gets the credit: five people from at least three
    // organisations (two seats each at most), one cohort run; its
    // sessions have not happened yet.
    let credit = owner.node.service.recognition("olga").expect("credit");
    assert_eq!(credit.people_helped, u32::from(SEATS_TOTAL));
    assert_eq!(credit.organisations_reached, admitted.len() as u32);
    assert!(credit.organisations_reached >= 3);
    assert_eq!((credit.cohorts_run, credit.sessions), (1, 0));

    // An admitted member's calendar feed, on their own node, holds the
    // cohort's sessions.
    let (org, member) = applicants
        .iter()
        .find_map(|org| {
            org.node
                .service
                .store_for_tests()
                .outbox()
                .expect("outbox")
                .into_iter()
                .find(|e| e.status == OutboxStatus::Accepted)
                .map(|e| (org, e.requester))
        })
        .expect("someone was admitted");
    let hash = accounts::hash_password("a long enough password").expect("hash");
    let email = format!("{member}@example.org");
    accounts::add_account_for(
        org.node.service.store_for_tests(),
        &email,
        &member,
        Role::Member,
        hash,
        &Actor::person("test"),
    )
    .expect("account");
    let web = WebState::new(org.node.service.clone(), org.node.network.clone());
    let user = web.user(&email).await.expect("user").expect("known");
    let token = web.new_calendar_token(&user).await.expect("token");
    let feed = web
        .calendar_feed(&token)
        .await
        .expect("feed")
        .expect("known token");
    assert_eq!(feed.len(), 1, "{feed:?}");
    assert_eq!(feed[0].org, owner_org);
    assert_eq!(feed[0].slots.len(), 2);

    // A declined or refused applicant sees no group.
    for org in &applicants {
        for e in org.node.service.store_for_tests().outbox().expect("outbox") {
            if e.status != OutboxStatus::Accepted {
                assert!(e.group.is_none(), "{e:?}");
            }
        }
    }

    // A full cohort refuses a new application when it arrives.
    let late = &applicants[0];
    let sent = late
        .node
        .service
        .request_offer("p0", owner_org, "cohort", "Again", "", "", false)
        .expect("request");
    wait_for("the late application is refused", || async {
        outbox_status(late, &sent.id) == Some(OutboxStatus::Refused)
    })
    .await;
}
