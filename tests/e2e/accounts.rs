//! Accounts that behave across restarts (issue 22): a real `skillmesh run`
//! process, killed with SIGKILL and started again on the same data
//! directory, keeps people signed in; API tokens are several per person,
//! named, and a revoked one stops working on the next call.

use std::net::SocketAddr;
use std::path::Path;

use crate::common::*;

fn run(config: &Path) -> Running {
    Running::start_with_env(
        &["run", "--config", config.to_str().expect("utf-8")],
        &[("SKILLMESH_NETWORK_MDNS", "false")],
    )
}

/// `GET path` with the session cookie: the status and the page.
async fn page(web: SocketAddr, cookie: &str, path: &str) -> (u16, String) {
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(format!("http://{web}{path}"))
        .header("cookie", cookie)
        .send()
        .await
        .expect("GET");
    let status = res.status().as_u16();
    (status, res.text().await.expect("body"))
}

/// A JSON API call with a bearer token: the status and the body.
async fn call(web: SocketAddr, token: &str, method: reqwest::Method, path: &str) -> (u16, String) {
    let res = reqwest::Client::new()
        .request(method, format!("http://{web}/api/v1{path}"))
        .bearer_auth(token)
        .json(&serde_json::json!({"name": "second machine"}))
        .send()
        .await
        .expect("API call");
    let status = res.status().as_u16();
    (status, res.text().await.expect("body"))
}

fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF field")
        .to_string()
}

#[tokio::test]
async fn a_killed_node_keeps_people_signed_in_and_a_revoked_token_stops_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = init_org(dir.path(), "Northwind");
    let password = add_user(&config, "ana@northwind.example", false);
    let node = run(&config);
    let signed_in = post_sign_in(node.web, "ana@northwind.example", &password, None).await;
    assert_eq!(signed_in.status().as_u16(), 303);
    let cookie = session_cookie(&signed_in);
    let first = api_token(node.web, "ana@northwind.example", &password).await;
    let (status, made) = call(node.web, &first, reqwest::Method::POST, "/tokens").await;
    assert_eq!(status, 201, "{made}");
    let made: serde_json::Value = serde_json::from_str(&made).expect("JSON");
    let second = made["token"].as_str().expect("token").to_string();
    assert_eq!(made["name"], "second machine");

    // SIGKILL: nothing is flushed on the way out.
    drop(node);
    let node = run(&config);
    let (status, account) = page(node.web, &cookie, "/account").await;
    assert_eq!(status, 200, "still signed in after the restart: {account}");
    assert!(account.contains("ana@northwind.example"), "{account}");
    assert!(account.contains("second machine"), "{account}");

    let (status, listed) = call(node.web, &second, reqwest::Method::GET, "/tokens").await;
    assert_eq!(status, 200, "{listed}");
    let listed: serde_json::Value = serde_json::from_str(&listed).expect("JSON");
    let first_id = listed
        .as_array()
        .expect("a list")
        .iter()
        .find(|t| t["name"] == "API token")
        .and_then(|t| t["id"].as_str())
        .expect("the first token is listed")
        .to_string();
    let (status, body) = call(
        node.web,
        &second,
        reqwest::Method::DELETE,
        &format!("/tokens/{first_id}"),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = call(node.web, &first, reqwest::Method::GET, "/me").await;
    assert_eq!(status, 401, "revoked, refused on the next call: {body}");
    let (status, body) = call(node.web, &second, reqwest::Method::GET, "/me").await;
    assert_eq!(status, 200, "the other token still works: {body}");

    // Signing out everywhere ends the session, and it stays ended after
    // another restart.
    let (_, account) = page(node.web, &cookie, "/account").await;
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(format!("http://{}/account/signout-everywhere", node.web))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={}", csrf_of(&account)))
        .send()
        .await
        .expect("sign out everywhere");
    assert_eq!(res.status().as_u16(), 303);
    drop(node);
    let node = run(&config);
    let (status, _) = page(node.web, &cookie, "/account").await;
    assert_eq!(status, 303, "signed out for good: sent to sign in");
}
