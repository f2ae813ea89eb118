//! A learning week across organisations: the host's event lists sessions
//! (one of them contributed by another organisation); a member of a third
//! organisation signs up for one through their own node, is admitted at
//! once by the host's node, and finds the session in their calendar feed.
//! Real nodes on loopback, real sled stores.

use crate::common::nodes::*;
use skillmesh_config::FederationMode;
use skillmesh_node::accounts;
use skillmesh_node::clock;
use skillmesh_node::requests::{Delivery, Refusal};
use skillmesh_node::service::ServiceError;
use skillmesh_node::store::Actor;
use skillmesh_node::store::{InboxStatus, OutboxStatus, Person, Role};
use skillmesh_node::web_api::WebState;
use skillmesh_protocol::kinds::{Event, EventSession, Request};
use skillmesh_protocol::{Body, Header, OrgKey, RECORD_VERSION, Record};
use skillmesh_web::{AccountsApi, DiscoveryApi, ics};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_elsewhere_signs_up_for_a_session_and_gets_it_in_their_calendar() {
    let host = start_org("Contoso", &[], FederationMode::Open).await;
    let addr = p2p_addr(&host).await;
    let contributor = start_org(
        "Fabrikam",
        std::slice::from_ref(&addr),
        FederationMode::Open,
    )
    .await;
    let member_org = start_org(
        "Northwind",
        std::slice::from_ref(&addr),
        FederationMode::Open,
    )
    .await;
    let host_key = host.node.service.org();
    let now = clock::now();
    let week = Body::Event(Event {
        title: "Learning week".into(),
        description: "Five days of talks from three organisations.".into(),
        // The week is under way: one session is already over.
        starts_at: now - 86_400,
        ends_at: now + 6 * 86_400,
        sessions: vec![
            event_session("s1", "Running a first review", now + 86_400, None),
            event_session(
                "s2",
                "Incident reviews without blame",
                now + 2 * 86_400,
                Some(contributor.node.service.org()),
            ),
            event_session("past", "Already over", now - 7_200, None),
        ],
        languages: vec!["en".into()],
        contributors: Vec::new(),
    });
    publish_to(&host, "week", None, week, &[&member_org]).await;

    let ines = Person::new("ines", "Inês", "ines@northwind.example", 0);
    member_org
        .node
        .service
        .add_person(&ines, &Actor::person("test"))
        .expect("ines");
    let service = &member_org.node.service;
    // Only sessions the event has, and not one that is over.
    assert!(matches!(
        service.sign_up("ines", host_key, "week", "nope"),
        Err(ServiceError::NotFound(_))
    ));
    assert!(matches!(
        service.sign_up("ines", host_key, "week", "past"),
        Err(ServiceError::Invalid(_))
    ));
    let sent = service
        .sign_up("ines", host_key, "week", "s2")
        .expect("sign up");
    assert_eq!(
        sent.offer_title,
        "Learning week: Incident reviews without blame"
    );
    wait_for("the host's node admits the sign-up", || async {
        outbox_status(&member_org, &sent.id) == Some(OutboxStatus::Accepted)
    })
    .await;
    let inbox = host.node.service.store_for_tests().inbox().expect("inbox");
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].session.as_deref(), Some("s2"));
    assert_eq!(inbox[0].status, InboxStatus::Accepted);
    // Once per session.
    assert!(matches!(
        service.sign_up("ines", host_key, "week", "s2"),
        Err(ServiceError::Invalid(m)) if m.contains("already")
    ));

    // The host's own people sign up on their own node, at once, and it
    // stays inside the organisation.
    let olga = Person::new("olga", "Olga", "olga@contoso.example", 0);
    host.node
        .service
        .add_person(&olga, &Actor::person("test"))
        .expect("olga");
    let own = host
        .node
        .service
        .sign_up("olga", host_key, "week", "s1")
        .expect("own sign-up");
    assert_eq!(own.status, OutboxStatus::Accepted);
    assert_eq!(
        host.node
            .service
            .store_for_tests()
            .inbox()
            .expect("inbox")
            .len(),
        1
    );
    assert!(
        host.node
            .service
            .pending_deliveries()
            .expect("pending")
            .iter()
            .all(|d| !matches!(d, Delivery::Request { .. })),
        "nothing to send"
    );
    // One person here stands behind the host's figures (the sign-up from
    // elsewhere), fewer than the privacy floor (5 by default): none is
    // shown.
    let impact = host
        .node
        .service
        .impact(&Default::default())
        .expect("impact");
    assert!(impact.withheld);
    assert_eq!((impact.requests_made, impact.connections), (0, 0));

    // The session is in Inês's calendar feed, with its time.
    let hash = accounts::hash_password("a long enough password").expect("hash");
    accounts::add_account_for(
        service.store_for_tests(),
        "ines@northwind.example",
        "ines",
        Role::Member,
        hash,
        &Actor::person("test"),
    )
    .expect("account");
    let web = WebState::new(service.clone(), member_org.node.network.clone());
    let user = web
        .user("ines@northwind.example")
        .await
        .expect("user")
        .expect("known");
    let token = web.new_calendar_token(&user).await.expect("token");
    let feed = web
        .calendar_feed(&token)
        .await
        .expect("feed")
        .expect("known");
    assert_eq!(feed.len(), 1, "{feed:?}");
    assert_eq!(feed[0].title, "Incident reviews without blame");
    assert_eq!(feed[0].slots[0].starts_at, now + 2 * 86_400);
    assert_eq!(feed[0].org, host_key);
    // It is the same calendar event as the listing's .ics file of that
    // session (one UID), so a calendar program that has both keeps one.
    let listing = web
        .listing(&user, &host_key, "week")
        .await
        .expect("listing");
    let uids = |id: &str, sessions: &[ics::Session]| -> Vec<String> {
        let events: Vec<ics::Event<'_>> = sessions
            .iter()
            .map(|session| ics::Event {
                org: &host_key,
                org_name: "Contoso",
                id,
                session,
            })
            .collect();
        ics::calendar(&events, 0)
            .replace("\r\n ", "")
            .lines()
            .filter_map(|l| l.strip_prefix("UID:"))
            .map(str::to_string)
            .collect()
    };
    let listed = uids(&listing.id, &ics::sessions(&listing.body));
    let fed = uids(&feed[0].id, &ics::of_feed_item(&feed[0]));
    assert_eq!(listed.len(), 3);
    assert_eq!(fed, vec![listed[1].clone()]);
}

