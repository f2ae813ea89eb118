//! Peer observation: a person giving a session invites a colleague to
//! observe it, and the observer's structured feedback is for the trainer
//! alone. Kept on this node; no admin page or figure shows it.

use serde::{Deserialize, Serialize};

use super::{Result, Store, encode_json, keys};
use crate::storage::Batch;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    pub id: String,
    /// The person giving the session, and the colleague observing.
    pub trainer: String,
    pub observer: String,
    /// The trainer's offer the session belongs to.
    pub offer_id: String,
    pub offer_title: String,
    /// Which session, in the trainer's words (a date, a place).
    pub when: String,
    pub feedback: Option<Seen>,
    pub invited_at: i64,
    pub given_at: Option<i64>,
}

/// What the observer saw, as stored: the store's own type rather than the
/// web form it came from, so that the on-disk format changes only here;
/// the field names are those the rows were first written with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// 1 (poor) to 5 (excellent).
    pub clarity: u8,
    /// 1 (far too slow or fast) to 5 (just right).
    pub pace: u8,
    /// 1 (none) to 5 (lively).
    pub interaction: u8,
    /// One thing to keep.
    pub keep: String,
    /// One thing to change.
    pub change: String,
}

fn key(id: &str) -> Vec<u8> {
    keys::join(keys::OBSERVATION, &[id.as_bytes()])
}

impl Store {
    pub fn put_observation(&self, o: &Observation) -> Result<()> {
        let mut b = Batch::new();
        b.put(key(&o.id), encode_json(o));
        self.commit(b)
    }

    pub fn observation(&self, id: &str) -> Result<Option<Observation>> {
        self.get_json(&key(id))
    }

    pub fn observations(&self) -> Result<Vec<Observation>> {
        self.scan_json(keys::OBSERVATION)
    }
}
