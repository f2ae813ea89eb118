//! Asking an expert: a question through a person's listing travels as a
//! request for the listing, is taken only while they take questions and
//! have room this month, and counts in their recognition once accepted.

use skillmesh_protocol::kinds::AskFormat;
use skillmesh_protocol::profile::ProfileDetails;

use super::*;

/// Ana shares her name and topics, so her listing is published.
async fn anas_listing(n: &Node, questions: QuestionSettings) -> String {
    let update = ProfileUpdate {
        display_name: "Ana".into(),
        profile: ProfileDetails {
            topics: vec![Topic {
                name: "Kubernetes".into(),
                level: Level::Expert,
            }],
            ..ProfileDetails::default()
        },
        sharing: SharedFields {
            display_name: true,
            topics: true,
            ..SharedFields::default()
        },
        questions: Some(questions),
    };
    let profile = n.api.update_profile(&n.ana, update).await.expect("update");
    assert_eq!(profile.questions, questions);
    assert_eq!(
        profile.preview.map(|p| p.takes_questions),
        Some(questions.open),
        "the listing says whether she takes questions"
    );
    format!("listing-{}", profile.person_id)
}

/// A question from `key`'s organisation for `listing`, as its node
/// would send it.
fn question(svc: &Service, key: &SigningKey, id: &str, listing: &str) -> PeerOutcome {
    let request = zoe_request(svc, key, id, listing, Some(AskFormat::Review));
    svc.receive_request(&request, OrgKey::from(&key.verifying_key()))
        .expect("handled")
}

type PeerOutcome = std::result::Result<(), crate::requests::Refusal>;

#[tokio::test]
async fn an_expert_takes_questions_up_to_their_monthly_number_and_is_credited() {
    use crate::requests::Refusal;
    let n = node();
    let svc = n.api.service().clone();
    let listing = anas_listing(
        &n,
        QuestionSettings {
            open: true,
            per_month: 2,
        },
    )
    .await;
    let contoso = other(2);
    let contoso_org = federate(&svc, 2, "Contoso");
    assert_eq!(question(&svc, &contoso, "q-1", &listing), Ok(()));
    assert_eq!(question(&svc, &contoso, "q-2", &listing), Ok(()));
    assert_eq!(
        question(&svc, &contoso, "q-3", &listing),
        Err(Refusal::QuestionsFull)
    );
    assert_eq!(
        question(&svc, &contoso, "q-4", "listing-nobody"),
        Err(Refusal::NoSuchOffer)
    );
    let inbox = n.api.inbox(&n.ana).await.expect("inbox");
    assert_eq!(inbox.len(), 2);
    assert!(inbox.iter().all(|i| i.ask == Some(AskFormat::Review)));
    assert_eq!(
        inbox[0].offer_title,
        "A question for you (a review of my work)"
    );
    assert!(
        n.api.inbox(&n.bob).await.expect("inbox").is_empty(),
        "Ana's alone"
    );
    // She is told, twice, and Bob is not.
    let notes = n.api.notifications(&n.ana).await.expect("notifications");
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(
        notes
            .iter()
            .all(|x| x.kind == "question_received" && !x.read)
    );
    assert!(
        notes[0]
            .text
            .starts_with("Zoe at Contoso asks you a question: Run a calmer on-call."),
        "{notes:?}"
    );
    assert_eq!(n.api.unread_notifications(&n.ana).await.expect("count"), 2);
    assert_eq!(n.api.unread_notifications(&n.bob).await.expect("count"), 0);
    let first = vec![notes[1].id.clone()];
    assert_eq!(
        n.api
            .mark_notifications_read(&n.ana, Some(first))
            .await
            .expect("read"),
        1
    );
    assert_eq!(n.api.unread_notifications(&n.ana).await.expect("count"), 1);
    n.api
        .answer_request(
            &n.ana,
            &contoso_org,
            "q-1",
            RequestAnswer {
                accept: true,
                reply: "Send me the design.".into(),
            },
        )
        .await
        .expect("accept");
    let profile = n.api.profile(&n.ana).await.expect("profile");
    assert_eq!(profile.recognition.people_helped, 1);
    assert_eq!(profile.recognition.organisations_reached, 1);
    assert_eq!(
        profile.recognition.minutes, 0,
        "a question agrees no length"
    );

    // Closed to questions: the listing says so and the node refuses.
    anas_listing(
        &n,
        QuestionSettings {
            open: false,
            per_month: 2,
        },
    )
    .await;
    assert_eq!(
        question(&svc, &other(3), "q-5", &listing),
        Err(Refusal::NoQuestions)
    );
}