/// A request from `from`'s node about `week` of `to`, adding `session` or
/// withdrawing the session `withdraw`, signed as `from`'s node would sign
/// it (but sent without the checks `from`'s node makes first).
fn forged_request(
    from: &Org,
    to: &Org,
    session: Option<EventSession>,
    withdraw: Option<&str>,
) -> Vec<u8> {
    let now = clock::now();
    let record = Record {
        header: Header {
            version: RECORD_VERSION,
            org: from.node.service.org(),
            id: "req-forged".into(),
            seq: 1,
            issued_at: now,
            expires_at: now + 86_400,
        },
        body: Body::Request(Request {
            offer_org: to.node.service.org(),
            offer_id: "week".into(),
            requester: "someone".into(),
            requester_name: None,
            goal: "Add a session".into(),
            preferred_times: String::new(),
            message: String::new(),
            name_to_group: false,
            session: None,
            contribution: session,
            withdraw: withdraw.map(str::to_string),
            ask: None,
        }),
    };
    skillmesh_protocol::seal(&record, from.node.service.identity().signing_key())
        .expect("seal")
        .into_bytes()
}

/// The host's week as `org` holds it: its `seq` and its sessions.
fn programme(org: &Org, host: &OrgKey) -> (u64, Vec<EventSession>) {
    event_sessions(org, host, "week")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invited_organisations_add_and_withdraw_their_own_sessions_and_no_one_else_does() {
    let host = start_org("Contoso", &[], FederationMode::Open).await;
    let addr = p2p_addr(&host).await;
    let invited = start_org(
        "Fabrikam",
        std::slice::from_ref(&addr),
        FederationMode::Open,
    )
    .await;
    let other = start_org(
        "Northwind",
        std::slice::from_ref(&addr),
        FederationMode::Open,
    )
    .await;
    let host_key = host.node.service.org();
    let invited_key = invited.node.service.org();
    let now = clock::now();
    let week = Body::Event(Event {
        title: "Learning week".into(),
        description: String::new(),
        starts_at: now,
        ends_at: now + 5 * 86_400,
        sessions: vec![event_session("s1", "Opening", now + 3600, None)],
        languages: vec!["en".into()],
        contributors: vec![invited_key],
    });
    publish_to(&host, "week", None, week, &[&invited, &other]).await;
    for org in [&invited, &other] {
        org.node
            .service
            .add_person(
                &Person::new("admin", "Admin", "admin@example.org", 0),
                &Actor::person("test"),
            )
            .expect("person");
    }

    // Not invited: refused on our own node, and by the host's node if a
    // node sends it anyway.
    let talk = event_session("", "Blameless reviews", now + 86_400, None);
    assert!(matches!(
        other.node.service.contribute_session("admin", host_key, "week", talk.clone()),
        Err(ServiceError::Invalid(m)) if m.contains("not invited")
    ));
    let forged = forged_request(
        &other,
        &host,
        Some(event_session("x", "Mine", now + 7200, None)),
        None,
    );
    assert_eq!(
        host.node
            .service
            .receive_request(&forged, other.node.service.org())
            .expect("receive"),
        Err(Refusal::NotContributor)
    );

    // Invited: the host's node adds it and signs the event again, and the
    // new programme reaches everyone.
    let sent = invited
        .node
        .service
        .contribute_session("admin", host_key, "week", talk)
        .expect("contribute");
    let id = sent.contribution.as_ref().expect("kept").id.clone();
    assert!(!id.is_empty(), "the node picks an id");
    wait_for("the host takes the session in", || async {
        outbox_status(&invited, &sent.id) == Some(OutboxStatus::Accepted)
    })
    .await;
    wait_for("the new programme reaches Northwind", || async {
        programme(&other, &host_key).1.len() == 2
    })
    .await;
    let (seq, sessions) = programme(&other, &host_key);
    assert_eq!(seq, 2);
    let added = sessions.iter().find(|s| s.id == id).expect("added");
    assert_eq!(added.title, "Blameless reviews");
    assert_eq!(added.contributor, Some(invited_key));

    // Sending the same id again replaces that session.
    let mut changed = added.clone();
    changed.title = "Blameless incident reviews".into();
    invited
        .node
        .service
        .contribute_session("admin", host_key, "week", changed)
        .expect("replace");
    wait_for("the change reaches Northwind", || async {
        programme(&other, &host_key)
            .1
            .iter()
            .any(|s| s.title == "Blameless incident reviews")
    })
    .await;
    assert_eq!(programme(&other, &host_key).1.len(), 2);

    // The host's own session is not the invited organisation's to replace,
    // and the host's node refuses it even if asked directly.
    let takeover = event_session("s1", "Taken over", now + 3600, None);
    assert!(matches!(
        invited.node.service.contribute_session("admin", host_key, "week", takeover.clone()),
        Err(ServiceError::Invalid(m)) if m.contains("another organisation")
    ));
    let forged = forged_request(&invited, &host, Some(takeover), None);
    assert_eq!(
        host.node
            .service
            .receive_request(&forged, invited_key)
            .expect("receive"),
        Err(Refusal::SessionTaken("s1".into()))
    );
    // Nor one outside the event's dates.
    let late = event_session("late", "Too late", now + 9 * 86_400, None);
    assert!(matches!(
        invited.node.service.contribute_session("admin", host_key, "week", late),
        Err(ServiceError::Invalid(m)) if m.contains("outside the event's dates")
    ));

    // Withdrawing: only one's own session, and only by an organisation
    // still invited; the host's node checks again whatever it is sent.
    assert!(matches!(
        invited.node.service.withdraw_session("admin", host_key, "week", "s1"),
        Err(ServiceError::Invalid(m)) if m.contains("another organisation")
    ));
    for (from, id, refusal) in [
        (&invited, "s1", Refusal::SessionTaken("s1".into())),
        (&invited, "nope", Refusal::NoSuchSession("nope".into())),
        (&other, id.as_str(), Refusal::NotContributor),
    ] {
        let forged = forged_request(from, &host, None, Some(id));
        assert_eq!(
            host.node
                .service
                .receive_request(&forged, from.node.service.org())
                .expect("receive"),
            Err(refusal)
        );
    }
    let (seq_before, _) = programme(&other, &host_key);
    let withdrawn = invited
        .node
        .service
        .withdraw_session("admin", host_key, "week", &id)
        .expect("withdraw");
    wait_for("the host takes the session out", || async {
        outbox_status(&invited, &withdrawn.id) == Some(OutboxStatus::Accepted)
    })
    .await;
    wait_for("the shorter programme reaches Northwind", || async {
        programme(&other, &host_key).0 > seq_before
    })
    .await;
    let (_, sessions) = programme(&other, &host_key);
    assert_eq!(
        sessions.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        vec!["s1"],
        "only the host's own session is left"
    );
    wait_for("Fabrikam holds the shorter programme too", || async {
        programme(&invited, &host_key).1.len() == 1
    })
    .await;
    assert!(matches!(
        invited.node.service.withdraw_session("admin", host_key, "week", &id),
        Err(ServiceError::Invalid(m)) if m.contains("no session")
    ));

    // Adding and withdrawing sessions is not asking for learning: the
    // host's impact figures and the contributor's leave it out.
    for org in [&host, &invited] {
        let impact = org
            .node
            .service
            .impact(&Default::default())
            .expect("impact");
        assert_eq!((impact.requests_received, impact.requests_made), (0, 0));
    }
}
