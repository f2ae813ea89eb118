//! What one of our people recommended to a colleague on this node: an
//! item or learning path (ours or a partner's) with a note. It stays on
//! this node.

use serde::{Deserialize, Serialize};
use skillmesh_protocol::OrgKey;

use super::{Result, Store, encode_json, keys};
use crate::storage::Batch;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recommendation {
    pub from: String,
    pub to: String,
    /// The item's organisation and id.
    pub org: OrgKey,
    pub id: String,
    pub title: String,
    pub note: String,
    pub at: i64,
}

/// `reco/<to>/<from>/<org hex>/<id>`: one recommendation of an item from
/// one colleague to another (a later one replaces it).
fn key(r: &Recommendation) -> Vec<u8> {
    keys::join(
        keys::RECOMMENDATION,
        &[
            r.to.as_bytes(),
            b"/",
            r.from.as_bytes(),
            b"/",
            r.org.to_hex().as_bytes(),
            b"/",
            r.id.as_bytes(),
        ],
    )
}

impl Store {
    pub fn put_recommendation(&self, r: &Recommendation) -> Result<()> {
        let mut b = Batch::new();
        b.put(key(r), encode_json(r));
        self.commit(b)
    }

    /// What was recommended to `person`.
    pub fn recommendations_to(&self, person: &str) -> Result<Vec<Recommendation>> {
        self.scan_json(&keys::join(
            keys::RECOMMENDATION,
            &[person.as_bytes(), b"/"],
        ))
    }

    /// Every recommendation on this node (for counting a curator's).
    pub fn all_recommendations(&self) -> Result<Vec<Recommendation>> {
        self.scan_json(keys::RECOMMENDATION)
    }
}
