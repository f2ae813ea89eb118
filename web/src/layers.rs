//! Cross-cutting HTTP concerns as tower layers: request tracing, a body
//! size limit, security headers on every response, compression, and
//! request timing for the node's metrics.
//!
//! Responses are gzip-compressed when the client asks (`Accept-Encoding`),
//! by tower-http's `CompressionLayer`: the same library as the other layers,
//! which skips bodies too small to gain and types that are compressed
//! already. Gzip only: every browser and HTTP client sends it, and brotli's
//! few per cent more on pages of a few kilobytes is not worth its CPU per
//! response and its size in the build. The one secret a page repeats, the
//! CSRF token, is masked afresh on each page so that compression cannot
//! leak it (`session::mask_csrf`).

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnFailure, TraceLayer};

use crate::observe::{WebMetrics, time_request};

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

pub fn apply(mut router: Router, metrics: Option<Arc<dyn WebMetrics>>) -> Router {
    for (name, value) in SECURITY_HEADERS {
        router = router.layer(SetResponseHeaderLayer::overriding(
            name,
            HeaderValue::from_static(value),
        ));
    }
    let router = router
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(CompressionLayer::new().gzip(true))
        // A 5xx answer is logged where it arises, once: the node logs an
        // unexpected failure with its cause, and a fault that refuses every
        // change (a full disk) when it begins, not at each refusal. So
        // tower-http's line per failed response (an ERROR by default) is
        // only for debugging.
        .layer(
            TraceLayer::new_for_http()
                .on_failure(DefaultOnFailure::new().level(tracing::Level::DEBUG)),
        );
    match metrics {
        // Outermost, so the time includes every other layer's work.
        Some(metrics) => router.layer(axum::middleware::from_fn(move |request, next| {
            time_request(metrics.clone(), request, next)
        })),
        None => router,
    }
}
