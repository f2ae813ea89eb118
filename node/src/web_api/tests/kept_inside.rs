//! Content kept inside, recommendations and follower counts.

use super::*;

#[tokio::test]
async fn content_kept_inside_is_seen_and_recommended_by_colleagues_only() {
    let n = node();
    let org = n.api.service().org();
    let id = n
        .api
        .save_offer(&n.ana, None, samples::body(Kind::Content))
        .await
        .expect("save")
        .id;
    // Not shared: Bob sees it on this node, unsigned and marked so.
    let seen = n.api.listing(&n.bob, &org, &id).await.expect("listing");
    assert!(seen.local_only && !seen.signature_verified);
    // And finds it in search, marked as kept inside.
    let content = SearchQuery {
        kind: "content".into(),
        ..SearchQuery::default()
    };
    let found = n.api.search(&n.bob, &content).await.expect("search");
    assert_eq!(found.total, 1);
    assert!(found.hits[0].id == id && found.hits[0].local_only);
    assert!(
        n.api
            .service()
            .store_for_tests()
            .get_record(&org, &id)
            .expect("get")
            .is_none(),
        "nothing was signed or stored for partners"
    );
    let to_bob = |note: &str| NewRecommendation {
        org,
        id: id.clone(),
        to: n.bob.person_id.clone(),
        note: note.into(),
    };
    n.api
        .recommend(&n.ana, to_bob("Read this before Tuesday"))
        .await
        .expect("recommend");
    let got = n.api.recommended(&n.bob).await.expect("recommended");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].title, seen.body.title());
    assert_eq!(got[0].note, "Read this before Tuesday");
    assert!(n.api.recommended(&n.ana).await.expect("ana's").is_empty());
    // Not to oneself, not to nobody, not what does not exist.
    assert!(matches!(
        n.api.recommend(&n.bob, to_bob("me")).await,
        Err(ApiError::Invalid(_))
    ));
    let mut nobody = to_bob("x");
    nobody.to = "nobody".into();
    assert!(matches!(
        n.api.recommend(&n.ana, nobody).await,
        Err(ApiError::NotFound(_))
    ));
    let mut missing = to_bob("x");
    missing.id = "no-such-item".into();
    assert!(matches!(
        n.api.recommend(&n.ana, missing).await,
        Err(ApiError::NotFound(_))
    ));
}

/// A learning path of one entry.
fn list_body() -> Body {
    let mut body = samples::body(Kind::Content);
    if let Body::Content(c) = &mut body {
        c.content_type = skillmesh_protocol::kinds::ContentType::List;
        c.url = None;
        c.items = vec![skillmesh_protocol::kinds::ListEntry {
            title: "Being on-call".into(),
            url: "https://sre.google/sre-book/being-on-call/".into(),
            note: String::new(),
        }];
    }
    body
}

