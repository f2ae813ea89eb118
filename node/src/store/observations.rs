//! Peer observation: a person giving a session invites a colleague to
//! observe it, and the observer's structured feedback is for the trainer
//! alone. Kept on this node; no admin page or figure shows it.

use serde::{Deserialize, Serialize};
use skillmesh_web::ObservationForm;

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
    pub feedback: Option<ObservationForm>,
    pub invited_at: i64,
    pub given_at: Option<i64>,
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
