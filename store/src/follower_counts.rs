//! Follower counts across organisations (see the `follower_count` kind):
//! what this node last told another organisation about one of its lists
//! (how many of our people follow it, among those who chose to let its
//! curator know) and whether that arrived; and what partners told us about
//! ours. A count, never who.

use serde::{Deserialize, Serialize};
use skillmesh_protocol::OrgKey;

use super::{Result, Store, encode_json, keys};
use crate::storage::Batch;

/// The last count signed here for a partner's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentCount {
    pub list_org: OrgKey,
    pub list_id: String,
    pub seq: u64,
    pub followers: u32,
    /// The signed record (hex), until the list's node acknowledges it.
    pub envelope: String,
    pub delivered: bool,
    /// Why the list's node refused it, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

/// The last count a partner told us for one of our lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedCount {
    pub from_org: OrgKey,
    pub list_id: String,
    pub seq: u64,
    pub followers: u32,
    pub at: i64,
}

/// `fcsent/<org hex>/<list id>`: record ids never hold `/`.
fn sent_key(list_org: &OrgKey, list_id: &str) -> Vec<u8> {
    keys::join(
        keys::FOLLOWERS_SENT,
        &[list_org.to_hex().as_bytes(), b"/", list_id.as_bytes()],
    )
}

/// `fcrecv/<list id>/<org hex>`: by list first, to sum a list's counts.
fn received_key(list_id: &str, from_org: &OrgKey) -> Vec<u8> {
    keys::join(
        keys::FOLLOWERS_RECEIVED,
        &[list_id.as_bytes(), b"/", from_org.to_hex().as_bytes()],
    )
}

impl Store {
    pub fn sent_count(&self, list_org: &OrgKey, list_id: &str) -> Result<Option<SentCount>> {
        self.get_json(&sent_key(list_org, list_id))
    }

    pub fn put_sent_count(&self, count: &SentCount) -> Result<()> {
        let mut b = Batch::new();
        b.put(
            sent_key(&count.list_org, &count.list_id),
            encode_json(count),
        );
        self.commit(b)
    }

    /// Every count signed here (for the courier: those not delivered).
    pub fn sent_counts(&self) -> Result<Vec<SentCount>> {
        self.scan_json(keys::FOLLOWERS_SENT)
    }

    pub fn received_count(
        &self,
        list_id: &str,
        from_org: &OrgKey,
    ) -> Result<Option<ReceivedCount>> {
        self.get_json(&received_key(list_id, from_org))
    }

    pub fn put_received_count(&self, count: &ReceivedCount) -> Result<()> {
        let mut b = Batch::new();
        b.put(
            received_key(&count.list_id, &count.from_org),
            encode_json(count),
        );
        self.commit(b)
    }

    /// What every partner last told us about our list `list_id`.
    pub fn received_counts(&self, list_id: &str) -> Result<Vec<ReceivedCount>> {
        self.scan_json(&keys::join(
            keys::FOLLOWERS_RECEIVED,
            &[list_id.as_bytes(), b"/"],
        ))
    }
}
