//! Retention: finished requests and old notifications are deleted after
//! the time the configuration keeps them (`privacy.requests_retention_days`,
//! `privacy.notifications_retention_days`), by the node's hourly
//! housekeeping.
//!
//! A request is finished when nothing more will happen to it: an inbox
//! entry answered (accepted or declined) whose answer was delivered, an
//! outbox entry answered or refused (accepted, declined, refused) whose
//! kudos, if any, went out or were refused. Pending inbox entries and
//! waiting or queued outbox entries are never deleted, however old.
//! Index rows (`inown/`, `inoffer/`, `outreq/`, `notifnew/`) go in the same
//! batch as the row they point to.
//!
//! Deleting is done in batches of at most [`PURGE_BATCH`] rows, each under
//! the write lock and each row read again under it, so a request answered
//! or a notification changed meanwhile is judged as it is now.

use serde::de::DeserializeOwned;

use super::{InboxEntry, InboxStatus, Notification, OutboxEntry, OutboxStatus, Result, Store};
use super::{keys, owners};
use crate::storage::Batch;

/// Most rows deleted in one batch.
pub const PURGE_BATCH: usize = 1_000;

impl InboxEntry {
    /// When nothing more will happen to this request (answered and the
    /// answer delivered, kudos included), or `None` while something may.
    pub fn finished_at(&self) -> Option<i64> {
        if self.status == InboxStatus::Pending || !self.answer_delivered {
            return None;
        }
        let answered = self.answered_at.unwrap_or(self.received_at);
        Some(self.kudos.as_ref().map_or(answered, |k| k.at.max(answered)))
    }
}

impl OutboxEntry {
    /// When nothing more will happen to this request (answered or refused,
    /// and kudos sent with it delivered or refused), or `None` while
    /// something may.
    pub fn finished_at(&self) -> Option<i64> {
        match self.status {
            OutboxStatus::Waiting | OutboxStatus::Queued => None,
            OutboxStatus::Accepted | OutboxStatus::Declined | OutboxStatus::Refused => {
                match &self.kudos {
                    Some(k) if !k.delivered && k.refused.is_none() => None,
                    Some(k) => Some(self.updated_at.max(k.at)),
                    None => Some(self.updated_at),
                }
            }
        }
    }
}

impl Store {
    /// Deletes inbox and outbox entries that finished before `cutoff`
    /// (unix seconds), with their index rows, except those `keep_inbox` or
    /// `keep_outbox` says are still needed (asked only of entries that
    /// would go; the caller knows, say, which events are still to come);
    /// returns how many went.
    pub fn purge_finished_requests_before(
        &self,
        cutoff: i64,
        keep_inbox: impl Fn(&InboxEntry) -> bool,
        keep_outbox: impl Fn(&OutboxEntry) -> bool,
    ) -> Result<usize> {
        let old = |finished: Option<i64>| finished.is_some_and(|at| at < cutoff);
        let inbox = self.purge_rows::<InboxEntry>(
            keys::INBOX,
            |e| old(e.finished_at()) && !keep_inbox(e),
            |b, key, e| {
                b.delete(owners::offer_index(&e.offer_id, &e.from_org, &e.id));
                if let Some(owner) = &e.owner {
                    b.delete(owners::inbox_index(owner, &e.from_org, &e.id));
                }
                b.delete(key);
            },
        )?;
        let outbox = self.purge_rows::<OutboxEntry>(
            keys::OUTBOX,
            |e| old(e.finished_at()) && !keep_outbox(e),
            |b, key, e| {
                b.delete(owners::outbox_index(&e.requester, &e.id));
                b.delete(key);
            },
        )?;
        Ok(inbox + outbox)
    }

    /// Deletes notifications from before `cutoff` (unix seconds), read or
    /// not, with their unread index rows; returns how many.
    pub fn purge_notifications_before(&self, cutoff: i64) -> Result<usize> {
        self.purge_rows::<Notification>(
            keys::NOTIFICATION,
            |n| n.at < cutoff,
            |b, key, n| {
                b.delete(keys::unread_notification(&n.person, &n.id));
                b.delete(key);
            },
        )
    }

