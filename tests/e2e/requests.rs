//! Direct requests between organisations over the network: a person at A
//! requests B's offer, B's person answers, and the signed answer (with
//! contact details only on acceptance) reaches A, also when B was down
//! when A asked. Plus refusals: blocked organisations and full offers.

use crate::common::nodes::*;
use skillmesh_config::FederationMode;
use skillmesh_node::runtime;
use skillmesh_node::service::ServiceError;
use skillmesh_node::store::Actor;
use skillmesh_node::store::{OutboxStatus, Person, Sharing};
use skillmesh_protocol::Body;
use skillmesh_protocol::kinds::OfferStatus;
use skillmesh_protocol::profile::ProfileDetails;

fn person(id: &str, name: &str, email: &str, sharing: Sharing) -> Person {
    Person {
        profile: ProfileDetails {
            headline: "Staff engineer".into(),
            languages: vec!["en".into()],
            time_zone: Some("Europe/Lisbon".into()),
            ..ProfileDetails::default()
        },
        sharing,
        ..Person::new(id, name, email, 0)
    }
}

/// A and B connected; B's Tomás offers mentoring (capacity 2); A's Aisha
/// exists; A holds B's offer.
async fn two_orgs() -> (Org, Org) {
    two_orgs_with(|_| {}, "mentor-k8s", mentoring("Kubernetes in production")).await
}

