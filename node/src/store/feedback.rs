//! What our people said after a session, cohort or mentoring they took
//! part in: private to this node. Only aggregates of it are ever shown to
//! admins (the impact dashboard); no record carries it.

use serde::{Deserialize, Serialize};
use skillmesh_protocol::OrgKey;
use skillmesh_web::FeedbackForm;

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
    pub said: FeedbackForm,
    pub at: i64,
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
