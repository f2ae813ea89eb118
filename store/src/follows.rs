//! The curated lists (learning paths) our people follow, and which of
//! their entries each has ticked off. Private to the person: it stays on
//! this node, and no record or page shows it to anyone else.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use skillmesh_protocol::OrgKey;

use super::{Result, Store, encode_json, keys};
use crate::storage::Batch;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Follow {
    pub person: String,
    /// The list's organisation and record id.
    pub org: OrgKey,
    pub id: String,
    /// The list's title when it was followed (shown if it is withdrawn).
    pub title: String,
    /// Positions (from 0) of the entries ticked off.
    pub done: BTreeSet<u16>,
    pub at: i64,
    /// The person chose to let the list's organisation know that someone
    /// here follows it (counted, never named; see `follower_counts`).
    #[serde(default)]
    pub tell_curator: bool,
}

/// `follow/<person>/<org hex>/<id>`: person and record ids never hold `/`.
fn follow_key(person: &str, org: &OrgKey, id: &str) -> Vec<u8> {
    keys::join(
        keys::FOLLOW,
        &[
            person.as_bytes(),
            b"/",
            org.to_hex().as_bytes(),
            b"/",
            id.as_bytes(),
        ],
    )
}

impl Store {
    pub fn put_follow(&self, follow: &Follow) -> Result<()> {
        let mut b = Batch::new();
        b.put(
            follow_key(&follow.person, &follow.org, &follow.id),
            encode_json(follow),
        );
        self.commit(b)
    }

    pub fn follow(&self, person: &str, org: &OrgKey, id: &str) -> Result<Option<Follow>> {
        self.get_json(&follow_key(person, org, id))
    }

    pub fn remove_follow(&self, person: &str, org: &OrgKey, id: &str) -> Result<()> {
        let mut b = Batch::new();
        b.delete(follow_key(person, org, id));
        self.commit(b)
    }

    /// The lists `person` follows.
    pub fn follows_of(&self, person: &str) -> Result<Vec<Follow>> {
        self.scan_json(&keys::join(keys::FOLLOW, &[person.as_bytes(), b"/"]))
    }

    /// Every follow on this node (for counting a curator's followers).
    pub fn all_follows(&self) -> Result<Vec<Follow>> {
        self.scan_json(keys::FOLLOW)
    }
}
