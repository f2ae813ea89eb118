//! The service layer: every change to the organisation's data and every
//! record that enters or leaves goes through here, so the rules (opt-in,
//! signing, the `seq` rule, the audit log) hold whoever calls: the web
//! layer, the network task, the CLI or the demo.

use std::sync::Arc;

use skillmesh_protocol::{Body, Envelope, Header, OrgKey, RECORD_VERSION, Record, Rejection};

use crate::clock;
use crate::identity::OrgIdentity;
use crate::outbound::expertise_listing;
use crate::store::{AuditEntry, ItemState, OwnItem, Person, PutOutcome, Store, StoreError};

/// How long a published record lives before it must be re-published.
pub const RECORD_LIFETIME_SECS: i64 = 90 * 24 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("record rejected: {0}")]
    Rejected(#[from] Rejection),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// The record id of a person's expertise listing.
pub fn listing_id(person_id: &str) -> String {
    format!("listing-{person_id}")
}

/// The node's services over its store and key.
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    org_name: String,
    identity: OrgIdentity,
    store: Arc<Store>,
}

impl Service {
    pub fn new(org_name: String, identity: OrgIdentity, store: Arc<Store>) -> Self {
        Service {
            inner: Arc::new(Inner {
                org_name,
                identity,
                store,
            }),
        }
    }

    pub fn org_name(&self) -> &str {
        &self.inner.org_name
    }

    pub fn org(&self) -> OrgKey {
        self.inner.identity.org()
    }

    pub fn identity(&self) -> &OrgIdentity {
        &self.inner.identity
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.inner.store
    }

    fn audit(
        &self,
        actor: &str,
        action: &str,
        org: Option<OrgKey>,
        record_id: Option<&str>,
        detail: String,
    ) -> Result<()> {
        self.inner.store.audit(&[AuditEntry {
            at: clock::now(),
            actor: actor.to_string(),
            action: action.to_string(),
            org: org.map(|o| o.to_hex()),
            record_id: record_id.map(str::to_string),
            detail,
        }])?;
        Ok(())
    }

    /// Signs `body` as the next version of our record `id` and stores it.
    fn publish_record(&self, id: &str, body: Body, actor: &str) -> Result<Record> {
        let org = self.org();
        let seq = self
            .inner
            .store
            .get_record(&org, id)?
            .map_or(1, |r| r.seq + 1);
        let now = clock::now();
        let record = Record {
            header: Header {
                version: RECORD_VERSION,
                org,
                id: id.to_string(),
                seq,
                issued_at: now,
                expires_at: now + RECORD_LIFETIME_SECS,
            },
            body,
        };
        let envelope = skillmesh_protocol::seal(&record, self.inner.identity.signing_key())?;
        self.inner.store.put_record(&record, &envelope, now)?;
        let action = if record.kind() == skillmesh_protocol::Kind::Retraction {
            "record_retracted"
        } else {
            "record_published"
        };
        self.audit(
            actor,
            action,
            Some(org),
            Some(id),
            format!("{} seq {seq}", record.kind()),
        )?;
        Ok(record)
    }