/// A and B connected (B's config adjusted by `configure_b`); B's Tomás
/// publishes `offer`; A's Aisha exists; A holds B's offer.
async fn two_orgs_with(
    configure_b: impl FnOnce(&mut skillmesh_config::Config),
    offer_id: &str,
    offer: Body,
) -> (Org, Org) {
    let b = start_org_with("B", configure_b).await;
    let addr = p2p_addr(&b).await;
    let a = start_org("A", &[addr], FederationMode::Open).await;
    b.node
        .service
        .add_person(
            &person(
                "tomas",
                "Tomás Ferreira",
                "tomas@b.example",
                Sharing::listing(),
            ),
            &Actor::person("test"),
        )
        .expect("tomas");
    a.node
        .service
        .add_person(
            &person(
                "aisha",
                "Aisha Bello",
                "aisha@a.example",
                Sharing::listing(),
            ),
            &Actor::person("test"),
        )
        .expect("aisha");
    b.node
        .service
        .create_item(offer_id, Some("tomas"), offer, &Actor::person("test"))
        .expect("offer");
    b.node
        .service
        .publish_item(offer_id, &Actor::person("test"))
        .expect("publish");
    let org_b = b.node.service.org();
    wait_for("A holds B's offer", || async {
        held_seq(&a, &org_b, offer_id).is_some()
    })
    .await;
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_queued_answered_and_the_acceptance_brings_contact_details() {
    let (a, b) = two_orgs().await;
    let (org_a, org_b) = (a.node.service.org(), b.node.service.org());
    let sent = a
        .node
        .service
        .request_offer(
            "aisha",
            org_b,
            "mentor-k8s",
            "Run on-call for my team",
            "Tuesdays",
            "Hello!",
            false,
        )
        .expect("request");
    wait_for("queued at B", || async {
        outbox_status(&a, &sent.id) == Some(OutboxStatus::Queued)
    })
    .await;
    let inbox = b.node.service.store_for_tests().inbox().expect("inbox");
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].owner.as_deref(), Some("tomas"));
    assert_eq!(inbox[0].goal, "Run on-call for my team");
    assert_eq!(inbox[0].requester_name.as_deref(), Some("Aisha Bello"));
    assert!(
        a.node
            .service
            .store_for_tests()
            .outbox_entry(&sent.id)
            .expect("get")
            .expect("entry")
            .contact
            .is_none()
    );

    b.node
        .service
        .answer_request(
            org_a,
            &sent.id,
            true,
            "Happy to help",
            &Actor::person("tomas"),
        )
        .expect("accept");
    wait_for("accepted at A", || async {
        outbox_status(&a, &sent.id) == Some(OutboxStatus::Accepted)
    })
    .await;
    let entry = a
        .node
        .service
        .store_for_tests()
        .outbox_entry(&sent.id)
        .expect("get")
        .expect("entry");
    let contact = entry.contact.expect("contact details with the acceptance");
    assert_eq!(contact.email.as_deref(), Some("tomas@b.example"));
    assert_eq!(entry.detail, "Happy to help");
    wait_for("B knows the answer was delivered", || async {
        b.node.service.store_for_tests().inbox().expect("inbox")[0].answer_delivered
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_request_carries_no_contact_details() {
    let (a, b) = two_orgs().await;
    let (org_a, org_b) = (a.node.service.org(), b.node.service.org());
    let sent = a
        .node
        .service
        .request_offer("aisha", org_b, "mentor-k8s", "Learn k8s", "", "", false)
        .expect("request");
    wait_for("queued at B", || async {
        outbox_status(&a, &sent.id) == Some(OutboxStatus::Queued)
    })
    .await;
    b.node
        .service
        .answer_request(
            org_a,
            &sent.id,
            false,
            "Full this quarter",
            &Actor::person("tomas"),
        )
        .expect("decline");
    wait_for("declined at A", || async {
        outbox_status(&a, &sent.id) == Some(OutboxStatus::Declined)
    })
    .await;
    assert!(
        a.node
            .service
            .store_for_tests()
            .outbox_entry(&sent.id)
            .expect("get")
            .expect("entry")
            .contact
            .is_none()
    );
}

/// Refused before anything is signed or sent: an offer that is not open,
/// and an offer of one's own organisation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_open_offers_of_other_organisations_can_be_requested() {
    let mut paused = mentoring("Kubernetes in production");
    assert!(paused.set_offer_status(OfferStatus::Paused));
    let (a, b) = two_orgs_with(|_| {}, "mentor-k8s", paused).await;
    let org_b = b.node.service.org();
    let refused =
        a.node
            .service
            .request_offer("aisha", org_b, "mentor-k8s", "Learn k8s", "", "", false);
    assert!(
        matches!(&refused, Err(ServiceError::Invalid(why)) if why.contains("not taking requests")),
        "{refused:?}"
    );
    let own =
        b.node
            .service
            .request_offer("tomas", org_b, "mentor-k8s", "Learn k8s", "", "", false);
    assert!(
        matches!(&own, Err(ServiceError::Invalid(why)) if why.contains("your own organisation")),
        "{own:?}"
    );
    for org in [&a, &b] {
        assert!(
            org.node
                .service
                .store_for_tests()
                .outbox()
                .expect("outbox")
                .is_empty()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_sent_while_the_offering_node_was_down_arrives_when_it_returns() {
    let (a, b) = two_orgs().await;
    let (org_a, org_b) = (a.node.service.org(), b.node.service.org());
    let Org {
        node,
        config: b_config,
        _dir: b_dir,
    } = b;
    node.stop().await;

    let sent = a
        .node
        .service
        .request_offer("aisha", org_b, "mentor-k8s", "Learn k8s", "", "", false)
        .expect("request");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        outbox_status(&a, &sent.id),
        Some(OutboxStatus::Waiting),
        "B is down"
    );

    // A restarts too while waiting: the request is in its store.
    let Org {
        node,
        config: a_config,
        _dir: a_dir,
    } = a;
    node.stop().await;
    let a = Org {
        node: runtime::start(&a_config).await.expect("A restarts"),
        config: a_config,
        _dir: a_dir,
    };
    let mut b_config = b_config;
    b_config.network.bootstrap = vec![p2p_addr(&a).await];
    let b = Org {
        node: runtime::start(&b_config).await.expect("B restarts"),
        config: b_config,
        _dir: b_dir,
    };

    wait_for("the request reaches B", || async {
        b.node
            .service
            .store_for_tests()
            .inbox_entry(&org_a, &sent.id)
            .expect("inbox")
            .is_some()
    })
    .await;
    wait_for("A sees it queued", || async {
        outbox_status(&a, &sent.id) == Some(OutboxStatus::Queued)
    })
    .await;
    b.node
        .service
        .answer_request(org_a, &sent.id, true, "Yes", &Actor::person("tomas"))
        .expect("accept");
    wait_for("the answer reaches A", || async {
        outbox_status(&a, &sent.id) == Some(OutboxStatus::Accepted)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_offers_and_blocked_organisations_are_refused() {
    let (a, b) = two_orgs().await;
    let (org_a, org_b) = (a.node.service.org(), b.node.service.org());
    // Capacity 2: two acceptances fill it; the third request is refused.
    let mut ids = Vec::new();
    for _ in 0..2 {
        let sent = a
            .node
            .service
            .request_offer("aisha", org_b, "mentor-k8s", "Learn k8s", "", "", false)
            .expect("request");
        wait_for("queued", || async {
            outbox_status(&a, &sent.id) == Some(OutboxStatus::Queued)
        })
        .await;
        ids.push(sent.id);
    }
    for id in &ids {
        b.node
            .service
            .answer_request(org_a, id, true, "Yes", &Actor::person("tomas"))
            .expect("accept");
    }
    let third = a
        .node
        .service
        .request_offer("aisha", org_b, "mentor-k8s", "Learn k8s", "", "", false)
        .expect("request");
    wait_for("refused as full", || async {
        outbox_status(&a, &third.id) == Some(OutboxStatus::Refused)
    })
    .await;
    let entry = a
        .node
        .service
        .store_for_tests()
        .outbox_entry(&third.id)
        .expect("get")
        .expect("entry");
    assert!(entry.detail.contains("no places left"), "{}", entry.detail);

    // Once B blocks A, a request signed by A is refused even if delivered.
    b.node
        .block_org(org_a, &Actor::person("admin"))
        .await
        .expect("block");
    let envelope = hex::decode(&entry.envelope).expect("hex");
    let refused = b
        .node
        .service
        .receive_request(&envelope, org_a)
        .expect("store");
    assert!(refused.is_err());
    assert!(
        b.node
            .service
            .store_for_tests()
            .inbox_entry(&org_a, &third.id)
            .expect("inbox")
            .is_none()
    );
}

/// `name`'s value in `org`'s metrics whose labels contain `labels`.
fn metric(org: &Org, name: &str, labels: &str) -> f64 {
    let text = org.node.service.metrics().render(&[]).expect("metrics");
    crate::common::attacker::metric(&text, name, labels)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_organisations_request_gets_a_signed_refusal_and_its_redials_back_off() {
    let (a, b) = two_orgs().await;
    let (org_a, org_b) = (a.node.service.org(), b.node.service.org());
    b.node
        .block_org(org_a, &Actor::person("admin"))
        .await
        .expect("block");
    // A asks after it was blocked: B lets A's node in for a moment, and
    // answers with a signed decline, so A's request does not wait for ever.
    let sent = a
        .node
        .service
        .request_offer("aisha", org_b, "mentor-k8s", "Learn k8s", "", "", false)
        .expect("request");
    wait_for("declined at A", || async {
        outbox_status(&a, &sent.id) == Some(OutboxStatus::Declined)
    })
    .await;
    let entry = a
        .node
        .service
        .store_for_tests()
        .outbox_entry(&sent.id)
        .expect("get")
        .expect("entry");
    assert!(entry.detail.contains("not accepted"), "{}", entry.detail);
    assert!(entry.contact.is_none());
    assert!(
        b.node
            .service
            .store_for_tests()
            .inbox_entry(&org_a, &sent.id)
            .expect("inbox")
            .is_none()
    );
    // Then A's node is closed and kept away: over the next 20 s it is let
    // in no more (its backoff is a minute) and turned away only a few
    // times, not thousands.
    let let_in = metric(&b, "skillmesh_blocked_connections_total", "door=\"let_in\"");
    assert!(let_in >= 1.0);
    tokio::time::sleep(std::time::Duration::from_secs(20)).await;
    assert_eq!(
        metric(&b, "skillmesh_blocked_connections_total", "door=\"let_in\""),
        let_in
    );
    let closed = metric(&b, "skillmesh_blocked_connections_total", "door=\"closed\"");
    assert!(
        closed <= 5.0,
        "{closed} connections from a blocked node in 20 s"
    );
    assert!(
        !a.node
            .network
            .peers()
            .await
            .expect("peers")
            .iter()
            .any(|p| p.org == Some(org_b))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opted_out_field_never_reaches_another_node() {
    let (a, b) = two_orgs().await;
    let org_b = b.node.service.org();
    // Tomás shares his listing but not his email; Aisha at A must never
    // see the address in anything A stores from B.
    wait_for("A holds Tomás's listing", || async {
        held_seq(&a, &org_b, "listing-tomas").is_some()
    })
    .await;
    let mut only_topics = person(
        "ines",
        "Inês Costa",
        "ines@b.example",
        Sharing {
            topics: true,
            ..Sharing::default()
        },
    );
    only_topics.profile.topics = vec![skillmesh_protocol::kinds::Topic {
        name: "Rust".into(),
        level: skillmesh_protocol::kinds::Level::Expert,
    }];
    b.node
        .service
        .add_person(&only_topics, &Actor::person("test"))
        .expect("ines");
    wait_for("A holds Inês's listing", || async {
        held_seq(&a, &org_b, "listing-ines").is_some()
    })
    .await;
    for row in a
        .node
        .service
        .store_for_tests()
        .records_of(&org_b)
        .expect("records")
    {
        let text = String::from_utf8_lossy(row.envelope.as_bytes()).into_owned();
        assert!(
            !text.contains("@b.example"),
            "an email left B in {}",
            row.id
        );
        assert!(
            !text.contains("Inês Costa"),
            "Inês's name was not shared: {}",
            row.id
        );
        if let Body::Expertise(l) = row.record().expect("parse").body
            && l.person == "ines"
        {
            assert_eq!(l.topics.len(), 1);
            assert!(l.display_name.is_none() && l.time_zone.is_none() && l.languages.is_empty());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_over_the_rate_limit_wait_and_are_not_lost() {
    let (a, b) = two_orgs_with(
        |c| c.federation.requests_per_minute = 1,
        "talk",
        talk_offer("tomas"),
    )
    .await;
    let org_b = b.node.service.org();

    let first = a
        .node
        .service
        .request_offer("aisha", org_b, "talk", "A talk for my team", "", "", false)
        .expect("first");
    let second = a
        .node
        .service
        .request_offer("aisha", org_b, "talk", "Another one", "", "", false)
        .expect("second");
    // One token a minute: whichever the courier delivers first is queued,
    // the other is deferred (and kept), not refused.
    let statuses = || [outbox_status(&a, &first.id), outbox_status(&a, &second.id)];
    wait_for("one of them is queued", || async {
        statuses().contains(&Some(OutboxStatus::Queued))
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    let mut now = statuses();
    now.sort_by_key(|s| format!("{s:?}"));
    assert_eq!(
        now,
        [Some(OutboxStatus::Queued), Some(OutboxStatus::Waiting)]
    );
    assert_eq!(
        b.node
            .service
            .store_for_tests()
            .inbox()
            .expect("inbox")
            .len(),
        1
    );
}

/// A partner that accepts connections and direct messages but never
/// answers them: each delivery to it waits for the 20 s timeout. It
/// speaks the wire protocol with libp2p directly (TCP, Noise, yamux,
/// ping, `/skillmesh/direct/1` with CBOR), not through the node's code.
mod silent {
    use futures::StreamExt;
    use libp2p::request_response::{self, ProtocolSupport};
    use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
    use libp2p::{Multiaddr, StreamProtocol, noise, ping, tcp, yamux};
    use serde::de::IgnoredAny;
    use serde::{Deserialize, Deserializer, Serialize};

    /// Any CBOR item, read and thrown away.
    #[derive(Debug, Serialize)]
    pub struct Anything;

    impl<'de> Deserialize<'de> for Anything {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            IgnoredAny::deserialize(d)?;
            Ok(Anything)
        }
    }

    #[derive(NetworkBehaviour)]
    pub struct Behaviour {
        direct: request_response::cbor::Behaviour<Anything, Anything>,
        ping: ping::Behaviour,
    }

    /// Starts the silent node with the key from `seed`; returns its address.
    pub async fn start(seed: [u8; 32]) -> (Multiaddr, tokio::task::JoinHandle<()>) {
        let mut secret = seed;
        let key = libp2p::identity::Keypair::ed25519_from_bytes(&mut secret).expect("key");
        let mut swarm = libp2p::SwarmBuilder::with_existing_identity(key)
            .with_tokio()
            .with_tcp(
                tcp::Config::default(),
                noise::Config::new,
                yamux::Config::default,
            )
            .expect("tcp")
            .with_behaviour(|_| Behaviour {
                direct: request_response::cbor::Behaviour::new(
                    [(
                        StreamProtocol::new("/skillmesh/direct/1"),
                        ProtocolSupport::Full,
                    )],
                    request_response::Config::default(),
                ),
                ping: ping::Behaviour::default(),
            })
            .expect("behaviour")
            .with_swarm_config(|c| {
                c.with_idle_connection_timeout(std::time::Duration::from_secs(600))
            })
            .build();
        swarm
            .listen_on("/ip4/127.0.0.1/tcp/0".parse().expect("addr"))
            .expect("listen");
        let addr = loop {
            if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
                break address;
            }
        };
        let task = tokio::spawn(async move {
            // Requests are held, never answered.
            let mut held = Vec::new();
            loop {
                if let SwarmEvent::Behaviour(BehaviourEvent::Direct(
                    request_response::Event::Message {
                        message: request_response::Message::Request { channel, .. },
                        ..
                    },
                )) = swarm.select_next_some().await
                {
                    held.push(channel);
                }
            }
        });
        (addr, task)
    }
}

/// Deliveries to one partner do not wait for another: while a request to
/// a partner that never answers hangs (20 s a try), a request to another
/// partner is delivered at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_partner_does_not_hold_up_deliveries_to_the_others() {
    let (a, b) = two_orgs_with(|_| {}, "talk", talk_offer("tomas")).await;
    let org_b = b.node.service.org();
    let seed = [42u8; 32];
    let (silent_addr, silent) = silent::start(seed).await;
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    let org_s = skillmesh_protocol::OrgKey::from(&key.verifying_key());
    // A holds the silent partner's talk, as if it had arrived by gossip.
    let mut record =
        skillmesh_protocol::samples::record(org_s, skillmesh_protocol::Kind::TalkOffer);
    record.header.id = "silent-talk".into();
    let now = skillmesh_node::clock::now();
    record.header.issued_at = now;
    record.header.expires_at = now + 3600;
    let envelope = skillmesh_protocol::seal(&record, &key).expect("seal");
    a.node
        .service
        .ingest(envelope.as_bytes(), &Actor::person("test"))
        .expect("store")
        .expect("valid");
    a.node.network.dial(silent_addr).await.expect("dial");

    let to_silent = a
        .node
        .service
        .request_offer("aisha", org_s, "silent-talk", "Teach us", "", "", false)
        .expect("request to the silent partner");
    // Its delivery is under way (and hanging) before the next is signed.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let to_b = a
        .node
        .service
        .request_offer("aisha", org_b, "talk", "A talk for my team", "", "", false)
        .expect("request to B");
    let started = std::time::Instant::now();
    wait_for("the request to B is delivered", || async {
        outbox_status(&a, &to_b.id) == Some(OutboxStatus::Queued)
    })
    .await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "B's request waited {:?}",
        started.elapsed()
    );
    assert_eq!(
        outbox_status(&a, &to_silent.id),
        Some(OutboxStatus::Waiting),
        "the silent partner never acknowledged"
    );
    silent.abort();
}
