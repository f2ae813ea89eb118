//! Who is who: a fresh key publishes an organisation card named like a
//! known partner ("N0rthwind" for "Northwind") over gossip and sends a
//! request. The offering person's inbox (JSON API) flags it with the
//! partner's name and fingerprint, shows its own, different fingerprint,
//! and marks it new. The attacker speaks the wire protocol with its own
//! libp2p swarm (gossipsub on `skillmesh/records/1`, strict signing;
//! `/skillmesh/direct/1` with CBOR), the shapes written out below from
//! docs/PROTOCOL.md.

mod common;

use std::time::Duration;

use common::nodes::*;
use futures::StreamExt;
use libp2p::gossipsub::{self, IdentTopic, MessageAuthenticity, ValidationMode};
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, StreamProtocol, noise, ping, tcp, yamux};
use serde::{Deserialize, Serialize};
use skillmesh_config::FederationMode;
use skillmesh_node::store::Role;
use skillmesh_protocol::kinds::{OrgCard, Request};
use skillmesh_protocol::{Body, Header, OrgKey, RECORD_VERSION, Record};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum DirectMessage {
    Request {
        #[serde(with = "serde_bytes_like")]
        envelope: Vec<u8>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum DirectReply {
    Queued,
    Received,
    Refused { reason: String },
    TryLater { reason: String },
}

/// A `Vec<u8>` as a CBOR byte string.
mod serde_bytes_like {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
        }
        d.deserialize_bytes(V)
    }
}

#[derive(NetworkBehaviour)]
struct Impostor {
    gossipsub: gossipsub::Behaviour,
    direct: request_response::cbor::Behaviour<DirectMessage, DirectReply>,
    ping: ping::Behaviour,
}

fn signed(key: &ed25519_dalek::SigningKey, id: &str, body: Body) -> Vec<u8> {
    let now = skillmesh_node::clock::now();
    let record = Record {
        header: Header {
            version: RECORD_VERSION,
            org: OrgKey::from(&key.verifying_key()),
            id: id.into(),
            seq: 1,
            issued_at: now,
            expires_at: now + 3600,
        },
        body,
    };
    skillmesh_protocol::seal(&record, key)
        .expect("seal")
        .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_named_like_a_partner_is_flagged_in_the_inbox() {
    let a = start_org_with("Contoso", |_| {}).await;
    let addr_a: Multiaddr = p2p_addr(&a).await.parse().expect("addr");
    let org_a = a.node.service.org();
    common::web::add(&a, "tomas@contoso.example", "Tomás Ferreira", Role::Member);
    let tomas = a
        .node
        .service
        .store()
        .account("tomas@contoso.example")
        .expect("account")
        .and_then(|acc| acc.person_id)
        .expect("person");
    publish_to(&a, "talk", Some(&tomas), talk_offer(&tomas), &[]).await;

    // The real Northwind, a partner of Contoso.
    let b = start_org("Northwind", &[addr_a.to_string()], FederationMode::Open).await;
    let org_b = b.node.service.org();
    a.node.accept_join(org_b, "admin").await.expect("allow");
    wait_for("Contoso knows Northwind's card", || async {
        a.node.service.known_org_name(&org_b).as_deref() == Some("Northwind")
    })
    .await;

    // The impostor: a fresh key calling itself "N0rthwind".
    let key = ed25519_dalek::SigningKey::from_bytes(&[0x5Au8; 32]);
    let org_x = OrgKey::from(&key.verifying_key());
    let mut secret = key.to_bytes();
    let identity = libp2p::identity::Keypair::ed25519_from_bytes(&mut secret).expect("key");
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(identity.clone())
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )
        .expect("tcp")
        .with_behaviour(|_| Impostor {
            gossipsub: gossipsub::Behaviour::new(
                MessageAuthenticity::Signed(identity.clone()),
                gossipsub::ConfigBuilder::default()
                    .validation_mode(ValidationMode::Strict)
                    .build()
                    .expect("gossip config"),
            )
            .expect("gossipsub"),
            direct: request_response::cbor::Behaviour::new(
                [(
                    StreamProtocol::new("/skillmesh/direct/1"),
                    ProtocolSupport::Outbound,
                )],
                request_response::Config::default(),
            ),
            ping: ping::Behaviour::default(),
        })
        .expect("behaviour")
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(120)))
        .build();
    let topic = IdentTopic::new("skillmesh/records/1");
    swarm
        .behaviour_mut()
        .gossipsub
        .subscribe(&topic)
        .expect("subscribe");
    swarm.dial(addr_a.clone()).expect("dial");
    let peer_a = skillmesh_node::network::identity::peer_id(&org_a).expect("peer id");
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
        }),
    );

    // Publish the card once Contoso's node is subscribed, send the
    // request once it holds the card, and read the reply.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut published = false;
    let mut sent = false;
    let reply = loop {
        let tick = tokio::time::sleep(Duration::from_millis(100));
        tokio::select! {
            event = swarm.select_next_some() => match event {
                SwarmEvent::Behaviour(ImpostorEvent::Gossipsub(gossipsub::Event::Subscribed { peer_id, .. }))
                    if peer_id == peer_a && !published =>
                {
                    swarm
                        .behaviour_mut()
                        .gossipsub
                        .publish(topic.clone(), card.clone())
                        .expect("publish the card");
                    published = true;
                }
                SwarmEvent::Behaviour(ImpostorEvent::Direct(request_response::Event::Message {
                    message: request_response::Message::Response { response, .. },
                    ..
                })) => break response,
                _ => {}
            },
            _ = tick => {}
        }
        if published && !sent && a.node.service.known_org_name(&org_x).is_some() {
            swarm.behaviour_mut().direct.send_request(
                &peer_a,
                DirectMessage::Request {
                    envelope: request.clone(),
                },
            );
            sent = true;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "published {published}, sent {sent}"
        );
    };
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

fn talk_offer(person: &str) -> Body {
    Body::TalkOffer(skillmesh_protocol::kinds::TalkOffer {
        person: person.into(),
        speaker_name: Some("Tomás Ferreira".into()),
        title: "On-call without burnout".into(),
        summary: String::new(),
        topics: vec!["On-call".into()],
        format: skillmesh_protocol::kinds::SessionFormat::Talk,
        audience: skillmesh_protocol::kinds::Audience::Everyone,
        duration_minutes: 45,
        languages: vec!["en".into()],
        delivery: skillmesh_protocol::kinds::Delivery::Remote,
        status: skillmesh_protocol::kinds::OfferStatus::Open,
    })
}
