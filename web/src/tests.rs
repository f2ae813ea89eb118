//! Router tests against the in-memory [`Fake`](crate::fake::Fake): auth,
//! roles, CSRF, escaping, error shapes, and the OpenAPI document.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use serde_json::Value;
use tower::ServiceExt;

use crate::fake::{self, ADMIN, ADMIN_TOKEN, Fake, HOSTILE, MEMBER, MEMBER_TOKEN};
use crate::{WebOptions, app};

/// A browser-like client: keeps cookies, reads CSRF tokens from pages.
struct Client {
    app: Router,
    cookies: Vec<(String, String)>,
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The value of the first hidden `csrf` field.
    fn csrf(&self) -> String {
        let at = self
            .body
            .find(r#"name="csrf" value=""#)
            .expect("a csrf field");
        let rest = &self.body[at + r#"name="csrf" value=""#.len()..];
        rest[..rest.find('"').expect("end")].to_string()
    }
}

impl Client {
    fn new() -> Client {
        Client::with(WebOptions::default())
    }

    fn with(options: WebOptions) -> Client {
        Client {
            app: app(Fake::default(), options),
            cookies: Vec::new(),
        }
    }

    async fn send(&mut self, req: Request<Body>) -> Reply {
        let mut req = req;
        if !self.cookies.is_empty() {
            let c: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req.headers_mut()
                .insert(header::COOKIE, c.join("; ").parse().expect("cookie"));
        }
        let res: Response<Body> = self.app.clone().oneshot(req).await.expect("response");
        for v in res.headers().get_all(header::SET_COOKIE) {
            let v = v.to_str().expect("ascii");
            let pair = v.split(';').next().expect("pair");
            let (k, val) = pair.split_once('=').expect("k=v");
            self.cookies.retain(|(n, _)| n != k);
            if !val.is_empty() {
                self.cookies.push((k.to_string(), val.to_string()));
            }
        }
        let status = res.status();
        let headers = res.headers().clone();
        let body = axum::body::to_bytes(res.into_body(), 1 << 22)
            .await
            .expect("body");
        Reply {
            status,
            headers,
            body: String::from_utf8(body.to_vec()).expect("utf-8"),
        }
    }

    async fn get(&mut self, path: &str) -> Reply {
        self.send(Request::get(path).body(Body::empty()).expect("req"))
            .await
    }

    async fn post_form(&mut self, path: &str, pairs: &[(&str, &str)]) -> Reply {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        self.send(
            Request::post(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .expect("req"),
        )
        .await
    }

    async fn api(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let body = match body {
            Some(v) => {
                b = b.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.send(b.body(body).expect("req")).await
    }

    /// Signs in through the form, as a browser would; returns the session's
    /// CSRF token.
    async fn sign_in(&mut self, (user, password): (&str, &str)) -> String {
        let form = self.get("/signin").await;
        assert_eq!(form.status, StatusCode::OK);
        let csrf = form.csrf();
        let r = self
            .post_form(
                "/signin",
                &[
                    ("csrf", &csrf),
                    ("username", user),
                    ("password", password),
                    ("next", "/profile"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location(), "/profile");
        self.get("/profile").await.csrf()
    }
}

#[tokio::test]
async fn healthz_is_json_with_security_headers() {
    let mut c = Client::new();
    let r = c.get("/healthz").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["peers"], 2);
    let csp = r.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("csp");
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert_eq!(r.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(r.headers[header::X_FRAME_OPTIONS], "DENY");
}

#[tokio::test]
async fn pages_need_sign_in_and_the_api_answers_401() {
    let mut c = Client::new();
    for page in [
        "/find?q=x",
        "/profile",
        "/offers",
        "/requests",
        "/admin",
        "/admin/audit",
    ] {
        let r = c.get(page).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{page}");
        assert!(
            r.location().starts_with("/signin?next=%2F"),
            "{page}: {}",
            r.location()
        );
    }
    for path in [
        "/api/v1/me",
        "/api/v1/search?q=x",
        "/api/v1/admin/federation",
    ] {
        let r = c.api("GET", path, None, None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(r.json()["error"]["code"], "unauthorized");
    }
    let r = c.api("GET", "/api/v1/me", Some("wrong"), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // The start page is public and names the organisation, escaped.
    let home = c.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Northwind &lt;b&gt;Labs&lt;/b&gt;"));
}

#[tokio::test]
async fn signing_in_sets_a_safe_cookie_and_signing_out_ends_the_session() {
    let mut c = Client::with(WebOptions {
        public_url: Some("https://learning.northwind.example".into()),
        instance: "ab12".into(),
        ..WebOptions::default()
    });
    let form = c.get("/signin").await;
    let csrf = form.csrf();
    let r = c
        .post_form(
            "/signin",
            &[
                ("csrf", &csrf),
                ("username", MEMBER.0),
                ("password", MEMBER.1),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let set: Vec<_> = r
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().expect("s").to_string())
        .collect();
    let session = set
        .iter()
        .find(|c| c.starts_with("skillmesh_session_ab12="))
        .expect("session cookie");
    for flag in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(session.contains(flag), "{session}");
    }
    let profile = c.get("/profile").await;
    assert_eq!(profile.status, StatusCode::OK);
    assert!(profile.body.contains("Signed in as"));
    assert!(profile.body.contains("Tomás Silva"));
    // The credit for what the person has given.
    assert!(
        profile.body.contains("<dt>People helped</dt><dd>3</dd>"),
        "{}",
        profile.body
    );
    assert!(
        profile.body.contains("<dd>7 (5.5 hours)</dd>"),
        "{}",
        profile.body
    );
    let csrf = profile.csrf();
    let out = c.post_form("/signout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(c.get("/profile").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_attempts_are_rate_limited() {
    let mut c = Client::new();
    for _ in 0..5 {
        let csrf = c.get("/signin").await.csrf();
        let r = c
            .post_form(
                "/signin",
                &[
                    ("csrf", &csrf),
                    ("username", MEMBER.0),
                    ("password", "wrong"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.body.contains("Wrong email or password."));
    }
    let csrf = c.get("/signin").await.csrf();
    let r = c
        .post_form(
            "/signin",
            &[
                ("csrf", &csrf),
                ("username", MEMBER.0),
                ("password", MEMBER.1),
            ],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    assert!(r.body.contains("Too many failed sign-in attempts"));
}

#[tokio::test]
async fn a_sign_in_form_without_its_token_is_refused() {
    let mut c = Client::new();
    let r = c
        .post_form(
            "/signin",
            &[
                ("csrf", "forged"),
                ("username", MEMBER.0),
                ("password", MEMBER.1),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        !c.cookies
            .iter()
            .any(|(k, _)| k.starts_with("skillmesh_session"))
    );
}

#[tokio::test]
async fn the_admin_page_shows_how_partners_reach_this_node() {
    let mut c = Client::new();
    c.sign_in(ADMIN).await;
    let page = c.get("/admin").await;
    assert_eq!(page.status, StatusCode::OK);
    for shown in [
        "0000 0000 0000 0000",
        "12D3KooWtest",
        "/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWtest",
    ] {
        assert!(page.body.contains(shown), "{shown} in {}", page.body);
    }
    // A healthy node shows no problems.
    assert!(!page.body.contains("id=\"problems\""));
}

#[tokio::test]
async fn the_admin_page_filters_organisations_by_name_or_key() {
    let mut c = Client::new();
    c.sign_in(ADMIN).await;
    let all = c.get("/admin").await;
    assert_eq!(all.status, StatusCode::OK);
    assert!(all.body.contains("1 organisation<"), "{}", all.body);
    let key = fake::remote_org().to_hex();
    let by_key = c.get(&format!("/admin?q={}", &key[..8])).await;
    assert!(by_key.body.contains("1 organisation, 1 matching"));
    assert!(by_key.body.contains(&format!("<tr data-org=\"{key}\"")));
    let none = c.get("/admin?q=nobody&page=7").await;
    assert_eq!(none.status, StatusCode::OK);
    assert!(none.body.contains("1 organisation, 0 matching"));
    assert!(!none.body.contains(&format!("data-org=\"{key}\"")));
    assert!(
        none.body.contains(r#"value="nobody""#),
        "the filter keeps its text"
    );
}

#[tokio::test]
async fn the_admin_page_describes_each_mode_and_what_switching_keeps() {
    let mut c = Client::new();
    let csrf = c.sign_in(ADMIN).await;
    let page = c.get("/admin").await;
    // Three different descriptions; open and blocklist say they are the same.
    let labels: Vec<&str> = page
        .body
        .split("name=\"mode\"")
        .skip(1)
        .map(|s| s.split("</label>").next().unwrap_or_default())
        .collect();
    assert_eq!(labels.len(), 3, "{}", page.body);
    assert!(labels[0] != labels[2] && labels[0] != labels[1]);
    assert!(labels[0].contains("the same as blocklist"));
    assert!(labels[2].contains("the same as open"));
    // Before the switch: how many partners it keeps.
    assert!(
        page.body.contains("1 current partner stays allowed"),
        "{}",
        page.body
    );
    // Policy refusals, with organisation, reason and count.
    assert!(page.body.contains("id=\"policy-refusals\""));
    assert!(page.body.contains("over its record quota"));
    // After the switch: what it kept.
    let r = c
        .post_form("/admin/mode", &[("csrf", &csrf), ("mode", "allowlist")])
        .await;
    let after = c.get(r.location()).await;
    assert!(
        after
            .body
            .contains("1 current partner stays allowed</strong> after the switch"),
        "{}",
        after.body
    );
    // Block asks first: a page that says what blocking does, with the
    // button that does it and a way back; nothing is blocked yet.
    let key = fake::remote_org().to_hex();
    let confirm = c
        .post_form(
            &format!("/admin/orgs/{key}"),
            &[("csrf", &csrf), ("action", "block")],
        )
        .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert!(
        confirm
            .body
            .contains("refuses its records and requests and drops what it sent"),
        "{}",
        confirm.body
    );
    assert!(
        confirm
            .body
            .contains(r#"name="action" value="block-confirmed""#)
    );
    assert!(confirm.body.contains(r#"id="confirm-block""#));
    assert!(
        confirm
            .body
            .contains(r#"<a id="cancel" href="/admin">Cancel</a>"#)
    );
    // The organisation's name is text, not markup.
    assert!(!confirm.body.contains("<script>alert"));
    assert!(!c.get("/admin").await.body.contains(">Unblock</button>"));
    // A blocked organisation has an Unblock button, not "Clear".
    let r = c
        .post_form(
            &format!("/admin/orgs/{key}"),
            &[("csrf", &confirm.csrf()), ("action", "block-confirmed")],
        )
        .await;
    assert_eq!(r.location(), "/admin?notice=org");
    let blocked = c.get("/admin").await;
    assert!(
        blocked.body.contains(">Unblock</button>"),
        "{}",
        blocked.body
    );
    assert!(!blocked.body.contains(">Clear</button>"));
}

#[tokio::test]
async fn forms_without_the_session_csrf_token_are_refused() {
    let mut c = Client::new();
    let csrf = c.sign_in(ADMIN).await;
    let r = c.post_form("/admin/mode", &[("mode", "allowlist")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.body
            .contains("This form has expired or did not come from this site")
    );
    let r = c
        .post_form(
            "/admin/mode",
            &[("csrf", "0".repeat(64).as_str()), ("mode", "allowlist")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = c
        .post_form("/admin/mode", &[("csrf", &csrf), ("mode", "allowlist")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/admin?kept=1&notice=mode");
    // API calls with the cookie need the header; with a token they do not.
    let r = c
        .api(
            "PUT",
            "/api/v1/admin/federation/mode",
            None,
            Some(serde_json::json!({"mode": "open"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json()["error"]["code"], "forbidden");
    let r = c
        .send(
            Request::put("/api/v1/admin/federation/mode")
                .header(header::CONTENT_TYPE, "application/json")
                .header("x-csrf-token", &csrf)
                .body(Body::from(r#"{"mode":"open"}"#))
                .expect("req"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["partners_kept"], 0);
    // Reading with the cookie needs no header.
    assert_eq!(
        c.api("GET", "/api/v1/me", None, None).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn members_are_refused_admin_pages_and_admin_api() {
    let mut c = Client::new();
    let csrf = c.sign_in(MEMBER).await;
    for page in [
        "/admin",
        "/admin/approvals",
        "/admin/policy",
        "/admin/audit",
        "/admin/users",
        "/admin/webhook",
    ] {
        let r = c.get(page).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{page}");
        assert!(
            r.body
                .contains("This page is for the organisation&#39;s admins.")
                || r.body
                    .contains("This page is for the organisation's admins."),
            "{}",
            r.body
        );
    }
    let r = c
        .post_form("/admin/mode", &[("csrf", &csrf), ("mode", "allowlist")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        !c.get("/profile").await.body.contains(r#"href="/admin""#),
        "no admin link for members"
    );
    for (method, path) in [
        ("GET", "/api/v1/admin/federation"),
        ("GET", "/api/v1/admin/audit"),
        ("GET", "/api/v1/admin/users"),
        ("POST", "/api/v1/admin/approvals/x/approve"),
        ("GET", "/api/v1/admin/webhook"),
        ("POST", "/api/v1/admin/webhook/test"),
    ] {
        let r = c.api(method, path, Some(MEMBER_TOKEN), None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(r.json()["error"]["code"], "forbidden");
    }
    let r = c
        .api("GET", "/api/v1/admin/federation", Some(ADMIN_TOKEN), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn markup_from_another_organisation_renders_as_inert_text() {
    let mut c = Client::new();
    c.sign_in(ADMIN).await;
    let org = fake::remote_org().to_hex();
    for page in [
        "/find?q=x".to_string(),
        format!("/listing/{org}/offer-1"),
        "/admin".to_string(),
        "/admin/audit".to_string(),
        "/requests".to_string(),
    ] {
        let r = c.get(&page).await;
        assert_eq!(r.status, StatusCode::OK, "{page}");
        assert!(
            !r.body.contains("<script>alert"),
            "{page} has a live script"
        );
        assert!(
            !r.body.contains(r#"" onmouseover="alert"#),
            "{page} has a live attribute"
        );
        assert!(
            r.body
                .contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot; onmouseover=&quot;alert(2)"),
            "{page} lost the text: {}",
            r.body
        );
    }
    let listing = c.get(&format!("/listing/{org}/offer-1")).await;
    assert!(listing.body.contains("signature checked"));
    assert!(listing.body.contains("id=\"request-form\""));
    // A cohort's roster: a name where the member allowed it, else only
    // their organisation.
    let requests = c.get("/requests").await;
    assert!(requests.body.contains("Members (2)"), "{}", requests.body);
    assert!(requests.body.contains("Ines Duarte · Contoso"));
    assert!(requests.body.contains("A member from Contoso"));
    // The signed-in name is escaped in the page shell too.
    assert!(listing.body.contains("Priya &lt;i&gt;Raman&lt;/i&gt;"));
    assert!(!HOSTILE.is_empty());
}

#[tokio::test]
async fn every_page_that_names_another_organisation_shows_its_key_fingerprint() {
    let mut c = Client::new();
    c.sign_in(ADMIN).await;
    let org = fake::remote_org();
    let fingerprint = format!(
        r#"<code class="fingerprint" title="The organisation's key fingerprint">{}</code>"#,
        org.fingerprint()
    );
    // What each page names: search hits; a listing; recommendations and
    // learning paths; kudos; a cohort's roster and a request's offer; the
    // admin's refusals and quota notices; partners' impact summaries.
    for (page, at_least) in [
        ("/find?q=x".to_string(), 1),
        (format!("/listing/{}/offer-1", org.to_hex()), 1),
        ("/".to_string(), 2),
        ("/profile".to_string(), 1),
        ("/requests".to_string(), 3),
        ("/admin".to_string(), 2),
        ("/admin/impact".to_string(), 1),
    ] {
        let r = c.get(&page).await;
        assert_eq!(r.status, StatusCode::OK, "{page}");
        let shown = r.body.matches(&fingerprint).count();
        assert!(
            shown >= at_least,
            "{page} shows the fingerprint {shown} times, not {at_least}: {}",
            r.body
        );
    }
}

#[tokio::test]
async fn errors_are_sentences_on_pages_and_json_with_codes_in_the_api() {
    let mut c = Client::new();
    c.sign_in(MEMBER).await;
    let r = c.get("/listing/zz/offer-1").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("There is no such organisation."));
    assert!(r.body.contains("<h1>Not found</h1>"));
    let r = c.get("/no/such/page").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("There is no page at this address."));

    let r = c
        .api("GET", "/api/v1/no-such-thing", Some(MEMBER_TOKEN), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["error"]["code"], "not_found");
    let r = c
        .api("GET", "/api/v1/listings/nothex/x", Some(MEMBER_TOKEN), None)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["code"], "invalid");
    let r = c
        .api(
            "POST",
            "/api/v1/requests",
            Some(MEMBER_TOKEN),
            Some(serde_json::json!({"offer_org": "x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["code"], "invalid");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .expect("message")
            .contains("offer_org")
    );
    let r = c
        .api(
            "PUT",
            "/api/v1/profile",
            Some(MEMBER_TOKEN),
            Some(serde_json::json!({"display_name": ""})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["message"], "A name is needed.");
    // The profile's fields stand in the body as they always did, and a
    // field the API does not know is still refused.
    let r = c
        .api(
            "PUT",
            "/api/v1/profile",
            Some(MEMBER_TOKEN),
            Some(serde_json::json!({"display_name": "Tomás", "headline": "SRE", "shoe_size": 44})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .expect("message")
            .contains("shoe_size")
    );
    let r = c
        .api(
            "PUT",
            "/api/v1/profile",
            Some(MEMBER_TOKEN),
            Some(serde_json::json!({"display_name": "Tomás", "headline": "SRE", "languages": ["pt"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["headline"], "SRE");
    assert_eq!(r.json()["languages"], serde_json::json!(["pt"]));
    assert!(r.json().get("profile").is_none());
    let r = c
        .api("GET", "/api/v1/search?page=many", Some(MEMBER_TOKEN), None)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["code"], "invalid");
}

fn content_type(r: &Reply) -> &str {
    r.headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// An API error: JSON, with the code and a message.
fn assert_api_error(r: &Reply, status: StatusCode, code: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(content_type(r), "application/json", "{status}");
    let json = r.json();
    assert_eq!(json["error"]["code"], code, "{}", r.body);
    assert!(
        !json["error"]["message"]
            .as_str()
            .expect("a message")
            .is_empty()
    );
}

/// A page error: HTML in the site's layout, with the sentence.
fn assert_page_error(r: &Reply, status: StatusCode, sentence: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(content_type(r), "text/html; charset=utf-8", "{status}");
    assert!(r.body.starts_with("<!DOCTYPE html>"), "{}", r.body);
    assert!(r.body.contains(sentence), "{}", r.body);
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let mut c = Client::new();
    let big = "x".repeat(crate::MAX_BODY_BYTES + 1);
    let r = c.post_form("/signin", &[("username", &big)]).await;
    assert_page_error(
        &r,
        StatusCode::PAYLOAD_TOO_LARGE,
        "What you sent is larger than this node accepts (64 KiB).",
    );
    // With its length announced, or found out while reading.
    let body = serde_json::json!({"display_name": big}).to_string();
    for announced in [true, false] {
        let mut req = Request::put("/api/v1/profile")
            .header(header::AUTHORIZATION, format!("Bearer {MEMBER_TOKEN}"))
            .header(header::CONTENT_TYPE, "application/json");
        if announced {
            req = req.header(header::CONTENT_LENGTH, body.len());
        }
        let r = c
            .send(req.body(Body::from(body.clone())).expect("req"))
            .await;
        assert_api_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
        assert_eq!(
            r.json()["error"]["message"],
            "The request body is larger than this node accepts (64 KiB)."
        );
    }
}

#[tokio::test]
async fn every_api_error_is_json_and_every_page_error_html() {
    let mut c = Client::new();
    // A path of the API with the wrong method: 405 with `Allow`.
    let r = c.api("PATCH", "/api/v1/me", Some(MEMBER_TOKEN), None).await;
    assert_api_error(&r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    assert_eq!(
        r.headers.get(header::ALLOW).and_then(|v| v.to_str().ok()),
        Some("GET,HEAD")
    );
    assert_eq!(
        r.json()["error"]["message"],
        "This operation does not take PATCH; the Allow header lists the methods it takes."
    );
    // Unknown API paths, inside /api/v1 and outside it.
    for path in ["/api/v1/nothing", "/api/v2/me", "/api", "/api/"] {
        let r = c.api("GET", path, Some(MEMBER_TOKEN), None).await;
        assert_api_error(&r, StatusCode::NOT_FOUND, "not_found");
    }
    // A body not sent as JSON, and one that is not JSON.
    let r = c
        .send(
            Request::put("/api/v1/profile")
                .header(header::AUTHORIZATION, format!("Bearer {MEMBER_TOKEN}"))
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from(r#"{"display_name": "x"}"#))
                .expect("req"),
        )
        .await;
    assert_api_error(
        &r,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .expect("message")
            .contains("application/json"),
        "{}",
        r.body
    );
    let r = c
        .send(
            Request::put("/api/v1/profile")
                .header(header::AUTHORIZATION, format!("Bearer {MEMBER_TOKEN}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{not json"))
                .expect("req"),
        )
        .await;
    assert_api_error(&r, StatusCode::BAD_REQUEST, "invalid");

    // Pages: a form's address opened as a page, a wrong method, and an
    // unknown address are HTML pages with a sentence; the header still
    // shows who is signed in.
    c.sign_in(MEMBER).await;
    let r = c.get("/offers/tomas-1/action").await;
    assert_page_error(
        &r,
        StatusCode::METHOD_NOT_ALLOWED,
        "is where a form's button sends its answer",
    );
    assert!(r.headers.contains_key(header::ALLOW));
    assert!(r.body.contains(r#"id="signed-in-as""#), "{}", r.body);
    let r = c
        .send(
            Request::delete("/profile")
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_page_error(
        &r,
        StatusCode::METHOD_NOT_ALLOWED,
        "This address does not take a DELETE request.",
    );
    let r = c.get("/no/such/page").await;
    assert_page_error(
        &r,
        StatusCode::NOT_FOUND,
        "There is no page at this address.",
    );
    // The calendar feed answers calendar apps in plain text, as before.
    let r = c.get("/calendar/nothing.ics").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body, "No such calendar.");
}

#[tokio::test]
async fn an_api_call_without_its_csrf_header_is_told_what_it_needs() {
    let mut c = Client::new();
    c.sign_in(MEMBER).await;
    let r = c
        .api(
            "PUT",
            "/api/v1/profile",
            None,
            Some(serde_json::json!({"display_name": "Tomás"})),
        )
        .await;
    assert_api_error(&r, StatusCode::FORBIDDEN, "forbidden");
    let message = r.json()["error"]["message"].to_string();
    assert!(message.contains("X-CSRF-Token header"), "{message}");
    assert!(message.contains("Authorization: Bearer"), "{message}");
    assert!(!message.contains("form has expired"), "{message}");
}

#[tokio::test]
async fn answers_are_not_stored_but_static_assets_are_cached() {
    let mut c = Client::new();
    let cache = |r: &Reply| {
        r.headers
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(cache(&c.get("/signin").await), "no-store");
    c.sign_in(MEMBER).await;
    for path in ["/", "/profile", "/offers", "/no/such/page"] {
        assert_eq!(cache(&c.get(path).await), "no-store", "{path}");
    }
    let r = c.api("GET", "/api/v1/me", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(cache(&r), "no-store");
    let r = c.api("GET", "/api/v1/me", Some(MEMBER_TOKEN), None).await;
    assert_eq!(cache(&r), "no-store");
    let r = c.get("/static/style.css").await;
    assert_eq!(cache(&r), "public, max-age=3600");
    // A favicon, linked from every page, so browsers stop asking in vain.
    let page = c.get("/").await;
    assert!(
        page.body
            .contains(r#"<link rel="icon" href="/favicon.svg" type="image/svg+xml">"#),
        "{}",
        page.body
    );
    for path in ["/favicon.svg", "/favicon.ico"] {
        let r = c.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert_eq!(content_type(&r), "image/svg+xml");
        assert_eq!(cache(&r), "public, max-age=86400");
        assert!(r.body.starts_with("<svg "), "{}", r.body);
    }
}

#[tokio::test]
async fn deleting_an_offer_asks_first_and_says_what_it_does() {
    let mut c = Client::new();
    let csrf = c.sign_in(MEMBER).await;
    let r = c
        .post_form(
            "/offers",
            &[
                ("csrf", &csrf),
                ("kind", "mentoring_offer"),
                ("title", "Kubernetes <b>in</b> production"),
                ("description", "4 sessions"),
                ("capacity", "2"),
                ("sessions", "4"),
                ("session_minutes", "45"),
                ("cadence", "weekly"),
                ("delivery", "remote"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let list = c.get("/offers").await;
    assert!(list.body.contains(r#"data-action="delete""#));
    let confirm = c
        .post_form(
            "/offers/tomas-1/action",
            &[("csrf", &list.csrf()), ("action", "delete")],
        )
        .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert!(
        confirm
            .body
            .contains("Delete “Kubernetes &lt;b&gt;in&lt;/b&gt; production”?"),
        "{}",
        confirm.body
    );
    assert!(
        confirm.body.contains(
            "It is not shared with partners: deleting it removes it from this node only."
        ),
        "{}",
        confirm.body
    );
    assert!(confirm.body.contains("cannot be undone"));
    assert!(
        confirm
            .body
            .contains(r#"name="action" value="delete-confirmed""#)
    );
    assert!(
        confirm
            .body
            .contains(r#"<a id="cancel" href="/offers">Cancel</a>"#)
    );
    // Still there until confirmed.
    assert_eq!(c.get("/offers/tomas-1").await.status, StatusCode::OK);
    let r = c
        .post_form(
            "/offers/tomas-1/action",
            &[("csrf", &confirm.csrf()), ("action", "delete-confirmed")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // Someone else's offer gets no confirmation page.
    let r = c
        .post_form(
            "/offers/priya-1/action",
            &[("csrf", &confirm.csrf()), ("action", "delete")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn members_manage_their_own_offers_through_forms() {
    let mut c = Client::new();
    let csrf = c.sign_in(MEMBER).await;
    let r = c
        .post_form(
            "/offers",
            &[
                ("csrf", &csrf),
                ("kind", "mentoring_offer"),
                ("title", "Kubernetes in production"),
                ("description", "4 sessions"),
                ("capacity", "2"),
                ("sessions", "4"),
                ("session_minutes", "45"),
                ("cadence", "weekly"),
                ("topics", "kubernetes, on-call"),
                ("languages", "en"),
                ("delivery", "remote"),
                ("publish", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/offers?notice=published");
    let list = c.get("/offers?notice=published").await;
    assert!(list.body.contains("Kubernetes in production"));
    assert!(
        list.body
            .contains("Published: partner organisations will receive it")
    );
    let bad = c
        .post_form(
            "/offers",
            &[
                ("csrf", &csrf),
                ("kind", "mentoring_offer"),
                ("title", "x"),
                ("capacity", "lots"),
                ("delivery", "remote"),
                ("cadence", "weekly"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body
            .contains("Mentees at a time must be a whole number.")
    );
    // A cohort with a weekly session time gets one session a week, and
    // its edit form shows them back.
    let r = c
        .post_form(
            "/offers",
            &[
                ("csrf", &csrf),
                ("kind", "cohort_offer"),
                ("title", "New managers"),
                ("goal", "Run a fair first review"),
                ("seats_total", "12"),
                ("seats_per_org", "4"),
                ("weeks", "3"),
                ("weekly_hours", "2"),
                ("starts_on", "2027-03-09"),
                ("session_time", "17:30"),
                ("cohort_session_minutes", "90"),
                ("delivery", "remote"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // The fake numbers offers per person: this is Tomás's second.
    let id = "tomas-2";
    let edit = c.get(&format!("/offers/{id}")).await;
    assert!(
        edit.body.contains(r#"name="session_time" value="17:30""#),
        "{}",
        edit.body
    );
    assert!(edit.body.contains(r#"value="2027-03-09""#));
    let bad_time = c
        .post_form(
            "/offers",
            &[
                ("csrf", &csrf),
                ("kind", "cohort_offer"),
                ("title", "x"),
                ("seats_total", "12"),
                ("seats_per_org", "4"),
                ("weeks", "3"),
                ("weekly_hours", "2"),
                ("starts_on", "2027-03-09"),
                ("session_time", "25:00"),
                ("delivery", "remote"),
            ],
        )
        .await;
    assert_eq!(bad_time.status, StatusCode::BAD_REQUEST);
    assert!(bad_time.body.contains("a time such as 18:30"));
    // Someone else's offer id is not found, not shown.
    let r = c.get("/offers/priya-1").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn every_documented_operation_is_routed_and_accepts_its_example() {
    let spec = crate::openapi::spec();
    let mut c = Client::new();
    let org = fake::remote_org().to_hex();
    let mut documented = 0;
    for (path, ops) in spec["paths"].as_object().expect("paths") {
        for (method, op) in ops.as_object().expect("ops") {
            documented += 1;
            let concrete = format!("/api/v1{path}")
                .replace("{org}", &org)
                .replace("{id}", "offer-1");
            let example = op["requestBody"]["content"]["application/json"]["example"].clone();
            let body = (!example.is_null()).then_some(example);
            let r = c
                .api(
                    &method.to_uppercase(),
                    &concrete,
                    Some(ADMIN_TOKEN),
                    body.clone(),
                )
                .await;
            assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            let code = if r.status.is_success() {
                ""
            } else {
                r.json()["error"]["code"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
                    .leak()
            };
            assert_ne!(
                code, "invalid",
                "{method} {path}: the documented example was refused: {}",
                r.body
            );
            if !r.status.is_success() {
                // Only the fake's own "no such thing" answers are allowed.
                assert_eq!(
                    r.status,
                    StatusCode::NOT_FOUND,
                    "{method} {path}: {}",
                    r.body
                );
                assert_ne!(
                    r.json()["error"]["message"],
                    "There is no such API operation.",
                    "{method} {path} is not routed"
                );
            }
            let ok: u16 = op["responses"]
                .as_object()
                .expect("responses")
                .keys()
                .filter_map(|k| k.parse().ok())
                .find(|s: &u16| *s < 300)
                .expect("a success status");
            if r.status.is_success() {
                assert_eq!(r.status.as_u16(), ok, "{method} {path}: documented status");
            }
        }
    }
    // And every API route is documented: count the handlers routed in
    // api_v1.rs's `routes` (the OpenAPI document itself aside).
    let source = include_str!("api_v1.rs");
    let start = source
        .find("pub fn routes<S: NodeApi>()")
        .expect("routes fn");
    let end = start + source[start..].find(".fallback(").expect("fallback");
    let body = &source[start..end];
    let routed = ["get(", "post(", "put(", "delete("]
        .iter()
        .map(|m| body.matches(m).count())
        .sum::<usize>()
        - 1;
    assert_eq!(
        documented, routed,
        "routes in api_v1.rs vs operations in the OpenAPI document"
    );
    let r = c.get("/api/v1/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["openapi"], "3.1.0");
}

#[tokio::test]
async fn goals_are_saved_through_the_form_and_suggestions_render_as_text() {
    let mut c = Client::new();
    let csrf = c.sign_in(ADMIN).await;
    let home = c.get("/").await;
    assert!(home.body.contains("Note what you want to learn"));
    let r = c
        .post_form(
            "/goals",
            &[
                ("csrf", &csrf),
                ("goals", "Run on-call for my team"),
                ("topics", "incident response, Kubernetes"),
                ("formats", "mentoring"),
                ("max_hours_apart", "3"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let goals = c
        .api("GET", "/api/v1/goals", Some(ADMIN_TOKEN), None)
        .await
        .json();
    assert_eq!(
        goals["topics"],
        serde_json::json!(["incident response", "Kubernetes"])
    );
    assert_eq!(goals["max_hours_apart"], 3);
    let bad = c
        .post_form("/goals", &[("csrf", &csrf), ("max_hours_apart", "soon")])
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("Hours apart must be a whole number."));
    for page in ["/", "/admin/demand"] {
        let r = c.get(page).await;
        assert_eq!(r.status, StatusCode::OK, "{page}");
        assert!(
            !r.body.contains("<script>alert"),
            "{page} has a live script"
        );
        assert!(
            r.body.contains("&lt;script&gt;alert(1)"),
            "{page}: {}",
            r.body
        );
    }
    assert!(
        c.get("/")
            .await
            .body
            .contains("People who could help you with incident response, Kubernetes")
    );
    let demand = c.get("/admin/demand").await.body;
    assert!(
        demand.contains("Topics wanted by fewer than 5 people: not shown"),
        "{demand}"
    );
    assert!(demand.contains("<td>6</td>"), "{demand}");
    let r = c
        .api("GET", "/api/v1/admin/demand", Some(MEMBER_TOKEN), None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn each_scheduled_session_is_an_ics_file_and_all_of_them_one() {
    let mut c = Client::new();
    let org = fake::remote_org().to_hex();
    let base = format!("/listing/{org}/offer-1/calendar.ics");
    assert_eq!(
        c.get(&base).await.status,
        StatusCode::SEE_OTHER,
        "signed in only"
    );
    c.sign_in(MEMBER).await;
    let page = c.get(&format!("/listing/{org}/offer-1")).await;
    assert!(page.body.contains(&format!("href=\"{base}?session=1\"")));
    assert!(page.body.contains("All 2 sessions (.ics)"));

    let all = c.get(&base).await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(
        all.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("text/calendar; charset=utf-8")
    );
    let events = crate::ics::tests::parse(&all.body);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["DTSTART"], "20300317T174640Z");
    assert_eq!(events[0]["DTEND"], "20300317T183140Z");
    // Another organisation's markup is only text in a calendar too.
    assert_eq!(events[0]["SUMMARY"], format!("{HOSTILE} (1 of 2)"));

    let one = c.get(&format!("{base}?session=1")).await;
    assert_eq!(one.status, StatusCode::OK);
    let events = crate::ics::tests::parse(&one.body);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["UID"], format!("1/offer-1.{org}@skillmesh"));
    assert!(
        one.headers
            .get(header::CONTENT_DISPOSITION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("offer-1-1.ics"))
    );
    assert_eq!(
        c.get(&format!("{base}?session=2")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.get(&format!("{base}?session=x")).await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn the_calendar_feed_is_served_by_its_address_alone() {
    let mut c = Client::new();
    c.sign_in(MEMBER).await;
    let account = c.get("/account").await;
    assert!(account.body.contains("Make a new feed address"));
    let made = c
        .post_form("/account/calendar", &[("csrf", &account.csrf())])
        .await;
    assert_eq!(made.status, StatusCode::OK);
    // Without a Host header the page falls back to localhost.
    let url = format!("http://localhost/calendar/{}.ics", fake::CALENDAR_TOKEN);
    assert!(made.body.contains(&url), "{}", made.body);
    // With a public address configured, the feed's address starts with it.
    let mut public = Client::with(WebOptions {
        public_url: Some("https://learning.northwind.example/".into()),
        ..WebOptions::default()
    });
    public.sign_in(MEMBER).await;
    let account = public.get("/account").await;
    let made = public
        .post_form("/account/calendar", &[("csrf", &account.csrf())])
        .await;
    assert!(made.body.contains(&format!(
        "https://learning.northwind.example/calendar/{}.ics",
        fake::CALENDAR_TOKEN
    )));
    // Without the form's CSRF token nothing is made.
    let forged = c.post_form("/account/calendar", &[]).await;
    assert_ne!(forged.status, StatusCode::OK);

    // A calendar program fetches it without signing in.
    let mut program = Client::new();
    let feed = program
        .get(&format!("/calendar/{}.ics", fake::CALENDAR_TOKEN))
        .await;
    assert_eq!(feed.status, StatusCode::OK);
    assert_eq!(
        feed.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("text/calendar; charset=utf-8")
    );
    let events = crate::ics::tests::parse(&feed.body);
    assert_eq!(events.len(), 2);
    assert_eq!(events[1]["SUMMARY"], format!("{HOSTILE} (2 of 2)"));
    // The same event as the listing's file of that session (one UID), so
    // a calendar program that has both keeps one.
    assert_eq!(
        events[1]["UID"],
        format!("1/offer-1.{}@skillmesh", fake::remote_org().to_hex())
    );
    for wrong in [
        "/calendar/smc_unknown.ics".to_string(),
        format!("/calendar/{}", fake::CALENDAR_TOKEN),
    ] {
        assert_eq!(
            program.get(&wrong).await.status,
            StatusCode::NOT_FOUND,
            "{wrong}"
        );
    }
}

#[tokio::test]
async fn the_impact_dashboard_is_for_admins_with_svg_charts_and_a_csv() {
    let mut c = Client::new();
    c.sign_in(MEMBER).await;
    assert_eq!(c.get("/admin/impact").await.status, StatusCode::FORBIDDEN);
    for table in ["figures", "partners", "wanted"] {
        assert_eq!(
            c.get(&format!("/admin/impact/{table}.csv")).await.status,
            StatusCode::FORBIDDEN
        );
    }

    let mut a = Client::new();
    a.sign_in(ADMIN).await;
    let page = a
        .get("/admin/impact?since=2026-01-01&topic=leadership")
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("<dt>Hours given</dt><dd>4.5</dd>"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("<dt>Average rating (1-5)</dt><dd>4.5</dd>")
    );
    assert!(page.body.contains(r#"<svg id="partner-chart""#));
    assert!(page.body.contains(r#"<svg id="skill-chart""#));
    // The partner's name is text in the SVG, not markup.
    assert!(!page.body.contains("<script>alert"));
    assert!(page.body.contains("=&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.body.contains("Basket weaving"));
    // One CSV per table, each for the same period and topic.
    for table in ["figures", "partners", "wanted"] {
        let link = format!(
            r#"href="/admin/impact/{table}.csv?since=2026-01-01&amp;until=&amp;topic=leadership""#
        );
        assert!(page.body.contains(&link), "{link}");
    }
    // The partner left out is said to be, with nothing of its figures.
    assert!(
        page.body
            .contains("1 partner with fewer than 5 people here brought together: not shown."),
        "{}",
        page.body
    );
    assert!(!page.body.contains("impact-withheld"));
    let bad = a.get("/admin/impact?since=soon").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    let csv = |r: &Reply, file: &str| {
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(
            r.headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some("text/csv; charset=utf-8")
        );
        assert_eq!(
            r.headers
                .get(header::CONTENT_DISPOSITION)
                .and_then(|v| v.to_str().ok()),
            Some(format!("attachment; filename=\"{file}\"").as_str())
        );
        // Every record ends in CR LF, none is empty: one table, no gaps.
        assert!(r.body.ends_with("\r\n"), "{}", r.body);
        let lines: Vec<String> = r
            .body
            .trim_end_matches("\r\n")
            .split("\r\n")
            .map(str::to_string)
            .collect();
        assert!(lines.iter().all(|l| !l.is_empty()), "{}", r.body);
        lines
    };
    let figures = csv(
        &a.get("/admin/impact/figures.csv?since=2026-01-01").await,
        "impact-figures.csv",
    );
    assert_eq!(figures[0], "figure,value");
    assert!(figures.contains(&"Sessions given,4".to_string()));
    assert!(figures.contains(&"Median hours to answer,2.5".to_string()));
    assert!(
        !figures.iter().any(|l| l.contains("alert(2)")),
        "no partners here"
    );
    let partners = csv(
        &a.get("/admin/impact/partners.csv?since=2026-01-01").await,
        "impact-partners.csv",
    );
    assert_eq!(partners[0], "partner,key,fingerprint,given,received");
    // A name starting with '=' cannot become a spreadsheet formula.
    let org = fake::remote_org();
    assert_eq!(partners.len(), 3, "{partners:?}");
    assert!(
        partners[2]
            .contains("1 partner with fewer than 5 people here brought together: not shown."),
        "{}",
        partners[2]
    );
    assert!(partners[1].starts_with("\"'=<script>"), "{}", partners[1]);
    assert!(
        partners[1].ends_with(&format!(",{},{},3,1", org.to_hex(), org.fingerprint())),
        "{}",
        partners[1]
    );
    let wanted = csv(
        &a.get("/admin/impact/wanted.csv?since=2026-01-01").await,
        "impact-wanted.csv",
    );
    assert_eq!(wanted[0], "\"wanted here, offered nowhere\"");
    assert!(
        wanted[1..].iter().any(|l| l.contains("Basket weaving")),
        "{wanted:?}"
    );
    // The old address of the one file leads to the figures.
    let old = a.get("/admin/impact.csv?since=2026-01-01").await;
    assert_eq!(old.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(old.location(), "/admin/impact/figures.csv?since=2026-01-01");
}

#[tokio::test]
async fn feedback_is_given_on_an_accepted_request() {
    let mut c = Client::new();
    let csrf = c.sign_in(MEMBER).await;
    let page = c.get("/requests").await;
    assert!(
        page.body
            .contains(r#"action="/requests/outbox/req-1/feedback""#)
    );
    let sent = c
        .post_form(
            "/requests/outbox/req-1/feedback",
            &[
                ("csrf", &csrf),
                ("rating", "5"),
                ("apply", "Run reviews with a rubric"),
                ("comment", ""),
                ("before", "2"),
                ("after", "4"),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    assert_eq!(sent.location(), "/requests?notice=feedback");
    let bad = c
        .post_form(
            "/requests/outbox/req-1/feedback",
            &[
                ("csrf", &csrf),
                ("rating", "9"),
                ("before", "2"),
                ("after", "4"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let missing = c
        .post_form(
            "/requests/outbox/req-1/feedback",
            &[
                ("csrf", &csrf),
                ("rating", ""),
                ("before", "2"),
                ("after", "4"),
            ],
        )
        .await;
    assert!(missing.body.contains("The rating must be a whole number."));
}

/// Records what the web layer reports, as the node's metrics would.
#[derive(Debug, Default)]
struct Recorder {
    requests: std::sync::Mutex<Vec<(&'static str, String, u16)>>,
    sign_in_failures: std::sync::Mutex<Vec<crate::SignInFailure>>,
}

impl crate::WebMetrics for Recorder {
    fn request_served(
        &self,
        method: &'static str,
        route: &str,
        status: u16,
        _elapsed: std::time::Duration,
    ) {
        if let Ok(mut requests) = self.requests.lock() {
            requests.push((method, route.to_owned(), status));
        }
    }

    fn sign_in_failed(&self, reason: crate::SignInFailure) {
        if let Ok(mut failures) = self.sign_in_failures.lock() {
            failures.push(reason);
        }
    }
}

#[tokio::test]
async fn requests_are_reported_by_route_pattern_and_refused_sign_ins_by_reason() {
    let recorder = std::sync::Arc::new(Recorder::default());
    let mut c = Client::with(WebOptions {
        metrics: Some(recorder.clone()),
        ..WebOptions::default()
    });
    c.get("/healthz").await;
    c.get("/listing/0123abcd/listing-p1").await;
    c.api("GET", "/api/v1/me", Some(MEMBER_TOKEN), None).await;
    c.get("/no/such/page/4711").await;
    c.send(
        Request::builder()
            .method("BREW")
            .uri("/healthz")
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    let requests = recorder
        .requests
        .lock()
        .map(|r| r.clone())
        .unwrap_or_default();
    let seen: Vec<(&str, &str)> = requests.iter().map(|(m, r, _)| (*m, r.as_str())).collect();
    assert_eq!(
        seen,
        [
            ("GET", "/healthz"),
            ("GET", "/listing/{org}/{id}"),
            ("GET", "/api/v1/me"),
            ("GET", crate::UNMATCHED_ROUTE),
            ("OTHER", "/healthz"),
        ]
    );
    assert_eq!(requests[0].2, 200);
    assert_eq!(requests[2].2, 200);
    assert_eq!(requests[3].2, 404);

    for _ in 0..6 {
        let csrf = c.get("/signin").await.csrf();
        c.post_form(
            "/signin",
            &[
                ("csrf", &csrf),
                ("username", MEMBER.0),
                ("password", "wrong"),
            ],
        )
        .await;
    }
    let failures = recorder
        .sign_in_failures
        .lock()
        .map(|f| f.clone())
        .unwrap_or_default();
    use crate::SignInFailure::{RateLimited, WrongPassword};
    assert_eq!(
        failures,
        [WrongPassword; 5]
            .into_iter()
            .chain([RateLimited])
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn pages_are_gzipped_when_asked_and_never_repeat_the_csrf_token() {
    let mut c = Client::new();
    let first = c.sign_in(MEMBER).await;
    let second = c.get("/profile").await.csrf();
    assert_ne!(first, second, "masked afresh on every page");
    assert_eq!(first.len(), 4 * 64, "pad and masked token, in hex");
    let put = |csrf: &str| {
        Request::put("/api/v1/profile")
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-csrf-token", csrf)
            .body(Body::from(r#"{"display_name": "Tomás"}"#))
            .expect("req")
    };
    for csrf in [&first, &second] {
        let r = c.send(put(csrf)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let mut tampered = first.clone();
    let last = if tampered.ends_with('0') { "1" } else { "0" };
    tampered.replace_range(tampered.len() - 1.., last);
    assert_eq!(c.send(put(&tampered)).await.status, StatusCode::FORBIDDEN);

    let cookies: Vec<String> = c.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let res = c
        .app
        .clone()
        .oneshot(
            Request::get("/profile")
                .header(header::ACCEPT_ENCODING, "gzip")
                .header(header::COOKIE, cookies.join("; "))
                .body(Body::empty())
                .expect("req"),
        )
        .await
        .expect("response");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_ENCODING], "gzip");
    let gzipped = axum::body::to_bytes(res.into_body(), 1 << 22)
        .await
        .expect("body");
    let mut page = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gzipped[..]), &mut page)
        .expect("gzip");
    assert!(page.contains("My profile"), "{page}");
    assert!(
        gzipped.len() * 2 < page.len(),
        "{} of {}",
        gzipped.len(),
        page.len()
    );
    let plain = c.get("/profile").await;
    assert!(plain.headers.get(header::CONTENT_ENCODING).is_none());
}

#[tokio::test]
async fn a_restart_keeps_people_signed_in_and_signing_out_everywhere_ends_every_session() {
    let node = Fake::default();
    let mut browser = Client {
        app: app(node.clone(), WebOptions::default()),
        cookies: Vec::new(),
    };
    browser.sign_in(MEMBER).await;
    let mut laptop = Client {
        app: browser.app.clone(),
        cookies: Vec::new(),
    };
    laptop.sign_in(MEMBER).await;
    // A new router over the same node: what a restart of the process
    // leaves (sessions in memory are gone, the node kept them).
    for c in [&mut browser, &mut laptop] {
        c.app = app(node.clone(), WebOptions::default());
    }
    let page = browser.get("/account").await;
    assert_eq!(
        page.status,
        StatusCode::OK,
        "still signed in: {}",
        page.body
    );
    let csrf = page.csrf();
    let out = browser
        .post_form("/account/signout-everywhere", &[("csrf", &csrf)])
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), "/signin?notice=signed_out_everywhere");
    for c in [&mut browser, &mut laptop] {
        let r = c.get("/account").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "signed out: {}", r.body);
    }
    assert!(node.sessions.lock().expect("sessions").is_empty());
}

#[tokio::test]
async fn api_tokens_are_named_listed_and_revoked_one_by_one() {
    let mut c = Client::new();
    let csrf = c.sign_in(MEMBER).await;
    let made = c
        .post_form("/account", &[("csrf", &csrf), ("name", "CI <pipeline>")])
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    assert!(made.body.contains("smk_new_0"), "shown once: {}", made.body);
    assert!(made.body.contains("CI &lt;pipeline&gt;"), "{}", made.body);
    let second = c
        .api(
            "POST",
            "/api/v1/tokens",
            Some("smk_new_0"),
            Some(serde_json::json!({"name": "laptop"})),
        )
        .await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.body);
    assert_eq!(second.json()["name"], "laptop");
    let listed = c
        .api("GET", "/api/v1/tokens", Some("smk_new_1"), None)
        .await;
    assert_eq!(
        listed.json().as_array().map(Vec::len),
        Some(2),
        "{}",
        listed.body
    );
    let first_id = listed.json()[0]["id"].as_str().expect("id").to_string();
    let page = c.get("/account").await;
    assert!(page.body.contains("laptop") && page.body.contains("never"));
    let revoked = c
        .post_form(
            &format!("/account/tokens/{first_id}/revoke"),
            &[("csrf", &page.csrf())],
        )
        .await;
    assert_eq!(revoked.location(), "/account?notice=token_revoked");
    let refused = c.api("GET", "/api/v1/me", Some("smk_new_0"), None).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let still = c.api("GET", "/api/v1/me", Some("smk_new_1"), None).await;
    assert_eq!(still.status, StatusCode::OK);
    let again = c
        .api(
            "DELETE",
            &format!("/api/v1/tokens/{first_id}"),
            Some("smk_new_1"),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.body);
    let bad = c
        .api(
            "POST",
            "/api/v1/tokens",
            Some("smk_new_1"),
            Some(serde_json::json!({"nom": 1})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
}

#[tokio::test]
async fn notifications_are_counted_on_every_page_listed_as_text_and_marked_read() {
    let mut c = Client::new();
    let csrf = c.sign_in(MEMBER).await;
    let home = c.get("/find").await;
    assert!(
        home.body
            .contains(r#"<span class="badge" id="unread-count" title="Unread">2</span>"#),
        "{}",
        home.body
    );
    let page = c.get("/notifications").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Zoe at &lt;script&gt;"),
        "escaped: {}",
        page.body
    );
    assert!(!page.body.contains("<script>alert"), "{}", page.body);
    let api = c
        .api("GET", "/api/v1/notifications", Some(MEMBER_TOKEN), None)
        .await;
    assert_eq!(api.json()[0]["kind"], "question_received");
    let one = c
        .api(
            "POST",
            "/api/v1/notifications/read",
            Some(MEMBER_TOKEN),
            Some(serde_json::json!({"ids": ["n1"]})),
        )
        .await;
    assert_eq!(one.json()["marked"], 1, "{}", one.body);
    let read = c.post_form("/notifications/read", &[("csrf", &csrf)]).await;
    assert_eq!(read.location(), "/notifications?notice=notifications_read");
    let after = c.get("/notifications").await;
    assert!(!after.body.contains("unread-count"), "{}", after.body);
    assert!(!after.body.contains("mark-all-read"));
    // Admins have none here: no badge.
    let mut admin = Client::new();
    admin.sign_in(ADMIN).await;
    assert!(!admin.get("/find").await.body.contains("unread-count"));
}

#[tokio::test]
async fn each_kind_of_notification_is_mailed_as_the_person_chose() {
    let mut c = Client::new();
    let csrf = c.sign_in(MEMBER).await;
    let page = c.get("/account").await;
    assert!(
        page.body
            .contains(r#"<option value="immediately" selected>at once</option>"#),
        "{}",
        page.body
    );
    let saved = c
        .post_form(
            "/account/mail",
            &[("csrf", &csrf), ("question_received", "digest")],
        )
        .await;
    assert_eq!(saved.location(), "/account?notice=mail_saved");
    let page = c.get("/account").await;
    assert!(
        page.body
            .contains(r#"<option value="digest" selected>in a digest</option>"#),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn admins_deactivate_others_from_the_people_page_but_not_themselves() {
    let mut c = Client::new();
    let csrf = c.sign_in(ADMIN).await;
    let page = c.get("/admin/users").await;
    let member_form = format!(r#"action="/admin/users/{}/deactivate""#, MEMBER.0);
    let own_form = format!(r#"action="/admin/users/{}/deactivate""#, ADMIN.0);
    assert!(page.body.contains(&member_form), "{}", page.body);
    assert!(!page.body.contains(&own_form), "no button for oneself");
    let done = c
        .post_form(
            &format!("/admin/users/{}/deactivate", MEMBER.0),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(done.location(), "/admin/users?notice=user_changed");
    let bad = c
        .post_form(
            &format!("/admin/users/{}/explode", MEMBER.0),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(bad.status, StatusCode::NOT_FOUND);
    // Members may not.
    let mut m = Client::new();
    let csrf = m.sign_in(MEMBER).await;
    let refused = m
        .post_form(
            &format!("/admin/users/{}/deactivate", ADMIN.0),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn admins_set_the_chat_webhook_on_its_page_with_a_clear_error_for_a_bad_address() {
    let mut c = Client::new();
    let csrf = c.sign_in(ADMIN).await;
    let page = c.get("/admin/webhook").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(r#"id="webhook-form""#), "{}", page.body);
    assert!(
        !page.body.contains(r#"id="test-webhook""#),
        "no test button without an address"
    );
    assert!(
        c.get("/admin")
            .await
            .body
            .contains(r#"href="/admin/webhook""#),
        "linked from the console"
    );

    // Refused: the page says why, with what was typed still there.
    for (typed, says) in [
        (
            "ftp://files.example/hook",
            "must start with https:// or http://",
        ),
        ("https:///no-host", "has no host"),
    ] {
        let r = c
            .post_form("/admin/webhook", &[("csrf", &csrf), ("url", typed)])
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{typed}");
        assert!(r.body.contains(r#"id="webhook-error""#), "{}", r.body);
        assert!(r.body.contains(says), "{typed}: {}", r.body);
        assert!(
            r.body.contains(&format!(r#"value="{typed}""#)),
            "{}",
            r.body
        );
    }
    let long = format!("https://chat.example/{}", "a".repeat(2000));
    let r = c
        .post_form("/admin/webhook", &[("csrf", &csrf), ("url", &long)])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("at most 2000 characters"), "{}", r.body);
    // Without the CSRF token, nothing changes.
    let r = c
        .post_form("/admin/webhook", &[("url", "https://chat.example/h")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let url = "https://hooks.slack.com/services/T0/B0/secret";
    let r = c
        .post_form("/admin/webhook", &[("csrf", &csrf), ("url", url)])
        .await;
    assert_eq!(r.location(), "/admin/webhook?notice=webhook_saved");
    let page = c.get("/admin/webhook").await;
    assert!(page.body.contains(&format!(r#"value="{url}""#)));
    assert!(page.body.contains(r#"id="test-webhook""#));
    let r = c.post_form("/admin/webhook/test", &[("csrf", &csrf)]).await;
    assert_eq!(r.location(), "/admin/webhook?notice=webhook_test");
    let page = c.get("/admin/webhook?notice=webhook_test").await;
    assert!(page.body.contains("Test message queued"), "{}", page.body);
    assert!(page.body.contains("1 message waits"), "{}", page.body);

    // The API says the same to admins; an empty address clears it.
    let r = c
        .api("GET", "/api/v1/admin/webhook", Some(ADMIN_TOKEN), None)
        .await;
    assert_eq!(r.json()["url"], url);
    let r = c
        .api(
            "PUT",
            "/api/v1/admin/webhook",
            Some(ADMIN_TOKEN),
            Some(serde_json::json!({"url": "gopher://x.example"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["code"], "invalid");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("https://"),
        "{}",
        r.body
    );
    let r = c
        .post_form("/admin/webhook", &[("csrf", &csrf), ("url", "")])
        .await;
    assert_eq!(r.location(), "/admin/webhook?notice=webhook_cleared");
    let r = c
        .api("GET", "/api/v1/admin/webhook", Some(ADMIN_TOKEN), None)
        .await;
    assert_eq!(r.json()["url"], Value::Null);
    assert_eq!(r.json()["waiting"], 0);
}
