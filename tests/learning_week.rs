//! A learning week across organisations: the host's event lists sessions
//! (one of them contributed by another organisation); a member of a third
//! organisation signs up for one through their own node, is admitted at
//! once by the host's node, and finds the session in their calendar feed.
//! Real nodes on loopback, real sled stores.

mod common;

use common::nodes::*;
use skillmesh_config::FederationMode;
use skillmesh_node::accounts;
use skillmesh_node::clock;
use skillmesh_node::service::ServiceError;
use skillmesh_node::store::{InboxStatus, OutboxStatus, Person, Role};
use skillmesh_node::web_api::WebState;
use skillmesh_protocol::Body;
use skillmesh_protocol::kinds::Event;
use skillmesh_web::NodeApi;

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
    });
    publish_to(&host, "week", None, week, &[&member_org]).await;

    let ines = Person::new("ines", "Inês", "ines@northwind.example", 0);
    member_org
        .node
        .service
        .add_person(&ines, "test")
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
        service
            .store()
            .outbox_entry(&sent.id)
            .expect("outbox")
            .is_some_and(|e| e.status == OutboxStatus::Accepted)
    })
    .await;
    let inbox = host.node.service.store().inbox().expect("inbox");
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].session.as_deref(), Some("s2"));
    assert_eq!(inbox[0].status, InboxStatus::Accepted);

    // The session is in Inês's calendar feed, with its time.
    let hash = accounts::hash_password("a long enough password").expect("hash");
    accounts::add_account_for(
        service.store(),
        "ines@northwind.example",
        "ines",
        Role::Member,
        hash,
        "test",
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
}
