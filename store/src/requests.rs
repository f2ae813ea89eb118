//! Direct requests between organisations: the outbox (what our people
//! asked of other organisations, and the answers) and the inbox (what
//! other organisations' people asked of ours, and our answers). Both keep
//! the signed envelopes, so undelivered ones can be sent again after a
//! restart.

use serde::{Deserialize, Serialize};
use skillmesh_protocol::OrgKey;
use skillmesh_protocol::kinds::{AskFormat, Contact, EventSession, Group};

use super::{Result, Store, StoreError, encode_json, keys, owners};
use crate::storage::Batch;

/// Where one of our requests stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Signed, not yet delivered (the other node was unreachable).
    Waiting,
    /// Delivered: queued in the offering person's inbox.
    Queued,
    Accepted,
    Declined,
    /// The other node refused it (offer closed, full, or we are blocked).
    Refused,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub id: String,
    /// Our person who asked.
    pub requester: String,
    pub offer_org: OrgKey,
    pub offer_id: String,
    pub offer_title: String,
    /// For an event: the session signed up for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// For an event we were invited to contribute to: the session our
    /// admin offered to its programme (not a request for learning: impact
    /// and recognition leave it out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contribution: Option<EventSession>,
    /// For an event we contributed to: the id of our session our admin
    /// took out of its programme (left out like a contribution).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdraw: Option<String>,
    pub goal: String,
    pub status: OutboxStatus,
    /// Why it was refused, or the answer's reply.
    #[serde(default)]
    pub detail: String,
    /// Contact details, present only once accepted.
    #[serde(default)]
    pub contact: Option<Contact>,
    /// For a cohort one was admitted to: the group as the latest answer
    /// described it (goal, schedule, roster).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<Group>,
    /// The `seq` of the answer taken in: a later answer to the same
    /// request (an updated roster) replaces it only with a higher one.
    #[serde(default)]
    pub answer_seq: u64,
    /// The signed request, hex.
    pub envelope: String,
    /// The thank-you our person sent after the session, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kudos: Option<SentKudos>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Kudos our person sent for an accepted request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentKudos {
    pub message: String,
    /// The signed `kudos` record, hex.
    pub envelope: String,
    /// Whether the offering node has taken it.
    pub delivered: bool,
    /// Why the offering node refused it, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
    pub at: i64,
}

/// Kudos one of our people received for a request they accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedKudos {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_name: Option<String>,
    pub at: i64,
}

/// Where a request to one of our people stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InboxStatus {
    Pending,
    Accepted,
    Declined,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxEntry {
    pub from_org: OrgKey,
    pub id: String,
    pub offer_id: String,
    /// Our person who owns the offer.
    pub owner: Option<String>,
    pub requester_name: Option<String>,
    pub goal: String,
    pub preferred_times: String,
    pub message: String,
    /// For a cohort: the requester lets the group see their name.
    #[serde(default)]
    pub name_to_group: bool,
    /// For an event of ours: the session signed up for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// For an event of ours: a session the requesting organisation adds
    /// to its programme.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contribution: Option<EventSession>,
    /// For an event of ours: the id of a session the requesting
    /// organisation added and now takes out of the programme.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdraw: Option<String>,
    /// A question for our person through their listing (`offer_id` is
    /// the listing's id), with the help the asker prefers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ask: Option<AskFormat>,
    pub status: InboxStatus,
    #[serde(default)]
    pub reply: String,
    /// The signed answer, hex, once answered.
    #[serde(default)]
    pub answer: Option<String>,
    /// Whether the requesting node has acknowledged the answer.
    #[serde(default)]
    pub answer_delivered: bool,
    pub received_at: i64,
    #[serde(default)]
    pub answered_at: Option<i64>,
    /// The requester's thank-you after the session, if they sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kudos: Option<ReceivedKudos>,
}

impl OutboxEntry {
    /// Whether this changed an event's programme (a session added or
    /// withdrawn) rather than asked to learn something: impact,
    /// recognition, feedback and kudos leave such entries out.
    pub fn changes_programme(&self) -> bool {
        self.contribution.is_some() || self.withdraw.is_some()
    }
}

impl InboxEntry {
    /// See [`OutboxEntry::changes_programme`].
    pub fn changes_programme(&self) -> bool {
        self.contribution.is_some() || self.withdraw.is_some()
    }
}

fn outbox_key(id: &str) -> Vec<u8> {
    keys::join(keys::OUTBOX, &[id.as_bytes()])
}

fn inbox_key(org: &OrgKey, id: &str) -> Vec<u8> {
    keys::join(keys::INBOX, &[org.as_bytes(), id.as_bytes()])
}

impl Store {
    pub fn put_outbox(&self, entry: &OutboxEntry) -> Result<()> {
        let mut b = Batch::new();
        b.put(outbox_key(&entry.id), encode_json(entry));
        // An entry's requester never changes, so its index row is put
        // again as it was (readers check the requester all the same).
        b.put(
            owners::outbox_index(&entry.requester, &entry.id),
            Vec::new(),
        );
        self.commit(b)
    }

    pub fn outbox_entry(&self, id: &str) -> Result<Option<OutboxEntry>> {
        self.get_json(&outbox_key(id))
    }

    pub fn outbox(&self) -> Result<Vec<OutboxEntry>> {
        self.scan_json(keys::OUTBOX)
    }

    /// Stores a new inbox entry; returns false (and changes nothing) if
    /// the same request is already there.
    pub fn add_inbox(&self, entry: &InboxEntry) -> Result<bool> {
        let _guard = self.lock();
        let key = inbox_key(&entry.from_org, &entry.id);
        if self.kv.get(&key)?.is_some() {
            return Ok(false);
        }
        let mut b = Batch::new();
        b.put(key, encode_json(entry));
        b.put(
            owners::offer_index(&entry.offer_id, &entry.from_org, &entry.id),
            Vec::new(),
        );
        if let Some(owner) = &entry.owner {
            b.put(
                owners::inbox_index(owner, &entry.from_org, &entry.id),
                Vec::new(),
            );
        }
        self.commit(b)?;
        Ok(true)
    }

    pub fn update_inbox(&self, entry: &InboxEntry) -> Result<()> {
        let _guard = self.lock();
        let key = inbox_key(&entry.from_org, &entry.id);
        let Some(old) = self.get_json::<InboxEntry>(&key)? else {
            return Err(StoreError::NotFound(format!("request {}", entry.id)));
        };
        let index = |e: &InboxEntry| {
            (e.owner.as_deref()).map(|o| owners::inbox_index(o, &e.from_org, &e.id))
        };
        let mut b = Batch::new();
        b.put(key, encode_json(entry));
        owners::reindex(&mut b, index(&old), index(entry));
        self.commit(b)
    }

    pub fn inbox_entry(&self, org: &OrgKey, id: &str) -> Result<Option<InboxEntry>> {
        self.get_json(&inbox_key(org, id))
    }

    pub fn inbox(&self) -> Result<Vec<InboxEntry>> {
        self.scan_json(keys::INBOX)
    }
}
