//! Search, and what a listing found there allows.

use super::*;

#[tokio::test]
async fn search_finds_by_term_and_filter_with_matching_facet_counts() {
    let n = node();
    let svc = n.api.service();
    let contoso = federate(svc, 2, "Contoso");
    let fabrikam = federate(svc, 3, "Fabrikam");
    let search = |query: SearchQuery| {
        let (api, user) = (n.api.clone(), n.ana.clone());
        async move { api.search(&user, &query).await }
    };

    let all = search(SearchQuery::default()).await.expect("search");
    assert_eq!(all.total, 6, "three searchable records from each");
    let kubernetes = search(SearchQuery {
        q: "KUBERNETES production".into(),
        ..SearchQuery::default()
    })
    .await
    .expect("search");
    assert_eq!(kubernetes.total, 2, "{kubernetes:?}");
    assert!(
        kubernetes
            .hits
            .iter()
            .all(|h| h.kind == Kind::MentoringOffer)
    );
    assert!(kubernetes.hits.iter().all(|h| !h.own));

    let talks_at_contoso = search(SearchQuery {
        kind: "talk_offer".into(),
        org: contoso.to_hex(),
        ..SearchQuery::default()
    })
    .await
    .expect("search");
    assert_eq!(talks_at_contoso.total, 1);
    let hit = &talks_at_contoso.hits[0];
    assert_eq!(hit.org_name, "Contoso");
    assert_eq!(hit.formats, ["talk"]);
    assert_eq!(hit.availability.as_deref(), Some("open"));

    let on_call = search(SearchQuery {
        topic: "on-call".into(),
        ..SearchQuery::default()
    })
    .await
    .expect("search");
    assert_eq!(on_call.total, 4, "topics match whatever their case");
    for facet in &on_call.facets {
        let sum: usize = facet.values.iter().map(|v| v.count).sum();
        match facet.name.as_str() {
            "kind" | "org" => assert_eq!(sum, on_call.total, "{facet:?}"),
            _ => {}
        }
    }
    let orgs = on_call
        .facets
        .iter()
        .find(|f| f.name == "org")
        .expect("org facet");
    let labels: Vec<(&str, usize)> = orgs
        .values
        .iter()
        .map(|v| (v.label.as_str(), v.count))
        .collect();
    assert_eq!(labels, [("Contoso", 2), ("Fabrikam", 2)]);
    let kinds = on_call
        .facets
        .iter()
        .find(|f| f.name == "kind")
        .expect("kind");
    assert!(
        kinds
            .values
            .iter()
            .any(|v| v.value == "content" && v.count == 2)
    );
    // Narrowing by a facet value gives the count it showed.
    let contents = search(SearchQuery {
        topic: "on-call".into(),
        kind: "content".into(),
        ..SearchQuery::default()
    })
    .await
    .expect("search");
    assert_eq!(contents.total, 2);
    let nothing = search(SearchQuery {
        q: "kubernetes".into(),
        org: fabrikam.to_hex(),
        kind: "content".into(),
        ..SearchQuery::default()
    })
    .await
    .expect("search");
    assert_eq!(nothing.total, 0);
    // Pages are stable and complete.
    let page2 = search(SearchQuery {
        page: 2,
        ..SearchQuery::default()
    })
    .await
    .expect("search");
    assert!(page2.hits.is_empty());
    assert_eq!(page2.total, 6);
}

#[tokio::test]
async fn a_blocked_organisation_disappears_from_search_and_comes_back_after_sync() {
    let n = node();
    let svc = n.api.service();
    let contoso = federate(svc, 2, "Contoso");
    federate(svc, 3, "Fabrikam");
    n.api
        .org_action(&n.ana, &contoso, OrgAction::Block)
        .await
        .expect("block");
    let all = n
        .api
        .search(&n.ana, &SearchQuery::default())
        .await
        .expect("search");
    assert_eq!(all.total, 3);
    assert!(all.hits.iter().all(|h| h.org != contoso.to_hex()));
    let listing = n.api.listing(&n.ana, &contoso, "talk-1").await;
    assert!(matches!(listing, Err(ApiError::NotFound(_))), "{listing:?}");
    let fed = n.api.federation().await.expect("federation");
    let row = fed.orgs.iter().find(|o| o.key == contoso).expect("row");
    assert_eq!(row.listing.as_deref(), Some("blocked"));
    assert_eq!(row.name, "Contoso", "still named after the purge");
    assert_eq!(row.records, 0);

    n.api
        .org_action(&n.ana, &contoso, OrgAction::Clear)
        .await
        .expect("unblock");
    federate(svc, 2, "Contoso");
    let all = n
        .api
        .search(&n.ana, &SearchQuery::default())
        .await
        .expect("search");
    assert_eq!(all.total, 6);
    let own = n.api.service().org();
    assert!(matches!(
        n.api.org_action(&n.ana, &own, OrgAction::Block).await,
        Err(ApiError::Invalid(_))
    ));
}

#[tokio::test]
async fn a_listing_is_verified_again_and_requestable_only_when_open_elsewhere() {
    let n = node();
    let svc = n.api.service();
    let contoso = federate(svc, 2, "Contoso");
    let listing = n
        .api
        .listing(&n.ana, &contoso, "talk-1")
        .await
        .expect("listing");
    assert!(listing.signature_verified);
    assert!(listing.requestable);
    assert_eq!(listing.org_name, "Contoso");
    let content = n
        .api
        .listing(&n.ana, &contoso, "content-1")
        .await
        .expect("content");
    assert!(!content.requestable);
    assert!(matches!(
        n.api.listing(&n.ana, &contoso, "org-card").await,
        Err(ApiError::NotFound(_))
    ));

    // Held past its expiry (until the purge), a record is still
    // genuinely signed; stored bytes that were altered are not.
    let key = other(2);
    let now = clock::now();
    for (id, expires_at) in [("talk-expired", now - 60), ("talk-altered", now + 600)] {
        let record = Record {
            header: Header {
                version: RECORD_VERSION,
                org: contoso,
                id: id.into(),
                seq: 1,
                issued_at: now - 3_600,
                expires_at,
            },
            body: samples::body(Kind::TalkOffer),
        };
        let mut bytes = skillmesh_protocol::seal(&record, &key)
            .expect("seal")
            .into_bytes();
        if id == "talk-altered" {
            // A byte of the signature (after magic, format and key).
            bytes[4 + 32] ^= 1;
        }
        let envelope = skillmesh_protocol::Envelope::from_bytes(bytes);
        svc.store_for_tests()
            .put_record(&record, &envelope, now - 3_000)
            .expect("put");
    }
    let verified = |id: &'static str| {
        let api = n.api.clone();
        let ana = n.ana.clone();
        async move {
            api.listing(&ana, &contoso, id)
                .await
                .expect("listing")
                .signature_verified
        }
    };
    assert!(verified("talk-expired").await);
    assert!(!verified("talk-altered").await);
}
