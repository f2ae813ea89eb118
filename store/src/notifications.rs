//! Notifications: what happened that a person should know of (a request
//! or a question for them, an answer to theirs, kudos, something waiting
//! for an admin's approval), kept per person, newest first, read or not.
//! A person keeps at most [`KEPT_PER_PERSON`]; the oldest go first.
//! Unread ones are also indexed (`notifnew/`), so the count every page
//! shows is a scan of keys, with nothing decoded.

use serde::{Deserialize, Serialize};

use super::{Result, Store, encode_json, keys};
use crate::storage::Batch;

/// Notifications kept per person.
pub const KEPT_PER_PERSON: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    RequestReceived,
    QuestionReceived,
    RequestAnswered,
    KudosReceived,
    ApprovalWaiting,
}

impl NotificationKind {
    pub const ALL: [NotificationKind; 5] = [
        NotificationKind::RequestReceived,
        NotificationKind::QuestionReceived,
        NotificationKind::RequestAnswered,
        NotificationKind::KudosReceived,
        NotificationKind::ApprovalWaiting,
    ];
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Sorts by time: the time in hex, then a counter.
    pub id: String,
    pub person: String,
    pub kind: NotificationKind,
    /// One sentence, as the page shows it.
    pub text: String,
    /// Where on the node it is about (a path such as `/requests`).
    pub link: String,
    /// Unix seconds.
    pub at: i64,
    #[serde(default)]
    pub read: bool,
    /// Waits to go out in the person's next mail digest.
    #[serde(default)]
    pub in_digest: bool,
}

impl Store {
    /// Adds notifications (for one person or several) in one batch,
    /// dropping each person's oldest beyond [`KEPT_PER_PERSON`].
    pub fn add_notifications(&self, new: &[Notification]) -> Result<()> {
        let _guard = self.lock();
        let mut b = Batch::new();
        let mut people: Vec<&str> = new.iter().map(|n| n.person.as_str()).collect();
        people.sort_unstable();
        people.dedup();
        for person in people {
            let adding = new.iter().filter(|n| n.person == person).count();
            let held: Vec<Vec<u8>> = self
                .kv
                .scan_prefix(&keys::notification(person, ""))
                .map(|r| r.map(|(k, _)| k))
                .collect::<std::result::Result<_, _>>()?;
            let over = (held.len() + adding).saturating_sub(KEPT_PER_PERSON);
            let prefix = keys::notification(person, "").len();
            for key in held.into_iter().take(over) {
                let id = String::from_utf8_lossy(&key[prefix..]).into_owned();
                b.delete(keys::unread_notification(person, &id));
                b.delete(key);
            }
        }
        for n in new {
            b.put(keys::notification(&n.person, &n.id), encode_json(n));
            if !n.read {
                b.put(keys::unread_notification(&n.person, &n.id), Vec::new());
            }
        }
        self.commit(b)
    }

    /// `person`'s notifications, newest first, at most `limit`.
    pub fn notifications_of(&self, person: &str, limit: usize) -> Result<Vec<Notification>> {
        let prefix = keys::notification(person, "");
        let mut found = Vec::new();
        for row in self.kv.scan_prefix(&prefix).rev().take(limit) {
            let (key, value) = row?;
            found.push(super::decode_json(&key, &value)?);
        }
        Ok(found)
    }

    /// How many of `person`'s notifications are unread.
    pub fn unread_notifications(&self, person: &str) -> Result<usize> {
        Ok(self
            .kv
            .scan_prefix(&keys::unread_notification(person, ""))
            .count())
    }

    /// Every notification waiting for a digest, each person's together
    /// (oldest first).
    pub fn waiting_for_digest(&self) -> Result<Vec<Notification>> {
        Ok(self
            .scan_json::<Notification>(keys::NOTIFICATION)?
            .into_iter()
            .filter(|n| n.in_digest)
            .collect())
    }

    /// Takes `sent` out of the digest queue, with the mail that carries
    /// them queued in the same batch: a crash leaves both or neither.
    pub fn digest_queued(&self, sent: &[Notification], mail: &[super::OutgoingMail]) -> Result<()> {
        let _guard = self.lock();
        let mut b = Batch::new();
        for n in sent {
            if let Some(mut held) =
                self.get_json::<Notification>(&keys::notification(&n.person, &n.id))?
            {
                held.in_digest = false;
                b.put(keys::notification(&n.person, &n.id), encode_json(&held));
            }
        }
        for m in mail {
            b.put(keys::mail(&m.id), encode_json(m));
        }
        self.commit(b)
    }

    /// Marks `person`'s notifications read: those in `ids`, or all of
    /// them when `ids` is `None`. Returns how many changed.
    pub fn mark_notifications_read(&self, person: &str, ids: Option<&[String]>) -> Result<usize> {
        let _guard = self.lock();
        let mut b = Batch::new();
        let mut changed = 0;
        for mut n in self.notifications_of(person, KEPT_PER_PERSON)? {
            if n.read || ids.is_some_and(|ids| !ids.contains(&n.id)) {
                continue;
            }
            n.read = true;
            b.put(keys::notification(person, &n.id), encode_json(&n));
            b.delete(keys::unread_notification(person, &n.id));
            changed += 1;
        }
        self.commit(b)?;
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(person: &str, n: usize) -> Notification {
        Notification {
            id: format!("{n:016x}"),
            person: person.into(),
            kind: NotificationKind::RequestReceived,
            text: format!("request {n}"),
            link: "/requests".into(),
            at: 1_000 + n as i64,
            read: false,
            in_digest: false,
        }
    }

    #[test]
    fn newest_first_read_or_not_and_no_more_than_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let many: Vec<Notification> = (0..KEPT_PER_PERSON + 5).map(|n| note("ana", n)).collect();
        store.add_notifications(&many[..10]).expect("add");
        store.add_notifications(&many[10..]).expect("add");
        store.add_notifications(&[note("bo", 1)]).expect("add");
        let ana = store.notifications_of("ana", 3).expect("list");
        let texts: Vec<&str> = ana.iter().map(|n| n.text.as_str()).collect();
        assert_eq!(texts, ["request 204", "request 203", "request 202"]);
        let all = store.notifications_of("ana", usize::MAX).expect("list");
        assert_eq!(all.len(), KEPT_PER_PERSON, "the oldest went");
        assert_eq!(all.last().map(|n| n.text.as_str()), Some("request 5"));
        assert_eq!(
            store.unread_notifications("ana").expect("count"),
            KEPT_PER_PERSON
        );
        let one = vec![all[0].id.clone()];
        assert_eq!(
            store
                .mark_notifications_read("ana", Some(&one))
                .expect("read"),
            1
        );
        assert_eq!(
            store.unread_notifications("ana").expect("count"),
            KEPT_PER_PERSON - 1
        );
        store
            .mark_notifications_read("ana", None)
            .expect("read all");
        assert_eq!(store.unread_notifications("ana").expect("count"), 0);
        assert_eq!(
            store.unread_notifications("bo").expect("count"),
            1,
            "Bo's own"
        );
    }
}
