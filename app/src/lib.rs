//! The Skillmesh application: the organisation's domain rules, split by
//! area, behind one [`service::Service`]. Every caller (the web layer, the
//! network task, the CLI, the demo) goes through it, so the rules hold
//! whoever calls: what may leave the organisation and what is accepted
//! (`policy`, `outbound`, `service::ingest`), who may change what
//! (`members`), and the audit log.
//!
//! Areas: people and accounts (`accounts`, `access`, `members`), offers and
//! requests (`requests`, `request_limits`), content and programmes
//! (`content`), impact and recognition (`impact`, `published_impact`,
//! `recognition`, `observation`), discovery (`matching`, `lookalike`),
//! federation (`federation`, `policy`, `quota_notice`, `peer_identity`).
//!
//! It knows neither sled (the store crate does) nor libp2p's transport
//! (the node's network module does), and it reaches the store only
//! through [`service::Service`], whose store is not public.

pub mod access;
pub mod access_links;
pub mod accounts;
pub mod content;
pub mod federation;
pub mod gate;
pub mod health;
pub mod identity;
pub mod impact;
pub mod lookalike;
pub mod mail;
pub mod matching;
pub mod members;
pub mod metrics;
pub mod notify;
pub mod observation;
pub mod outbound;
pub mod peer_identity;
pub mod policy;
pub mod privacy;
pub mod published_impact;
pub mod quota_notice;
pub mod recognition;
pub mod request_limits;
pub mod requests;
pub mod service;
pub mod single_sign_on;
pub mod webhook;

// The store and search crates, under the paths the modules use.
pub use skillmesh_search as search;
pub use skillmesh_search::catalogue;
pub use skillmesh_store as store;
pub use skillmesh_store::{clock, storage};