    /// Retracts our record `id` if it is published (not already a tombstone).
    fn retract_record(&self, id: &str, actor: &str) -> Result<bool> {
        match self.inner.store.get_record(&self.org(), id)? {
            Some(row) if !row.tombstone => {
                self.publish_record(id, Body::Retraction(Default::default()), actor)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    pub fn add_person(&self, person: &Person, actor: &str) -> Result<()> {
        self.inner.store.add_person(person)?;
        self.audit(actor, "person_added", None, None, person.id.clone())?;
        self.sync_listing(&person.id, actor)
    }

    pub fn update_person(&self, person: &Person, actor: &str) -> Result<()> {
        self.inner.store.update_person(person)?;
        self.sync_listing(&person.id, actor)
    }

    /// Publishes the person's listing as it should now look, or retracts it
    /// when the person shares nothing any more.
    pub fn sync_listing(&self, person_id: &str, actor: &str) -> Result<()> {
        let person = self
            .inner
            .store
            .person(person_id)?
            .ok_or_else(|| ServiceError::NotFound(format!("person {person_id}")))?;
        let id = listing_id(person_id);
        match expertise_listing(&person) {
            Some(listing) => {
                self.publish_record(&id, Body::Expertise(listing), actor)?;
            }
            None => {
                self.retract_record(&id, actor)?;
            }
        }
        Ok(())
    }

    /// Stores a new offer or content item as a draft.
    pub fn create_item(
        &self,
        id: &str,
        owner: Option<&str>,
        body: Body,
        actor: &str,
    ) -> Result<OwnItem> {
        if matches!(
            body,
            Body::Retraction(_) | Body::Expertise(_) | Body::OrgCard(_)
        ) {
            return Err(ServiceError::Invalid(format!(
                "{} is not an offer or content item",
                body.kind()
            )));
        }
        let now = clock::now();
        let item = OwnItem {
            id: id.to_string(),
            owner: owner.map(str::to_string),
            body,
            state: ItemState::Draft,
            published_seq: 0,
            created_at: now,
            updated_at: now,
        };
        skillmesh_protocol::validate::id("id", id)?;
        self.inner.store.add_item(&item)?;
        self.audit(
            actor,
            "item_created",
            None,
            Some(id),
            item.body.kind().to_string(),
        )?;
        Ok(item)
    }

    /// Signs and publishes an item (again, after an edit).
    pub fn publish_item(&self, id: &str, actor: &str) -> Result<OwnItem> {
        let mut item = self
            .inner
            .store
            .item(id)?
            .ok_or_else(|| ServiceError::NotFound(format!("item {id}")))?;
        let record = self.publish_record(id, item.body.clone(), actor)?;
        item.state = ItemState::Published;
        item.published_seq = record.header.seq;
        item.updated_at = clock::now();
        self.inner.store.update_item(&item)?;
        Ok(item)
    }

    /// Sends a retraction for a published item.
    pub fn unpublish_item(&self, id: &str, actor: &str) -> Result<OwnItem> {
        let mut item = self
            .inner
            .store
            .item(id)?
            .ok_or_else(|| ServiceError::NotFound(format!("item {id}")))?;
        self.retract_record(id, actor)?;
        item.state = ItemState::Unpublished;
        item.updated_at = clock::now();
        self.inner.store.update_item(&item)?;
        Ok(item)
    }

    /// Publishes (or re-publishes) the organisation card.
    pub fn publish_org_card(
        &self,
        card: skillmesh_protocol::kinds::OrgCard,
        actor: &str,
    ) -> Result<()> {
        self.publish_record("org-card", Body::OrgCard(card), actor)?;
        Ok(())
    }

    /// Takes an envelope from another organisation: verifies it, applies the
    /// `seq` rule, stores it, and writes the outcome to the audit log.
    pub fn ingest(&self, bytes: &[u8], from: &str) -> Result<PutOutcome> {
        let now = clock::now();
        let record = match skillmesh_protocol::open(bytes, now) {
            Ok(r) => r,
            Err(reason) => {
                let signer = skillmesh_protocol::split(bytes).ok().map(|p| p.signer);
                self.audit(
                    from,
                    "record_rejected",
                    signer,
                    None,
                    format!("{}: {reason}", reason.code()),
                )?;
                return Err(reason.into());
            }
        };
        let envelope = Envelope::from_bytes(bytes.to_vec());
        let outcome = self.inner.store.put_record(&record, &envelope, now)?;
        if outcome.changed() {
            self.audit(
                from,
                "record_received",
                Some(record.header.org),
                Some(&record.header.id),
                format!("{} seq {}", record.kind(), record.header.seq),
            )?;
        }
        Ok(outcome)
    }

    /// Rows held from other organisations, and our own.
    pub fn record_counts(&self) -> Result<(u64, u64)> {
        let org = self.org();
        let mut own = 0;
        let mut federated = 0;
        for (o, n) in self.inner.store.record_counts()? {
            if o == org {
                own += n;
            } else {
                federated += n;
            }
        }
        Ok((federated, own))
    }
}
