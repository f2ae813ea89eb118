//! Learning content between people: a curated list (learning path) held
//! here, ours or a partner's, that a person follows and ticks off entry by
//! entry (the progress is theirs alone, see `store::follows`), and items
//! people recommend to colleagues on the same node.
//!
//! Who follows a partner's list stays here. A person may let the list's
//! organisation know that someone here follows it; the node then tells
//! that organisation how many of our people who chose so follow it (a
//! signed `follower_count`, sent directly, never who), so the list's
//! curator is credited for it there (see `recognition`).

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};
use skillmesh_protocol::kinds::{ContentType, FollowerCount};
use skillmesh_protocol::{Body, OrgKey, Rejection};

use crate::clock;
use crate::members::Caller;
use crate::policy::Admission;
use crate::requests::{PeerOutcome, Refusal, open_direct};
use crate::service::{Result, Service, ServiceError};
use crate::store::Actor;
use crate::store::{AuditAction, Follow, ReceivedCount, Recommendation, SentCount};

/// The id of our `follower_count` records for the list `list_id` of
/// `list_org`: one per list, so each count replaces the last.
fn follower_count_id(list_org: &OrgKey, list_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(list_org.as_bytes());
    h.update(list_id.as_bytes());
    format!("followers-{}", &hex::encode(h.finalize())[..24])
}

impl Service {
    /// The entries of the learning path `id` of `org`, with its title, if
    /// this node holds it (not withdrawn).
    fn learning_path(&self, org: &OrgKey, id: &str) -> Result<(String, usize)> {
        let row = self
            .visible_record(org, id)?
            .ok_or_else(|| ServiceError::NotFound("learning path".into()))?;
        match row.record()?.body {
            Body::Content(c) if c.content_type == ContentType::List => Ok((c.title, c.items.len())),
            _ => Err(ServiceError::Invalid(
                "only a learning path (a list) can be followed".into(),
            )),
        }
    }

    /// What the caller follows.
    pub fn own_follows(&self, caller: &Caller) -> Result<Vec<Follow>> {
        let Some(person) = caller.person_id.as_deref() else {
            return Ok(Vec::new());
        };
        Ok(self.store().follows_of(person)?)
    }

    /// The caller's following of the list `id` of `org`, if they follow it.
    pub fn own_follow(&self, caller: &Caller, org: &OrgKey, id: &str) -> Result<Option<Follow>> {
        let Some(person) = caller.person_id.as_deref() else {
            return Ok(None);
        };
        Ok(self.store().follow(person, org, id)?)
    }

    /// What colleagues recommended to the caller.
    pub fn own_recommendations(&self, caller: &Caller) -> Result<Vec<Recommendation>> {
        let Some(person) = caller.person_id.as_deref() else {
            return Ok(Vec::new());
        };
        Ok(self.store().recommendations_to(person)?)
    }

    /// Our person `person` follows the learning path `id` of `org`
    /// (again: only `tell_curator` may change). `tell_curator`: whether
    /// the list's organisation may count them among its followers (never
    /// who they are).
    pub fn follow_list(
        &self,
        person: &str,
        org: OrgKey,
        id: &str,
        tell_curator: bool,
    ) -> Result<Follow> {
        if let Some(mut f) = self.store().follow(person, &org, id)? {
            if f.tell_curator != tell_curator {
                f.tell_curator = tell_curator;
                self.store().put_follow(&f)?;
                self.update_follower_count(org, id)?;
            }
            return Ok(f);
        }
        let (title, _) = self.learning_path(&org, id)?;
        let follow = Follow {
            person: person.to_string(),
            org,
            id: id.to_string(),
            title,
            done: BTreeSet::new(),
            at: clock::now(),
            tell_curator,
        };
        self.store().put_follow(&follow)?;
        self.update_follower_count(org, id)?;
        // Following one of our lists is its curator's credit.
        if org == self.org()
            && let Some(owner) = self.store().item(id)?.and_then(|i| i.owner)
        {
            self.recognition_changed(&owner)?;
        }
        Ok(follow)
    }

    /// Our person stops following it, and forgets the progress.
    pub fn unfollow_list(&self, person: &str, org: OrgKey, id: &str) -> Result<()> {
        self.store().remove_follow(person, &org, id)?;
        self.update_follower_count(org, id)
    }

    /// Signs, for the courier to deliver, how many of our people who let
    /// the list's organisation know follow the list `id` of `org`, if that
    /// changed since we last told it (nothing for a list of ours: its
    /// follows are here).
    fn update_follower_count(&self, org: OrgKey, id: &str) -> Result<()> {
        if org == self.org() {
            return Ok(());
        }
        let _deliveries = self.answer_guard();
        let followers = self
            .store()
            .all_follows()?
            .iter()
            .filter(|f| f.org == org && f.id == id && f.tell_curator)
            .count();
        let followers = u32::try_from(followers).unwrap_or(u32::MAX);
        let last = self.store().sent_count(&org, id)?;
        if last.as_ref().map_or(0, |c| c.followers) == followers {
            return Ok(());
        }
        let seq = last.as_ref().map_or(1, |c| c.seq + 1);
        let envelope = self.sign_direct(
            &follower_count_id(&org, id),
            seq,
            Body::FollowerCount(FollowerCount {
                list_org: org,
                list_id: id.to_string(),
                followers,
            }),
        )?;
        self.store().put_sent_count(&SentCount {
            list_org: org,
            list_id: id.to_string(),
            seq,
            followers,
            envelope: hex::encode(envelope),
            delivered: false,
            refused: None,
        })?;
        self.deliveries_changed();
        Ok(())
    }

