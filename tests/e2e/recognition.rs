//! Calls for talks, kudos and recognition across organisations, with real
//! nodes on loopback and real sled stores: Northwind asks for a talk,
//! Contoso's Tomás finds the call and offers to give it, Northwind accepts;
//! Northwind's Aisha asks for Tomás's mentoring and thanks him afterwards.
//! Tomás's credit grows on Contoso's node, and the signed summary on his
//! listing (which he and Contoso chose to share) reaches Northwind.

use crate::common::nodes::*;
use skillmesh_config::FederationMode;
use skillmesh_node::clock;
use skillmesh_node::requests::Refusal;
use skillmesh_node::search::SearchQuery;
use skillmesh_node::service::{ServiceError, listing_id};
use skillmesh_node::store::Actor;
use skillmesh_node::store::{OutboundPolicy, OutboxStatus, Person, Sharing};
use skillmesh_protocol::kinds::{
    Audience, Delivery, Kudos, OfferStatus, RecognitionSummary, SessionFormat, TalkSession,
    TalkWanted,
};
use skillmesh_protocol::profile::ProfileDetails;
use skillmesh_protocol::{Body, Header, OrgKey, RECORD_VERSION, Record};

/// Contoso (Tomás, who shares his recognition, as Contoso allows) and
/// Northwind (Priya and Aisha), connected.
async fn contoso_and_northwind() -> (Org, Org) {
    let contoso = start_org("Contoso", &[], FederationMode::Open).await;
    let addr = p2p_addr(&contoso).await;
    let northwind = start_org("Northwind", &[addr], FederationMode::Open).await;
    let mut policy = OutboundPolicy::default();
    policy.fields.recognition = true;
    contoso
        .node
        .service
        .set_outbound_policy(&policy, &Actor::person("test"))
        .expect("policy");
    let tomas = Person {
        sharing: Sharing {
            recognition: true,
            ..Sharing::listing()
        },
        profile: ProfileDetails {
            headline: "Staff engineer".into(),
            ..ProfileDetails::default()
        },
        ..Person::new("tomas", "Tomás Ferreira", "tomas@contoso.example", 0)
    };
    contoso
        .node
        .service
        .add_person(&tomas, &Actor::person("test"))
        .expect("tomas");
    for (id, name) in [("priya", "Priya Raman"), ("aisha", "Aisha Bello")] {
        northwind
            .node
            .service
            .add_person(
                &Person::new(id, name, &format!("{id}@northwind.example"), 0),
                &Actor::person("test"),
            )
            .expect("person");
    }
    (contoso, northwind)
}