#[tokio::test]
async fn a_person_asks_an_expert_from_their_listing_which_shows_their_offers() {
    let n = node();
    let svc = n.api.service().clone();
    let key = other(2);
    let org = federate(&svc, 2, "Contoso");
    let Body::Expertise(mut expert) = samples::body(Kind::Expertise) else {
        panic!("a sample listing");
    };
    expert.takes_questions = true;
    // The samples' offers are all by one person; she is someone else.
    expert.person = "zoe".into();
    let person = expert.person.clone();
    let listing = "listing-zoe";
    let stored = ingest(
        &svc,
        &envelope(&key, listing, 1, Body::Expertise(expert.clone())),
    );
    assert!(matches!(stored, Ok(Ingested::Stored { .. })), "{stored:?}");
    let mut talk = talk("Node pools", 30);
    if let Body::TalkOffer(t) = &mut talk {
        t.person = person.clone();
    }
    let stored = ingest(&svc, &envelope(&key, "talk-zoe", 1, talk));
    assert!(matches!(stored, Ok(Ingested::Stored { .. })), "{stored:?}");

    let page = n.api.listing(&n.ana, &org, listing).await.expect("listing");
    assert!(page.askable);
    let offers: Vec<&str> = page.offers.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(offers, ["talk-zoe"], "her open offers, not the others'");

    let ask = |goal: &str| NewRequest {
        offer_org: org,
        offer_id: listing.into(),
        goal: goal.into(),
        preferred_times: String::new(),
        message: "Thanks!".into(),
        name_to_group: false,
        session: None,
        contribution: None,
        withdraw: None,
        ask: Some(AskFormat::Call),
    };
    let sent = n
        .api
        .send_request(&n.ana, ask("How do you size node pools?"))
        .await
        .expect("sent");
    assert!(
        sent.offer_title.starts_with("Question for "),
        "{}",
        sent.offer_title
    );
    assert!(
        sent.offer_title.ends_with("(a call)"),
        "{}",
        sent.offer_title
    );
    assert!(
        matches!(
            n.api.send_request(&n.ana, ask("And another")).await,
            Err(ApiError::Invalid(m)) if m.contains("wait for their answer")
        ),
        "one waiting question per expert"
    );
    let record = svc
        .store_for_tests()
        .outbox_of(&n.ana.person_id)
        .expect("outbox")
        .remove(0);
    let request =
        skillmesh_protocol::open(&hex::decode(&record.envelope).expect("hex"), clock::now())
            .expect("a valid envelope");
    let Body::Request(r) = request.body else {
        panic!("a request");
    };
    assert_eq!(r.ask, Some(AskFormat::Call));
    assert_eq!(r.offer_id, listing);

    // Her answer comes back: Ana is told.
    let answer = envelope(
        &key,
        &format!("answer-{}", sent.id),
        1,
        Body::Answer(skillmesh_protocol::kinds::Answer {
            request_org: svc.org(),
            request_id: sent.id.clone(),
            decision: skillmesh_protocol::kinds::Decision::Accepted,
            reply: "Happy to.".into(),
            contact: None,
            group: None,
        }),
    );
    svc.receive_answer(&answer, org)
        .expect("receive")
        .expect("taken");
    let notes = n.api.notifications(&n.ana).await.expect("notifications");
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0].kind, "request_answered");
    assert!(
        notes[0]
            .text
            .starts_with("Contoso accepted your request: Question for"),
        "{notes:?}"
    );

    // An expert who does not take questions cannot be asked.
    expert.takes_questions = false;
    let stored = ingest(&svc, &envelope(&key, listing, 2, Body::Expertise(expert)));
    assert!(matches!(stored, Ok(Ingested::Stored { .. })), "{stored:?}");
    assert!(
        !n.api
            .listing(&n.ana, &org, listing)
            .await
            .expect("listing")
            .askable
    );
    assert!(matches!(
        n.api.send_request(&n.bob, ask("Hello?")).await,
        Err(ApiError::Invalid(m)) if m.contains("does not take questions")
    ));
}
