//! What admins steer: federation mode, approvals, rejections, the audit log, and a full disk.

use super::*;
use skillmesh_protocol::profile::ProfileDetails;

/// While the store cannot save (a full disk, simulated by a storage
/// engine that fails as sled does), a change is refused with words a
/// person can act on, `/healthz` says why, reads go on; once the disk
/// takes writes again the node recovers by itself.
#[tokio::test]
async fn a_full_disk_refuses_changes_with_a_clear_error_until_the_node_recovers() {
    use crate::storage::testing::{Disk, recovering};
    let disk = Arc::new(Disk::default());
    let kv = recovering(
        &disk,
        std::time::Duration::from_millis(5),
        std::time::Duration::from_millis(20),
    );
    let store = Arc::new(Store::with_kv(Box::new(kv)).expect("store"));
    let identity = OrgIdentity::from_signing_key(SigningKey::from_bytes(&[1; 32]));
    let service = Service::new(
        "Northwind".into(),
        identity,
        store,
        InboundSettings::default(),
    )
    .expect("service");
    let account = accounts::add_user(
        service.store_for_tests(),
        "ana@northwind.example",
        "Ana",
        store::Role::Member,
        PASSWORD,
        &Actor::person("test"),
    )
    .expect("user");
    let ana = views::web_user(&service, &account).expect("web user");
    let api = WebState::new(service, NetworkHandle::detached());
    let codes = |h: &Health| -> Vec<String> { h.problems.iter().map(|p| p.code.clone()).collect() };
    let before = api
        .save_offer(&ana, None, talk("Before the disk filled", 30))
        .await
        .expect("saved");
    assert!(!codes(&api.health().await).contains(&"store_unwritable".to_string()));

    disk.full.store(true, std::sync::atomic::Ordering::Release);
    let refused = api
        .save_offer(&ana, None, talk("While the disk is full", 30))
        .await
        .expect_err("the disk is full");
    let ApiError::Unavailable(words) = &refused else {
        panic!("{refused:?}");
    };
    assert!(
        words.contains("cannot save changes right now (its disk is full)")
            && words.contains("this change may not have been saved — try again later"),
        "{words}"
    );
    let health = api.health().await;
    assert_eq!(health.status, skillmesh_web::HealthStatus::Degraded);
    let problem = health
        .problems
        .iter()
        .find(|p| p.code == "store_unwritable")
        .expect("store_unwritable");
    assert!(
        problem.message.contains("its disk is full")
            && problem.message.contains("free space on the disk"),
        "{}",
        problem.message
    );
    let offers = api.offers(&ana).await.expect("reads go on");
    assert!(offers.iter().any(|o| o.id == before.id));

    disk.full.store(false, std::sync::atomic::Ordering::Release);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while codes(&api.health().await).contains(&"store_unwritable".to_string()) {
        assert!(
            std::time::Instant::now() < deadline,
            "the node did not recover"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let after = api
        .save_offer(&ana, None, talk("After space was freed", 30))
        .await
        .expect("saved again");
    let ids: Vec<String> = api
        .offers(&ana)
        .await
        .expect("offers")
        .into_iter()
        .map(|o| o.id)
        .collect();
    assert!(ids.contains(&before.id) && ids.contains(&after.id));
    assert_eq!(ids.len(), 2, "the refused offer is not there: {ids:?}");
}

#[tokio::test]
async fn the_federation_mode_set_at_runtime_persists_and_decides_admission() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = SigningKey::from_bytes(&[1; 32]);
    let contoso = other(2);
    let contoso_org = OrgKey::from(&contoso.verifying_key());
    {
        let svc = open_service(dir.path(), &key, InboundSettings::default());
        let api = WebState::new(svc.clone(), NetworkHandle::detached());
        let admin = User {
            username: "admin@northwind.example".into(),
            role: Role::Admin,
            person_id: String::new(),
            display_name: "Admin".into(),
            deactivated: false,
        };
        assert_eq!(
            svc.admission(&contoso_org).expect("admit"),
            Admission::Accept
        );
        api.set_federation_mode(&admin, FederationMode::Allowlist)
            .await
            .expect("set");
        assert_eq!(
            svc.admission(&contoso_org).expect("admit"),
            Admission::NotAllowed,
            "applies at once"
        );
        assert_eq!(
            api.federation().await.expect("federation").mode,
            FederationMode::Allowlist
        );
        let log = api
            .audit(&AuditQuery {
                action: "federation_mode_changed".into(),
                ..AuditQuery::default()
            })
            .await
            .expect("audit");
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].actor, admin.username);
    }
    // Reopened with `open` in the config: the admin's choice wins.
    let svc = open_service(dir.path(), &key, InboundSettings::default());
    assert_eq!(
        svc.federation_mode(),
        skillmesh_config::FederationMode::Allowlist
    );
    let outcome = ingest(
        &svc,
        &envelope(&contoso, "talk-1", 1, samples::body(Kind::TalkOffer)),
    );
    assert_eq!(outcome, Ok(Ingested::NotAdmitted(Admission::NotAllowed)));
}

