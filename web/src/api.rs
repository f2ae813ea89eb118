//! The service interface the web layer needs from a node.

use std::future::Future;

use serde::{Deserialize, Serialize};

/// What `GET /healthz` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `ok` while the node serves.
    pub status: String,
    pub version: String,
    /// This organisation's name and public key (hex).
    pub org: String,
    pub org_key: String,
    /// Peers connected over the network right now.
    pub peers: usize,
    /// Records held from other organisations (tombstones included).
    pub federated_records: u64,
    /// Records this organisation publishes (tombstones included).
    pub own_records: u64,
    /// Seconds since the node started.
    pub uptime_secs: u64,
}

/// The node operations the web layer calls. Implemented by the node; tests
/// of the router implement it in memory.
pub trait NodeApi: Clone + Send + Sync + 'static {
    fn health(&self) -> impl Future<Output = Health> + Send;
}
