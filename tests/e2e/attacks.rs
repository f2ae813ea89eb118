//! A hostile organisation against real nodes: an attacker that speaks the
//! wire protocol itself (tests/e2e/common/attacker.rs), not through the node's
//! code, tries to get honest relays banned with records on the edge of
//! their validity, to keep a node busy with sync answers that lead
//! nowhere, to show two partners two different versions of a record, and
//! to crowd a partner out with connections from fresh keys. See
//! docs/PROTOCOL.md §4.3, §Peer scoring, §Sync budgets and §Trimming.

// Only the attack tests link a libp2p swarm of their own.
use crate::common::attacker;

use std::time::Duration;

use crate::common::nodes::*;
use attacker::{
    Answer, Attacker, OrgFingerprint, RangePart, Seen, SyncRequest, SyncResponse, fresh_identity,
    in_sync, metric, peer_of, signed_at,
};
use ed25519_dalek::SigningKey;
use serde_bytes::ByteBuf;
use skillmesh_config::FederationMode;
use skillmesh_node::store::Actor;
use skillmesh_protocol::{Kind, OrgKey};

fn metrics(org: &Org) -> String {
    org.node.service.metrics().render(&[]).expect("metrics")
}

fn banned(org: &Org, fault: &str) -> f64 {
    metric(
        &metrics(org),
        "skillmesh_peers_banned_total",
        &format!("fault=\"{fault}\""),
    )
}

/// Signed records `org` took in by gossip, whatever became of them.
fn seen_by_gossip(org: &Org) -> f64 {
    let text = metrics(org);
    ["stored", "stale", "not_admitted", "over_quota"]
        .iter()
        .map(|outcome| {
            metric(
                &text,
                "skillmesh_records_ingested_total",
                &format!("outcome=\"{outcome}\",via=\"gossip\""),
            )
        })
        .sum()
}

/// A talk offer `id` of `key`'s organisation with the given times.
fn record(key: &SigningKey, id: &str, issued_at: i64, expires_at: i64) -> Vec<u8> {
    let body = skillmesh_protocol::samples::body(Kind::TalkOffer);
    signed_at(key, id, body, issued_at, expires_at)
}

