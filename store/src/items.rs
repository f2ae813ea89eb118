//! The organisation's own offers (talks, mentoring, cohorts, events) and
//! content, as its people wrote them, with their publication state. What is
//! actually published lives, signed, in the records table.

use serde::{Deserialize, Serialize};
use skillmesh_protocol::Body;

use super::{AuditEntry, Result, Store, StoreError, encode_json, keys, owners};
use crate::storage::Batch;

/// Where an item stands on its way out of the organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    /// Only visible inside the organisation.
    Draft,
    /// Waiting for an admin to approve publication.
    PendingApproval,
    /// Signed and shared with other organisations.
    Published,
    /// Was published; a retraction has been sent.
    Unpublished,
}

/// An offer or content item owned by one of the organisation's people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnItem {
    /// Also the record id when published.
    pub id: String,
    /// The person who owns it, or `None` for the organisation itself.
    pub owner: Option<String>,
    #[serde(flatten)]
    pub body: Body,
    pub state: ItemState,
    /// The `seq` of the last record published for it (0: never).
    #[serde(default)]
    pub published_seq: u64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl OwnItem {
    /// Content kept inside the organisation: a content item not (or no
    /// longer) published. Our people see it and find it on this node;
    /// nothing of it is signed or leaves.
    pub fn kept_inside(&self) -> bool {
        matches!(self.body, Body::Content(_)) && self.state != ItemState::Published
    }
}

impl Store {
    pub fn add_item(&self, item: &OwnItem) -> Result<()> {
        self.add_item_audited(item, &[])
    }

    /// Adds `item` and the audit entries that record it in one batch: both
    /// or neither, so a write that fails (a full disk) leaves nothing.
    pub fn add_item_audited(&self, item: &OwnItem, audit: &[AuditEntry]) -> Result<()> {
        let _guard = self.lock();
        let key = keys::item(&item.id);
        if self.kv.get(&key)?.is_some() {
            return Err(StoreError::AlreadyExists(format!("item {}", item.id)));
        }
        let mut b = Batch::new();
        b.put(key, encode_json(item));
        owners::reindex(&mut b, None, item_index(item));
        self.audit_into(&mut b, audit)?;
        self.commit(b)
    }

    pub fn update_item(&self, item: &OwnItem) -> Result<()> {
        let _guard = self.lock();
        let key = keys::item(&item.id);
        let Some(old) = self.get_json::<OwnItem>(&key)? else {
            return Err(StoreError::NotFound(format!("item {}", item.id)));
        };
        let mut b = Batch::new();
        b.put(key, encode_json(item));
        owners::reindex(&mut b, item_index(&old), item_index(item));
        self.commit(b)
    }

    pub fn item(&self, id: &str) -> Result<Option<OwnItem>> {
        self.get_json(&keys::item(id))
    }

    pub fn items(&self) -> Result<Vec<OwnItem>> {
        self.scan_json(keys::ITEM)
    }

    pub fn delete_item(&self, id: &str) -> Result<()> {
        let _guard = self.lock();
        let key = keys::item(id);
        let old = self.get_json::<OwnItem>(&key)?;
        let mut b = Batch::new();
        b.delete(key);
        owners::reindex(&mut b, old.as_ref().and_then(item_index), None);
        self.commit(b)
    }
}

/// The per-owner index row of `item`, if a person owns it.
fn item_index(item: &OwnItem) -> Option<Vec<u8>> {
    (item.owner.as_deref()).map(|o| owners::item_index(o, &item.id))
}
