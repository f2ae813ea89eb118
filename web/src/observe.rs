//! What the web layer reports about its own work (requests served, sign-ins
//! refused) to whoever keeps the node's metrics.
//!
//! The web crate knows no metrics library: it calls a [`WebMetrics`] the
//! node hands it in [`WebOptions::metrics`](crate::WebOptions::metrics),
//! and the node records the figures in its Prometheus registry. Labels are
//! bounded here, before they leave: the route is the pattern that matched
//! (`/listing/{org}/{id}`, never the ids in the path), or `unmatched`, and
//! the method one of the standard ones or `OTHER`, so a client cannot
//! create a series per request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

/// The route of a request that matched none (a 404 from the fallback).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Receives the web layer's measurements. Implementations must be cheap:
/// they run on every request.
pub trait WebMetrics: std::fmt::Debug + Send + Sync + 'static {
    /// A request was answered.
    ///
    /// `method` is `GET`, `HEAD`, `POST`, `PUT`, `DELETE`, `PATCH`,
    /// `OPTIONS` or `OTHER`; `route` the matched route pattern, with the
    /// `/api/v1` prefix where nested, or [`UNMATCHED_ROUTE`]; `status` the
    /// response's status code; `elapsed` the time until the response's
    /// head was ready (a streamed body may take longer).
    fn request_served(&self, method: &'static str, route: &str, status: u16, elapsed: Duration);

    /// A sign-in through the form was refused.
    fn sign_in_failed(&self, reason: SignInFailure);
}

/// Why a sign-in was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignInFailure {
    /// Unknown user or wrong password.
    WrongPassword,
    /// Too many recent failures for the account or the client address.
    RateLimited,
}

impl SignInFailure {
    /// Every reason, in documentation order.
    pub const ALL: [SignInFailure; 2] = [SignInFailure::WrongPassword, SignInFailure::RateLimited];

    /// The label value: `wrong_password` or `rate_limited`.
    pub fn as_str(self) -> &'static str {
        match self {
            SignInFailure::WrongPassword => "wrong_password",
            SignInFailure::RateLimited => "rate_limited",
        }
    }
}

/// The method as a bounded label value.
pub(crate) fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// Middleware: times the request and reports it. Added with
/// `Router::layer`, it runs after routing, so the matched route is in the
/// request's extensions.
pub(crate) async fn time_request(
    metrics: Arc<dyn WebMetrics>,
    request: Request,
    next: Next,
) -> Response {
    let method = method_label(request.method());
    let route = request.extensions().get::<MatchedPath>().cloned();
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.request_served(
        method,
        route.as_ref().map_or(UNMATCHED_ROUTE, MatchedPath::as_str),
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusual_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::TRACE), "OTHER");
        let custom = Method::from_bytes(b"BREW").unwrap_or(Method::CONNECT);
        assert_eq!(method_label(&custom), "OTHER");
    }
}