/// Tomás's credit as the listing `org` holds from Contoso carries it.
fn signed_credit(org: &Org, contoso: OrgKey) -> Option<RecognitionSummary> {
    let row = org
        .node
        .service
        .store_for_tests()
        .get_record(&contoso, &listing_id("tomas"))
        .expect("get")?;
    match row.record().expect("decode").body {
        Body::Expertise(e) => e.recognition,
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_for_a_talk_is_answered_elsewhere_and_credits_the_expert() {
    let (contoso, northwind) = contoso_and_northwind().await;
    let (c_key, n_key) = (contoso.node.service.org(), northwind.node.service.org());
    let call = Body::TalkWanted(TalkWanted {
        person: "priya".into(),
        asker_name: Some("Priya Raman".into()),
        title: "How do you run blameless incident reviews?".into(),
        description: "For our team leads.".into(),
        session: TalkSession {
            topics: vec!["Incident response".into()],
            format: SessionFormat::Talk,
            audience: Audience::PeopleManagers,
            duration_minutes: 45,
            languages: vec!["en".into()],
            delivery: Delivery::Remote,
        },
        status: OfferStatus::Open,
    });
    publish_to(&northwind, "call-reviews", Some("priya"), call, &[&contoso]).await;

    // Contoso finds the call among what people elsewhere want (once its
    // search index has taken it in).
    let search = || {
        contoso.node.service.search(
            &SearchQuery {
                q: "blameless".into(),
                kind: "talk_wanted".into(),
                ..SearchQuery::default()
            },
            clock::now(),
        )
    };
    wait_for("Contoso's search finds the call", || async {
        !search().hits.is_empty()
    })
    .await;
    let found = search();
    assert_eq!(found.hits.len(), 1, "{:?}", found.hits);
    assert_eq!(found.hits[0].id, "call-reviews");

    // Tomás offers to give it; Priya accepts.
    let offer = contoso
        .node
        .service
        .request_offer(
            "tomas",
            n_key,
            "call-reviews",
            "How we moved to blameless reviews, with our template",
            "",
            "",
            false,
        )
        .expect("offer to give it");
    wait_for("queued at Northwind", || async {
        outbox_status(&contoso, &offer.id) == Some(OutboxStatus::Queued)
    })
    .await;
    let inbox = northwind
        .node
        .service
        .store_for_tests()
        .inbox()
        .expect("inbox");
    assert_eq!(inbox[0].owner.as_deref(), Some("priya"));
    northwind
        .node
        .service
        .answer_request(
            c_key,
            &offer.id,
            true,
            "Yes please!",
            &Actor::person("priya"),
        )
        .expect("accept");
    wait_for("accepted at Contoso", || async {
        outbox_status(&contoso, &offer.id) == Some(OutboxStatus::Accepted)
    })
    .await;

    // The talk is Tomás's credit, counted on his node...
    let credit = contoso.node.service.recognition("tomas").expect("credit");
    assert_eq!(
        (
            credit.people_helped,
            credit.organisations_reached,
            credit.sessions,
            credit.minutes
        ),
        (1, 1, 1, 45)
    );
    // ...and not Priya's, who asked for it.
    let priya = northwind.node.service.recognition("priya").expect("credit");
    assert_eq!(priya, RecognitionSummary::default());
    // His listing, signed by Contoso, carries it to Northwind.
    wait_for("the new credit reaches Northwind", || async {
        signed_credit(&northwind, c_key).is_some_and(|c| c.sessions == 1)
    })
    .await;

    // One person on each side stands behind each side's impact figures,
    // fewer than the privacy floor (privacy.min_group_size, 5 by
    // default): neither side shows them, nor the other as a partner. (How
    // a talk counts as given and received per partner, with enough
    // people, is checked in the node's web API tests.)
    let withheld = |org: &Org, partner: OrgKey| {
        let impact = org
            .node
            .service
            .impact(&Default::default())
            .expect("impact");
        impact.withheld
            && impact.min_group_size == 5
            && impact.sessions_given == 0
            && impact.requests_received == 0
            && impact.requests_made == 0
            && impact.partners.iter().all(|p| p.org != partner)
    };
    assert!(withheld(&contoso, n_key));
    assert!(withheld(&northwind, c_key));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kudos_reach_the_person_thanked_once_and_only_for_what_they_accepted() {
    let (contoso, northwind) = contoso_and_northwind().await;
    let (c_key, n_key) = (contoso.node.service.org(), northwind.node.service.org());
    publish_to(
        &contoso,
        "mentor-k8s",
        Some("tomas"),
        mentoring("Kubernetes in production"),
        &[&northwind],
    )
    .await;
    let asked = northwind
        .node
        .service
        .request_offer("aisha", c_key, "mentor-k8s", "Run on-call", "", "", false)
        .expect("request");
    wait_for("queued at Contoso", || async {
        outbox_status(&northwind, &asked.id) == Some(OutboxStatus::Queued)
    })
    .await;

    // Not before it is accepted: refused here, and by Contoso's node if
    // another node sends them anyway.
    assert!(matches!(
        northwind
            .node
            .service
            .send_kudos("aisha", &asked.id, "Thanks!"),
        Err(ServiceError::Invalid(_))
    ));
    let forged = kudos_from(&northwind, c_key, &asked.id, "Thanks in advance");
    assert_eq!(
        contoso
            .node
            .service
            .receive_kudos(&forged, n_key)
            .expect("receive"),
        Err(Refusal::NotAccepted)
    );
    let unknown = kudos_from(&northwind, c_key, "req-nope", "Who?");
    assert_eq!(
        contoso
            .node
            .service
            .receive_kudos(&unknown, n_key)
            .expect("receive"),
        Err(Refusal::UnknownRequest)
    );

    contoso
        .node
        .service
        .answer_request(n_key, &asked.id, true, "Happy to", &Actor::person("tomas"))
        .expect("accept");
    wait_for("accepted at Northwind", || async {
        outbox_status(&northwind, &asked.id) == Some(OutboxStatus::Accepted)
    })
    .await;
    assert!(matches!(
        northwind.node.service.send_kudos("aisha", &asked.id, "   "),
        Err(ServiceError::Invalid(_))
    ));
    northwind
        .node
        .service
        .send_kudos(
            "aisha",
            &asked.id,
            "Our first calm on-call week. Thank you!",
        )
        .expect("kudos");
    assert!(
        matches!(
            northwind.node.service.send_kudos("aisha", &asked.id, "Again"),
            Err(ServiceError::Invalid(m)) if m.contains("already")
        ),
        "once per request"
    );
    wait_for("the kudos reach Tomás", || async {
        contoso
            .node
            .service
            .store_for_tests()
            .inbox()
            .expect("inbox")[0]
            .kudos
            .is_some()
    })
    .await;
    let entry = &contoso
        .node
        .service
        .store_for_tests()
        .inbox()
        .expect("inbox")[0];
    let kudos = entry.kudos.as_ref().expect("kudos");
    assert_eq!(kudos.message, "Our first calm on-call week. Thank you!");
    assert_eq!(kudos.from_name.as_deref(), Some("Aisha Bello"));
    wait_for("Northwind knows they were delivered", || async {
        northwind
            .node
            .service
            .store_for_tests()
            .outbox_entry(&asked.id)
            .expect("outbox")
            .and_then(|e| e.kudos)
            .is_some_and(|k| k.delivered && k.refused.is_none())
    })
    .await;
    // They count, and the signed summary on his listing says so.
    wait_for("Northwind holds the credit with the kudos", || async {
        signed_credit(&northwind, c_key).is_some_and(|c| c.kudos == 1 && c.people_helped == 1)
    })
    .await;
}

/// Kudos for `request_id`, signed by `from`'s node for `to`.
fn kudos_from(from: &Org, to: OrgKey, request_id: &str, message: &str) -> Vec<u8> {
    let now = clock::now();
    let record = Record {
        header: Header {
            version: RECORD_VERSION,
            org: from.node.service.org(),
            id: format!("kudos-forged-{request_id}"),
            seq: 1,
            issued_at: now,
            expires_at: now + 86_400,
        },
        body: Body::Kudos(Kudos {
            offer_org: to,
            request_id: request_id.into(),
            from_name: None,
            message: message.into(),
        }),
    };
    skillmesh_protocol::seal(&record, from.node.service.identity().signing_key())
        .expect("seal")
        .into_bytes()
}
