//! Cross-cutting HTTP concerns as tower layers: request tracing, a body
//! size limit, security headers on every response, `Cache-Control:
//! no-store` on everything but static assets, one shape for every error
//! (JSON under `/api`, an HTML page elsewhere), compression, and request
//! timing for the node's metrics.
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
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnFailure, TraceLayer};

use crate::Shared;
use crate::error::{ErrorBody, ErrorDetail};
use crate::observe::{WebMetrics, time_request};
use crate::ports::NodeApi;

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

pub fn apply<S: NodeApi>(
    mut router: Router,
    state: Shared<S>,
    metrics: Option<Arc<dyn WebMetrics>>,
) -> Router {
    for (name, value) in SECURITY_HEADERS {
        router = router.layer(SetResponseHeaderLayer::overriding(
            name,
            HeaderValue::from_static(value),
        ));
    }
    let router = router
        // Pages and API answers hold what one signed-in person may see:
        // neither the browser nor a proxy keeps them. Static assets set
        // their own caching, which this leaves alone.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        // Outside the body limit, so its 413 is reshaped too.
        .layer(axum::middleware::from_fn_with_state(
            state,
            uniform_errors::<S>,
        ))
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

/// Marks an error response whose body is meant as it is, for clients that
/// are not browsers (the calendar feed answers calendar apps in plain
/// text): [`uniform_errors`] leaves it alone.
#[derive(Debug, Clone, Copy)]
pub struct AsIs;

/// Whether a path belongs to the JSON API.
pub fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// Gives every error the shape its caller expects, whoever produced it:
/// the handlers answer with it already, but axum's router (404, 405 with
/// no body), its extractors (400, 415, 422 in plain text) and the body
/// limit (413 in plain text) do not. Under `/api` the answer becomes
/// `{"error": {"code", "message"}}` as JSON; elsewhere an HTML page with a
/// sentence. Headers are kept. (`Router::layer` wraps each route, so a
/// 405's `Allow` header is added by axum after this has run: the message
/// points to it rather than repeating it.)
async fn uniform_errors<S: NodeApi>(
    State(state): State<Shared<S>>,
    request: Request,
    next: Next,
) -> Response {
    let api = is_api(request.uri().path());
    let method = request.method().clone();
    // For the page's header (who is signed in), read only if needed.
    let cookie = request.headers().get(header::COOKIE).cloned();
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response.extensions().get::<AsIs>().is_some()
    {
        return response;
    }
    let shaped = content_type(response.headers()).is_some_and(|ct| {
        if api {
            ct.starts_with("application/json")
        } else {
            ct.starts_with("text/html")
        }
    });
    if shaped {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // An extractor's rejection says what was wrong in plain text: kept as
    // the message. Anything longer than a sentence is not such a text.
    let said = match axum::body::to_bytes(body, 2048).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_string(),
        Err(e) => {
            tracing::debug!(error = %e, "cannot read an error body to reshape it");
            String::new()
        }
    };
    let message = sentence(status, api, &method, &said);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_TYPE);
    if api {
        let body = ErrorBody {
            error: ErrorDetail {
                code: code(status).to_string(),
                message,
            },
        };
        (parts, axum::Json(body)).into_response()
    } else {
        let mut headers = HeaderMap::new();
        if let Some(cookie) = cookie {
            headers.insert(header::COOKIE, cookie);
        }
        let me = crate::session::from_cookie(&state, &headers)
            .await
            .unwrap_or_else(|e| {
                tracing::debug!(error = %e, "cannot read the session for an error page");
                None
            });
        let html = crate::pages::error_page(
            &state.node.org_name(),
            me.as_ref(),
            heading(status),
            &message,
        );
        (parts, Html(html)).into_response()
    }
}

fn content_type(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
}

/// The stable error code of a status (see [`ErrorDetail::code`]).
pub fn code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::CONFLICT => "conflict",
        StatusCode::TOO_MANY_REQUESTS => "too_many_requests",
        s if s.is_server_error() => "unavailable",
        _ => "invalid",
    }
}

fn heading(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::METHOD_NOT_ALLOWED => "Not at this address",
        StatusCode::PAYLOAD_TOO_LARGE => "Too large",
        StatusCode::UNAUTHORIZED => "Please sign in",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::TOO_MANY_REQUESTS => "Too many attempts",
        s if s.is_server_error() => "Something went wrong",
        _ => "That did not work",
    }
}

/// What went wrong, as a sentence for the caller.
fn sentence(status: StatusCode, api: bool, method: &Method, said: &str) -> String {
    let limit = MAX_BODY_BYTES / 1024;
    match status {
        StatusCode::NOT_FOUND if api => "There is no such API operation.".into(),
        StatusCode::NOT_FOUND => "There is no page at this address.".into(),
        StatusCode::METHOD_NOT_ALLOWED if api => {
            format!(
                "This operation does not take {method}; the Allow header lists the methods it takes."
            )
        }
        StatusCode::METHOD_NOT_ALLOWED if *method == Method::GET => {
            "This address is where a form's button sends its answer: it is not a page to open. Go back and use the button.".into()
        }
        StatusCode::METHOD_NOT_ALLOWED => {
            format!("This address does not take a {method} request.")
        }
        StatusCode::PAYLOAD_TOO_LARGE if api => {
            format!("The request body is larger than this node accepts ({limit} KiB).")
        }
        StatusCode::PAYLOAD_TOO_LARGE => format!(
            "What you sent is larger than this node accepts ({limit} KiB). Shorten it and try again."
        ),
        _ if !said.is_empty() && said.len() < 1024 => said.to_string(),
        _ => status
            .canonical_reason()
            .map_or_else(|| status.to_string(), |r| format!("{r}.")),
    }
}