#[tokio::test]
async fn rejected_records_are_counted_by_reason() {
    let n = node();
    let svc = n.api.service();
    let mut tampered = envelope(&other(2), "talk-1", 1, samples::body(Kind::TalkOffer));
    let last = tampered.len() - 2;
    tampered[last] ^= 1;
    for _ in 0..2 {
        assert!(ingest(svc, &tampered).is_err());
    }
    assert!(ingest(svc, b"SKM").is_err());
    let rejections = n.api.federation().await.expect("federation").rejections;
    assert_eq!(
        rejections,
        [
            RejectionCount {
                code: "bad_signature".into(),
                count: 2
            },
            RejectionCount {
                code: "truncated".into(),
                count: 1
            }
        ]
    );
    let log = n
        .api
        .audit(&AuditQuery {
            action: "record_rejected".into(),
            ..AuditQuery::default()
        })
        .await
        .expect("audit");
    // The two bad signatures from one sender in one minute are one
    // entry with a count.
    assert_eq!(log.iter().map(|r| r.count).sum::<u64>(), 3, "{log:?}");
}

/// A flood of thousands of rejections from one peer writes a few rows,
/// and an admin's action stays on the first page, and first among
/// people's actions.
#[tokio::test]
async fn a_flood_of_rejections_leaves_the_admins_action_findable() {
    let n = node();
    let svc = n.api.service();
    let peer = crate::network::identity::peer_id(&OrgKey::from(&other(3).verifying_key()))
        .expect("peer id");
    let mut forged = envelope(&other(2), "talk-1", 1, samples::body(Kind::TalkOffer));
    let last = forged.len() - 2;
    forged[last] ^= 1;
    svc.set_federation_mode(
        skillmesh_config::FederationMode::Blocklist,
        &Actor::person("ana"),
        &[],
    )
    .expect("mode");
    let refs: Vec<&[u8]> = (0..3000).map(|_| forged.as_slice()).collect();
    for chunk in refs.chunks(500) {
        svc.ingest_many(chunk, &Actor::Peer(peer.to_string()))
            .expect("ingest");
    }
    let all = n.api.audit(&AuditQuery::default()).await.expect("audit");
    let rejected: Vec<_> = all
        .iter()
        .filter(|r| r.action == "record_rejected")
        .collect();
    assert!(rejected.len() <= 4, "{} rows", rejected.len());
    assert_eq!(rejected.iter().map(|r| r.count).sum::<u64>(), 3000);
    assert!(all.iter().any(|r| r.actor == "ana"), "on the first page");
    let people = n
        .api
        .audit(&AuditQuery {
            who: "people".into(),
            ..AuditQuery::default()
        })
        .await
        .expect("audit");
    assert_eq!(people.first().map(|r| r.actor.as_str()), Some("ana"));
}

/// A forged record (its signature fails) is filed under the peer that
/// sent it; the organisation it names is only claimed.
#[tokio::test]
async fn a_forgery_is_filed_under_its_sender_and_the_named_org_as_claimed() {
    let n = node();
    let svc = n.api.service();
    let victim = OrgKey::from(&other(2).verifying_key());
    let sender_key = other(3);
    let sender = OrgKey::from(&sender_key.verifying_key());
    let peer = crate::network::identity::peer_id(&sender).expect("peer id");
    let mut forged = envelope(&other(2), "talk-1", 1, samples::body(Kind::TalkOffer));
    let last = forged.len() - 2;
    forged[last] ^= 1;
    let outcome = svc
        .ingest(&forged, &Actor::Peer(peer.to_string()))
        .expect("ingest");
    assert!(outcome.is_err());
    let log = n
        .api
        .audit(&AuditQuery {
            action: "record_rejected".into(),
            ..AuditQuery::default()
        })
        .await
        .expect("audit");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].org.as_deref(), Some(sender.to_hex().as_str()));
    assert_eq!(log[0].org_fingerprint, Some(sender.fingerprint()));
    assert_eq!(
        log[0].claimed_org.as_deref(),
        Some(victim.to_hex().as_str())
    );
    // Filtering on the named organisation does not find it.
    let of_victim = n
        .api
        .audit(&AuditQuery {
            org: victim.to_hex(),
            ..AuditQuery::default()
        })
        .await
        .expect("audit");
    assert!(of_victim.iter().all(|r| r.action != "record_rejected"));
}

