//! Skillmesh's web layer: server-rendered pages and the `/api/v1` JSON API,
//! as one axum router generic over the service interface it needs: a port
//! per area (`ports.rs`), [`NodeApi`] being all of them. It knows protocol types, never sled or libp2p; the node
//! crate implements the interface and serves the router.
//!
//! Pages are plain HTML forms rendered with maud (which escapes every
//! interpolated value), styled by one small stylesheet, and work without
//! JavaScript. Cross-cutting concerns (security headers, body limit,
//! tracing, request timing for the node's metrics) are tower layers in
//! [`layers`].

// The OpenAPI document's components are one `json!` literal, deeper than
// the macro's default recursion limit allows (serde_json documents this).
#![recursion_limit = "256"]

mod api;
mod api_v1;
pub mod dates;
mod error;
#[cfg(test)]
mod fake;
mod health;
pub mod ics;
mod layers;
mod layout;
mod observe;
mod openapi;
mod pages;
mod ports;
mod session;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

pub use api::*;
pub use layers::MAX_BODY_BYTES;
pub use observe::{SignInFailure, UNMATCHED_ROUTE, WebMetrics};
pub use ports::*;
pub use session::{CSRF_HEADER, SESSION_COOKIE};

/// How the web layer is served.
#[derive(Debug, Clone, Default)]
pub struct WebOptions {
    /// `web.public_url`: the address people reach the node at, when it is
    /// not the listen address (a reverse proxy, a domain name). Addresses
    /// handed out for use outside the browser (the calendar feed) start
    /// with it.
    pub public_url: Option<String>,
    /// Distinguishes this node's cookies from other nodes' on the same
    /// host (e.g. the first hex digits of the organisation key).
    pub instance: String,
    /// `web.trusted_proxies`: reverse proxies whose `X-Forwarded-For`
    /// names the client (see [`session::client_ip`]).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Where to report every request served and every sign-in refused
    /// (the node's Prometheus metrics); `None` reports nothing.
    pub metrics: Option<Arc<dyn WebMetrics>>,
}

impl WebOptions {
    /// Mark cookies `Secure` when the node is reached over https, so
    /// browsers never send them in clear text.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }
}

/// What every handler gets: the node, and the web layer's own state.
pub(crate) struct AppState<S> {
    pub node: S,
    pub sessions: session::Sessions,
    pub sign_in_limiter: session::SignInLimiter,
    pub cookies: session::CookieNames,
    pub options: WebOptions,
}

pub(crate) type Shared<S> = Arc<AppState<S>>;

impl<S> AppState<S> {
    /// Counts a refused sign-in in the node's metrics, if it keeps any.
    pub(crate) fn sign_in_failed(&self, reason: SignInFailure) {
        if let Some(metrics) = &self.options.metrics {
            metrics.sign_in_failed(reason);
        }
    }
}

