//! The organisation's chat webhook (issue 22), against a real HTTP
//! server the test runs on loopback (`common::chat`): an admin sets the
//! address through the JSON API (a bad one is refused, on the page too,
//! with words that say why), and the channel hears, in order and exactly
//! once, of our own new offers and events and of what waits for approval,
//! never of another organisation's records, while a chat server that
//! fails or is down loses nothing.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use skillmesh_node::store::{Actor, Role};
use skillmesh_protocol::Body;
use skillmesh_protocol::kinds::Event;

use crate::common::chat::ChatSink;
use crate::common::cluster::talk_json;
use crate::common::nodes::{Org, start_org_with, wait_for};
use crate::common::web::{PASSWORD, add};
use crate::common::{api_token, post_sign_in, session_cookie};

const ADMIN: &str = "priya@northwind.example";
const MEMBER: &str = "tomas@northwind.example";

/// A JSON API call; the status and the body.
async fn call(
    org: &Org,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("http://{}/api/v1{path}", org.node.web_addr))
        .bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.expect("API call");
    let status = res.status();
    let text = res.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A call that must succeed; its body.
async fn ok(org: &Org, token: &str, method: Method, path: &str, body: Option<Value>) -> Value {
    let (status, body) = call(org, token, method.clone(), path, body).await;
    assert!(status.is_success(), "{method} {path}: {status} {body}");
    body
}

/// Tomás publishes a talk titled `title` (it waits for approval); its id.
async fn offer_talk(org: &Org, member: &str, title: &str) -> String {
    let created = ok(org, member, Method::POST, "/offers", Some(talk_json(title))).await;
    let id = created["id"].as_str().expect("id").to_string();
    let asked = ok(
        org,
        member,
        Method::POST,
        &format!("/offers/{id}/actions"),
        Some(json!({"action": "publish"})),
    )
    .await;
    assert_eq!(asked["state"], "pending_approval", "{asked}");
    id
}

/// The admin runs an event titled `title` (it waits for approval too); its id.
async fn run_event(org: &Org, admin: &str, title: &str) -> String {
    let now = skillmesh_node::clock::now();
    let event = Body::Event(Event {
        title: title.into(),
        description: "Talks from across the organisation.".into(),
        starts_at: now + 7 * 86_400,
        ends_at: now + 12 * 86_400,
        sessions: Vec::new(),
        languages: vec!["en".into()],
        contributors: Vec::new(),
    });
    let body = serde_json::to_value(&event).expect("event JSON");
    let created = ok(org, admin, Method::POST, "/offers", Some(body)).await;
    let id = created["id"].as_str().expect("id").to_string();
    ok(
        org,
        admin,
        Method::POST,
        &format!("/offers/{id}/actions"),
        Some(json!({"action": "publish"})),
    )
    .await;
    id
}

