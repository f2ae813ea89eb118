//! Who is who: a fresh key publishes an organisation card named like a
//! known partner ("N0rthwind" for "Northwind") over gossip and sends a
//! request. The offering person's inbox (JSON API) flags it with the
//! partner's name and fingerprint, shows its own, different fingerprint,
//! and marks it new. The attacker speaks the wire protocol with its own
//! libp2p swarm (gossipsub on `skillmesh/records/1`, strict signing;
//! `/skillmesh/direct/1` with CBOR), the shapes written out below from
//! docs/PROTOCOL.md.

use crate::common;
use crate::common::attacker;

use crate::common::nodes::*;
use attacker::{Attacker, DirectReply, identity_of, in_sync, signed};
use libp2p::Multiaddr;
use skillmesh_config::FederationMode;
use skillmesh_node::store::Actor;
use skillmesh_node::store::Role;
use skillmesh_protocol::kinds::{OrgCard, Request};
use skillmesh_protocol::{Body, OrgKey};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_named_like_a_partner_is_flagged_in_the_inbox() {
    let a = start_org_with("Contoso", |_| {}).await;
    let addr_a: Multiaddr = p2p_addr(&a).await.parse().expect("addr");
    let org_a = a.node.service.org();
    common::web::add(&a, "tomas@contoso.example", "Tomás Ferreira", Role::Member);
    let tomas = a
        .node
        .service
        .store_for_tests()
        .account("tomas@contoso.example")
        .expect("account")
        .and_then(|acc| acc.person_id)
        .expect("person");
    publish_to(&a, "talk", Some(&tomas), talk_offer(&tomas), &[]).await;

    // The real Northwind, a partner of Contoso.
    let b = start_org("Northwind", &[addr_a.to_string()], FederationMode::Open).await;
    let org_b = b.node.service.org();
    a.node
        .accept_join(org_b, &Actor::person("admin"))
        .await
        .expect("allow");
    wait_for("Contoso knows Northwind's card", || async {
        a.node.service.known_org_name(&org_b).as_deref() == Some("Northwind")
    })
    .await;

    // The impostor: a fresh key calling itself "N0rthwind".
    let key = ed25519_dalek::SigningKey::from_bytes(&[0x5Au8; 32]);
    let org_x = OrgKey::from(&key.verifying_key());
    let impostor = Attacker::start(identity_of(&key), in_sync());
    impostor.dial(&addr_a.to_string()).await;
    wait_for("the impostor connected", || async {
        a.node
            .network
            .peers()
            .await
            .expect("peers")
            .iter()
            .any(|p| p.org == Some(org_x))
    })
    .await;
    let card = signed(
        &key,
        "org-card",
        Body::OrgCard(OrgCard {
            name: "N0rthwind".into(),
            summary: String::new(),
            website: None,
            languages: Vec::new(),
        }),
    );
    let request = signed(
        &key,
        "req-impostor-1",
        Body::Request(Request {
            offer_org: org_a,
            offer_id: "talk".into(),
            requester: "mallory".into(),
            requester_name: Some("Mallory".into()),
            goal: "Your contact details".into(),
            preferred_times: String::new(),
            message: String::new(),
            name_to_group: false,
            session: None,
            contribution: None,
            withdraw: None,
            ask: None,
        }),
    );

    // Publish the card (again, until gossip has formed and Contoso holds
    // it), then send the request and read the reply.
    wait_for("Contoso holds the impostor's card", || async {
        impostor.publish(card.clone()).await;
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        a.node.service.known_org_name(&org_x).is_some()
    })
    .await;
    let reply = impostor
        .request(org_a, &addr_a, request)
        .await
        .expect("a reply");
    assert_eq!(reply, DirectReply::Queued);

    // Tomás's inbox, as the JSON API gives it.
    let token = common::api_token(
        a.node.web_addr,
        "tomas@contoso.example",
        common::web::PASSWORD,
    )
    .await;
    let inbox: serde_json::Value = reqwest::Client::new()
        .get(format!("http://{}/api/v1/requests/inbox", a.node.web_addr))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET inbox")
        .json()
        .await
        .expect("json");
    let items = inbox.as_array().expect("a list");
    let item = items
        .iter()
        .find(|i| i["id"] == "req-impostor-1")
        .unwrap_or_else(|| panic!("the request is in the inbox: {inbox}"));
    assert_eq!(item["from_org_name"], "N0rthwind");
    assert_eq!(item["from_org_fingerprint"], org_x.fingerprint());
    assert_ne!(org_x.fingerprint(), org_b.fingerprint());
    assert_eq!(item["from_org_new"], true);
    let warning = item["from_org_lookalike"].as_str().expect("flagged");
    assert!(warning.contains("Northwind"), "{warning}");
    assert!(warning.contains(&org_b.fingerprint()), "{warning}");
}