async fn connected_to(org: &Org, other: OrgKey) -> bool {
    org.node
        .network
        .peers()
        .await
        .expect("peers")
        .iter()
        .any(|p| p.org == Some(other))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_on_the_edge_of_their_validity_cost_the_relay_nothing() {
    let h = start_org("Relay", &[], FederationMode::Open).await;
    let h_addr = p2p_addr(&h).await;
    // The partner wants one peer, the relay, and so does not go looking
    // for the attacker (peer exchange would tell it where the attacker
    // is): whatever of the attacker's records it gets by gossip, the
    // relay forwarded.
    let p = start_org_with("Partner", |c| {
        c.network.bootstrap = vec![h_addr.clone()];
        c.network.target_peers = 1;
    })
    .await;
    let p_addr = p2p_addr(&p).await;
    let org_h = h.node.service.org();
    wait_for("the partner connected to the relay", || async {
        connected_to(&p, org_h).await
    })
    .await;

    // A throwaway key connects to the relay only.
    let (identity, key) = fresh_identity();
    let attacker = Attacker::start(identity, in_sync());
    let org_x = OrgKey::from(&key.verifying_key());
    attacker.dial(&h_addr).await;
    wait_for("the attacker connected", || async {
        connected_to(&h, org_x).await
    })
    .await;
    // Let gossipsub exchange subscriptions.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let gossip_before = seen_by_gossip(&p);

    // Valid at the relay, but about to expire, or dated a little ahead:
    // the relay keeps them and does not forward them.
    let now = skillmesh_node::clock::now();
    for i in 0..20 {
        attacker
            .publish(record(&key, &format!("edge-{i}"), now - 100, now + 60))
            .await;
        attacker
            .publish(record(&key, &format!("ahead-{i}"), now + 200, now + 3600))
            .await;
    }
    wait_for("the relay stored every edge record", || async {
        (0..20).all(|i| {
            held_seq(&h, &org_x, &format!("edge-{i}")).is_some()
                && held_seq(&h, &org_x, &format!("ahead-{i}")).is_some()
        })
    })
    .await;
    // Then a record well inside its times, which the relay does forward:
    // by the time it arrives, the edge records would have too.
    attacker
        .publish(record(&key, "in-time", now - 100, now + 3600))
        .await;
    wait_for("the partner got the in-time record by gossip", || async {
        seen_by_gossip(&p) > gossip_before
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        !connected_to(&p, org_x).await,
        "the partner is connected to the attacker itself"
    );
    assert_eq!(
        seen_by_gossip(&p),
        gossip_before + 1.0,
        "the relay forwarded records it should have kept to itself"
    );
    assert!(
        connected_to(&p, org_h).await,
        "the partner dropped the relay"
    );
    assert!(connected_to(&h, org_x).await, "valid records are no fault");
    assert_eq!(
        banned(&p, "invalid_record") + banned(&h, "invalid_record"),
        0.0
    );

    // Records that have expired (as records relayed a moment too late
    // would be) are refused but not counted against the peer that sent
    // them: the attacker, connected to the partner directly now.
    attacker.dial(&p_addr).await;
    wait_for("the attacker connected to the partner", || async {
        connected_to(&p, org_x).await
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    for i in 0..20 {
        attacker
            .publish(record(&key, &format!("late-{i}"), now - 7200, now - 10))
            .await;
    }
    wait_for("the partner refused the expired records", || async {
        metric(
            &metrics(&p),
            "skillmesh_records_rejected_total",
            "reason=\"expired\"",
        ) >= 20.0
    })
    .await;
    assert!(
        connected_to(&p, org_x).await,
        "an expired record is no fault of the sender"
    );
    assert_eq!(banned(&p, "invalid_record"), 0.0);
    assert!(held_seq(&p, &org_x, "late-0").is_none());

    // What the sender could have checked still counts: three records with
    // bad signatures, and it is out.
    for i in 0..3 {
        let mut bad = record(&key, &format!("forged-{i}"), now, now + 3600);
        let last = bad.len() - 1;
        bad[last] ^= 1;
        attacker.publish(bad).await;
    }
    wait_for("the partner banned the attacker", || async {
        banned(&p, "invalid_record") == 1.0 && !connected_to(&p, org_x).await
    })
    .await;
    assert!(
        connected_to(&p, org_h).await,
        "the relay is still a partner"
    );
}

/// Starts `answer`'s attacker, connects it to `node`, and waits until the
/// node has dropped it; returns what the node asked of it.
async fn dropped_for_lying(node: &Org, addr: &str, answer: Answer) -> Vec<SyncRequest> {
    let (identity, key) = fresh_identity();
    let org_x = OrgKey::from(&key.verifying_key());
    let node_peer = peer_of(&node.node.service.org());
    let mut attacker = Attacker::start(identity, answer);
    attacker.dial(addr).await;
    let mut asked = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, attacker.seen.recv()).await {
            Ok(Some(Seen::Request(r))) => asked.push(r),
            Ok(Some(Seen::Closed(peer))) if peer == node_peer => break,
            Ok(Some(Seen::Closed(_))) => {}
            Ok(None) | Err(_) => panic!(
                "the node kept talking to a lying peer: {} requests",
                asked.len()
            ),
        }
    }
    wait_for("the node dropped the liar", || async {
        !connected_to(node, org_x).await
    })
    .await;
    // Kept out: it dials again and is turned away, and asked nothing more.
    let before = asked.len();
    attacker.dial(addr).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    while let Ok(seen) = attacker.seen.try_recv() {
        if let Seen::Request(r) = seen {
            asked.push(r);
        }
    }
    assert_eq!(asked.len(), before, "a banned peer was asked again");
    assert!(
        !connected_to(node, org_x).await,
        "a banned peer got back in"
    );
    asked
}

fn random16() -> ByteBuf {
    let (_, key) = fresh_identity();
    ByteBuf::from(key.to_bytes()[..16].to_vec())
}

/// Answers a digest with one organisation (its own) that differs.
fn fingerprints(org: &str) -> SyncResponse {
    SyncResponse::Fingerprints {
        fingerprint: random16(),
        count: 1000,
        orgs: vec![OrgFingerprint {
            org: org.to_string(),
            count: 1000,
            fingerprint: random16(),
        }],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_peer_whose_answers_lead_nowhere_is_dropped_within_its_budget() {
    let h = start_org("Honest", &[], FederationMode::Open).await;
    let addr = p2p_addr(&h).await;

    // Every range "differs" again, for ever.
    let org = hex::encode(fresh_identity().1.verifying_key().as_bytes());
    let endless: Answer = Box::new(move |request| match request {
        SyncRequest::Digest { .. } => fingerprints(&org),
        SyncRequest::Ranges { ranges, .. } => SyncResponse::Ranges {
            parts: ranges
                .iter()
                .map(|r| RangePart {
                    lower: r.lower.clone(),
                    upper: r.upper.clone(),
                    count: 1000,
                    fingerprint: Some(random16()),
                    ids: None,
                })
                .collect(),
        },
        SyncRequest::Peers => SyncResponse::Peers { peers: vec![] },
        _ => SyncResponse::Records { envelopes: vec![] },
    });
    let asked = dropped_for_lying(&h, &addr, endless).await;
    let ranges = asked
        .iter()
        .filter(|r| matches!(r, SyncRequest::Ranges { .. }))
        .count();
    assert!(ranges <= 64, "{ranges} range requests before giving up");
    assert_eq!(banned(&h, "sync"), 1.0);

    // Lists records, then never delivers them.
    let org = hex::encode(fresh_identity().1.verifying_key().as_bytes());
    let never: Answer = Box::new(move |request| match request {
        SyncRequest::Digest { .. } => fingerprints(&org),
        SyncRequest::Ranges { ranges, .. } => SyncResponse::Ranges {
            parts: ranges
                .iter()
                .map(|r| RangePart {
                    lower: r.lower.clone(),
                    upper: r.upper.clone(),
                    count: 50,
                    fingerprint: None,
                    ids: Some(
                        (0..50)
                            .map(|i| {
                                let id = format!("{}fake-{i:03}", r.lower);
                                (id, 1, ByteBuf::from(vec![0u8; 32]))
                            })
                            .filter(|(id, _, _)| r.upper.as_ref().is_none_or(|u| id < u))
                            .collect(),
                    ),
                })
                .collect(),
        },
        SyncRequest::Peers => SyncResponse::Peers { peers: vec![] },
        _ => SyncResponse::Records { envelopes: vec![] },
    });
    let asked = dropped_for_lying(&h, &addr, never).await;
    assert!(
        asked.iter().any(|r| matches!(r, SyncRequest::Fetch { .. })),
        "the node never asked for what was listed"
    );
    assert_eq!(banned(&h, "sync"), 2.0);

    // An honest peer still gets along with the node.
    let p = start_org("Partner", std::slice::from_ref(&addr), FederationMode::Open).await;
    let org_p = p.node.service.org();
    publish_to(&p, "m1", None, mentoring("Kubernetes in practice"), &[&h]).await;
    assert!(connected_to(&h, org_p).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_versions_with_the_same_seq_end_as_one_on_every_node() {
    // Two partners, not yet connected to each other.
    let p1 = start_org("One", &[], FederationMode::Open).await;
    let p2 = start_org("Two", &[], FederationMode::Open).await;
    let (a1, a2) = (p2p_addr(&p1).await, p2p_addr(&p2).await);

    // One organisation signs two versions of the same record and `seq`
    // and shows each partner one of them.
    let (_, key) = fresh_identity();
    let org_x = OrgKey::from(&key.verifying_key());
    let now = skillmesh_node::clock::now();
    let mut record = skillmesh_protocol::samples::record(org_x, Kind::TalkOffer);
    record.header.id = "twice".into();
    record.header.seq = 3;
    record.header.issued_at = now;
    record.header.expires_at = now + 3600;
    let first = skillmesh_protocol::seal(&record, &key)
        .expect("seal")
        .into_bytes();
    if let skillmesh_protocol::Body::TalkOffer(t) = &mut record.body {
        t.title = "Something else entirely".into();
    }
    let second = skillmesh_protocol::seal(&record, &key)
        .expect("seal")
        .into_bytes();
    let digest = skillmesh_protocol::fingerprint::envelope_digest;
    let (winner, loser_holder) = if digest(&first) < digest(&second) {
        (first.clone(), &p2)
    } else {
        (second.clone(), &p1)
    };
    for (node, addr, envelope) in [(&p1, &a1, &first), (&p2, &a2, &second)] {
        let attacker = Attacker::start(attacker::identity_of(&key), in_sync());
        attacker.dial(addr).await;
        wait_for("the attacker connected", || async {
            connected_to(node, org_x).await
        })
        .await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        attacker.publish(envelope.clone()).await;
        wait_for("the partner stored its version", || async {
            held_seq(node, &org_x, "twice").is_some()
        })
        .await;
    }
    let held = |node: &Org| {
        node.node
            .service
            .store_for_tests()
            .get_record(&org_x, "twice")
            .expect("get")
            .map(|r| r.envelope.into_bytes())
    };
    assert_ne!(held(&p1), held(&p2), "each partner holds its own version");

    // They meet: reconciliation sees the difference (same id and seq) and
    // both end with the same version, the one with the lower digest.
    p2.node
        .network
        .dial(a1.parse().expect("addr"))
        .await
        .expect("dial");
    wait_for("both hold the winning version", || async {
        held(&p1).as_ref() == Some(&winner) && held(&p2).as_ref() == Some(&winner)
    })
    .await;
    let audited = loser_holder
        .node
        .service
        .store_for_tests()
        .audit_log(&skillmesh_node::store::AuditFilter {
            action: Some("equivocation".into()),
            ..Default::default()
        })
        .expect("audit");
    assert_eq!(audited.len(), 1, "{audited:?}");
    assert!(audited[0].detail.contains("seq 3"), "{}", audited[0].detail);
    assert!(
        p1.node
            .service
            .store_for_tests()
            .check_consistency()
            .expect("check")
            .is_empty()
            && p2
                .node
                .service
                .store_for_tests()
                .check_consistency()
                .expect("check")
                .is_empty()
    );
}

/// `org`'s count of connections refused for `reason`.
fn refused(org: &Org, reason: &str) -> f64 {
    metric(
        &metrics(org),
        "skillmesh_connections_refused_total",
        &format!("reason=\"{reason}\""),
    )
}

/// A crowd of fresh keys cannot push a partner out: above the node's
/// ceiling a new organisation's connection closes as it opens, while the
/// partner stays; trimming then closes new organisations first. And one
/// key cannot open more than four connections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowd_of_fresh_keys_cannot_push_a_partner_out() {
    // A target of 2 peers: trimming above 4, a ceiling of 16.
    let a = start_org_with("A", |c| c.network.target_peers = 2).await;
    let addr_a = p2p_addr(&a).await;
    let b = start_org("B", std::slice::from_ref(&addr_a), FederationMode::Open).await;
    let org_b = b.node.service.org();
    a.node
        .accept_join(org_b, &Actor::person("admin"))
        .await
        .expect("allow B");
    wait_for("B is connected to A", || connected_to(&a, org_b)).await;

    // One key dials ten times: at most four connections are let in.
    let greedy = Attacker::start(fresh_identity().0, in_sync());
    let before = refused(&a, "limit");
    for _ in 0..10 {
        greedy.dial(&addr_a).await;
    }
    wait_for("connections over four from one key are refused", || async {
        refused(&a, "limit") >= before + 6.0
    })
    .await;

    // Twenty-four more fresh keys connect, one after the other.
    let (mut crowd, mut crowd_orgs) = (Vec::new(), Vec::new());
    for _ in 0..24 {
        let (identity, key) = fresh_identity();
        crowd_orgs.push(OrgKey::from(&key.verifying_key()));
        let x = Attacker::start(identity, in_sync());
        x.dial(&addr_a).await;
        crowd.push(x);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    wait_for("the crowd beyond the ceiling is turned away", || async {
        refused(&a, "ceiling") >= 10.0
    })
    .await;
    let peers = a.node.network.peers().await.expect("peers");
    assert!(
        peers.len() <= 16,
        "{} connected above the ceiling",
        peers.len()
    );
    assert!(connected_to(&a, org_b).await, "the partner stayed");
    // Those turned away left nothing behind: at most the fourteen let in
    // (16 less the partner and the greedy key) are in A's peer book.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let book = a.node.service.store_for_tests().peers().expect("peer book");
    let remembered = crowd_orgs
        .iter()
        .filter(|o| book.iter().any(|(k, _)| k == *o))
        .count();
    assert!(
        remembered <= 14,
        "{remembered} of the crowd in the peer book"
    );

    // After trimming's grace (30 s), A trims back to its target: the new
    // organisations go, the partner stays.
    let trimmed = tokio::time::Instant::now();
    while a.node.network.peers().await.expect("peers").len() > 2 {
        assert!(
            trimmed.elapsed() < std::time::Duration::from_secs(60),
            "A did not trim back to its target"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(connected_to(&a, org_b).await, "the partner was kept");
    drop(crowd);
}

/// A flood of rejections is a few audit rows with a count, not one row per
/// message, and the admin's own actions stay findable in it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_rejections_is_a_few_audit_rows_and_the_admin_is_still_found() {
    let a = start_org("A", &[], FederationMode::Open).await;
    let addr_a = p2p_addr(&a).await;
    let (identity, key) = fresh_identity();
    let org_x = OrgKey::from(&key.verifying_key());
    let attacker = Attacker::start(identity, in_sync());
    attacker.dial(&addr_a).await;
    wait_for("the attacker connected", || connected_to(&a, org_x)).await;
    // Let gossipsub exchange subscriptions.
    tokio::time::sleep(Duration::from_secs(2)).await;

    // 300 correctly signed records that expired an hour ago: each is
    // checked and rejected, and none is held against the sender.
    let expired = |a: &Org| {
        metric(
            &metrics(a),
            "skillmesh_records_rejected_total",
            "reason=\"expired\"",
        )
    };
    let before = expired(&a);
    let now = skillmesh_node::clock::now();
    for i in 0..300 {
        attacker
            .publish(record(&key, &format!("old-{i}"), now - 7200, now - 3600))
            .await;
    }
    wait_for("all 300 were rejected", || async {
        expired(&a) >= before + 300.0
    })
    .await;
    assert!(connected_to(&a, org_x).await, "not banned for the clock");

    // The admin blocks the sender.
    a.node
        .block_org(org_x, &Actor::person("admin"))
        .await
        .expect("block");

    let store = a.node.service.store_for_tests();
    let rows = store
        .audit_log(&skillmesh_node::store::AuditFilter {
            action: Some("record_rejected".into()),
            org: Some(org_x.to_hex()),
            ..Default::default()
        })
        .expect("audit");
    let counted: u64 = rows.iter().map(|r| r.count).sum();
    assert_eq!(counted, 300, "{rows:?}");
    // One row a minute: two if the flood straddled a minute's end.
    assert!(rows.len() <= 2, "{} rows for 300 rejections", rows.len());
    let people = store
        .audit_log(&skillmesh_node::store::AuditFilter {
            people: Some(true),
            limit: Some(5),
            ..Default::default()
        })
        .expect("audit");
    assert!(
        people
            .iter()
            .any(|r| r.actor == "admin" && r.action == "org_blocked"),
        "{people:?}"
    );
}