async fn approve(org: &Org, admin: &str, id: &str) {
    ok(
        org,
        admin,
        Method::POST,
        &format!("/admin/approvals/{id}/approve"),
        None,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_offers_events_and_approvals_reach_the_chat_in_order_once_and_a_down_server_loses_nothing()
 {
    let mut chat = ChatSink::start().await;
    let org = start_org_with("Northwind", |c| c.federation.approval_required = true).await;
    add(&org, ADMIN, "Priya Raman", Role::Admin);
    add(&org, MEMBER, "Tomás Ferreira", Role::Member);
    let web = org.node.web_addr;
    let admin = api_token(web, ADMIN, PASSWORD).await;
    let member = api_token(web, MEMBER, PASSWORD).await;
    let base = format!("http://{web}");
    let us = org.node.service.org().to_hex();

    // A bad address is refused, with words that say why.
    let long = format!("https://chat.example/{}", "a".repeat(2000));
    for (bad, says) in [
        (
            "ftp://chat.example/hook",
            "must start with https:// or http://",
        ),
        ("chat.example/hooks/x", "is not a web address"),
        (
            "mailto:ops@northwind.example",
            "must start with https:// or http://",
        ),
        (long.as_str(), "too long: at most 2000 characters"),
    ] {
        let (status, body) = call(
            &org,
            &admin,
            Method::PUT,
            "/admin/webhook",
            Some(json!({ "url": bad })),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["error"]["code"], "invalid");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{bad}: {message}");
    }
    // Members may neither set it nor see it.
    let (status, _) = call(
        &org,
        &member,
        Method::PUT,
        "/admin/webhook",
        Some(json!({ "url": chat.url() })),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Through the admin page, a bad address comes back with the reason.
    let signed_in = post_sign_in(web, ADMIN, PASSWORD, None).await;
    let cookie = session_cookie(&signed_in);
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let page = browser
        .get(format!("{base}/admin/webhook"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF field")
        .to_string();
    let refused = browser
        .post(format!("{base}/admin/webhook"))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}&url=ftp%3A%2F%2Fchat.example%2Fhook"))
        .send()
        .await
        .expect("post");
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let html = refused.text().await.expect("html");
    assert!(
        html.contains("The webhook address must start with https:// or http://"),
        "{html}"
    );
    assert!(
        html.contains(r#"value="ftp://chat.example/hook""#),
        "{html}"
    );

    // Before an address is set, nothing is kept for the channel.
    let early = offer_talk(&org, &member, "Published before the webhook").await;
    approve(&org, &admin, &early).await;

    let set = ok(
        &org,
        &admin,
        Method::PUT,
        "/admin/webhook",
        Some(json!({ "url": chat.url() })),
    )
    .await;
    assert_eq!(set["url"], chat.url());
    assert_eq!(set["waiting"], 0);
    let audited = ok(
        &org,
        &admin,
        Method::GET,
        "/admin/audit?action=webhook_changed",
        None,
    )
    .await;
    let detail = audited[0]["detail"].as_str().unwrap_or_default();
    assert_eq!(detail, format!("set to http://{}/…", chat.addr.ip()));
    assert!(!detail.contains("secret"), "the path stays out of the log");
    let member_page = reqwest::Client::new()
        .get(format!("{base}/api/v1/admin/webhook"))
        .bearer_auth(&member)
        .send()
        .await
        .expect("GET");
    assert_eq!(member_page.status(), StatusCode::FORBIDDEN);
    assert!(!member_page.text().await.expect("body").contains("secret"));

    // The test message, then: a talk waits, is approved and published; an
    // event likewise; Tomás's listing waits; an edit of the published
    // talk waits again but, approved, is not announced a second time.
    let (status, _) = call(&org, &admin, Method::POST, "/admin/webhook/test", None).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let talk = offer_talk(&org, &member, "On-call without burnout").await;
    approve(&org, &admin, &talk).await;
    let week = run_event(&org, &admin, "Learning week").await;
    approve(&org, &admin, &week).await;
    ok(
        &org,
        &member,
        Method::PUT,
        "/profile",
        Some(json!({"display_name": "Tomás Ferreira", "headline": "SRE",
            "topics": [{"name": "On-call", "level": "expert"}],
            "sharing": {"display_name": true, "headline": true, "topics": true}})),
    )
    .await;
    let mut edited = talk_json("On-call without burnout, second edition");
    edited["body"]["abstract"] = json!("Updated.");
    ok(
        &org,
        &member,
        Method::PUT,
        &format!("/offers/{talk}"),
        Some(edited),
    )
    .await;
    approve(&org, &admin, &talk).await;

    // Another organisation's talk arrives: nothing of it goes to our channel.
    let key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let theirs = skillmesh_protocol::OrgKey::from(&key.verifying_key());
    let mut record =
        skillmesh_protocol::samples::record(theirs, skillmesh_protocol::Kind::TalkOffer);
    record.header.id = "their-talk".into();
    let now = skillmesh_node::clock::now();
    record.header.issued_at = now;
    record.header.expires_at = now + 3600;
    let envelope = skillmesh_protocol::seal(&record, &key).expect("seal");
    org.node
        .service
        .ingest(envelope.as_bytes(), &Actor::person("test"))
        .expect("store")
        .expect("valid");

    let mut expected = vec![
        format!(
            "Test message from Skillmesh at Northwind, sent by {ADMIN}: this channel hears of the organisation's new offers and events and of what waits for approval.\n{base}/admin/webhook"
        ),
        format!(
            "Waiting for approval at Northwind: the talk \"On-call without burnout\" by Tomás Ferreira\n{base}/admin/approvals"
        ),
        format!(
            "New talk from Northwind: \"On-call without burnout\" by Tomás Ferreira\n{base}/listing/{us}/{talk}"
        ),
        format!(
            "Waiting for approval at Northwind: the event \"Learning week\" by Priya Raman\n{base}/admin/approvals"
        ),
        format!("New event from Northwind: \"Learning week\"\n{base}/listing/{us}/{week}"),
        format!(
            "Waiting for approval at Northwind: Tomás Ferreira's expertise listing\n{base}/admin/approvals"
        ),
        format!(
            "Waiting for approval at Northwind: the talk \"On-call without burnout, second edition\" by Tomás Ferreira\n{base}/admin/approvals"
        ),
    ];
    wait_for("the first messages in the channel", || async {
        chat.texts().len() >= expected.len()
    })
    .await;
    // Nothing more comes (the republish, the other organisation's talk).
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(chat.texts(), expected);
    assert!(
        chat.bodies()
            .iter()
            .all(|b| b.as_object().is_some_and(|o| o.len() == 1)),
        "only {{\"text\": ...}}: {:?}",
        chat.bodies()
    );

    // The chat server fails: the next message is kept, and retried.
    chat.answer(500);
    let tries = chat.tries();
    let pairing = offer_talk(&org, &member, "Pairing on postmortems").await;
    wait_for("a refused try", || async { chat.tries() > tries }).await;
    wait_for("the refusal kept with the message", || async {
        let status = ok(&org, &admin, Method::GET, "/admin/webhook", None).await;
        status["last_error"] == "HTTP 500 Internal Server Error"
    })
    .await;
    let status = ok(&org, &admin, Method::GET, "/admin/webhook", None).await;
    assert_eq!(status["waiting"], 1, "{status}");
    assert!(status["next_try_at"].is_i64(), "{status}");
    expected.push(format!(
        "Waiting for approval at Northwind: the talk \"Pairing on postmortems\" by Tomás Ferreira\n{base}/admin/approvals"
    ));

    // Then it is down altogether; more happens meanwhile.
    chat.stop().await;
    approve(&org, &admin, &pairing).await;
    let second = run_event(&org, &admin, "Incident week").await;
    approve(&org, &admin, &second).await;
    expected.push(format!(
        "New talk from Northwind: \"Pairing on postmortems\" by Tomás Ferreira\n{base}/listing/{us}/{pairing}"
    ));
    expected.push(format!(
        "Waiting for approval at Northwind: the event \"Incident week\" by Priya Raman\n{base}/admin/approvals"
    ));
    expected.push(format!(
        "New event from Northwind: \"Incident week\"\n{base}/listing/{us}/{second}"
    ));
    wait_for_long("a try while the server is down", || async {
        let status = ok(&org, &admin, Method::GET, "/admin/webhook", None).await;
        status["last_error"]
            .as_str()
            .is_some_and(|e| e.starts_with("no answer"))
    })
    .await;
    let status = ok(&org, &admin, Method::GET, "/admin/webhook", None).await;
    assert_eq!(status["waiting"], 4, "{status}");
    assert!(
        !status["last_error"]
            .as_str()
            .unwrap_or_default()
            .contains("secret")
    );

    // Back, and taking again: everything arrives, once, in order.
    chat.answer(200);
    chat.resume().await;
    wait_for_long("every kept message", || async {
        chat.texts().len() >= expected.len()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(chat.texts(), expected);
    let status = ok(&org, &admin, Method::GET, "/admin/webhook", None).await;
    assert_eq!(status["waiting"], 0, "{status}");
    assert_eq!(status["last_error"], Value::Null);

    // Cleared: nothing goes to the channel any more.
    ok(
        &org,
        &admin,
        Method::PUT,
        "/admin/webhook",
        Some(json!({ "url": null })),
    )
    .await;
    let quiet = offer_talk(&org, &member, "After the webhook").await;
    approve(&org, &admin, &quiet).await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(chat.texts(), expected);
    org.node.stop().await;
}

/// Like `wait_for`, for up to 90 seconds (retries wait 10 s, then 20 s).
async fn wait_for_long<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    while !check().await {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: not within 90 s"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