    /// Deletes the rows under `prefix` that `expired` picks, `delete`
    /// adding each one's deletions to the batch. Keys are gathered first
    /// (without the lock, so writers are not held up by the scan), then
    /// deleted in batches, each row read again under the lock. A row that
    /// does not decode is left alone (and logged by whoever reads it).
    fn purge_rows<T: DeserializeOwned>(
        &self,
        prefix: &[u8],
        expired: impl Fn(&T) -> bool,
        delete: impl Fn(&mut Batch, Vec<u8>, &T),
    ) -> Result<usize> {
        let mut candidates: Vec<Vec<u8>> = Vec::new();
        for row in self.kv.scan_prefix(prefix) {
            let (key, value) = row?;
            if serde_json::from_slice::<T>(&value).is_ok_and(|v| expired(&v)) {
                candidates.push(key);
            }
        }
        let mut total = 0;
        for chunk in candidates.chunks(PURGE_BATCH) {
            let _guard = self.lock();
            let mut b = Batch::new();
            for key in chunk {
                let Some(value) = self.kv.get(key)? else {
                    continue;
                };
                let Ok(row) = serde_json::from_slice::<T>(&value) else {
                    continue;
                };
                if expired(&row) {
                    delete(&mut b, key.clone(), &row);
                    total += 1;
                }
            }
            self.commit(b)?;
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use skillmesh_protocol::OrgKey;

    use super::*;
    use crate::{NotificationKind, SentKudos};

    const DAY: i64 = 86_400;
    const NOW: i64 = 1_000 * DAY;
    const CUTOFF: i64 = NOW - 30 * DAY;
    const OLD: i64 = CUTOFF - DAY;
    const RECENT: i64 = CUTOFF + DAY;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        (dir, store)
    }

    fn inbox(id: &str, status: InboxStatus, answered_at: Option<i64>) -> InboxEntry {
        InboxEntry {
            from_org: OrgKey::from_bytes([3; 32]),
            id: id.into(),
            offer_id: "offer-1".into(),
            owner: Some("ana".into()),
            requester_name: None,
            goal: "Learn".into(),
            preferred_times: String::new(),
            message: String::new(),
            name_to_group: false,
            session: None,
            contribution: None,
            withdraw: None,
            ask: None,
            status,
            reply: String::new(),
            answer: None,
            answer_delivered: answered_at.is_some(),
            received_at: OLD - DAY,
            answered_at,
            kudos: None,
        }
    }

    fn outbox(id: &str, status: OutboxStatus, updated_at: i64) -> OutboxEntry {
        OutboxEntry {
            id: id.into(),
            requester: "bo".into(),
            offer_org: OrgKey::from_bytes([7; 32]),
            offer_id: "offer-9".into(),
            offer_title: "Rust".into(),
            session: None,
            contribution: None,
            withdraw: None,
            goal: "Learn".into(),
            status,
            detail: String::new(),
            contact: None,
            group: None,
            answer_seq: 0,
            envelope: String::new(),
            kudos: None,
            created_at: OLD - DAY,
            updated_at,
        }
    }

    fn ids<T>(rows: Vec<T>, id: impl Fn(&T) -> &str) -> Vec<String> {
        let mut ids: Vec<String> = rows.iter().map(|r| id(r).to_string()).collect();
        ids.sort();
        ids
    }

    fn index_rows(store: &Store, prefix: &[u8]) -> usize {
        store.kv.scan_prefix(prefix).count()
    }

    #[test]
    fn old_finished_requests_go_with_their_index_rows_and_the_rest_stay() {
        let (_dir, store) = store();
        let undelivered = InboxEntry {
            answer_delivered: false,
            ..inbox("in-undelivered", InboxStatus::Accepted, Some(OLD))
        };
        let kudos_late = InboxEntry {
            kudos: Some(crate::ReceivedKudos {
                message: "thanks".into(),
                from_name: None,
                at: RECENT,
            }),
            ..inbox("in-kudos-recent", InboxStatus::Accepted, Some(OLD))
        };
        for e in [
            inbox("in-old-accepted", InboxStatus::Accepted, Some(OLD)),
            inbox("in-old-declined", InboxStatus::Declined, Some(OLD)),
            inbox("in-recent", InboxStatus::Accepted, Some(RECENT)),
            inbox("in-pending", InboxStatus::Pending, None),
            undelivered,
            kudos_late,
        ] {
            assert!(store.add_inbox(&e).expect("add"));
        }
        let kudos_waiting = OutboxEntry {
            kudos: Some(SentKudos {
                message: "thanks".into(),
                envelope: String::new(),
                delivered: false,
                refused: None,
                at: OLD,
            }),
            ..outbox("out-kudos-waiting", OutboxStatus::Accepted, OLD)
        };
        for e in [
            outbox("out-old-accepted", OutboxStatus::Accepted, OLD),
            outbox("out-old-declined", OutboxStatus::Declined, OLD),
            outbox("out-old-refused", OutboxStatus::Refused, OLD),
            outbox("out-recent", OutboxStatus::Declined, RECENT),
            outbox("out-waiting", OutboxStatus::Waiting, OLD),
            outbox("out-queued", OutboxStatus::Queued, OLD),
            kudos_waiting,
        ] {
            store.put_outbox(&e).expect("put");
        }
        assert_eq!(index_rows(&store, keys::INBOX_BY_OWNER), 6);
        assert_eq!(index_rows(&store, keys::INBOX_BY_OFFER), 6);
        assert_eq!(index_rows(&store, keys::OUTBOX_BY_REQUESTER), 7);

        assert_eq!(
            store
                .purge_finished_requests_before(CUTOFF, |_| false, |_| false)
                .expect("purge"),
            5
        );
        let kept_in = [
            "in-kudos-recent",
            "in-pending",
            "in-recent",
            "in-undelivered",
        ];
        let kept_out = [
            "out-kudos-waiting",
            "out-queued",
            "out-recent",
            "out-waiting",
        ];
        assert_eq!(ids(store.inbox().expect("inbox"), |e| &e.id), kept_in);
        assert_eq!(ids(store.outbox().expect("outbox"), |e| &e.id), kept_out);
        // The index rows went with their rows: what reads through them
        // finds the same, and no row is left pointing at nothing.
        assert_eq!(ids(store.inbox_of("ana").expect("of"), |e| &e.id), kept_in);
        assert_eq!(
            ids(store.inbox_for_offer("offer-1").expect("for"), |e| &e.id),
            kept_in
        );
        assert_eq!(ids(store.outbox_of("bo").expect("of"), |e| &e.id), kept_out);
        assert_eq!(index_rows(&store, keys::INBOX_BY_OWNER), 4);
        assert_eq!(index_rows(&store, keys::INBOX_BY_OFFER), 4);
        assert_eq!(index_rows(&store, keys::OUTBOX_BY_REQUESTER), 4);
        assert!(store.check_consistency().expect("check").is_empty());

        // Nothing more to do the second time.
        assert_eq!(
            store
                .purge_finished_requests_before(CUTOFF, |_| false, |_| false)
                .expect("purge"),
            0
        );
    }

    #[test]
    fn what_the_caller_still_needs_is_kept() {
        let (_dir, store) = store();
        for e in [
            inbox("in-event", InboxStatus::Accepted, Some(OLD)),
            inbox("in-talk", InboxStatus::Accepted, Some(OLD)),
        ] {
            assert!(store.add_inbox(&e).expect("add"));
        }
        store
            .put_outbox(&outbox("out-cohort", OutboxStatus::Accepted, OLD))
            .expect("put");
        store
            .put_outbox(&outbox("out-talk", OutboxStatus::Accepted, OLD))
            .expect("put");
        let purged = store
            .purge_finished_requests_before(
                CUTOFF,
                |e| e.id == "in-event",
                |e| e.id == "out-cohort",
            )
            .expect("purge");
        assert_eq!(purged, 2);
        assert_eq!(ids(store.inbox().expect("inbox"), |e| &e.id), ["in-event"]);
        assert_eq!(
            ids(store.outbox().expect("outbox"), |e| &e.id),
            ["out-cohort"]
        );
    }

    #[test]
    fn more_than_one_batch_of_requests_is_purged() {
        let (_dir, store) = store();
        let n = PURGE_BATCH + 7;
        for i in 0..n {
            let e = inbox(&format!("r{i:05}"), InboxStatus::Declined, Some(OLD));
            assert!(store.add_inbox(&e).expect("add"));
        }
        assert!(
            store
                .add_inbox(&inbox("pending", InboxStatus::Pending, None))
                .expect("add")
        );
        assert_eq!(
            store
                .purge_finished_requests_before(CUTOFF, |_| false, |_| false)
                .expect("purge"),
            n
        );
        assert_eq!(ids(store.inbox().expect("inbox"), |e| &e.id), ["pending"]);
        assert_eq!(index_rows(&store, keys::INBOX_BY_OWNER), 1);
    }

    fn note(person: &str, id: &str, at: i64, read: bool) -> Notification {
        Notification {
            id: id.into(),
            person: person.into(),
            kind: NotificationKind::RequestAnswered,
            text: "answered".into(),
            link: "/requests".into(),
            at,
            read,
            in_digest: false,
        }
    }

    #[test]
    fn old_notifications_go_read_or_not_with_their_unread_rows() {
        let (_dir, store) = store();
        store
            .add_notifications(&[
                note("ana", "1", OLD, false),
                note("ana", "2", OLD, true),
                note("ana", "3", RECENT, false),
                note("bo", "4", OLD - DAY, false),
                note("bo", "5", CUTOFF, true),
            ])
            .expect("add");
        assert_eq!(index_rows(&store, keys::UNREAD_NOTIFICATION), 3);
        assert_eq!(store.purge_notifications_before(CUTOFF).expect("purge"), 3);
        let left = |p: &str| {
            ids(store.notifications_of(p, usize::MAX).expect("list"), |n| {
                &n.id
            })
        };
        assert_eq!(left("ana"), ["3"]);
        assert_eq!(left("bo"), ["5"], "exactly at the cutoff is kept");
        assert_eq!(store.unread_notifications("ana").expect("count"), 1);
        assert_eq!(store.unread_notifications("bo").expect("count"), 0);
        assert_eq!(index_rows(&store, keys::UNREAD_NOTIFICATION), 1);
    }
}
