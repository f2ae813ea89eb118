//! Requests between organisations, and the impact figures they add up to.

use super::*;

/// `user` asks for the talk of `key`'s organisation, which accepts; the
/// request's id.
async fn accepted_elsewhere(n: &Node, user: &User, key: &SigningKey) -> String {
    let svc = n.api.service();
    let org = OrgKey::from(&key.verifying_key());
    let sent = n
        .api
        .send_request(
            user,
            NewRequest {
                offer_org: org,
                offer_id: "talk-1".into(),
                goal: "Learn".into(),
                preferred_times: String::new(),
                message: String::new(),
                name_to_group: false,
                session: None,
                contribution: None,
                withdraw: None,
                ask: None,
            },
        )
        .await
        .expect("send");
    let answer = envelope(
        key,
        &format!("answer-{}", sent.id),
        1,
        Body::Answer(skillmesh_protocol::kinds::Answer {
            request_org: svc.org(),
            request_id: sent.id.clone(),
            decision: skillmesh_protocol::kinds::Decision::Accepted,
            reply: "Welcome".into(),
            contact: None,
            group: None,
        }),
    );
    svc.receive_answer(&answer, org)
        .expect("receive")
        .expect("taken");
    sent.id
}

#[tokio::test]
async fn feedback_and_requests_both_ways_add_up_to_the_impact_figures() {
    // The smallest floor there is: three people must stand behind a figure.
    let n = node_with_floor(3);
    let svc = n.api.service().clone();
    let id = anas_published_talk(&n).await;
    // Zoe at Contoso asks for Ana's talk, and Ana accepts.
    let contoso = other(2);
    let contoso_org = federate(&svc, 2, "Contoso");
    zoe_asks(&svc, &contoso, "req-zoe", &id);
    n.api
        .answer_request(
            &n.ana,
            &contoso_org,
            "req-zoe",
            RequestAnswer {
                accept: true,
                reply: String::new(),
            },
        )
        .await
        .expect("answer");
    // Ana asks for Contoso's talk, and Contoso accepts.
    let sent = n
        .api
        .send_request(
            &n.ana,
            NewRequest {
                offer_org: contoso_org,
                offer_id: "talk-1".into(),
                goal: "Learn".into(),
                preferred_times: String::new(),
                message: String::new(),
                name_to_group: false,
                session: None,
                contribution: None,
                withdraw: None,
                ask: None,
            },
        )
        .await
        .expect("send");
    // Not before it is accepted.
    let form = FeedbackForm {
        rating: 4,
        apply: "Blameless reviews".into(),
        comment: String::new(),
        before: 2,
        after: 4,
    };
    assert!(matches!(
        n.api.give_feedback(&n.ana, &sent.id, form.clone()).await,
        Err(ApiError::Invalid(_))
    ));
    let answer = envelope(
        &contoso,
        &format!("answer-{}", sent.id),
        1,
        Body::Answer(skillmesh_protocol::kinds::Answer {
            request_org: svc.org(),
            request_id: sent.id.clone(),
            decision: skillmesh_protocol::kinds::Decision::Accepted,
            reply: "Welcome".into(),
            contact: None,
            group: None,
        }),
    );
    svc.receive_answer(&answer, contoso_org)
        .expect("receive")
        .expect("taken");
    // The acknowledgement of the request, arriving after the answer,
    // does not take the answer back.
    svc.delivered(
        &crate::requests::Delivery::Request {
            to: contoso_org,
            id: sent.id.clone(),
            envelope: Vec::new(),
        },
        Ok(()),
    )
    .expect("delivered");
    assert_eq!(
        svc.store_for_tests()
            .outbox_entry(&sent.id)
            .expect("get")
            .map(|e| e.status),
        Some(OutboxStatus::Accepted)
    );
    // Only the person who asked gives feedback on it, within bounds.
    assert!(matches!(
        n.api.give_feedback(&n.bob, &sent.id, form.clone()).await,
        Err(ApiError::NotFound(_))
    ));
    assert!(matches!(
        n.api
            .give_feedback(
                &n.ana,
                &sent.id,
                FeedbackForm {
                    rating: 6,
                    ..form.clone()
                }
            )
            .await,
        Err(ApiError::Invalid(_))
    ));
    n.api
        .give_feedback(&n.ana, &sent.id, form.clone())
        .await
        .expect("feedback");
    let outbox = n.api.outbox(&n.ana).await.expect("outbox");
    assert!(outbox[0].feedback_given);

    // Ana alone stands behind these figures, fewer than the floor: none
    // is shown, and none can be published.
    let alone = n.api.impact(&ImpactQuery::default()).await.expect("impact");
    assert!(alone.withheld);
    assert_eq!(alone.min_group_size, 3);
    assert_eq!(
        (
            alone.sessions_given,
            alone.participants,
            alone.connections,
            alone.requests_made,
            alone.requests_received,
            alone.feedback
        ),
        (0, 0, 0, 0, 0, 0)
    );
    assert!(alone.partners.is_empty());
    assert_eq!(alone.average_rating, None);
    assert!(matches!(
        svc.impact_summary(&ImpactQuery::default()),
        Err(crate::service::ServiceError::Invalid(_))
    ));

    // Bob and Cy ask Contoso too and are accepted; Ana also asks
    // Fabrikam, where she is the only one of us. Bob says how it went.
    let cy = member(&n, "cy");
    let fabrikam = other(3);
    federate(&svc, 3, "Fabrikam");
    let bobs = accepted_elsewhere(&n, &n.bob, &contoso).await;
    let cys = accepted_elsewhere(&n, &cy, &contoso).await;
    accepted_elsewhere(&n, &n.ana, &fabrikam).await;
    n.api
        .give_feedback(&n.bob, &bobs, form.clone())
        .await
        .expect("feedback");
    // Three people stand behind the figures now, but only two gave
    // feedback: its count and averages are left out, here and in what
    // publishing would sign.
    let two_said = n.api.impact(&ImpactQuery::default()).await.expect("impact");
    assert!(!two_said.withheld);
    assert!(two_said.feedback_withheld);
    assert_eq!((two_said.feedback, two_said.average_rating), (0, None));
    let summary = svc
        .impact_summary(&ImpactQuery::default())
        .expect("summary");
    assert_eq!(summary.feedback, 0, "{summary:?}");
    assert_eq!(summary.average_rating_tenths, None);
    assert_eq!((summary.requests_made, summary.connections), (4, 4));
    n.api
        .give_feedback(&cy, &cys, form)
        .await
        .expect("feedback");

    let all = n.api.impact(&ImpactQuery::default()).await.expect("impact");
    assert!(!all.withheld && !all.feedback_withheld);
    assert_eq!(
        (all.sessions_given, all.minutes_given, all.participants),
        (1, 45, 1)
    );
    // Ana, Bob and Cy with Contoso, Ana with Fabrikam.
    assert_eq!(all.connections, 4);
    assert_eq!((all.requests_made, all.requests_made_answered), (4, 4));
    assert_eq!(
        (all.requests_received, all.requests_received_answered),
        (1, 1)
    );
    assert!(all.median_hours_to_answer.is_some_and(|h| h >= 0.0));
    assert_eq!(all.feedback, 3);
    assert_eq!(
        (all.average_rating, all.skill_before, all.skill_after),
        (Some(4.0), Some(2.0), Some(4.0))
    );
    // Contoso met three of us and is shown; Fabrikam met only Ana and is
    // not (only that one partner was left out is said).
    assert_eq!(all.partners.len(), 1);
    assert_eq!(all.partners_withheld, 1);
    assert_eq!(
        (
            all.partners[0].org_name.as_str(),
            all.partners[0].given,
            all.partners[0].received
        ),
        ("Contoso", 1, 3)
    );
    // A topic nothing targeted, and a period before any of it: nothing.
    for query in [
        ImpactQuery {
            topic: "basket weaving".into(),
            ..ImpactQuery::default()
        },
        ImpactQuery {
            until: "2020-01-01".into(),
            ..ImpactQuery::default()
        },
    ] {
        let none = n.api.impact(&query).await.expect("impact");
        assert_eq!(
            (
                none.requests_made,
                none.requests_received,
                none.feedback,
                none.sessions_given
            ),
            (0, 0, 0, 0),
            "{query:?}"
        );
        assert!(none.withheld, "{query:?}");
        assert!(none.partners.is_empty());
    }
    // Narrowed to the topic of Ana's talk, only Ana stands behind the
    // figures (Zoe asked her for it): fewer than the floor, none shown.
    let k8s = n
        .api
        .impact(&ImpactQuery {
            topic: "kubernetes".into(),
            ..ImpactQuery::default()
        })
        .await
        .expect("impact");
    assert!(k8s.withheld);
    assert_eq!((k8s.requests_received, k8s.sessions_given), (0, 0));
    // Narrowed to the topic of the partners' talk, which Ana, Bob and Cy
    // asked for and said how it went: counted.
    let incidents = n
        .api
        .impact(&ImpactQuery {
            topic: "incident response".into(),
            ..ImpactQuery::default()
        })
        .await
        .expect("impact");
    assert!(!incidents.withheld);
    assert_eq!(
        (
            incidents.requests_made,
            incidents.requests_received,
            incidents.feedback
        ),
        (4, 0, 3)
    );
    assert!(matches!(
        n.api
            .impact(&ImpactQuery {
                since: "soon".into(),
                ..ImpactQuery::default()
            })
            .await,
        Err(ApiError::Invalid(_))
    ));
}

