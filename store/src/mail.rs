//! Mail waiting to go out: each message is kept until the mail server
//! took it, and retried with a growing wait while it will not, so a mail
//! server that is down loses nothing. Kept by id (time, then random), so
//! the oldest goes first.

use serde::{Deserialize, Serialize};

use super::{Result, Store, encode_json, keys};
use crate::storage::Batch;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingMail {
    pub id: String,
    /// The address, as the person's account has it.
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub created_at: i64,
    /// Failed tries so far.
    #[serde(default)]
    pub attempts: u32,
    /// Not before (unix seconds).
    pub next_at: i64,
    #[serde(default)]
    pub last_error: String,
}

impl Store {
    /// Queues `mail` (several in one batch).
    pub fn queue_mail(&self, mail: &[OutgoingMail]) -> Result<()> {
        let mut b = Batch::new();
        for m in mail {
            b.put(keys::mail(&m.id), encode_json(m));
        }
        self.commit(b)
    }

    /// Up to `limit` queued messages due at `now`, oldest first.
    pub fn due_mail(&self, now: i64, limit: usize) -> Result<Vec<OutgoingMail>> {
        let mut due = Vec::new();
        for row in self.kv.scan_prefix(keys::MAIL) {
            let (key, value) = row?;
            let m: OutgoingMail = super::decode_json(&key, &value)?;
            if m.next_at <= now {
                due.push(m);
                if due.len() >= limit {
                    break;
                }
            }
        }
        Ok(due)
    }

    /// Every queued message.
    pub fn queued_mail(&self) -> Result<Vec<OutgoingMail>> {
        self.scan_json(keys::MAIL)
    }

    /// The server took it: it leaves the queue.
    pub fn mail_sent(&self, id: &str) -> Result<()> {
        let mut b = Batch::new();
        b.delete(keys::mail(id));
        self.commit(b)
    }

    /// It failed again: kept, to be tried at `next_at`.
    pub fn mail_failed(&self, mail: &OutgoingMail) -> Result<()> {
        self.queue_mail(std::slice::from_ref(mail))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_mail_outlives_a_reopen_and_leaves_only_when_sent() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mail = |id: &str, next_at: i64| OutgoingMail {
            id: id.into(),
            to: "ana@x.example".into(),
            subject: "s".into(),
            text: "t".into(),
            html: "<p>t</p>".into(),
            created_at: 1,
            attempts: 0,
            next_at,
            last_error: String::new(),
        };
        {
            let store = Store::open(dir.path()).expect("open");
            store
                .queue_mail(&[mail("a", 10), mail("b", 50)])
                .expect("queue");
        }
        let store = Store::open(dir.path()).expect("reopen");
        let due: Vec<String> = store
            .due_mail(20, 10)
            .expect("due")
            .into_iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(due, ["a"]);
        let mut later = mail("a", 100);
        later.attempts = 1;
        store.mail_failed(&later).expect("failed");
        assert!(
            store
                .due_mail(60, 10)
                .expect("due")
                .iter()
                .all(|m| m.id == "b")
        );
        store.mail_sent("b").expect("sent");
        assert_eq!(store.queued_mail().expect("all"), [later]);
    }
}
