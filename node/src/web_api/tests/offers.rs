//! Offers and profiles: only one's own, checked like what is published, and the calendar feed.

use super::*;
use skillmesh_protocol::profile::ProfileDetails;

#[tokio::test]
async fn a_calendar_feed_holds_my_scheduled_offers_and_a_new_address_revokes_the_old() {
    let n = node();
    let mut cohort = samples::body(Kind::CohortOffer);
    let Body::CohortOffer(c) = &mut cohort else {
        panic!("a cohort")
    };
    c.title = "New managers".into();
    c.starts_at = clock::now() + 86_400;
    c.schedule = vec![
        skillmesh_protocol::kinds::Slot {
            starts_at: c.starts_at,
            duration_minutes: 90,
        },
        skillmesh_protocol::kinds::Slot {
            starts_at: c.starts_at + 7 * 86_400,
            duration_minutes: 90,
        },
    ];
    let offer = n.api.save_offer(&n.ana, None, cohort).await.expect("save");
    let token = n.api.new_calendar_token(&n.ana).await.expect("token");
    assert!(token.starts_with("smc_"), "{token}");
    // A draft is not in the feed yet.
    assert_eq!(
        n.api.calendar_feed(&token).await.expect("feed"),
        Some(vec![])
    );
    n.api
        .offer_action(&n.ana, &offer.id, OfferAction::Publish)
        .await
        .expect("publish");
    let feed = n
        .api
        .calendar_feed(&token)
        .await
        .expect("feed")
        .expect("known");
    assert_eq!(feed.len(), 1);
    assert_eq!(feed[0].title, "New managers");
    assert_eq!(feed[0].slots.len(), 2);
    // Bob's feed does not show Ana's offer; a calendar token is not an
    // API token, nor the other way round.
    let bobs = n.api.new_calendar_token(&n.bob).await.expect("token");
    assert_eq!(
        n.api.calendar_feed(&bobs).await.expect("feed"),
        Some(vec![])
    );
    assert!(
        n.api
            .user_for_token(&token)
            .await
            .expect("lookup")
            .is_none()
    );
    let api = n
        .api
        .new_api_token(&n.ana, "")
        .await
        .expect("api token")
        .token;
    assert_eq!(n.api.calendar_feed(&api).await.expect("feed"), None);
    // A new address stops the old one.
    let again = n.api.new_calendar_token(&n.ana).await.expect("token");
    assert_eq!(n.api.calendar_feed(&token).await.expect("feed"), None);
    assert_eq!(
        n.api
            .calendar_feed(&again)
            .await
            .expect("feed")
            .map(|f| f.len()),
        Some(1)
    );
    assert_eq!(
        n.api.calendar_feed("smc_nonsense").await.expect("feed"),
        None
    );
}

#[tokio::test]
async fn a_member_sees_and_changes_only_their_own_offers() {
    let n = node();
    let offer = n
        .api
        .save_offer(&n.ana, None, talk("On-call", 45))
        .await
        .expect("save");
    assert_eq!(offer.state, OfferState::Draft);
    let Body::TalkOffer(t) = &offer.body else {
        panic!("a talk")
    };
    assert_eq!(t.person, n.ana.person_id, "the person is always the author");
    assert_eq!(t.speaker_name.as_deref(), Some("ANA"));

    let id = offer.id.as_str();
    assert!(matches!(
        n.api.offer(&n.bob, id).await,
        Err(ApiError::NotFound(_))
    ));
    assert!(matches!(
        n.api
            .save_offer(&n.bob, Some(id), talk("Mine now", 45))
            .await,
        Err(ApiError::NotFound(_))
    ));
    assert!(matches!(
        n.api.offer_action(&n.bob, id, OfferAction::Publish).await,
        Err(ApiError::NotFound(_))
    ));
    assert!(n.api.offers(&n.bob).await.expect("offers").is_empty());
    assert_eq!(n.api.offers(&n.ana).await.expect("offers").len(), 1);
    assert_eq!(
        n.api.offer(&n.ana, id).await.expect("offer").body,
        offer.body
    );
}

