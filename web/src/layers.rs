//! Cross-cutting HTTP concerns as tower layers: request tracing, a body
//! size limit, and security headers on every response.

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// Largest request body accepted (forms and API calls are small).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

const SECURITY_HEADERS: [(HeaderName, &str); 5] = [
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "no-referrer"),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    ),
];

pub fn apply(mut router: Router) -> Router {
    for (name, value) in SECURITY_HEADERS {
        router = router.layer(SetResponseHeaderLayer::overriding(
            name,
            HeaderValue::from_static(value),
        ));
    }
    router
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TraceLayer::new_for_http())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Health, NodeApi, app};
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    #[derive(Clone)]
    struct Fake;

    impl NodeApi for Fake {
        async fn health(&self) -> Health {
            Health {
                status: "ok".into(),
                version: "test".into(),
                org: "Fake <b>Org</b>".into(),
                org_key: "00".repeat(32),
                peers: 2,
                federated_records: 7,
                own_records: 3,
                uptime_secs: 1,
            }
        }
    }

    #[tokio::test]
    async fn healthz_is_json_with_counts_and_security_headers() {
        let res = app(Fake)
            .oneshot(
                Request::get("/healthz")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        assert_eq!(res.status(), StatusCode::OK);
        let h = res.headers();
        assert_eq!(h.get(header::CONTENT_TYPE).expect("ct"), "application/json");
        assert!(
            h.get(header::CONTENT_SECURITY_POLICY)
                .expect("csp")
                .to_str()
                .expect("str")
                .contains("default-src 'none'")
        );
        assert_eq!(
            h.get(header::X_CONTENT_TYPE_OPTIONS).expect("nosniff"),
            "nosniff"
        );
        let body = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .expect("body");
        let health: Health = serde_json::from_slice(&body).expect("json");
        assert_eq!(health.peers, 2);
        assert_eq!(health.federated_records, 7);
    }

    #[tokio::test]
    async fn home_page_escapes_the_organisation_name() {
        let res = app(Fake)
            .oneshot(Request::get("/").body(Body::empty()).expect("request"))
            .await
            .expect("response");
        assert_eq!(res.status(), StatusCode::OK);
        let body = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .expect("body");
        let page = String::from_utf8(body.to_vec()).expect("utf-8");
        assert!(page.contains("Fake &lt;b&gt;Org&lt;/b&gt;"), "{page}");
        assert!(!page.contains("<b>Org"));
    }

    #[tokio::test]
    async fn unknown_paths_are_404() {
        let res = app(Fake)
            .oneshot(Request::get("/nope").body(Body::empty()).expect("request"))
            .await
            .expect("response");
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
}