/// A card named like our own organisation (or a known one), from a
/// key seen later, is flagged with the other's name and fingerprint.
#[tokio::test]
async fn a_card_named_like_a_known_organisation_is_flagged() {
    let n = node();
    let svc = n.api.service();
    let card = |name: &str| {
        Body::OrgCard(skillmesh_protocol::kinds::OrgCard {
            name: name.into(),
            summary: String::new(),
            website: None,
            languages: Vec::new(),
        })
    };
    let real = other(4);
    let real_org = OrgKey::from(&real.verifying_key());
    // Known here for a day (two seen in the same second are both flagged).
    svc.store_for_tests()
        .note_org_seen(&real_org, clock::now() - 86_400)
        .expect("seen");
    assert!(ingest(svc, &envelope(&real, "org-card", 1, card("Contoso"))).is_ok());
    let fake = other(5);
    let fake_org = OrgKey::from(&fake.verifying_key());
    assert!(ingest(svc, &envelope(&fake, "org-card", 1, card("C0nt\u{43e}so"))).is_ok());
    let honest = other(6);
    let honest_org = OrgKey::from(&honest.verifying_key());
    assert!(ingest(svc, &envelope(&honest, "org-card", 1, card("Contoso Labs"))).is_ok());
    let (name, key) = svc
        .lookalike_of(&fake_org)
        .expect("check")
        .expect("flagged");
    assert_eq!((name.as_str(), key), ("Contoso", real_org));
    assert_eq!(
        svc.lookalike_of(&real_org).expect("check"),
        None,
        "seen first"
    );
    assert_eq!(svc.lookalike_of(&honest_org).expect("check"), None);
    assert!(svc.is_new_org(&fake_org).expect("new?"));
}

#[tokio::test]
async fn approvals_hold_offers_and_listings_until_an_admin_approves() {
    let n = node_with(InboundSettings {
        approval_required: true,
        ..InboundSettings::default()
    });
    let id = n
        .api
        .save_offer(&n.ana, None, talk("On-call", 45))
        .await
        .expect("save")
        .id;
    let pending = n
        .api
        .offer_action(&n.ana, &id, OfferAction::Publish)
        .await
        .expect("publish");
    assert_eq!(pending.state, OfferState::PendingApproval);
    let mut profile = n.api.profile(&n.bob).await.expect("profile");
    profile.sharing.display_name = true;
    let update = ProfileUpdate {
        display_name: "Bob B".into(),
        profile: ProfileDetails {
            headline: "SRE".into(),
            languages: vec!["en".into()],
            time_zone: Some("Europe/Lisbon".into()),
            ..ProfileDetails::default()
        },
        sharing: profile.sharing,
        questions: Default::default(),
    };
    let profile = n.api.update_profile(&n.bob, update).await.expect("update");
    assert!(profile.pending_approval);
    assert_eq!(
        profile.preview.and_then(|p| p.display_name).as_deref(),
        Some("Bob B")
    );

    let approvals = n.api.approvals().await.expect("approvals");
    let ids: Vec<&str> = approvals.iter().map(|a| a.id.as_str()).collect();
    let listing = listing_id(&n.bob.person_id);
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&id.as_str()) && ids.contains(&listing.as_str()));
    for a in &approvals {
        n.api.approve(&n.ana, &a.id).await.expect("approve");
    }
    assert!(n.api.approvals().await.expect("approvals").is_empty());
    assert_eq!(
        n.api.offer(&n.ana, &id).await.expect("offer").state,
        OfferState::Published
    );
    assert!(
        !n.api
            .profile(&n.bob)
            .await
            .expect("profile")
            .pending_approval
    );
    assert!(matches!(
        n.api.approve(&n.ana, "nothing").await,
        Err(ApiError::NotFound(_))
    ));
}

#[tokio::test]
async fn the_audit_log_filters_by_day_and_refuses_bad_days() {
    let n = node();
    let rows = n
        .api
        .audit(&AuditQuery {
            day: "1999-12-31".into(),
            ..AuditQuery::default()
        })
        .await
        .expect("audit");
    assert!(rows.is_empty());
    let rows = n.api.audit(&AuditQuery::default()).await.expect("audit");
    assert!(!rows.is_empty());
    assert!(rows.windows(2).all(|w| w[0].at >= w[1].at), "newest first");
    let own = rows
        .iter()
        .find(|r| r.action == "record_published")
        .expect("the card");
    assert_eq!(own.org_name.as_deref(), Some("Northwind"));
    assert!(matches!(
        n.api
            .audit(&AuditQuery {
                day: "yesterday".into(),
                ..AuditQuery::default()
            })
            .await,
        Err(ApiError::Invalid(_))
    ));
}
