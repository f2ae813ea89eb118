//! The peer book's persisted half: for each other organisation's node this
//! node has reached or heard of, the addresses and when each last worked.
//! What to keep, for how long and how often to dial is the network's
//! business (`network::peer_book`); this only stores it.

use serde::{Deserialize, Serialize};
use skillmesh_protocol::OrgKey;

use super::{Result, Store, StoreError, encode_json, keys};
use crate::storage::Batch;

/// What is remembered about one organisation's node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerEntry {
    pub addrs: Vec<PeerAddr>,
    /// When a connection to it was last established (Unix seconds).
    pub last_connected: Option<i64>,
}

/// One address of a peer (a multiaddr without the `/p2p/` suffix).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerAddr {
    pub addr: String,
    /// When this node last connected to the peer by dialling this address.
    pub reached_at: Option<i64>,
    /// When the peer last said it listens here (identify).
    pub heard_at: Option<i64>,
}

impl Store {
    /// Every peer remembered, in key order.
    pub fn peers(&self) -> Result<Vec<(OrgKey, PeerEntry)>> {
        self.kv
            .scan_prefix(keys::PEER)
            .map(|r| {
                let (k, v) = r?;
                let org: [u8; 32] =
                    k[keys::PEER.len()..]
                        .try_into()
                        .map_err(|_| StoreError::Corrupt {
                            key: String::from_utf8_lossy(&k).into_owned(),
                            reason: "bad peer key".into(),
                        })?;
                Ok((OrgKey::from_bytes(org), super::decode_json(&k, &v)?))
            })
            .collect()
    }

    /// Writes (or with `None`, forgets) what is remembered about `org`'s node.
    pub fn set_peer(&self, org: &OrgKey, entry: Option<&PeerEntry>) -> Result<()> {
        let mut b = Batch::new();
        let key = keys::peer(org);
        match entry {
            Some(e) => b.put(key, encode_json(e)),
            None => b.delete(key),
        }
        self.commit(b)
    }
}
