//! Tests of the web API over a real service and a real store in a temp
//! dir, one module per area; the helpers they share are here.

// Sets up and inspects data through the store, as only tests may.
#![allow(clippy::disallowed_methods)]

mod asking;
mod goals;
mod kept_inside;
mod offers;
mod questions;
mod searching;
mod steering;
mod users;

use std::sync::Arc;

use ed25519_dalek::SigningKey;
use skillmesh_protocol::kinds::{
    Audience, Availability, AvailabilityStatus, Delivery, Expertise, Format, Level, SessionFormat,
    TalkOffer, TalkSession, Topic,
};
use skillmesh_protocol::samples;
use skillmesh_protocol::{Header, RECORD_VERSION, Record};

use super::*;
use crate::identity::OrgIdentity;
use crate::policy::Admission;
use crate::service::{InboundSettings, Ingested};
use crate::store::Store;

const PASSWORD: &str = "a long enough password";

fn open_service(dir: &std::path::Path, key: &SigningKey, inbound: InboundSettings) -> Service {
    let store = Arc::new(Store::open(&dir.join("store")).expect("store"));
    let identity = OrgIdentity::from_signing_key(key.clone());
    let service = Service::new("Northwind".into(), identity, store, inbound).expect("service");
    service.ensure_org_card().expect("card");
    service
}

/// A node with two members, Ana and Bob, and no network.
struct Node {
    _dir: tempfile::TempDir,
    api: WebState,
    ana: User,
    bob: User,
}

fn node_with(inbound: InboundSettings) -> Node {
    let dir = tempfile::tempdir().expect("tempdir");
    let service = open_service(dir.path(), &SigningKey::from_bytes(&[1; 32]), inbound);
    let mut users = ["ana@northwind.example", "bob@northwind.example"].map(|email| {
        let account = accounts::add_user(
            service.store_for_tests(),
            email,
            &email[..3].to_uppercase(),
            store::Role::Member,
            PASSWORD,
            &Actor::person("test"),
        )
        .expect("user");
        views::web_user(&service, &account).expect("web user")
    });
    let bob = users[1].clone();
    let ana = std::mem::replace(&mut users[0], bob.clone());
    Node {
        _dir: dir,
        api: WebState::new(service, NetworkHandle::detached()),
        ana,
        bob,
    }
}

fn node() -> Node {
    node_with(InboundSettings::default())
}

/// A node whose privacy floor (`privacy.min_group_size`) is `floor`.
fn node_with_floor(floor: u32) -> Node {
    node_with(InboundSettings {
        min_group_size: floor,
        ..InboundSettings::default()
    })
}

/// One more member of `n`, `name@northwind.example`.
fn member(n: &Node, name: &str) -> User {
    let service = n.api.service();
    let account = accounts::add_user(
        service.store_for_tests(),
        &format!("{name}@northwind.example"),
        name,
        store::Role::Member,
        PASSWORD,
        &Actor::person("test"),
    )
    .expect("user");
    views::web_user(service, &account).expect("web user")
}

fn talk(title: &str, minutes: u16) -> Body {
    Body::TalkOffer(TalkOffer {
        person: "someone-else".into(),
        speaker_name: Some("Not me".into()),
        title: title.into(),
        summary: "What we learnt.".into(),
        session: TalkSession {
            topics: vec!["Kubernetes".into()],
            format: SessionFormat::Talk,
            audience: Audience::Everyone,
            duration_minutes: minutes,
            languages: vec!["en".into()],
            delivery: Delivery::Remote,
        },
        status: OfferStatus::Open,
    })
}

/// An organisation that signed nothing here.
fn theirs_other() -> OrgKey {
    OrgKey::from(&other(8).verifying_key())
}

/// Ana's talk "On-call", saved and published; its id.
async fn anas_published_talk(n: &Node) -> String {
    let id = n
        .api
        .save_offer(&n.ana, None, talk("On-call", 45))
        .await
        .expect("save")
        .id;
    n.api
        .offer_action(&n.ana, &id, OfferAction::Publish)
        .await
        .expect("publish");
    id
}

/// Zoe's request, signed by `key`'s organisation, for our offer
/// `offer_id` (with `ask`: a question for the person of our listing
/// `offer_id`).
fn zoe_request(
    svc: &Service,
    key: &SigningKey,
    request_id: &str,
    offer_id: &str,
    ask: Option<skillmesh_protocol::kinds::AskFormat>,
) -> Vec<u8> {
    envelope(
        key,
        request_id,
        1,
        Body::Request(skillmesh_protocol::kinds::Request {
            offer_org: svc.org(),
            offer_id: offer_id.into(),
            requester: "zoe".into(),
            requester_name: Some("Zoe".into()),
            goal: "Run a calmer on-call.".into(),
            preferred_times: String::new(),
            message: String::new(),
            name_to_group: false,
            session: None,
            contribution: None,
            withdraw: None,
            ask,
        }),
    )
}

/// Zoe, at `key`'s organisation, asks for our offer `offer_id`; the
/// request is taken into the inbox.
fn zoe_asks(svc: &Service, key: &SigningKey, request_id: &str, offer_id: &str) {
    let request = zoe_request(svc, key, request_id, offer_id, None);
    svc.receive_request(&request, OrgKey::from(&key.verifying_key()))
        .expect("receive")
        .expect("accepted");
}

/// Another organisation's key.
fn other(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

/// A record of `key`'s organisation, signed now.
fn envelope(key: &SigningKey, id: &str, seq: u64, body: Body) -> Vec<u8> {
    let now = clock::now();
    let record = Record {
        header: Header {
            version: RECORD_VERSION,
            org: OrgKey::from(&key.verifying_key()),
            id: id.into(),
            seq,
            issued_at: now - 10,
            expires_at: now + 86_400,
        },
        body,
    };
    skillmesh_protocol::seal(&record, key)
        .expect("seal")
        .into_bytes()
}

fn ingest(service: &Service, bytes: &[u8]) -> Result<Ingested, skillmesh_protocol::Rejection> {
    service
        .ingest(bytes, &Actor::person("peer"))
        .expect("ingest")
}

/// Another organisation (`n`) with a card named `name` and a talk, a
/// mentoring offer and a content item.
fn federate(service: &Service, n: u8, name: &str) -> OrgKey {
    let key = other(n);
    let mut card = samples::body(Kind::OrgCard);
    if let Body::OrgCard(c) = &mut card {
        c.name = name.into();
    }
    for (id, body) in [
        ("org-card", card),
        ("talk-1", samples::body(Kind::TalkOffer)),
        ("mentoring-1", samples::body(Kind::MentoringOffer)),
        ("content-1", samples::body(Kind::Content)),
    ] {
        let outcome = ingest(service, &envelope(&key, id, 1, body));
        assert!(
            matches!(outcome, Ok(Ingested::Stored { .. })),
            "{outcome:?}"
        );
    }
    OrgKey::from(&key.verifying_key())
}