    /// Records what the list's node said of our follower count `envelope`
    /// for its list `id` (a newer count signed since stays to be sent).
    pub(crate) fn follower_count_delivered(
        &self,
        org: &OrgKey,
        id: &str,
        envelope: &[u8],
        outcome: std::result::Result<(), String>,
    ) -> Result<()> {
        let _deliveries = self.answer_guard();
        if let Some(mut c) = self.store().sent_count(org, id)?
            && c.envelope == hex::encode(envelope)
        {
            if let Err(reason) = &outcome {
                tracing::warn!(org = %org.short(), list = %id, %reason, "the list's node refused our follower count");
            }
            c.delivered = true;
            c.refused = outcome.err();
            self.store().put_sent_count(&c)?;
        }
        Ok(())
    }

    /// Another node tells us how many of its people follow one of our
    /// lists: kept (the newest count per organisation and list), and its
    /// curator's recognition counts it.
    pub fn receive_follower_count(&self, bytes: &[u8], sender: OrgKey) -> PeerOutcome<()> {
        let outcome = self.take_follower_count(bytes, sender)?;
        match &outcome {
            Ok(Some(owner)) => self.recognition_changed(owner)?,
            Ok(None) => {}
            Err(r) => self.audit(
                &Actor::Org(sender),
                AuditAction::FollowerCountRefused,
                Some(sender),
                None,
                r.to_string(),
            )?,
        }
        Ok(outcome.map(|_| ()))
    }

    /// Stores a follower count; the curator of the list, or `None` when
    /// nothing changed (a count seen before, or the list has no curator).
    fn take_follower_count(&self, bytes: &[u8], sender: OrgKey) -> PeerOutcome<Option<String>> {
        let record = match open_direct(bytes, sender) {
            Ok(r) => r,
            Err(r) => return Ok(Err(r)),
        };
        let Body::FollowerCount(count) = record.body else {
            return Ok(Err(Refusal::Invalid(Rejection::UnknownKind(
                record.kind().to_string(),
            ))));
        };
        if count.list_org != self.org() {
            return Ok(Err(Refusal::NotForUs));
        }
        if self.admission(&sender)? != Admission::Accept {
            return Ok(Err(Refusal::NotAdmitted));
        }
        let Some(item) = self
            .store()
            .item(&count.list_id)?
            .filter(|i| matches!(&i.body, Body::Content(c) if c.content_type == ContentType::List))
        else {
            return Ok(Err(Refusal::NoSuchList));
        };
        let _deliveries = self.answer_guard();
        if let Some(held) = self.store().received_count(&count.list_id, &sender)?
            && held.seq >= record.header.seq
        {
            return Ok(Ok(None));
        }
        self.store().put_received_count(&ReceivedCount {
            from_org: sender,
            list_id: count.list_id.clone(),
            seq: record.header.seq,
            followers: count.followers,
            at: clock::now(),
        })?;
        self.audit(
            &Actor::Org(sender),
            AuditAction::FollowerCountReceived,
            Some(sender),
            Some(&count.list_id),
            count.followers.to_string(),
        )?;
        Ok(Ok(item.owner))
    }

    /// Our person's progress on a list they follow: the entries done.
    pub fn tick_off(&self, person: &str, org: OrgKey, id: &str, done: &[u16]) -> Result<Follow> {
        let mut follow = self
            .store()
            .follow(person, &org, id)?
            .ok_or_else(|| ServiceError::Invalid("follow the list first".into()))?;
        let (_, entries) = self.learning_path(&org, id)?;
        if let Some(n) = done.iter().find(|n| usize::from(**n) >= entries) {
            return Err(ServiceError::Invalid(format!(
                "the list has no entry {}",
                u32::from(*n) + 1
            )));
        }
        follow.done = done.iter().copied().collect();
        self.store().put_follow(&follow)?;
        Ok(follow)
    }

    /// The title of content `id` of `org` that our people can see: a
    /// record held here, or one of our own items kept inside the
    /// organisation.
    pub fn content_title(&self, org: &OrgKey, id: &str) -> Result<String> {
        if let Some(row) = self.visible_record(org, id)?
            && let Body::Content(c) = row.record()?.body
        {
            return Ok(c.title);
        }
        if *org == self.org()
            && let Some(item) = self.store().item(id)?
            && let Body::Content(c) = item.body
        {
            return Ok(c.title);
        }
        Err(ServiceError::NotFound("content".into()))
    }

    /// Our person `from` recommends content to colleague `to`, with a note.
    pub fn recommend(
        &self,
        from: &str,
        to: &str,
        org: OrgKey,
        id: &str,
        note: &str,
    ) -> Result<Recommendation> {
        if from == to {
            return Err(ServiceError::Invalid(
                "recommend it to a colleague, not to yourself".into(),
            ));
        }
        if self.store().person(to)?.is_none() {
            return Err(ServiceError::NotFound("colleague".into()));
        }
        let note = note.trim();
        if note.len() > skillmesh_protocol::limits::MAX_TEXT_BYTES {
            return Err(ServiceError::Invalid("keep the note shorter".into()));
        }
        let r = Recommendation {
            from: from.to_string(),
            to: to.to_string(),
            org,
            id: id.to_string(),
            title: self.content_title(&org, id)?,
            note: note.to_string(),
            at: clock::now(),
        };
        self.store().put_recommendation(&r)?;
        self.recognition_changed(from)?;
        Ok(r)
    }
}