#[tokio::test]
async fn save_offer_refuses_what_publishing_would_refuse() {
    let n = node();
    let err = n
        .api
        .save_offer(&n.ana, None, talk("Too short", 1))
        .await
        .expect_err("refused");
    assert!(
        matches!(&err, ApiError::Invalid(m) if m.contains("duration_minutes must be between 5 and 480")),
        "{err:?}"
    );
    let mut script = samples::body(Kind::Content);
    if let Body::Content(c) = &mut script {
        c.url = Some("javascript:alert(1)".into());
    }
    let err = n
        .api
        .save_offer(&n.ana, None, script)
        .await
        .expect_err("a script link");
    assert!(
        matches!(&err, ApiError::Invalid(m) if m.contains("http:// or https://")),
        "{err:?}"
    );
    let err = n
        .api
        .save_offer(&n.ana, None, samples::body(Kind::OrgCard))
        .await
        .expect_err("not an offer");
    assert!(matches!(err, ApiError::Invalid(_)), "{err:?}");
    assert!(n.api.offers(&n.ana).await.expect("offers").is_empty());
}

#[tokio::test]
async fn offers_are_published_paused_edited_and_unpublished() {
    let n = node();
    let svc = n.api.service().clone();
    let id = n
        .api
        .save_offer(&n.ana, None, talk("On-call", 45))
        .await
        .expect("save")
        .id;
    let published = n
        .api
        .offer_action(&n.ana, &id, OfferAction::Publish)
        .await
        .expect("publish");
    assert_eq!(published.state, OfferState::Published);
    let paused = n
        .api
        .offer_action(&n.ana, &id, OfferAction::Pause)
        .await
        .expect("pause");
    assert_eq!(paused.body.offer_status(), Some(OfferStatus::Paused));
    let edited = n
        .api
        .save_offer(&n.ana, Some(&id), talk("On-call, again", 50))
        .await
        .expect("edit");
    assert_eq!(edited.state, OfferState::Published);
    let row = svc
        .store_for_tests()
        .get_record(&svc.org(), &id)
        .expect("get")
        .expect("published");
    assert_eq!(
        row.seq, 3,
        "publish, pause and edit each sign a new version"
    );
    assert_eq!(row.record().expect("record").body.title(), "On-call, again");
    let found = svc.search(
        &crate::search::SearchQuery {
            q: "again".into(),
            ..crate::search::SearchQuery::default()
        },
        clock::now(),
    );
    assert_eq!(found.total, 1, "our own published offers are searchable");
    let gone = n
        .api
        .offer_action(&n.ana, &id, OfferAction::Unpublish)
        .await
        .expect("unpublish");
    assert_eq!(gone.state, OfferState::Unpublished);
    assert!(
        svc.store_for_tests()
            .get_record(&svc.org(), &id)
            .expect("get")
            .expect("row")
            .tombstone
    );
    let found = svc.search(
        &crate::search::SearchQuery {
            q: "again".into(),
            ..crate::search::SearchQuery::default()
        },
        clock::now(),
    );
    assert_eq!(found.total, 0, "a retracted offer is not found");
}

#[tokio::test]
async fn profile_updates_are_checked_like_listings() {
    let n = node();
    let update = ProfileUpdate {
        display_name: "Ana".into(),
        profile: ProfileDetails {
            languages: vec!["not a language".into()],
            ..ProfileDetails::default()
        },
        sharing: SharedFields::default(),
        questions: Default::default(),
    };
    let err = n
        .api
        .update_profile(&n.ana, update)
        .await
        .expect_err("refused");
    assert!(
        matches!(&err, ApiError::Invalid(m) if m.contains("language tag")),
        "{err:?}"
    );
}