/// The whole web application for one node.
pub fn app<S: NodeApi>(node: S, options: WebOptions) -> Router {
    let metrics = options.metrics.clone();
    let state = Arc::new(AppState {
        node,
        sessions: session::Sessions::default(),
        sign_in_limiter: session::SignInLimiter::default(),
        cookies: session::CookieNames::new(&options.instance),
        options,
    });
    let router = Router::new()
        .route("/", get(pages::home::page::<S>))
        .route("/favicon.svg", get(pages::assets::favicon))
        .route("/favicon.ico", get(pages::assets::favicon))
        .route("/healthz", get(health::healthz::<S>))
        .route("/static/style.css", get(pages::assets::stylesheet))
        .route(
            "/signin",
            get(pages::signin::form::<S>).post(pages::signin::submit::<S>),
        )
        .route(
            "/access/{token}",
            get(pages::access::page::<S>).post(pages::access::submit::<S>),
        )
        .route("/signin/sso", get(pages::signin::sso_start::<S>))
        .route(
            "/signin/sso/callback",
            get(pages::signin::sso_callback::<S>),
        )
        .route("/signout", post(pages::signin::sign_out::<S>))
        .route("/find", get(pages::find::page::<S>))
        .route("/listing/{org}/{id}", get(pages::listing::page::<S>))
        .route(
            "/listing/{org}/{id}/calendar.ics",
            get(pages::listing::calendar::<S>),
        )
        .route(
            "/listing/{org}/{id}/request",
            post(pages::listing::request::<S>),
        )
        .route(
            "/profile",
            get(pages::profile::page::<S>).post(pages::profile::save::<S>),
        )
        .route(
            "/offers",
            get(pages::offers::list::<S>).post(pages::offers::create::<S>),
        )
        .route("/offers/new", get(pages::offers::new_form::<S>))
        .route("/guide", get(pages::guide::page))
        .route("/observations", get(pages::observations::page::<S>))
        .route("/observations/{id}", post(pages::observations::give::<S>))
        .route(
            "/offers/{id}/observers",
            post(pages::observations::invite::<S>),
        )
        .route(
            "/offers/{id}",
            get(pages::offers::edit_form::<S>).post(pages::offers::update::<S>),
        )
        .route("/offers/{id}/action", post(pages::offers::action::<S>))
        .route(
            "/offers/{id}/sessions",
            post(pages::events::add_session::<S>),
        )
        .route(
            "/offers/{id}/sessions/{session}/remove",
            post(pages::events::remove_session::<S>),
        )
        .route(
            "/listing/{org}/{id}/sessions/{session}/withdraw",
            post(pages::events::withdraw::<S>),
        )
        .route(
            "/listing/{org}/{id}/sessions",
            post(pages::events::contribute::<S>),
        )
        .route(
            "/listing/{org}/{id}/follow",
            post(pages::content::follow::<S>),
        )
        .route(
            "/listing/{org}/{id}/unfollow",
            post(pages::content::unfollow::<S>),
        )
        .route(
            "/listing/{org}/{id}/progress",
            post(pages::content::progress::<S>),
        )
        .route(
            "/listing/{org}/{id}/recommend",
            post(pages::content::recommend::<S>),
        )
        .route("/requests", get(pages::requests::page::<S>))
        .route(
            "/requests/{org}/{id}/answer",
            post(pages::requests::answer::<S>),
        )
        .route(
            "/requests/outbox/{id}/feedback",
            post(pages::requests::feedback::<S>),
        )
        .route(
            "/requests/outbox/{id}/kudos",
            post(pages::requests::kudos::<S>),
        )
        .route(
            "/account",
            get(pages::account::page::<S>).post(pages::account::new_token::<S>),
        )
        .route("/notifications", get(pages::notifications::page::<S>))
        .route(
            "/notifications/read",
            post(pages::notifications::mark_read::<S>),
        )
        .route("/account/mail", post(pages::account::set_mail::<S>))
        .route(
            "/admin/users/{username}/{action}",
            post(pages::admin::user_action::<S>),
        )
        .route(
            "/account/tokens/{id}/revoke",
            post(pages::account::revoke_token::<S>),
        )
        .route(
            "/account/signout-everywhere",
            post(pages::signin::sign_out_everywhere::<S>),
        )
        .route("/account/calendar", post(pages::account::new_calendar::<S>))
        .route("/calendar/{file}", get(pages::account::feed::<S>))
        .route("/admin", get(pages::admin::federation::<S>))
        .route("/admin/mode", post(pages::admin::set_mode::<S>))
        .route("/admin/orgs/{org}", post(pages::admin::org_action::<S>))
        .route("/admin/approvals", get(pages::admin::approvals::<S>))
        .route("/admin/approvals/{id}", post(pages::admin::approve::<S>))
        .route(
            "/admin/policy",
            get(pages::admin::policy::<S>).post(pages::admin::set_policy::<S>),
        )
        .route("/admin/audit", get(pages::admin::audit::<S>))
        .route(
            "/admin/webhook",
            get(pages::admin::webhook::<S>).post(pages::admin::set_webhook::<S>),
        )
        .route("/admin/webhook/test", post(pages::admin::test_webhook::<S>))
        .route("/admin/demand", get(pages::admin::demand::<S>))
        .route("/admin/impact", get(pages::impact::page::<S>))
        .route("/admin/impact.csv", get(pages::impact::old_csv))
        .route(
            "/admin/impact/figures.csv",
            get(pages::impact::figures_csv::<S>),
        )
        .route(
            "/admin/impact/partners.csv",
            get(pages::impact::partners_csv::<S>),
        )
        .route(
            "/admin/impact/wanted.csv",
            get(pages::impact::wanted_csv::<S>),
        )
        .route("/admin/impact/publish", post(pages::impact::publish::<S>))
        .route("/admin/impact/withdraw", post(pages::impact::withdraw::<S>))
        .route(
            "/goals",
            get(pages::goals::page::<S>).post(pages::goals::save::<S>),
        )
        .route(
            "/admin/users",
            get(pages::admin::users::<S>).post(pages::admin::add_user::<S>),
        )
        .nest("/api/v1", api_v1::routes::<S>())
        .fallback(pages::not_found::<S>)
        .with_state(state.clone());
    layers::apply(router, state, metrics)
}
