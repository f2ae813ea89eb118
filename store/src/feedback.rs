//! What our people said after a session, cohort or mentoring they took
//! part in: private to this node. Only aggregates of it are ever shown to
//! admins (the impact dashboard); no record carries it.

use serde::{Deserialize, Serialize};
use skillmesh_protocol::OrgKey;

use super::{Result, Store, encode_json, keys};
use crate::storage::Batch;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    /// The outbox entry (our person's request) it is about.
    pub request_id: String,
    pub person: String,
    pub offer_org: OrgKey,
    pub offer_id: String,
    /// The topics the offer targeted, when it was given.
    #[serde(default)]
    pub topics: Vec<String>,
    /// What the person said, as they said it (checked by the node).
    pub said: Said,
    pub at: i64,
}

/// What a person said of something they took part in, as stored. The
/// store's own type rather than the web form it came from, so that the
/// on-disk format changes only here; the field names are those the rows
/// were first written with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Said {
    /// 1 to 5.
    pub rating: u8,
    /// What they will apply.
    #[serde(default)]
    pub apply: String,
    #[serde(default)]
    pub comment: String,
    /// Their skill in what it targeted, 1 to 5, before and after.
    pub before: u8,
    pub after: u8,
}

fn feedback_key(request_id: &str) -> Vec<u8> {
    keys::join(keys::FEEDBACK, &[request_id.as_bytes()])
}

impl Store {
    /// Stores `feedback`, replacing earlier feedback on the same request.
    pub fn put_feedback(&self, feedback: &Feedback) -> Result<()> {
        let mut b = Batch::new();
        b.put(feedback_key(&feedback.request_id), encode_json(feedback));
        self.commit(b)
    }

    pub fn feedback(&self, request_id: &str) -> Result<Option<Feedback>> {
        self.get_json(&feedback_key(request_id))
    }

    pub fn all_feedback(&self) -> Result<Vec<Feedback>> {
        self.scan_json(keys::FEEDBACK)
    }
}
