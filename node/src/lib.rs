//! The `skillmesh` command: it wires the application
//! ([`skillmesh_app`]) to the network, the web layer and the data
//! directory, and runs the demo network.

pub mod admin;
pub mod allocator;
pub mod datadir;
pub mod demo;
pub mod http_client;
pub mod invite;
pub mod mailer;
pub mod metrics_http;
pub mod network;
pub mod runtime;
pub mod sso;
pub mod web_api;
pub mod webhook_poster;

// The application's areas, the store and search, under the paths the
// node's modules, its tests and benches use.
pub use skillmesh_app::{
    access, access_links, accounts, catalogue, clock, content, federation, health, identity,
    impact, lookalike, mail, matching, members, metrics, observation, outbound, policy,
    published_impact, quota_notice, recognition, request_limits, requests, search, service,
    storage, store, webhook,
};
