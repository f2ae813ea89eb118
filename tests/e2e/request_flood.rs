//! A flood of requests from many fresh keys: an attacker with 100 new
//! organisation keys, each its own libp2p identity speaking
//! `/skillmesh/direct/1` itself (CBOR request-response, the message
//! shapes written out below from docs/PROTOCOL.md), asks for a real open
//! offer again and again, while a partner organisation's person keeps
//! asking for the same offer through its own node. The partner's requests
//! arrive, the offering person's pending inbox stays within its cap (new
//! organisations within half of it), and the flood is refused.

use crate::common::attacker;

use crate::common::nodes::*;
use attacker::{Attacker, DirectReply, identity_of, in_sync, signed_request};
use libp2p::Multiaddr;
use skillmesh_config::FederationMode;
use skillmesh_node::store::Actor;
use skillmesh_node::store::{InboxStatus, OutboxStatus, Person};
use skillmesh_protocol::OrgKey;

/// Fresh key number `n` of the attacker.
fn fresh_key(n: u8) -> ed25519_dalek::SigningKey {
    let mut seed = [0xA5u8; 32];
    seed[0] = n;
    ed25519_dalek::SigningKey::from_bytes(&seed)
}

/// One fresh key's part of the flood: as the organisation of `key` (its
/// own node, speaking the direct protocol itself), sends `per_key`
/// requests for `offer_id` to `target`'s node; returns the replies.
async fn flood_from(
    key: ed25519_dalek::SigningKey,
    target: OrgKey,
    target_addr: Multiaddr,
    offer_id: &str,
    per_key: u32,
) -> Vec<DirectReply> {
    let attacker = Attacker::start(identity_of(&key), in_sync());
    let mut replies = Vec::new();
    for i in 0..per_key {
        let reply = attacker
            .request(
                target,
                &target_addr,
                signed_request(&key, target, offer_id, i),
            )
            .await
            .unwrap_or_else(|e| panic!("a flood request failed: {e}"));
        replies.push(reply);
    }
    replies
}

/// Runs the flood from fresh keys `keys` (`per_key` requests each), ten
/// keys at a time; returns every reply.
async fn flood(
    keys: std::ops::Range<u8>,
    target: OrgKey,
    addr: &Multiaddr,
    offer_id: &'static str,
    per_key: u32,
) -> Vec<DirectReply> {
    let keys: Vec<u8> = keys.collect();
    let mut replies = Vec::new();
    for chunk in keys.chunks(10) {
        let tasks: Vec<_> = chunk
            .iter()
            .map(|n| {
                tokio::spawn(flood_from(
                    fresh_key(*n),
                    target,
                    addr.clone(),
                    offer_id,
                    per_key,
                ))
            })
            .collect();
        for t in tasks {
            replies.extend(t.await.expect("flood task"));
        }
    }
    replies
}

fn person(id: &str, name: &str) -> Person {
    listed_person(id, name, &format!("{id}@example.org"))
}

const CAP: u32 = 10;
const PER_KEY: u32 = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_from_fresh_keys_is_refused_while_a_partner_gets_through() {
    // A's Tomás offers a talk; at most ten requests wait in his inbox, and
    // new organisations share ten requests a minute.
    let a = start_org_with("A", |c| {
        c.federation.max_pending_per_person = CAP;
        c.federation.new_org_requests_per_minute = 10;
    })
    .await;
    let addr_a: Multiaddr = p2p_addr(&a).await.parse().expect("addr");
    let org_a = a.node.service.org();
    a.node
        .service
        .add_person(&person("tomas", "Tomás Ferreira"), &Actor::person("test"))
        .expect("tomas");
    publish_to(&a, "talk", Some("tomas"), talk_offer("tomas"), &[]).await;

    // B is a partner of A: the admin allowed it.
    let b = start_org("B", &[addr_a.to_string()], FederationMode::Open).await;
    let org_b = b.node.service.org();
    b.node
        .service
        .add_person(&person("aisha", "Aisha Bello"), &Actor::person("test"))
        .expect("aisha");
    a.node
        .accept_join(org_b, &Actor::person("admin"))
        .await
        .expect("allow B");
    assert!(!a.node.service.is_new_org(&org_b).expect("new?"));
    wait_for("B holds A's talk", || async {
        held_seq(&b, &org_a, "talk").is_some()
    })
    .await;

    // The first wave: 50 fresh keys, three requests each.
    let mut replies = flood(1..51, org_a, &addr_a, "talk", PER_KEY).await;
    assert!(
        a.node
            .service
            .is_new_org(&OrgKey::from(&fresh_key(1).verifying_key()))
            .expect("new?"),
        "a fresh key is a new organisation"
    );

    // During the second wave, Aisha at B asks three times.
    let second = tokio::spawn({
        let addr_a = addr_a.clone();
        async move { flood(51..101, org_a, &addr_a, "talk", PER_KEY).await }
    });
    let mut honest = Vec::new();
    for i in 0..3 {
        let sent = b
            .node
            .service
            .request_offer("aisha", org_a, "talk", &format!("Goal {i}"), "", "", false)
            .expect("request");
        honest.push(sent.id);
    }
    for id in &honest {
        wait_for("the partner's request reaches Tomás", || async {
            outbox_status(&b, id) == Some(OutboxStatus::Queued)
        })
        .await;
    }
    replies.extend(second.await.expect("second wave"));

    // Every flood request got an answer; only a few were queued.
    assert_eq!(replies.len(), 100 * PER_KEY as usize);
    let queued = replies
        .iter()
        .filter(|r| **r == DirectReply::Queued)
        .count();
    let waiting_refusals = replies
        .iter()
        .filter(|r| {
            matches!(r, DirectReply::Refused { reason, .. } if reason.contains("too many requests waiting"))
        })
        .count();
    let try_later = replies
        .iter()
        .filter(|r| matches!(r, DirectReply::TryLater { .. }))
        .count();
    assert!(
        queued <= (CAP / 2) as usize,
        "{queued} flood requests were queued"
    );
    assert!(
        waiting_refusals > 0,
        "the inbox cap refused some: {replies:?}"
    );
    assert!(try_later > 0, "the new organisations' budget refused some");
    assert_eq!(
        queued + waiting_refusals + try_later,
        replies.len(),
        "every other flood request was refused: {replies:?}"
    );

    // Tomás's pending inbox: within the cap, the partner's three in it.
    let inbox = a.node.service.store_for_tests().inbox().expect("inbox");
    let pending: Vec<_> = inbox
        .iter()
        .filter(|e| e.owner.as_deref() == Some("tomas") && e.status == InboxStatus::Pending)
        .collect();
    assert!(pending.len() <= CAP as usize, "{} pending", pending.len());
    assert_eq!(pending.len(), queued + honest.len());
    assert_eq!(pending.iter().filter(|e| e.from_org == org_b).count(), 3);
}
