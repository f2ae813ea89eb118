//! The Skillmesh node: the store, the service layer that enforces what
//! leaves and enters the organisation, and the wiring behind the
//! `skillmesh` command.

pub mod accounts;
pub mod admin;
pub mod content;
pub mod datadir;
pub mod demo;
pub mod health;
pub mod identity;
pub mod impact;
pub mod invite;
pub mod lookalike;
pub mod matching;
pub mod members;
pub mod metrics;
pub mod network;
pub mod observation;
pub mod outbound;
pub mod policy;
pub mod published_impact;
pub mod quota_notice;
pub mod recognition;
pub mod request_limits;
pub mod requests;
pub mod runtime;
pub mod search_view;
pub mod service;
pub mod web_api;

// The store is a crate of its own (the only one that names sled); these
// keep the paths the rest of the node uses.
pub use skillmesh_store as store;
pub use skillmesh_store::{clock, storage};

// Search is a crate of its own too (it does not know the web crate).
pub use skillmesh_search as search;
pub use skillmesh_search::catalogue;
