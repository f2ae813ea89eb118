//! The organisation's chat webhook: the address an admin set (one
//! incoming-webhook URL of a Slack, Microsoft Teams, Mattermost or
//! Rocket.Chat channel) and the messages waiting to be posted to it.
//!
//! A message is kept until the chat server took it, and retried with a
//! growing wait while it will not, so a server that is down loses
//! nothing. Unlike mail, whose messages go to different people, these
//! all go to one channel in the order they happened: each gets an id
//! that is larger than every id queued before it, and [`Store::due_webhooks`]
//! hands them out oldest first, stopping at the first one still waiting
//! for its retry, so a later message never overtakes an earlier one.
//!
//! Nothing is queued while no address is set, and clearing the address
//! drops what waits (the admin turned the channel off); both happen under
//! the store's write lock, so a message cannot slip in between.

use serde::{Deserialize, Serialize};

use super::{AuditEntry, Result, Store, encode_json, keys};
use crate::storage::Batch;

/// One message for the channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookMessage {
    /// 16 hex digits; ids grow in the order messages were queued.
    pub id: String,
    /// The text posted (as `{"text": ...}`).
    pub text: String,
    /// Unix seconds.
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
    /// The webhook address an admin set, if any.
    pub fn webhook_url(&self) -> Result<Option<String>> {
        Ok(self
            .kv
            .get(keys::META_WEBHOOK_URL)?
            .map(|v| String::from_utf8_lossy(&v).into_owned())
            .filter(|u| !u.is_empty()))
    }

    /// Sets (`Some`) or clears (`None`) the webhook address, with its
    /// audit line (`audit` makes it from how many messages were dropped),
    /// in one batch. Clearing it also drops the messages waiting; returns
    /// how many were dropped.
    pub fn set_webhook_url(
        &self,
        url: Option<&str>,
        audit: impl FnOnce(usize) -> AuditEntry,
    ) -> Result<usize> {
        let _guard = self.lock();
        let mut b = Batch::new();
        let mut dropped = 0;
        match url {
            Some(url) => b.put(keys::META_WEBHOOK_URL, url.as_bytes().to_vec()),
            None => {
                b.delete(keys::META_WEBHOOK_URL);
                for row in self.kv.scan_prefix(keys::WEBHOOK) {
                    let (key, _) = row?;
                    b.delete(key);
                    dropped += 1;
                }
            }
        }
        self.audit_into(&mut b, &[audit(dropped)])?;
        self.commit(b)?;
        Ok(dropped)
    }

    /// Queues `texts`, in this order, after everything queued before, to
    /// be tried from `now` on; nothing while no address is set. Returns
    /// the messages queued.
    pub fn queue_webhooks(&self, texts: &[String], now: i64) -> Result<Vec<WebhookMessage>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let _guard = self.lock();
        if self.webhook_url()?.is_none() {
            return Ok(Vec::new());
        }
        // After the last one queued, and after every id this clock made
        // before: ids grow by time (microseconds, as a floor) and by one
        // within a moment.
        let mut next = u64::try_from(now).unwrap_or(0).saturating_mul(1_000_000);
        if let Some(last) = self.kv.scan_prefix(keys::WEBHOOK).next_back() {
            let (key, _) = last?;
            let id = key.strip_prefix(keys::WEBHOOK).unwrap_or_default();
            if let Some(last) = std::str::from_utf8(id)
                .ok()
                .and_then(|h| u64::from_str_radix(h, 16).ok())
            {
                next = next.max(last.saturating_add(1));
            }
        }
        let mut b = Batch::new();
        let mut queued = Vec::with_capacity(texts.len());
        for text in texts {
            let message = WebhookMessage {
                id: format!("{next:016x}"),
                text: text.clone(),
                created_at: now,
                attempts: 0,
                next_at: now,
                last_error: String::new(),
            };
            b.put(keys::webhook(&message.id), encode_json(&message));
            queued.push(message);
            next = next.saturating_add(1);
        }
        self.commit(b)?;
        Ok(queued)
    }

    /// Up to `limit` messages to post now, oldest first: those due at
    /// `now` from the head of the queue, up to the first that is not (it
    /// goes first once it is, so the channel gets them in order).
    pub fn due_webhooks(&self, now: i64, limit: usize) -> Result<Vec<WebhookMessage>> {
        let mut due = Vec::new();
        for row in self.kv.scan_prefix(keys::WEBHOOK) {
            if due.len() >= limit {
                break;
            }
            let (key, value) = row?;
            let m: WebhookMessage = super::decode_json(&key, &value)?;
            if m.next_at > now {
                break;
            }
            due.push(m);
        }
        Ok(due)
    }

    /// Makes every waiting message due at `now` (an admin changed the
    /// address or asked for a test: no use waiting out the retries of
    /// the old one). Attempts and errors are kept. Returns how many were
    /// waiting for a retry.
    pub fn webhooks_due_now(&self, now: i64) -> Result<usize> {
        let _guard = self.lock();
        let mut b = Batch::new();
        let mut changed = 0;
        for row in self.kv.scan_prefix(keys::WEBHOOK) {
            let (key, value) = row?;
            let mut m: WebhookMessage = super::decode_json(&key, &value)?;
            if m.next_at > now {
                m.next_at = now;
                b.put(key, encode_json(&m));
                changed += 1;
            }
        }
        self.commit(b)?;
        Ok(changed)
    }

    /// Every queued message, oldest first.
    pub fn queued_webhooks(&self) -> Result<Vec<WebhookMessage>> {
        self.scan_json(keys::WEBHOOK)
    }

    /// The chat server took it: it leaves the queue.
    pub fn webhook_sent(&self, id: &str) -> Result<()> {
        let mut b = Batch::new();
        b.delete(keys::webhook(id));
        self.commit(b)
    }

    /// It failed again: kept, to be tried at `next_at`; unless it left
    /// the queue meanwhile (the admin cleared the address while it was
    /// being posted), which it is not put back into.
    pub fn webhook_failed(&self, message: &WebhookMessage) -> Result<()> {
        let _guard = self.lock();
        let key = keys::webhook(&message.id);
        if self.kv.get(&key)?.is_none() {
            return Ok(());
        }
        let mut b = Batch::new();
        b.put(key, encode_json(message));
        self.commit(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audit(dropped: usize) -> AuditEntry {
        AuditEntry {
            at: 1,
            actor: "admin@x.example".into(),
            action: "webhook_changed".into(),
            org: None,
            record_id: None,
            detail: format!("{dropped} dropped"),
            claimed_org: None,
            count: 1,
        }
    }

    fn texts(all: &[&str]) -> Vec<String> {
        all.iter().map(|t| t.to_string()).collect()
    }

    fn texts_of(messages: &[WebhookMessage]) -> Vec<String> {
        messages.iter().map(|m| m.text.clone()).collect()
    }

    #[test]
    fn nothing_is_queued_without_an_address_and_the_address_reads_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        assert_eq!(store.webhook_url().expect("url"), None);
        assert!(
            store
                .queue_webhooks(&texts(&["lost"]), 10)
                .expect("queue")
                .is_empty()
        );
        assert!(store.queued_webhooks().expect("all").is_empty());
        store
            .set_webhook_url(Some("https://chat.example/hook/1"), audit)
            .expect("set");
        assert_eq!(
            store.webhook_url().expect("url").as_deref(),
            Some("https://chat.example/hook/1")
        );
        let audited = store
            .audit_log(&crate::AuditFilter::default())
            .expect("audit");
        assert!(audited.iter().any(|e| e.action == "webhook_changed"));
    }

    #[test]
    fn messages_go_oldest_first_and_a_waiting_one_holds_back_those_after_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        store
            .set_webhook_url(Some("http://127.0.0.1:9/hook"), audit)
            .expect("set");
        // Queued within one second, and across calls: the order holds.
        store
            .queue_webhooks(&texts(&["a", "b"]), 100)
            .expect("queue");
        store.queue_webhooks(&texts(&["c"]), 100).expect("queue");
        // A clock that went back still queues after what waits.
        store.queue_webhooks(&texts(&["d"]), 50).expect("queue");
        assert_eq!(
            texts_of(&store.due_webhooks(100, 10).expect("due")),
            ["a", "b", "c", "d"]
        );
        assert_eq!(
            texts_of(&store.due_webhooks(100, 2).expect("due")),
            ["a", "b"]
        );
        assert!(
            store.due_webhooks(99, 10).expect("due").is_empty(),
            "d is due at 99, but a, ahead of it, is not"
        );

        // "a" fails: it waits until 130, and nothing overtakes it.
        let mut a = store.due_webhooks(100, 1).expect("due").remove(0);
        a.attempts = 1;
        a.next_at = 130;
        a.last_error = "HTTP 500".into();
        store.webhook_failed(&a).expect("failed");
        assert!(store.due_webhooks(129, 10).expect("due").is_empty());
        let due = store.due_webhooks(130, 10).expect("due");
        assert_eq!(texts_of(&due), ["a", "b", "c", "d"]);
        assert_eq!(due[0].attempts, 1);
        assert_eq!(due[0].last_error, "HTTP 500");

        // An admin changes the address: what waits is due at once, its
        // attempts kept.
        let mut a = store.due_webhooks(130, 1).expect("due").remove(0);
        a.next_at = 900;
        store.webhook_failed(&a).expect("failed");
        assert!(store.due_webhooks(140, 10).expect("due").is_empty());
        assert_eq!(store.webhooks_due_now(140).expect("now"), 1);
        let due = store.due_webhooks(140, 10).expect("due");
        assert_eq!(texts_of(&due), ["a", "b", "c", "d"]);
        assert_eq!((due[0].attempts, due[0].next_at), (1, 140));

        // Taken: each leaves the queue alone.
        store.webhook_sent(&due[0].id).expect("sent");
        store.webhook_sent(&due[1].id).expect("sent");
        assert_eq!(texts_of(&store.queued_webhooks().expect("all")), ["c", "d"]);
        // Queued after the rest, even at an earlier time.
        store.queue_webhooks(&texts(&["e"]), 1).expect("queue");
        assert_eq!(
            texts_of(&store.queued_webhooks().expect("all")),
            ["c", "d", "e"]
        );
    }

    #[test]
    fn the_queue_outlives_a_reopen_and_clearing_the_address_drops_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let store = Store::open(dir.path()).expect("open");
            store
                .set_webhook_url(Some("https://chat.example/h"), audit)
                .expect("set");
            store
                .queue_webhooks(&texts(&["one", "two"]), 10)
                .expect("queue");
            let mut one = store.due_webhooks(10, 1).expect("due").remove(0);
            one.attempts = 2;
            one.next_at = 40;
            store.webhook_failed(&one).expect("failed");
        }
        let store = Store::open(dir.path()).expect("reopen");
        assert_eq!(
            store.webhook_url().expect("url").as_deref(),
            Some("https://chat.example/h")
        );
        let kept = store.queued_webhooks().expect("all");
        assert_eq!(texts_of(&kept), ["one", "two"]);
        assert_eq!((kept[0].attempts, kept[0].next_at), (2, 40));
        // New messages still go after those kept.
        store.queue_webhooks(&texts(&["three"]), 5).expect("queue");
        assert_eq!(
            texts_of(&store.queued_webhooks().expect("all")),
            ["one", "two", "three"]
        );

        let dropped = store.set_webhook_url(None, audit).expect("clear");
        assert_eq!(dropped, 3);
        let newest = store
            .audit_log(&crate::AuditFilter::default())
            .expect("audit")
            .remove(0);
        assert_eq!(newest.detail, "3 dropped", "audited with the count");
        assert_eq!(store.webhook_url().expect("url"), None);
        assert!(store.queued_webhooks().expect("all").is_empty());
        // A try that was under way when the address was cleared does not
        // come back.
        store.webhook_failed(&kept[0]).expect("failed");
        assert!(store.queued_webhooks().expect("all").is_empty());
    }
}
