//! What leaves an organisation: the admin's field policy overrides what a
//! person shares (email stays unless allowed), a policy change re-publishes
//! every listing, and with approval required nothing new leaves until an
//! admin approves it.

use std::time::Duration;

use crate::common::nodes::*;
use skillmesh_config::FederationMode;
use skillmesh_node::store::Actor;
use skillmesh_node::store::{ItemState, Person, Sharing};
use skillmesh_protocol::Body;
use skillmesh_protocol::kinds::Expertise;
use skillmesh_protocol::profile::ProfileDetails;

fn tomas(sharing: Sharing) -> Person {
    Person {
        profile: ProfileDetails {
            headline: "Staff engineer".into(),
            languages: vec!["pt".into()],
            time_zone: Some("Europe/Lisbon".into()),
            ..ProfileDetails::default()
        },
        sharing,
        ..Person::new("tomas", "Tomás Ferreira", "tomas@a.example", 0)
    }
}

fn listing_at(org: &Org, from: &Org) -> Option<(u64, Expertise)> {
    let row = org
        .node
        .service
        .store_for_tests()
        .get_record(&from.node.service.org(), "listing-tomas")
        .expect("get")?;
    match row.record().expect("parse").body {
        Body::Expertise(l) => Some((row.seq, l)),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_policy_decides_which_fields_leave_and_a_change_republishes() {
    let a = start_org("A", &[], FederationMode::Open).await;
    let addr = p2p_addr(&a).await;
    let b = start_org("B", &[addr], FederationMode::Open).await;
    let everything = Sharing {
        email: true,
        ..Sharing::listing()
    };
    a.node
        .service
        .add_person(&tomas(everything), &Actor::person("test"))
        .expect("add");
    wait_for("B has the listing", || async {
        listing_at(&b, &a).is_some()
    })
    .await;
    let (seq, listing) = listing_at(&b, &a).expect("listing");
    assert_eq!(
        listing.email, None,
        "email stays in by default, even when the person opts in"
    );
    assert_eq!(listing.time_zone.as_deref(), Some("Europe/Lisbon"));

    let mut policy = a
        .node
        .service
        .store_for_tests()
        .outbound_policy()
        .expect("policy");
    policy.fields.time_zone = false;
    a.node
        .service
        .set_outbound_policy(&policy, &Actor::person("admin"))
        .expect("policy");
    wait_for("the re-published listing reaches B", || async {
        listing_at(&b, &a).is_some_and(|(s, _)| s > seq)
    })
    .await;
    let (_, listing) = listing_at(&b, &a).expect("listing");
    assert_eq!(listing.time_zone, None);
    assert_eq!(listing.display_name.as_deref(), Some("Tomás Ferreira"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_approval_required_nothing_new_leaves_until_an_admin_approves() {
    let a = start_org_with("A", |c| c.federation.approval_required = true).await;
    let addr = p2p_addr(&a).await;
    let b = start_org("B", &[addr], FederationMode::Open).await;
    let org_a = a.node.service.org();
    let svc = &a.node.service;
    svc.add_person(&tomas(Sharing::listing()), &Actor::person("tomas"))
        .expect("add");
    svc.create_item(
        "mentor",
        Some("tomas"),
        mentoring("Kubernetes"),
        &Actor::person("tomas"),
    )
    .expect("create");
    let item = svc
        .publish_item("mentor", &Actor::person("tomas"))
        .expect("publish");
    assert_eq!(item.state, ItemState::PendingApproval);

    let (people, items) = svc.pending_approvals().expect("queue");
    assert_eq!((people.len(), items.len()), (1, 1));
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(listing_at(&b, &a).is_none() && held_seq(&b, &org_a, "mentor").is_none());
    assert!(
        svc.store_for_tests()
            .get_record(&org_a, "mentor")
            .expect("get")
            .is_none(),
        "nothing signed yet"
    );

    svc.approve_listing("tomas", &Actor::person("admin"))
        .expect("approve listing");
    svc.approve_item("mentor", &Actor::person("admin"))
        .expect("approve item");
    wait_for("both reach B once approved", || async {
        listing_at(&b, &a).is_some() && held_seq(&b, &org_a, "mentor").is_some()
    })
    .await;
    let (people, items) = svc.pending_approvals().expect("queue");
    assert!(people.is_empty() && items.is_empty());
}
