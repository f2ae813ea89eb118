//! What each person wants to learn, in their own words: private to this
//! node. Nothing here is ever put in a record; suggestions are ranked from
//! it locally (the node's matching).

use serde::{Deserialize, Serialize};
use skillmesh_protocol::kinds::Format;

use super::{Result, Store, encode_json, keys};
use crate::storage::Batch;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Goals {
    pub goals: String,
    pub topics: Vec<String>,
    pub formats: Vec<Format>,
    pub languages: Vec<String>,
    pub max_hours_apart: Option<u8>,
    pub updated_at: i64,
}

impl Goals {
    pub fn is_empty(&self) -> bool {
        self.goals.trim().is_empty() && self.topics.is_empty()
    }
}

fn goal_key(person: &str) -> Vec<u8> {
    keys::join(keys::GOAL, &[person.as_bytes()])
}

impl Store {
    pub fn goals(&self, person: &str) -> Result<Goals> {
        Ok(self.get_json(&goal_key(person))?.unwrap_or_default())
    }

    pub fn set_goals(&self, person: &str, goals: &Goals) -> Result<()> {
        let mut b = Batch::new();
        b.put(goal_key(person), encode_json(goals));
        self.commit(b)
    }

    /// Every person's goals (for aggregate demand only).
    pub fn all_goals(&self) -> Result<Vec<Goals>> {
        self.scan_json(keys::GOAL)
    }
}
