//! Web sessions, kept in the store so that a restart of the node signs no
//! one out. A session is known by the SHA-256 of its cookie token (the
//! token itself is never stored), and indexed by username so that a
//! person can end all of theirs at once.
//!
//! The web layer decides how long a session lives and writes that into
//! [`StoredSession::expires_at`]; the store only keeps, finds and drops
//! rows, and purges the expired ones when asked.

use serde::{Deserialize, Serialize};

use super::{Result, Store, encode_json, keys};
use crate::storage::Batch;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSession {
    /// SHA-256 (hex) of the cookie's token.
    pub id: String,
    pub username: String,
    /// The session's CSRF token, which its pages embed in every form.
    pub csrf: String,
    /// Unix seconds.
    pub created_at: i64,
    /// The last request seen, as last written (the web layer writes it
    /// at most every few minutes).
    pub last_seen: i64,
    /// When it ends unless it is used again (unix seconds).
    pub expires_at: i64,
}

impl Store {
    /// Writes `session` (new, or seen again).
    pub fn put_session(&self, session: &StoredSession) -> Result<()> {
        let mut b = Batch::new();
        b.put(keys::session(&session.id), encode_json(session));
        b.put(
            keys::session_by_user(&session.username, &session.id),
            Vec::new(),
        );
        self.commit(b)
    }

    pub fn session(&self, id: &str) -> Result<Option<StoredSession>> {
        self.get_json(&keys::session(id))
    }

    /// Ends one session; false when there was none.
    pub fn end_session(&self, id: &str) -> Result<bool> {
        let _guard = self.lock();
        let Some(session) = self.session(id)? else {
            return Ok(false);
        };
        let mut b = Batch::new();
        drop_row(&mut b, &session);
        self.commit(b)?;
        Ok(true)
    }

    /// Every session of `username`, expired or not.
    pub fn sessions_of(&self, username: &str) -> Result<Vec<StoredSession>> {
        let prefix = keys::session_by_user(username, "");
        let mut found = Vec::new();
        for row in self.kv.scan_prefix(&prefix) {
            let (key, _) = row?;
            let id = String::from_utf8_lossy(&key[prefix.len()..]).into_owned();
            if let Some(session) = self.session(&id)? {
                found.push(session);
            }
        }
        Ok(found)
    }

    /// Ends every session of `username`; returns their ids.
    pub fn end_sessions_of(&self, username: &str) -> Result<Vec<String>> {
        let _guard = self.lock();
        let sessions = self.sessions_of(username)?;
        let mut b = Batch::new();
        for session in &sessions {
            drop_row(&mut b, session);
        }
        self.commit(b)?;
        Ok(sessions.into_iter().map(|s| s.id).collect())
    }

    /// Drops the sessions that expired before `now`; returns how many.
    pub fn purge_expired_sessions(&self, now: i64) -> Result<usize> {
        let _guard = self.lock();
        let expired: Vec<StoredSession> = self
            .scan_json::<StoredSession>(keys::SESSION)?
            .into_iter()
            .filter(|s| s.expires_at <= now)
            .collect();
        let mut b = Batch::new();
        for session in &expired {
            drop_row(&mut b, session);
        }
        self.commit(b)?;
        Ok(expired.len())
    }
}

fn drop_row(b: &mut Batch, session: &StoredSession) {
    b.delete(keys::session(&session.id));
    b.delete(keys::session_by_user(&session.username, &session.id));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(id: &str, username: &str, expires_at: i64) -> StoredSession {
        StoredSession {
            id: id.into(),
            username: username.into(),
            csrf: format!("csrf-{id}"),
            created_at: 100,
            last_seen: 100,
            expires_at,
        }
    }

    #[test]
    fn sessions_outlive_a_reopen_and_end_one_or_all_at_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let store = Store::open(dir.path()).expect("open");
            for s in [
                session("a1", "ana@x.example", 1_000),
                session("a2", "ana@x.example", 2_000),
                session("b1", "bo@x.example", 1_000),
            ] {
                store.put_session(&s).expect("put");
            }
        }
        let store = Store::open(dir.path()).expect("reopen");
        assert_eq!(
            store.session("a1").expect("get"),
            Some(session("a1", "ana@x.example", 1_000))
        );
        assert_eq!(store.sessions_of("ana@x.example").expect("of").len(), 2);
        assert!(store.end_session("b1").expect("end"));
        assert!(!store.end_session("b1").expect("again"), "already gone");
        let mut ended = store.end_sessions_of("ana@x.example").expect("all");
        ended.sort();
        assert_eq!(ended, ["a1", "a2"]);
        assert!(store.session("a2").expect("get").is_none());
        assert!(store.sessions_of("ana@x.example").expect("of").is_empty());
    }

    #[test]
    fn expired_sessions_are_purged_with_their_index() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        store
            .put_session(&session("old", "ana@x.example", 500))
            .expect("put");
        store
            .put_session(&session("new", "ana@x.example", 5_000))
            .expect("put");
        assert_eq!(store.purge_expired_sessions(1_000).expect("purge"), 1);
        let left: Vec<String> = store
            .sessions_of("ana@x.example")
            .expect("of")
            .into_iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(left, ["new"]);
        assert_eq!(store.purge_expired_sessions(1_000).expect("again"), 0);
    }
}
