//! Federation between real nodes in this process, talking libp2p over
//! loopback TCP, each with its own sled database in a temp dir: gossip,
//! updates, retractions, catch-up sync, misbehaving peers and policy.

use std::time::Duration;

use crate::common::attacker::metric;
use crate::common::nodes::*;
use ed25519_dalek::SigningKey;
use skillmesh_config::FederationMode;
use skillmesh_node::runtime;
use skillmesh_node::store::Actor;
use skillmesh_node::store::{AuditFilter, OrgListing};
use skillmesh_protocol::{Body, OrgKey};

/// Three nodes in a chain of bootstraps; waits until each sees two peers.
async fn network_of_three(mode: FederationMode) -> (Org, Org, Org) {
    let a = start_org("A", &[], mode).await;
    let addr = p2p_addr(&a).await;
    let b = start_org("B", std::slice::from_ref(&addr), mode).await;
    let c = start_org("C", &[addr], mode).await;
    for org in [&a, &b, &c] {
        wait_for("full mesh", || async {
            org.node.network.peers().await.expect("peers").len() == 2
        })
        .await;
    }
    (a, b, c)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_update_and_retract_reach_every_node() {
    let (a, b, c) = network_of_three(FederationMode::Open).await;
    let org_a = a.node.service.org();
    let svc = &a.node.service;
    svc.create_item(
        "mentor-k8s",
        Some("tomas"),
        mentoring("Kubernetes in production"),
        &Actor::person("test"),
    )
    .expect("create");
    svc.publish_item("mentor-k8s", &Actor::person("test"))
        .expect("publish");
    for org in [&b, &c] {
        wait_for("the record on every node", || async {
            held_seq(org, &org_a, "mentor-k8s") == Some((1, false))
        })
        .await;
    }

    let mut item = svc
        .store_for_tests()
        .item("mentor-k8s")
        .expect("get")
        .expect("item");
    item.body = mentoring("Kubernetes in production, second edition");
    svc.store_for_tests().update_item(&item).expect("edit");
    svc.publish_item("mentor-k8s", &Actor::person("test"))
        .expect("republish");
    for org in [&b, &c] {
        wait_for("the update on every node", || async {
            held_seq(org, &org_a, "mentor-k8s") == Some((2, false))
        })
        .await;
        let row = org
            .node
            .service
            .store_for_tests()
            .get_record(&org_a, "mentor-k8s")
            .expect("get")
            .expect("row");
        match row.record().expect("parse").body {
            Body::MentoringOffer(m) => assert!(m.title.contains("second edition")),
            other => panic!("unexpected body {other:?}"),
        }
    }

    svc.unpublish_item("mentor-k8s", &Actor::person("test"))
        .expect("unpublish");
    for org in [&b, &c] {
        wait_for("the retraction on every node", || async {
            held_seq(org, &org_a, "mentor-k8s") == Some((3, true))
        })
        .await;
    }
    // Every gossiped record got a verdict, and its time to it was measured.
    let mut verdicts = 0.0;
    for org in [&b, &c] {
        let text = org.node.service.metrics().render(&[]).expect("metrics");
        let timed = metric(&text, "skillmesh_gossip_verdict_duration_seconds_count", "");
        let gossiped = metric(
            &text,
            "skillmesh_records_ingested_total",
            "outcome=\"stored\",via=\"gossip\"",
        );
        assert!(
            timed >= gossiped,
            "{timed} verdicts timed, {gossiped} stored"
        );
        verdicts += timed;
    }
    assert!(verdicts >= 1.0, "nothing came by gossip");
    wait_for("the retraction in B's audit log", || async {
        b.node
            .service
            .store_for_tests()
            .audit_log(&AuditFilter {
                org: Some(org_a.to_hex()),
                action: Some("retraction_received".into()),
                ..Default::default()
            })
            .expect("audit")
            .len()
            == 1
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_was_down_catches_up_including_retractions() {
    let (a, b, c) = network_of_three(FederationMode::Open).await;
    let org_a = a.node.service.org();
    let svc = &a.node.service;
    svc.create_item(
        "keep",
        Some("tomas"),
        mentoring("Stays"),
        &Actor::person("test"),
    )
    .expect("create");
    svc.create_item(
        "gone",
        Some("tomas"),
        mentoring("Goes"),
        &Actor::person("test"),
    )
    .expect("create");
    svc.publish_item("keep", &Actor::person("test"))
        .expect("publish");
    svc.publish_item("gone", &Actor::person("test"))
        .expect("publish");
    wait_for("C has both", || async {
        held_seq(&c, &org_a, "keep").is_some() && held_seq(&c, &org_a, "gone").is_some()
    })
    .await;

    // C goes down; meanwhile A publishes, updates and retracts.
    let Org {
        node,
        config: c_config,
        _dir: c_dir,
    } = c;
    node.stop().await;
    svc.create_item(
        "new",
        Some("tomas"),
        mentoring("New while C was away"),
        &Actor::person("test"),
    )
    .expect("create");
    svc.publish_item("new", &Actor::person("test"))
        .expect("publish");
    svc.publish_item("keep", &Actor::person("test"))
        .expect("update");
    svc.unpublish_item("gone", &Actor::person("test"))
        .expect("retract");
    wait_for("B has the changes", || async {
        held_seq(&b, &org_a, "gone") == Some((2, true))
    })
    .await;

    let c = Org {
        node: runtime::start(&c_config).await.expect("C restarts"),
        config: c_config,
        _dir: c_dir,
    };
    let addr = p2p_addr(&b).await;
    c.node
        .network
        .dial(addr.parse().expect("multiaddr"))
        .await
        .expect("dial");
    wait_for("C caught up", || async {
        held_seq(&c, &org_a, "new") == Some((1, false))
            && held_seq(&c, &org_a, "keep") == Some((2, false))
            && held_seq(&c, &org_a, "gone") == Some((2, true))
    })
    .await;
    assert!(
        c.node
            .service
            .store_for_tests()
            .check_consistency()
            .expect("check")
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_tampered_and_expired_records_are_rejected_and_the_sender_disconnected() {
    let (a, b, c) = network_of_three(FederationMode::Open).await;
    let org_a = a.node.service.org();
    // A valid record signed by some organisation, then three bad variants.
    let key = SigningKey::from_bytes(&[42; 32]);
    let org_x = OrgKey::from(&key.verifying_key());
    let now = skillmesh_node::clock::now();
    let mut record =
        skillmesh_protocol::samples::record(org_x, skillmesh_protocol::Kind::TalkOffer);
    record.header.issued_at = now;
    record.header.expires_at = now + 3600;
    let good = skillmesh_protocol::seal(&record, &key)
        .expect("seal")
        .into_bytes();
    let mut tampered = good.clone();
    let last = tampered.len() - 3;
    tampered[last] ^= 1;
    let forged = {
        let mut f = good.clone();
        f[4..36].copy_from_slice(SigningKey::from_bytes(&[43; 32]).verifying_key().as_bytes());
        f
    };
    let mut expired = record.clone();
    expired.header.id = "expired".into();
    expired.header.issued_at = now - 7200;
    expired.header.expires_at = now - 3600;
    let expired = skillmesh_protocol::seal(&expired, &key)
        .expect("seal")
        .into_bytes();
    // Over the envelope bound, but within gossipsub's transport limit.
    let oversize = vec![0u8; 65_600];

    // A keeps misbehaving (as such a peer would) until it is cut off; the
    // gossip mesh may still be forming when it starts.
    let bad = [tampered, forged, expired, oversize];
    let misbehave = {
        let network = a.node.network.clone();
        tokio::spawn(async move {
            for round in 0u8..=255 {
                for b in &bad {
                    let mut b = b.clone();
                    b.push(round); // a new message id each round
                    let _ = network.publish_raw(b).await;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    for org in [&b, &c] {
        wait_for("A disconnected", || async {
            !org.node
                .network
                .peers()
                .await
                .expect("peers")
                .iter()
                .any(|p| p.org == Some(org_a))
        })
        .await;
        let rejected = org
            .node
            .service
            .store_for_tests()
            .audit_log(&AuditFilter {
                action: Some("record_rejected".into()),
                ..Default::default()
            })
            .expect("audit");
        // Repeats of one reason within a minute are one row with a count,
        // and which reasons arrive before the cut-off depends on timing:
        // count rejected records, not rows.
        let rejections: u64 = rejected.iter().map(|e| e.count).sum();
        assert!(rejections >= 2, "{rejected:?}");
        assert!(held_seq(org, &org_x, &record.header.id).is_none());
        assert!(held_seq(org, &org_x, "expired").is_none());
    }
    misbehave.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_organisation_is_purged_disconnected_and_kept_out() {
    let (a, b, c) = network_of_three(FederationMode::Open).await;
    let org_a = a.node.service.org();
    let svc = &a.node.service;
    svc.create_item(
        "before",
        Some("tomas"),
        mentoring("Before the block"),
        &Actor::person("test"),
    )
    .expect("create");
    svc.publish_item("before", &Actor::person("test"))
        .expect("publish");
    wait_for("B has it", || async {
        held_seq(&b, &org_a, "before").is_some()
    })
    .await;

    assert_eq!(
        b.node
            .block_org(org_a, &Actor::person("admin"))
            .await
            .expect("block"),
        2,
        "its organisation card and its record"
    );
    assert!(held_seq(&b, &org_a, "before").is_none(), "purged at once");
    wait_for("A disconnected from B", || async {
        !b.node
            .network
            .peers()
            .await
            .expect("peers")
            .iter()
            .any(|p| p.org == Some(org_a))
    })
    .await;

    svc.create_item(
        "after",
        Some("tomas"),
        mentoring("After the block"),
        &Actor::person("test"),
    )
    .expect("create");
    svc.publish_item("after", &Actor::person("test"))
        .expect("publish");
    wait_for("C has the new record", || async {
        held_seq(&c, &org_a, "after").is_some()
    })
    .await;
    // Gossip from C and any re-dial from A: B still holds nothing of A.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(held_seq(&b, &org_a, "after").is_none());
    assert!(held_seq(&b, &org_a, "before").is_none());
    assert_eq!(
        b.node
            .service
            .store_for_tests()
            .org_listing(&org_a)
            .expect("listing"),
        Some(OrgListing::Blocked)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_allowlist_mode_only_listed_organisations_are_accepted() {
    let (a, b, c) = network_of_three(FederationMode::Allowlist).await;
    let (org_a, org_b) = (a.node.service.org(), b.node.service.org());
    // C accepts A only.
    c.node
        .service
        .set_org_listing(&org_a, Some(OrgListing::Allowed), &Actor::person("admin"))
        .expect("allow");
    for (org, id) in [(&a, "from-a"), (&b, "from-b")] {
        org.node
            .service
            .create_item(id, Some("tomas"), mentoring(id), &Actor::person("test"))
            .expect("create");
        org.node
            .service
            .publish_item(id, &Actor::person("test"))
            .expect("publish");
    }
    wait_for("C has A's record", || async {
        held_seq(&c, &org_a, "from-a").is_some()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        held_seq(&c, &org_b, "from-b").is_none(),
        "B is not on C's allowlist"
    );
    let refused = c
        .node
        .service
        .store_for_tests()
        .audit_log(&AuditFilter {
            action: Some("record_refused".into()),
            org: Some(org_b.to_hex()),
            ..Default::default()
        })
        .expect("audit");
    assert!(!refused.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_federate_over_quic() {
    let quic = |c: &mut skillmesh_config::Config| {
        c.network.listen = vec!["/ip4/127.0.0.1/udp/0/quic-v1".into()];
    };
    let a = start_org_with("A", quic).await;
    let addr = p2p_addr(&a).await;
    assert!(addr.contains("quic-v1"), "{addr}");
    let b = start_org_with("B", |c| {
        quic(c);
        c.network.bootstrap = vec![addr];
    })
    .await;
    let org_a = a.node.service.org();
    a.node
        .service
        .create_item(
            "q",
            Some("tomas"),
            mentoring("Over QUIC"),
            &Actor::person("test"),
        )
        .expect("create");
    a.node
        .service
        .publish_item("q", &Actor::person("test"))
        .expect("publish");
    wait_for("B has it over QUIC", || async {
        held_seq(&b, &org_a, "q").is_some()
    })
    .await;
    let peers = b.node.network.peers().await.expect("peers");
    assert!(
        peers.iter().all(|p| p.address.contains("quic-v1")),
        "{peers:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_network_admits_only_nodes_holding_its_key() {
    let keys = tempfile::tempdir().expect("tempdir");
    let psk = keys.path().join("swarm.key");
    std::fs::write(&psk, skillmesh_node::network::new_psk_text().expect("psk")).expect("write psk");
    let other = keys.path().join("other.key");
    std::fs::write(
        &other,
        skillmesh_node::network::new_psk_text().expect("psk"),
    )
    .expect("write psk");

    let with_key = |path: std::path::PathBuf, bootstrap: Vec<String>| {
        move |c: &mut skillmesh_config::Config| {
            c.network.psk_file = Some(path);
            c.network.bootstrap = bootstrap;
        }
    };
    let a = start_org_with("A", with_key(psk.clone(), vec![])).await;
    let addr = p2p_addr(&a).await;
    let b = start_org_with("B", with_key(psk.clone(), vec![addr.clone()])).await;
    let outsider = start_org_with("Outsider", with_key(other, vec![addr.clone()])).await;
    let open = start_org("Open", &[addr], FederationMode::Open).await;

    let org_a = a.node.service.org();
    a.node
        .service
        .create_item(
            "p",
            Some("tomas"),
            mentoring("Members only"),
            &Actor::person("test"),
        )
        .expect("create");
    a.node
        .service
        .publish_item("p", &Actor::person("test"))
        .expect("publish");
    wait_for("B (same key) has it", || async {
        held_seq(&b, &org_a, "p").is_some()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for org in [&outsider, &open] {
        assert!(
            org.node.network.peers().await.expect("peers").is_empty(),
            "no connection without the key"
        );
        assert!(held_seq(org, &org_a, "p").is_none());
    }
    assert_eq!(a.node.network.peers().await.expect("peers").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_network_refuses_quic_addresses() {
    let keys = tempfile::tempdir().expect("tempdir");
    let psk = keys.path().join("swarm.key");
    std::fs::write(&psk, skillmesh_node::network::new_psk_text().expect("psk")).expect("write psk");
    let dir = tempfile::tempdir().expect("tempdir");
    skillmesh_node::identity::OrgIdentity::generate()
        .expect("key")
        .create_file(&dir.path().join("org.key"))
        .expect("write key");
    let mut config = skillmesh_config::Config::new("P", dir.path().to_path_buf());
    config.web.listen = "127.0.0.1:0".parse().expect("addr");
    config.network.listen = vec!["/ip4/127.0.0.1/udp/0/quic-v1".into()];
    config.network.psk_file = Some(psk);
    let err = runtime::start(&config).await.err().expect("refused");
    assert!(err.to_string().contains("TCP only"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unblocking_lets_sync_bring_an_organisations_records_back() {
    let (a, b, _c) = network_of_three(FederationMode::Open).await;
    let org_a = a.node.service.org();
    a.node
        .service
        .create_item(
            "back",
            Some("tomas"),
            mentoring("Comes back"),
            &Actor::person("test"),
        )
        .expect("create");
    a.node
        .service
        .publish_item("back", &Actor::person("test"))
        .expect("publish");
    wait_for("B has it", || async {
        held_seq(&b, &org_a, "back").is_some()
    })
    .await;
    b.node
        .block_org(org_a, &Actor::person("admin"))
        .await
        .expect("block");
    assert!(held_seq(&b, &org_a, "back").is_none());

    b.node
        .unblock_org(org_a, &Actor::person("admin"))
        .await
        .expect("unblock");
    wait_for("sync brings A's records back to B", || async {
        held_seq(&b, &org_a, "back").is_some()
    })
    .await;
    let log = b
        .node
        .service
        .store_for_tests()
        .audit_log(&AuditFilter {
            org: Some(org_a.to_hex()),
            ..Default::default()
        })
        .expect("audit");
    for action in ["org_blocked", "records_purged", "org_unlisted"] {
        assert!(
            log.iter().any(|e| e.action == action),
            "{action} missing from {log:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_allowlist_mode_an_unknown_organisation_waits_to_join_until_accepted() {
    let gate = start_org("Gate", &[], FederationMode::Allowlist).await;
    let addr = p2p_addr(&gate).await;
    let newcomer = start_org("Newcomer Ltd", &[addr], FederationMode::Open).await;
    let org_n = newcomer.node.service.org();
    newcomer
        .node
        .service
        .create_item(
            "hello",
            Some("tomas"),
            mentoring("Hello"),
            &Actor::person("test"),
        )
        .expect("create");
    newcomer
        .node
        .service
        .publish_item("hello", &Actor::person("test"))
        .expect("publish");

    wait_for("the newcomer in the join queue with its card", || async {
        gate.node
            .service
            .store_for_tests()
            .join_requests()
            .expect("queue")
            .iter()
            .any(|r| {
                r.org == org_n && r.card.as_ref().map(|c| c.name.as_str()) == Some("Newcomer Ltd")
            })
    })
    .await;
    assert!(
        held_seq(&gate, &org_n, "hello").is_none(),
        "nothing let in before the admin decides"
    );

    gate.node
        .accept_join(org_n, &Actor::person("admin"))
        .await
        .expect("accept");
    wait_for("its records arrive once accepted", || async {
        held_seq(&gate, &org_n, "hello").is_some()
    })
    .await;
    assert!(
        gate.node
            .service
            .store_for_tests()
            .join_requests()
            .expect("queue")
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organisation_over_its_record_quota_is_cut_off_at_the_quota() {
    let a = start_org("A", &[], FederationMode::Open).await;
    let addr = p2p_addr(&a).await;
    let b = start_org_with("B", |c| {
        c.network.bootstrap = vec![addr];
        c.federation.max_records_per_org = 3;
        // Records published before the gossip mesh has formed reach B by
        // reconciliation; under a loaded CI run the default 30 s round
        // came after the wait below gave up. The quota is what is tested:
        // whether a record over it comes by gossip, is fetched and then
        // refused, or is left unfetched by a round that finds B at the
        // quota, B audits the refusal.
        c.network.reconcile_interval_secs = 2;
    })
    .await;
    let org_a = a.node.service.org();
    for i in 0..5 {
        let id = format!("offer-{i}");
        a.node
            .service
            .create_item(&id, Some("tomas"), mentoring(&id), &Actor::person("test"))
            .expect("create");
        a.node
            .service
            .publish_item(&id, &Actor::person("test"))
            .expect("publish");
    }
    wait_for("B refuses what is over the quota", || async {
        !b.node
            .service
            .store_for_tests()
            .audit_log(&AuditFilter {
                action: Some("record_refused".into()),
                org: Some(org_a.to_hex()),
                ..Default::default()
            })
            .expect("audit")
            .is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        b.node
            .service
            .store_for_tests()
            .org_record_count(&org_a)
            .expect("count"),
        3
    );
}

/// The ids `org` finds in its search among `from`'s records.
fn found_ids(org: &Org, from: &OrgKey) -> Vec<String> {
    let query = skillmesh_node::search::SearchQuery {
        org: from.to_hex(),
        ..Default::default()
    };
    let mut ids: Vec<String> = org
        .node
        .service
        .search(&query, skillmesh_node::clock::now())
        .hits
        .into_iter()
        .map(|h| h.id)
        .collect();
    ids.sort();
    ids
}

fn audited(org: &Org, action: &str, about: &OrgKey) -> Vec<skillmesh_node::store::AuditEntry> {
    org.node
        .service
        .store_for_tests()
        .audit_log(&AuditFilter {
            action: Some(action.into()),
            org: Some(about.to_hex()),
            ..Default::default()
        })
        .expect("audit")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_to_allowlist_keeps_partners_and_hides_an_organisation_taken_off_it() {
    use skillmesh_web::{DiscoveryApi, SteeringApi};
    let (gate, a, b) = network_of_three(FederationMode::Open).await;
    let (org_a, org_b) = (a.node.service.org(), b.node.service.org());
    publish_to(
        &a,
        "mentor-a",
        Some("tomas"),
        mentoring("Kubernetes A"),
        &[&gate],
    )
    .await;
    publish_to(
        &a,
        "mentor-a2",
        Some("tomas"),
        mentoring("Kubernetes A2"),
        &[&gate],
    )
    .await;
    publish_to(
        &b,
        "mentor-b",
        Some("tomas"),
        mentoring("Kubernetes B"),
        &[&gate],
    )
    .await;
    wait_for("both searchable at the gate", || async {
        found_ids(&gate, &org_a).len() == 2 && found_ids(&gate, &org_b).len() == 1
    })
    .await;

    // The console says, before the switch, how many partners stay allowed.
    let web = skillmesh_node::web_api::WebState::new(
        gate.node.service.clone(),
        gate.node.network.clone(),
    );
    assert_eq!(web.federation().await.expect("console").current_partners, 2);
    let admin = skillmesh_web::User {
        username: "admin".into(),
        role: skillmesh_web::Role::Admin,
        person_id: "priya".into(),
        display_name: "Priya".into(),
        deactivated: false,
    };
    let changed = web
        .set_federation_mode(&admin, skillmesh_web::FederationMode::Allowlist)
        .await
        .expect("switch");
    assert_eq!(changed.partners_kept, 2);
    let store = gate.node.service.store_for_tests();
    for org in [&org_a, &org_b] {
        assert_eq!(
            store.org_listing(org).expect("listing"),
            Some(OrgListing::Allowed)
        );
        assert_eq!(audited(&gate, "org_allowed", org).len(), 1);
    }
    assert!(store.join_requests().expect("queue").is_empty());
    assert_eq!(found_ids(&gate, &org_a).len(), 2, "partners stay on show");

    // The admin takes A off the allowlist: what is held of it is hidden at
    // once and cannot be requested.
    gate.node
        .service
        .set_org_listing(&org_a, None, &Actor::person("admin"))
        .expect("unlist");
    assert!(found_ids(&gate, &org_a).is_empty());
    assert_eq!(found_ids(&gate, &org_b), vec!["mentor-b".to_string()]);
    assert!(
        gate.node
            .service
            .visible_record(&org_a, "mentor-a")
            .expect("read")
            .is_none()
    );
    let refused = gate
        .node
        .service
        .request_offer("priya", org_a, "mentor-a", "learn", "", "", false)
        .expect_err("not requestable");
    assert!(refused.to_string().contains("allowlist"), "{refused}");
    assert!(
        web.listing(&admin, &org_a, "mentor-a").await.is_err(),
        "no listing page"
    );

    // A withdraws one offer: the withdrawal is honoured although A is not
    // admitted (store and audit); anything new from A stays out.
    a.node
        .service
        .unpublish_item("mentor-a", &Actor::person("test"))
        .expect("unpublish");
    wait_for("the withdrawal honoured at the gate", || async {
        held_seq(&gate, &org_a, "mentor-a") == Some((2, true))
    })
    .await;
    assert!(
        audited(&gate, "retraction_received", &org_a)
            .iter()
            .any(|e| e.detail.contains("honoured although")),
    );
    a.node
        .service
        .create_item(
            "mentor-new",
            Some("tomas"),
            mentoring("New"),
            &Actor::person("test"),
        )
        .expect("create");
    a.node
        .service
        .publish_item("mentor-new", &Actor::person("test"))
        .expect("publish");
    wait_for("the new record refused", || async {
        audited(&gate, "record_refused", &org_a)
            .iter()
            .any(|e| e.record_id.as_deref() == Some("mentor-new"))
    })
    .await;
    assert!(held_seq(&gate, &org_a, "mentor-new").is_none());
    let console = web.federation().await.expect("console");
    assert!(
        console
            .policy_refusals
            .iter()
            .any(|r| r.org == org_a && r.reason == "not_allowed" && r.count >= 1),
        "{:?}",
        console.policy_refusals
    );

    // Allowed again: what is held comes back, and sync brings the rest.
    skillmesh_node::admin::allow_org(
        &gate.node.service,
        &gate.node.network,
        org_a,
        &Actor::person("admin"),
    )
    .await
    .expect("allow");
    assert_eq!(found_ids(&gate, &org_a), vec!["mentor-a2".to_string()]);
    wait_for("sync brings A's new record", || async {
        held_seq(&gate, &org_a, "mentor-new").is_some()
    })
    .await;
    assert!(store.check_consistency().expect("check").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quota_counts_live_records_and_the_publisher_is_told_of_a_refusal() {
    use skillmesh_web::SteeringApi;
    let a = start_org("A", &[], FederationMode::Open).await;
    let addr = p2p_addr(&a).await;
    let b = start_org_with("B", |c| {
        c.network.bootstrap = vec![addr];
        c.federation.max_records_per_org = 3;
    })
    .await;
    wait_for("connected", || async {
        b.node.network.peers().await.expect("peers").len() == 1
    })
    .await;
    let (org_a, org_b) = (a.node.service.org(), b.node.service.org());
    // A's organisation card is one of its records at B.
    wait_for("A's card at B", || async {
        held_seq(&b, &org_a, "org-card").is_some()
    })
    .await;
    for id in ["offer-0", "offer-1"] {
        publish_to(&a, id, Some("tomas"), mentoring(id), &[&b]).await;
    }
    // A withdraws one: it no longer takes room, so another fits.
    a.node
        .service
        .unpublish_item("offer-0", &Actor::person("test"))
        .expect("unpublish");
    wait_for("the withdrawal at B", || async {
        held_seq(&b, &org_a, "offer-0") == Some((2, true))
    })
    .await;
    let store = b.node.service.store_for_tests();
    assert_eq!(store.org_live_count(&org_a).expect("live"), 2);
    publish_to(&a, "offer-2", Some("tomas"), mentoring("offer-2"), &[&b]).await;
    assert_eq!(store.org_live_count(&org_a).expect("live"), 3);
    assert_eq!(store.org_record_count(&org_a).expect("rows"), 4);

    // The next is over the quota: refused, counted in the console, and A
    // is told.
    a.node
        .service
        .create_item(
            "offer-3",
            Some("tomas"),
            mentoring("offer-3"),
            &Actor::person("test"),
        )
        .expect("create");
    a.node
        .service
        .publish_item("offer-3", &Actor::person("test"))
        .expect("publish");
    wait_for("A learns of the refusal", || async {
        !a.node
            .service
            .store_for_tests()
            .quota_notices()
            .expect("notices")
            .is_empty()
    })
    .await;
    let notices = a
        .node
        .service
        .store_for_tests()
        .quota_notices()
        .expect("notices");
    assert_eq!(notices.len(), 1);
    assert_eq!(
        (
            notices[0].from,
            notices[0].record_id.as_str(),
            notices[0].held,
            notices[0].limit
        ),
        (org_b, "offer-3", 3, 3)
    );
    assert_eq!(audited(&a, "quota_refused_by_partner", &org_b).len(), 1);
    assert_eq!(audited(&b, "quota_notice_sent", &org_a).len(), 1);
    assert!(held_seq(&b, &org_a, "offer-3").is_none());
    let refusals =
        skillmesh_node::web_api::WebState::new(b.node.service.clone(), b.node.network.clone())
            .federation()
            .await
            .expect("console")
            .policy_refusals;
    assert!(
        refusals
            .iter()
            .any(|r| r.org == org_a && r.reason == "over_quota" && r.count >= 1),
        "{refusals:?}"
    );
    let told =
        skillmesh_node::web_api::WebState::new(a.node.service.clone(), a.node.network.clone())
            .federation()
            .await
            .expect("console")
            .quota_notices;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].org, org_b);

    // A second refusal within the hour sends no second notice.
    a.node
        .service
        .create_item(
            "offer-4",
            Some("tomas"),
            mentoring("offer-4"),
            &Actor::person("test"),
        )
        .expect("create");
    a.node
        .service
        .publish_item("offer-4", &Actor::person("test"))
        .expect("publish");
    // (Refusals from one sender for one reason within a minute share one
    // audit row, so the second is seen in the refusal counter.)
    wait_for("the second refusal", || async {
        store
            .policy_refusals()
            .expect("refusals")
            .iter()
            .any(|r| r.org == org_a && r.reason == "over_quota" && r.count >= 2)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(audited(&b, "quota_notice_sent", &org_a).len(), 1);
    assert!(store.check_consistency().expect("check").is_empty());
}
