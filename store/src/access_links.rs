//! Access links: the link an admin sends a new person to choose their
//! first password (an invitation), or a person who forgot theirs to
//! choose a new one (a reset). Only the SHA-256 of the link's token is
//! kept, as the row's key. A link works once, until it expires, and a new
//! link for a person replaces the one they had.

use serde::{Deserialize, Serialize};

use super::{Account, Result, Store, StoreError, encode_json, keys};
use crate::storage::Batch;

/// What a link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkPurpose {
    /// A new person chooses their first password.
    Invitation,
    /// A person chooses a new password; their sessions end.
    PasswordReset,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::Invitation => "invitation",
            LinkPurpose::PasswordReset => "password_reset",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessLink {
    /// SHA-256 (hex) of the link's token.
    pub sha256: String,
    pub username: String,
    pub purpose: LinkPurpose,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; the link opens nothing from then on.
    pub expires_at: i64,
    /// The admin who made it.
    pub created_by: String,
}

/// Why a link did not set a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefusal {
    /// Unknown, used already, or replaced by a newer link.
    Unknown,
    Expired,
    /// The account is gone or deactivated.
    NoAccount,
}

impl Store {
    /// Keeps `link`, replacing any other link its person had.
    pub fn add_access_link(&self, link: &AccessLink) -> Result<()> {
        let _guard = self.lock();
        if self.account(&link.username)?.is_none() {
            return Err(StoreError::NotFound(format!("account {}", link.username)));
        }
        let mut b = Batch::new();
        self.drop_links_into(&mut b, &link.username)?;
        b.put(keys::access_link(&link.sha256), encode_json(link));
        b.put(
            keys::access_link_by_user(&link.username, &link.sha256),
            Vec::new(),
        );
        self.commit(b)
    }

    pub fn access_link(&self, sha256_hex: &str) -> Result<Option<AccessLink>> {
        self.get_json(&keys::access_link(sha256_hex))
    }

    /// Uses the link `sha256_hex` at `now`: sets its account's password
    /// hash to `password_hash` and forgets the link, in one batch. The
    /// account as it is now, or why not.
    pub fn use_access_link(
        &self,
        sha256_hex: &str,
        password_hash: &str,
        now: i64,
    ) -> Result<std::result::Result<(AccessLink, Account), LinkRefusal>> {
        let _guard = self.lock();
        let Some(link) = self.access_link(sha256_hex)? else {
            return Ok(Err(LinkRefusal::Unknown));
        };
        if now >= link.expires_at {
            return Ok(Err(LinkRefusal::Expired));
        }
        let Some(mut account) = self.account(&link.username)?.filter(Account::is_active) else {
            return Ok(Err(LinkRefusal::NoAccount));
        };
        account.password_hash = password_hash.to_string();
        let mut b = Batch::new();
        self.drop_links_into(&mut b, &link.username)?;
        b.put(keys::account(&account.username), encode_json(&account));
        self.commit(b)?;
        Ok(Ok((link, account)))
    }

    /// Forgets every link of `username`.
    pub fn drop_access_links_of(&self, username: &str) -> Result<()> {
        let _guard = self.lock();
        let mut b = Batch::new();
        self.drop_links_into(&mut b, username)?;
        self.commit(b)
    }

    /// Forgets links that expired before `now`; how many.
    pub fn purge_expired_access_links(&self, now: i64) -> Result<usize> {
        let _guard = self.lock();
        let mut b = Batch::new();
        let mut n = 0;
        for link in self.scan_json::<AccessLink>(keys::ACCESS_LINK)? {
            if now >= link.expires_at {
                b.delete(keys::access_link(&link.sha256));
                b.delete(keys::access_link_by_user(&link.username, &link.sha256));
                n += 1;
            }
        }
        if n > 0 {
            self.commit(b)?;
        }
        Ok(n)
    }

    fn drop_links_into(&self, b: &mut Batch, username: &str) -> Result<()> {
        let prefix = keys::access_link_by_user(username, "");
        for row in self.kv.scan_prefix(&prefix) {
            let (key, _) = row?;
            let sha = String::from_utf8_lossy(&key[prefix.len()..]).into_owned();
            b.delete(keys::access_link(&sha));
            b.delete(key.to_vec());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Role;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(dir.path()).expect("open");
        (dir, store)
    }

    fn account(store: &Store, username: &str) {
        let person = crate::Person::new("mia", "Mia", username, 1);
        let account = Account {
            username: username.into(),
            role: Role::Member,
            person_id: Some("mia".into()),
            password_hash: String::new(),
            created_at: 1,
            deactivated_at: None,
            calendar_token_sha256: None,
            sso_subject: None,
        };
        let audit = crate::AuditEntry {
            at: 1,
            actor: "cli".into(),
            action: "user_added".into(),
            org: None,
            record_id: None,
            detail: String::new(),
            claimed_org: None,
            count: 1,
        };
        store
            .add_account(&account, Some(&person), &audit)
            .expect("add");
    }

    fn link(sha: &str, expires_at: i64) -> AccessLink {
        AccessLink {
            sha256: sha.into(),
            username: "mia@contoso.example".into(),
            purpose: LinkPurpose::Invitation,
            created_at: 10,
            expires_at,
            created_by: "admin@contoso.example".into(),
        }
    }

    #[test]
    fn a_link_sets_the_password_once_and_a_newer_one_replaces_it() {
        let (_dir, store) = store();
        account(&store, "mia@contoso.example");
        store.add_access_link(&link("aa", 100)).expect("add");
        store.add_access_link(&link("bb", 100)).expect("replace");
        assert_eq!(
            store.use_access_link("aa", "hash", 50).expect("use"),
            Err(LinkRefusal::Unknown),
            "replaced"
        );
        assert_eq!(
            store.use_access_link("bb", "hash", 100).expect("use"),
            Err(LinkRefusal::Expired)
        );
        let (used, account) = store
            .use_access_link("bb", "hash", 99)
            .expect("use")
            .expect("works");
        assert_eq!(used.purpose, LinkPurpose::Invitation);
        assert_eq!(account.password_hash, "hash");
        assert_eq!(
            store
                .account("mia@contoso.example")
                .expect("read")
                .map(|a| a.password_hash),
            Some("hash".to_string())
        );
        assert_eq!(
            store.use_access_link("bb", "other", 99).expect("use"),
            Err(LinkRefusal::Unknown),
            "once only"
        );
    }

    #[test]
    fn expired_links_are_purged_and_unknown_accounts_get_none() {
        let (_dir, store) = store();
        assert!(store.add_access_link(&link("aa", 100)).is_err());
        account(&store, "mia@contoso.example");
        store.add_access_link(&link("aa", 100)).expect("add");
        assert_eq!(store.purge_expired_access_links(99).expect("purge"), 0);
        assert_eq!(store.purge_expired_access_links(100).expect("purge"), 1);
        assert!(store.access_link("aa").expect("read").is_none());
        assert_eq!(store.kv.scan_prefix(keys::ACCESS_LINK_BY_USER).count(), 0);
    }
}
