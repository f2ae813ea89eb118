//! Per-owner keys: which inbox entries, outbox entries and items belong to
//! which of our people, so "my requests" and "my offers" read one
//! person's rows instead of scanning whole tables; and which inbox entries
//! ask for which offer, so admitting a request to a cohort or a mentor
//! reads that offer's requests, not the whole inbox.
//!
//! Each index row is `prefix + owner + 0x00 + the row's own key tail`
//! with an empty value: `inown/` (owner, then the `inbox/` tail: org key
//! and request id), `outreq/` (requester, then the `outbox/` tail: the
//! request id), `itemown/` (owner, then the `item/` tail: the item id)
//! and `inoffer/` (the offer id, then the `inbox/` tail). Rows are written
//! in the same batch as the row they point to, so the index never
//! disagrees with the table after a crash; schema 6 builds the owners'
//! rows for stores written before (see [`index_all`]) and schema 7 the
//! offers' ([`index_inbox_by_offer`]).

use serde::de::DeserializeOwned;
use skillmesh_protocol::OrgKey;

use super::{InboxEntry, OutboxEntry, OwnItem, Result, Store, decode_json, keys};
use crate::storage::{Batch, Kv};

/// The separator after the owner: person ids never hold a NUL byte, and a
/// row read through the index is checked against its owner all the same.
const END_OF_OWNER: &[u8] = &[0];

fn owner_prefix(prefix: &[u8], owner: &str) -> Vec<u8> {
    keys::join(prefix, &[owner.as_bytes(), END_OF_OWNER])
}

pub(super) fn inbox_index(owner: &str, org: &OrgKey, id: &str) -> Vec<u8> {
    keys::join(
        keys::INBOX_BY_OWNER,
        &[
            owner.as_bytes(),
            END_OF_OWNER,
            org.as_bytes(),
            id.as_bytes(),
        ],
    )
}

/// The row that lists an inbox entry under the offer it asks for. An
/// entry's offer never changes, so the row is written once, with it.
pub(super) fn offer_index(offer_id: &str, org: &OrgKey, id: &str) -> Vec<u8> {
    keys::join(
        keys::INBOX_BY_OFFER,
        &[
            offer_id.as_bytes(),
            END_OF_OWNER,
            org.as_bytes(),
            id.as_bytes(),
        ],
    )
}

pub(super) fn outbox_index(requester: &str, id: &str) -> Vec<u8> {
    keys::join(
        keys::OUTBOX_BY_REQUESTER,
        &[requester.as_bytes(), END_OF_OWNER, id.as_bytes()],
    )
}

pub(super) fn item_index(owner: &str, id: &str) -> Vec<u8> {
    keys::join(
        keys::ITEM_BY_OWNER,
        &[owner.as_bytes(), END_OF_OWNER, id.as_bytes()],
    )
}

/// Points the index at an entry's owner in `b`: the old owner's row goes
/// when the owner changed (or is gone), the new one is put.
pub(super) fn reindex(b: &mut Batch, old: Option<Vec<u8>>, new: Option<Vec<u8>>) {
    if let Some(old) = old
        && new.as_ref() != Some(&old)
    {
        b.delete(old);
    }
    if let Some(new) = new {
        b.put(new, Vec::new());
    }
}

/// Migration 5 → 6: the per-owner index rows of every inbox entry,
/// outbox entry and item already stored.
pub(super) fn index_all(kv: &dyn Kv) -> Result<Batch> {
    let mut b = Batch::new();
    for row in kv.scan_prefix(keys::INBOX) {
        let (k, v) = row?;
        let e: InboxEntry = decode_json(&k, &v)?;
        if let Some(owner) = &e.owner {
            b.put(inbox_index(owner, &e.from_org, &e.id), Vec::new());
        }
    }
    for row in kv.scan_prefix(keys::OUTBOX) {
        let (k, v) = row?;
        let e: OutboxEntry = decode_json(&k, &v)?;
        b.put(outbox_index(&e.requester, &e.id), Vec::new());
    }
    for row in kv.scan_prefix(keys::ITEM) {
        let (k, v) = row?;
        let i: OwnItem = decode_json(&k, &v)?;
        if let Some(owner) = &i.owner {
            b.put(item_index(owner, &i.id), Vec::new());
        }
    }
    Ok(b)
}

/// Migration 6 → 7: the per-offer index rows of every inbox entry already
/// stored.
pub(super) fn index_inbox_by_offer(kv: &dyn Kv) -> Result<Batch> {
    let mut b = Batch::new();
    for row in kv.scan_prefix(keys::INBOX) {
        let (k, v) = row?;
        let e: InboxEntry = decode_json(&k, &v)?;
        b.put(offer_index(&e.offer_id, &e.from_org, &e.id), Vec::new());
    }
    Ok(b)
}

impl Store {
    /// The rows of `table` that the index `by` lists under `owner`, kept
    /// only where `belongs` agrees (a row is read through its own key).
    fn owned<T: DeserializeOwned>(
        &self,
        by: &[u8],
        table: &[u8],
        owner: &str,
        belongs: impl Fn(&T) -> bool,
    ) -> Result<Vec<T>> {
        let prefix = owner_prefix(by, owner);
        let mut out = Vec::new();
        for row in self.kv.scan_prefix(&prefix) {
            let (k, _) = row?;
            let key = keys::join(table, &[&k[prefix.len()..]]);
            if let Some(v) = self.kv.get(&key)? {
                let t: T = decode_json(&key, &v)?;
                if belongs(&t) {
                    out.push(t);
                }
            }
        }
        Ok(out)
    }

    /// The inbox entries addressed to our person `owner`.
    pub fn inbox_of(&self, owner: &str) -> Result<Vec<InboxEntry>> {
        self.owned(
            keys::INBOX_BY_OWNER,
            keys::INBOX,
            owner,
            |e: &InboxEntry| e.owner.as_deref() == Some(owner),
        )
    }

    /// The inbox entries that ask for our offer `offer_id`.
    pub fn inbox_for_offer(&self, offer_id: &str) -> Result<Vec<InboxEntry>> {
        self.owned(
            keys::INBOX_BY_OFFER,
            keys::INBOX,
            offer_id,
            |e: &InboxEntry| e.offer_id == offer_id,
        )
    }

    /// The outbox entries our person `requester` sent.
    pub fn outbox_of(&self, requester: &str) -> Result<Vec<OutboxEntry>> {
        self.owned(
            keys::OUTBOX_BY_REQUESTER,
            keys::OUTBOX,
            requester,
            |e: &OutboxEntry| e.requester == requester,
        )
    }

    /// The items our person `owner` owns.
    pub fn items_of(&self, owner: &str) -> Result<Vec<OwnItem>> {
        self.owned(keys::ITEM_BY_OWNER, keys::ITEM, owner, |i: &OwnItem| {
            i.owner.as_deref() == Some(owner)
        })
    }
}