#[tokio::test]
async fn requests_reach_only_the_offering_persons_inbox() {
    let n = node();
    let svc = n.api.service().clone();
    let id = anas_published_talk(&n).await;
    // Someone at Contoso asks for it.
    let contoso = other(2);
    let from = OrgKey::from(&contoso.verifying_key());
    zoe_asks(&svc, &contoso, "req-1", &id);
    let inbox = n.api.inbox(&n.ana).await.expect("inbox");
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].offer_title, "On-call");
    assert_eq!(inbox[0].status, RequestStatus::Pending);
    assert!(n.api.inbox(&n.bob).await.expect("inbox").is_empty());
    let answer = RequestAnswer {
        accept: true,
        reply: "Gladly.".into(),
    };
    assert!(matches!(
        n.api
            .answer_request(&n.bob, &from, "req-1", answer.clone())
            .await,
        Err(ApiError::NotFound(_))
    ));
    let answered = n
        .api
        .answer_request(&n.ana, &from, "req-1", answer)
        .await
        .expect("answer");
    assert_eq!(answered.status, RequestStatus::Accepted);

    // Ana asks Contoso for its talk; Bob does not see it in his outbox.
    federate(&svc, 2, "Contoso");
    let sent = n
        .api
        .send_request(
            &n.ana,
            NewRequest {
                offer_org: from,
                offer_id: "talk-1".into(),
                goal: "Learn from your year of on-call.".into(),
                preferred_times: String::new(),
                message: String::new(),
                name_to_group: false,
                session: None,
                contribution: None,
                withdraw: None,
                ask: None,
            },
        )
        .await
        .expect("send");
    assert_eq!(sent.status, RequestStatus::Waiting);
    assert_eq!(sent.offer_org_name, "Contoso");
    assert_eq!(n.api.outbox(&n.ana).await.expect("outbox").len(), 1);
    assert!(n.api.outbox(&n.bob).await.expect("outbox").is_empty());
    let own = NewRequest {
        offer_org: svc.org(),
        offer_id: id,
        goal: "x".into(),
        preferred_times: String::new(),
        message: String::new(),
        name_to_group: false,
        session: None,
        contribution: None,
        withdraw: None,
        ask: None,
    };
    assert!(matches!(
        n.api.send_request(&n.bob, own).await,
        Err(ApiError::Invalid(_))
    ));
    // One request signs up, adds a session or takes one out, never two.
    let two = NewRequest {
        offer_org: from,
        offer_id: "talk-1".into(),
        goal: String::new(),
        preferred_times: String::new(),
        message: String::new(),
        name_to_group: false,
        session: Some("s1".into()),
        contribution: None,
        withdraw: Some("s1".into()),
        ask: None,
    };
    assert!(matches!(
        n.api.send_request(&n.ana, two).await,
        Err(ApiError::Invalid(m)) if m.contains("only one of them")
    ));
}

