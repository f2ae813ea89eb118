//! Private learning goals, suggestions and demand.

use super::*;

fn expert(
    person: &str,
    topic: &str,
    level: Level,
    status: AvailabilityStatus,
    language: &str,
    tz: &str,
) -> Body {
    Body::Expertise(Expertise {
        person: person.into(),
        display_name: Some(format!("Expert {person}")),
        headline: None,
        topics: vec![Topic {
            name: topic.into(),
            level,
        }],
        languages: vec![language.into()],
        time_zone: Some(tz.into()),
        formats: vec![Format::Mentoring],
        availability: Some(Availability {
            status,
            hours_per_month: Some(2),
            note: None,
        }),
        email: None,
        recognition: None,
        takes_questions: false,
    })
}

#[tokio::test]
async fn suggestions_are_ranked_here_from_private_goals_and_skip_whoever_cannot_help() {
    use AvailabilityStatus::{Full, Open};
    let n = node();
    let svc = n.api.service();
    let key = other(5);
    for (id, body) in [
        (
            "e-best",
            expert(
                "best",
                "Kubernetes",
                Level::Expert,
                Open,
                "en",
                "Europe/Berlin",
            ),
        ),
        (
            "e-good",
            expert(
                "good",
                "Kubernetes",
                Level::Intermediate,
                Open,
                "en",
                "Europe/Paris",
            ),
        ),
        (
            "e-full",
            expert(
                "full",
                "Kubernetes",
                Level::Expert,
                Full,
                "en",
                "Europe/Berlin",
            ),
        ),
        (
            "e-ja",
            expert(
                "ja",
                "Kubernetes",
                Level::Expert,
                Open,
                "ja",
                "Europe/Berlin",
            ),
        ),
        (
            "e-far",
            expert("far", "Kubernetes", Level::Expert, Open, "en", "Asia/Tokyo"),
        ),
    ] {
        assert!(matches!(
            ingest(svc, &envelope(&key, id, 1, body)),
            Ok(Ingested::Stored { .. })
        ));
    }
    let mut ana = svc
        .store_for_tests()
        .person(&n.ana.person_id)
        .expect("get")
        .expect("ana");
    ana.profile.time_zone = Some("Europe/Lisbon".into());
    svc.update_person(&ana, &Actor::person("test"))
        .expect("update");
    let before = svc.record_counts().expect("counts");
    let goals = LearningGoals {
        goals: "a secret goal phrase about kubernetes".into(),
        topics: vec!["Kubernetes".into()],
        formats: vec![Format::Mentoring],
        languages: vec!["en".into()],
        max_hours_apart: Some(3),
    };
    n.api.set_goals(&n.ana, goals.clone()).await.expect("goals");
    assert_eq!(
        n.api.goals(&n.ana).await.expect("read").topics,
        goals.topics
    );

    let list = n.api.suggestions(&n.ana).await.expect("suggestions");
    let ids: Vec<&str> = list.iter().map(|s| s.hit.id.as_str()).collect();
    assert_eq!(
        ids,
        ["e-best", "e-good"],
        "full, other-language and far-away experts are left out"
    );
    assert!(
        list[0]
            .reasons
            .iter()
            .any(|r| r == "Knows Kubernetes (expert)"),
        "{:?}",
        list[0].reasons
    );
    assert!(
        list[0]
            .reasons
            .iter()
            .any(|r| r.starts_with("Offers mentoring")),
        "{:?}",
        list[0].reasons
    );
    assert!(
        n.api.suggestions(&n.bob).await.expect("bob").is_empty(),
        "no goals, no suggestions"
    );

    // The goals never left: nothing was published, and no record holds them.
    assert_eq!(svc.record_counts().expect("counts"), before);
    svc.store_for_tests()
        .scan_records(|row| {
            assert!(!String::from_utf8_lossy(row.envelope.as_bytes()).contains("secret goal"));
            Ok(())
        })
        .expect("scan");
}