/// The follower counts waiting for the courier: (org, list id, count).
fn counts_to_send(svc: &Service) -> Vec<(OrgKey, String, u32)> {
    svc.pending_deliveries()
        .expect("pending")
        .into_iter()
        .filter_map(|d| match d {
            crate::requests::Delivery::FollowerCount { to, id, envelope } => {
                let record = skillmesh_protocol::open(&envelope, clock::now()).expect("open");
                let Body::FollowerCount(c) = record.body else {
                    panic!("not a follower count: {}", record.kind());
                };
                assert_eq!((c.list_org, c.list_id.as_str()), (to, id.as_str()));
                Some((to, id, c.followers))
            }
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_partners_list_is_told_how_many_follow_it_among_those_who_chose_to() {
    let n = node();
    let svc = n.api.service();
    let key = other(7);
    let theirs = OrgKey::from(&key.verifying_key());
    let stored = ingest(svc, &envelope(&key, "path-1", 1, list_body()));
    assert!(matches!(stored, Ok(Ingested::Stored { .. })), "{stored:?}");
    // Following without telling sends nothing.
    n.api
        .follow(
            &n.ana,
            &theirs,
            "path-1",
            FollowOptions {
                tell_curator: false,
            },
        )
        .await
        .expect("ana follows");
    assert!(counts_to_send(svc).is_empty());
    // Bob lets them know; then Ana does too; then Bob stops following.
    n.api
        .follow(
            &n.bob,
            &theirs,
            "path-1",
            FollowOptions { tell_curator: true },
        )
        .await
        .expect("bob follows");
    assert_eq!(counts_to_send(svc), [(theirs, "path-1".to_string(), 1)]);
    n.api
        .follow(
            &n.ana,
            &theirs,
            "path-1",
            FollowOptions { tell_curator: true },
        )
        .await
        .expect("ana tells");
    assert_eq!(counts_to_send(svc), [(theirs, "path-1".to_string(), 2)]);
    n.api
        .unfollow(&n.bob, &theirs, "path-1")
        .await
        .expect("unfollow");
    let pending = svc.pending_deliveries().expect("pending");
    assert_eq!(counts_to_send(svc), [(theirs, "path-1".to_string(), 1)]);
    // Delivered: nothing left to send, until the count changes again.
    for d in &pending {
        svc.delivered(d, Ok(())).expect("delivered");
    }
    assert!(counts_to_send(svc).is_empty());
    n.api
        .follow(
            &n.ana,
            &theirs,
            "path-1",
            FollowOptions { tell_curator: true },
        )
        .await
        .expect("the same again");
    assert!(counts_to_send(svc).is_empty(), "nothing changed");
    let sent = svc
        .store_for_tests()
        .sent_count(&theirs, "path-1")
        .expect("sent");
    assert_eq!(sent.map(|c| (c.seq, c.followers)), Some((3, 1)));
    // Nothing names a person.
    assert!(
        !svc.store_for_tests()
            .sent_counts()
            .expect("sent")
            .iter()
            .any(|c| {
                let bytes = hex::decode(&c.envelope).expect("hex");
                String::from_utf8_lossy(&bytes).contains(&n.ana.person_id)
            })
    );
}

#[tokio::test]
async fn follower_counts_from_partners_credit_the_curator() {
    let n = node();
    let svc = n.api.service();
    let list = n
        .api
        .save_offer(&n.ana, None, list_body())
        .await
        .expect("save")
        .id;
    let talk_id = anas_published_talk(&n).await;
    let key = other(7);
    let contoso = OrgKey::from(&key.verifying_key());
    let count = |list_org: OrgKey, list_id: &str, seq: u64, followers: u32| {
        envelope(
            &key,
            "followers-1",
            seq,
            Body::FollowerCount(skillmesh_protocol::kinds::FollowerCount {
                list_org,
                list_id: list_id.into(),
                followers,
            }),
        )
    };
    let curated = || {
        svc.recognition(&n.ana.person_id)
            .expect("recognition")
            .curated
    };
    assert_eq!(curated(), 0);
    let take = |bytes: Vec<u8>| {
        svc.receive_follower_count(&bytes, contoso)
            .expect("receive")
    };
    assert_eq!(take(count(svc.org(), &list, 2, 3)), Ok(()));
    assert_eq!(curated(), 3);
    // An older count changes nothing; a newer one replaces it.
    assert_eq!(take(count(svc.org(), &list, 1, 9)), Ok(()));
    assert_eq!(curated(), 3);
    assert_eq!(take(count(svc.org(), &list, 3, 1)), Ok(()));
    assert_eq!(curated(), 1);
    // Refused: another organisation's list, not a list, no such list,
    // signed by someone else than the sender.
    assert_eq!(
        take(count(contoso, &list, 4, 5)),
        Err(crate::requests::Refusal::NotForUs)
    );
    assert_eq!(
        take(count(svc.org(), &talk_id, 4, 5)),
        Err(crate::requests::Refusal::NoSuchList)
    );
    assert_eq!(
        take(count(svc.org(), "no-such-list", 4, 5)),
        Err(crate::requests::Refusal::NoSuchList)
    );
    assert_eq!(
        svc.receive_follower_count(&count(svc.org(), &list, 5, 5), theirs_other())
            .expect("receive"),
        Err(crate::requests::Refusal::WrongSender)
    );
    assert_eq!(curated(), 1);
    // Blocked since: its count no longer counts, and it sends no more.
    n.api
        .org_action(&n.ana, &contoso, OrgAction::Block)
        .await
        .expect("block");
    assert_eq!(curated(), 0);
    assert_eq!(
        take(count(svc.org(), &list, 6, 2)),
        Err(crate::requests::Refusal::NotAdmitted)
    );
}