#[tokio::test]
async fn impact_figures_four_people_stand_behind_are_not_shown_and_five_are() {
    // The default floor: five.
    let n = node();
    let svc = n.api.service().clone();
    let contoso = other(2);
    federate(&svc, 2, "Contoso");
    let mut people = vec![n.ana.clone(), n.bob.clone()];
    for name in ["cy", "di"] {
        people.push(member(&n, name));
    }
    for p in &people {
        accepted_elsewhere(&n, p, &contoso).await;
    }
    let four = n.api.impact(&ImpactQuery::default()).await.expect("impact");
    assert!(four.withheld);
    assert_eq!((four.min_group_size, four.requests_made), (5, 0));
    assert!(four.partners.is_empty());
    assert!(svc.impact_summary(&ImpactQuery::default()).is_err());

    let ed = member(&n, "ed");
    accepted_elsewhere(&n, &ed, &contoso).await;
    let five = n.api.impact(&ImpactQuery::default()).await.expect("impact");
    assert!(!five.withheld);
    assert_eq!((five.requests_made, five.connections), (5, 5));
    assert_eq!(five.partners.len(), 1);
    assert_eq!((five.partners[0].received, five.partners_withheld), (5, 0));
    let summary = svc
        .impact_summary(&ImpactQuery::default())
        .expect("summary");
    assert_eq!((summary.requests_made, summary.connections), (5, 5));
}
