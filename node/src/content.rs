//! Learning content between people: a curated list (learning path) held
//! here, ours or a partner's, that a person follows and ticks off entry by
//! entry (the progress is theirs alone, see `store::follows`), and items
//! people recommend to colleagues on the same node.

use std::collections::BTreeSet;

use skillmesh_protocol::kinds::ContentType;
use skillmesh_protocol::{Body, OrgKey};

use crate::clock;
use crate::service::{Result, Service, ServiceError};
use crate::store::{Follow, Recommendation};

impl Service {
    /// The entries of the learning path `id` of `org`, with its title, if
    /// this node holds it (not withdrawn).
    fn learning_path(&self, org: &OrgKey, id: &str) -> Result<(String, usize)> {
        let row = self
            .store()
            .get_record(org, id)?
            .filter(|r| !r.tombstone)
            .ok_or_else(|| ServiceError::NotFound("learning path".into()))?;
        match row.record()?.body {
            Body::Content(c) if c.content_type == ContentType::List => Ok((c.title, c.items.len())),
            _ => Err(ServiceError::Invalid(
                "only a learning path (a list) can be followed".into(),
            )),
        }
    }

    /// Our person `person` follows the learning path `id` of `org`
    /// (again: nothing changes).
    pub fn follow_list(&self, person: &str, org: OrgKey, id: &str) -> Result<Follow> {
        if let Some(f) = self.store().follow(person, &org, id)? {
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
        };
        self.store().put_follow(&follow)?;
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
        Ok(self.store().remove_follow(person, &org, id)?)
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
        if let Some(row) = self.store().get_record(org, id)?.filter(|r| !r.tombstone)
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