#[tokio::test]
async fn equal_experts_are_suggested_in_a_different_order_to_different_people() {
    let n = node();
    let svc = n.api.service();
    let key = other(6);
    for i in 0..12 {
        let body = expert(
            &format!("p{i}"),
            "Negotiation",
            Level::Advanced,
            AvailabilityStatus::Open,
            "en",
            "UTC",
        );
        assert!(matches!(
            ingest(svc, &envelope(&key, &format!("e-{i:02}"), 1, body)),
            Ok(Ingested::Stored { .. })
        ));
    }
    let goals = LearningGoals {
        topics: vec!["Negotiation".into()],
        ..LearningGoals::default()
    };
    let mut firsts = Vec::new();
    for user in [&n.ana, &n.bob] {
        n.api.set_goals(user, goals.clone()).await.expect("goals");
        let list = n.api.suggestions(user).await.expect("suggestions");
        assert_eq!(list.len(), matching::MAX_SUGGESTIONS);
        firsts.push(list.iter().map(|s| s.hit.id.clone()).collect::<Vec<_>>());
    }
    assert_ne!(
        firsts[0], firsts[1],
        "the same experts, in the same order, for everyone"
    );
}

#[tokio::test]
async fn demand_counts_wanted_topics_and_puts_those_without_supply_first() {
    // The smallest floor there is: a topic three people want is shown.
    let n = node_with_floor(3);
    let cy = member(&n, "cy");
    let svc = n.api.service();
    // More offers than fit on one page of results: supply is the count
    // of them all.
    for k in 7..30 {
        federate(svc, k, &format!("Partner {k}"));
    }
    let wants = |topics: &[&str]| LearningGoals {
        topics: topics.iter().map(|t| t.to_string()).collect(),
        ..LearningGoals::default()
    };
    n.api
        .set_goals(&n.ana, wants(&["Kubernetes", "Basket weaving"]))
        .await
        .expect("ana");
    n.api
        .set_goals(&n.bob, wants(&["basket weaving", "Kubernetes"]))
        .await
        .expect("bob");
    n.api
        .set_goals(&cy, wants(&["Basket Weaving", "kubernetes", "Knitting"]))
        .await
        .expect("cy");
    let rows = n.api.demand().await.expect("demand");
    assert_eq!(rows[0].topic.to_lowercase(), "basket weaving");
    assert_eq!((rows[0].people, rows[0].supply), (3, 0));
    let k8s = rows
        .iter()
        .find(|r| r.topic.to_lowercase() == "kubernetes")
        .expect("kubernetes");
    assert_eq!(k8s.people, 3);
    // Only Cy wants to knit: not shown.
    assert!(
        rows.iter().all(|r| r.topic.to_lowercase() != "knitting"),
        "{rows:?}"
    );
    assert_eq!(rows.len(), 2);
    // One of each partner's sample offers covers Kubernetes: 23 in all,
    // more than a page of results holds.
    assert_eq!(k8s.supply, 23);
    let too_long = LearningGoals {
        goals: "x".repeat(2_001),
        ..LearningGoals::default()
    };
    assert!(matches!(
        n.api.set_goals(&n.ana, too_long).await,
        Err(ApiError::Invalid(_))
    ));
}

#[tokio::test]
async fn a_topic_four_people_want_is_not_shown_and_five_is() {
    // The default floor: five.
    let n = node();
    assert_eq!(n.api.min_group_size(), 5);
    let rust = LearningGoals {
        topics: vec!["Rust".into()],
        ..LearningGoals::default()
    };
    let mut people = vec![n.ana.clone(), n.bob.clone()];
    for name in ["cy", "di"] {
        people.push(member(&n, name));
    }
    for p in &people {
        n.api.set_goals(p, rust.clone()).await.expect("goals");
    }
    assert!(n.api.demand().await.expect("demand").is_empty());
    // Nor does it show among the topics offered nowhere.
    let impact = n.api.impact(&ImpactQuery::default()).await.expect("impact");
    assert!(impact.wanted_without_supply.is_empty());

    let ed = member(&n, "ed");
    n.api.set_goals(&ed, rust).await.expect("goals");
    let rows = n.api.demand().await.expect("demand");
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].topic.as_str(), rows[0].people), ("Rust", 5));
    let impact = n.api.impact(&ImpactQuery::default()).await.expect("impact");
    assert_eq!(impact.wanted_without_supply, ["Rust"]);
}
