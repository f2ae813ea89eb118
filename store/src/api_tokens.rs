//! API tokens: each person may hold several, each with a name of their
//! choosing (the script or machine that uses it), when it was made and
//! when it was last used, and each revocable on its own. Only a token's
//! SHA-256 is kept; it is the row's key, so a call with a token costs one
//! read.

use serde::{Deserialize, Serialize};

use super::{Account, Result, Store, StoreError, encode_json, keys};
use crate::storage::{Batch, Kv};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    /// SHA-256 (hex) of the token.
    pub sha256: String,
    pub username: String,
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
    /// When a call last used it, to within the minute the service writes
    /// it at most once in (unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<i64>,
}

impl Store {
    /// Adds a token for an existing account, unless its owner holds
    /// `max_per_person` already (then `AlreadyExists`).
    pub fn add_api_token(&self, token: &ApiToken, max_per_person: usize) -> Result<()> {
        let _guard = self.lock();
        if self.account(&token.username)?.is_none() {
            return Err(StoreError::NotFound(format!("account {}", token.username)));
        }
        let held = self
            .kv
            .scan_prefix(&keys::api_token_by_user(&token.username, ""))
            .count();
        if held >= max_per_person {
            return Err(StoreError::AlreadyExists(format!(
                "{max_per_person} API tokens of {}",
                token.username
            )));
        }
        let mut b = Batch::new();
        put_row(&mut b, token);
        self.commit(b)
    }

    pub fn api_token(&self, sha256_hex: &str) -> Result<Option<ApiToken>> {
        self.get_json(&keys::token(sha256_hex))
    }

    /// `username`'s tokens, oldest first.
    pub fn api_tokens_of(&self, username: &str) -> Result<Vec<ApiToken>> {
        let prefix = keys::api_token_by_user(username, "");
        let mut found = Vec::new();
        for row in self.kv.scan_prefix(&prefix) {
            let (key, _) = row?;
            let sha = String::from_utf8_lossy(&key[prefix.len()..]).into_owned();
            if let Some(token) = self.api_token(&sha)? {
                found.push(token);
            }
        }
        found.sort_by(|a, b| (a.created_at, &a.sha256).cmp(&(b.created_at, &b.sha256)));
        Ok(found)
    }

    /// Revokes `username`'s token with SHA-256 `sha256_hex`; false when
    /// they hold no such token.
    pub fn revoke_api_token(&self, username: &str, sha256_hex: &str) -> Result<bool> {
        let _guard = self.lock();
        match self.api_token(sha256_hex)? {
            Some(token) if token.username == username => {
                let mut b = Batch::new();
                b.delete(keys::token(sha256_hex));
                b.delete(keys::api_token_by_user(username, sha256_hex));
                self.commit(b)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Records that the token was used at `at`, if it is still held.
    pub fn note_api_token_used(&self, sha256_hex: &str, at: i64) -> Result<()> {
        let _guard = self.lock();
        let Some(mut token) = self.api_token(sha256_hex)? else {
            return Ok(());
        };
        token.last_used_at = Some(at);
        let mut b = Batch::new();
        b.put(keys::token(sha256_hex), encode_json(&token));
        self.commit(b)
    }
}

fn put_row(b: &mut Batch, token: &ApiToken) {
    b.put(keys::token(&token.sha256), encode_json(token));
    b.put(
        keys::api_token_by_user(&token.username, &token.sha256),
        Vec::new(),
    );
}

/// Schema 7 → 8: each account held at most one API token, its `tok/` row
/// holding the bare username. Each becomes a named [`ApiToken`] ("API
/// token", made when its account was) with its row in the by-person
/// index, so scripts using it keep working.
pub(crate) fn name_the_single_tokens(kv: &dyn Kv) -> Result<Batch> {
    let mut b = Batch::new();
    for row in kv.scan_prefix(keys::TOKEN) {
        let (key, value) = row?;
        let sha256 = String::from_utf8_lossy(&key[keys::TOKEN.len()..]).into_owned();
        if serde_json::from_slice::<ApiToken>(&value).is_ok() {
            continue;
        }
        let username = String::from_utf8_lossy(&value).into_owned();
        let created_at = match kv.get(&keys::account(&username))? {
            Some(bytes) => serde_json::from_slice::<Account>(&bytes)
                .map(|a| a.created_at)
                .unwrap_or_default(),
            None => 0,
        };
        put_row(
            &mut b,
            &ApiToken {
                sha256,
                username,
                name: "API token".into(),
                created_at,
                last_used_at: None,
            },
        );
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Role, schema};

    fn account(username: &str) -> Account {
        Account {
            username: username.into(),
            role: Role::Member,
            person_id: None,
            password_hash: String::new(),
            created_at: 42,
            calendar_token_sha256: None,
            sso_subject: None,
            deactivated_at: None,
        }
    }

    fn token(sha: &str, username: &str, created_at: i64) -> ApiToken {
        ApiToken {
            sha256: sha.into(),
            username: username.into(),
            name: format!("script {sha}"),
            created_at,
            last_used_at: None,
        }
    }

    fn put_account(store: &Store, username: &str) {
        let mut b = Batch::new();
        b.put(keys::account(username), encode_json(&account(username)));
        store.commit(b).expect("account");
    }

    #[test]
    fn a_person_holds_several_tokens_and_revokes_one_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        put_account(&store, "ana@x.example");
        put_account(&store, "bo@x.example");
        store
            .add_api_token(&token("bb", "ana@x.example", 2), 2)
            .expect("first");
        store
            .add_api_token(&token("aa", "ana@x.example", 1), 2)
            .expect("second");
        assert!(matches!(
            store.add_api_token(&token("cc", "ana@x.example", 3), 2),
            Err(StoreError::AlreadyExists(_))
        ));
        assert!(matches!(
            store.add_api_token(&token("dd", "nobody@x.example", 3), 2),
            Err(StoreError::NotFound(_))
        ));
        let names: Vec<String> = store
            .api_tokens_of("ana@x.example")
            .expect("list")
            .into_iter()
            .map(|t| t.sha256)
            .collect();
        assert_eq!(names, ["aa", "bb"], "oldest first");
        assert!(
            !store
                .revoke_api_token("bo@x.example", "aa")
                .expect("revoke"),
            "not Bo's to revoke"
        );
        assert!(
            store
                .revoke_api_token("ana@x.example", "aa")
                .expect("revoke")
        );
        assert!(store.api_token("aa").expect("get").is_none());
        store.note_api_token_used("bb", 99).expect("used");
        store.note_api_token_used("aa", 99).expect("revoked: no-op");
        assert!(store.api_token("aa").expect("get").is_none());
        let left = store.api_tokens_of("ana@x.example").expect("list");
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].last_used_at, Some(99));
    }

    #[test]
    fn schema_7s_single_token_becomes_a_named_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let kv = crate::storage::open(dir.path()).expect("kv");
        let mut b = Batch::new();
        b.put(keys::META_SCHEMA, 7u32.to_be_bytes().to_vec());
        b.put(
            keys::account("ana@x.example"),
            br#"{"username":"ana@x.example","role":"member","person_id":null,"password_hash":"","created_at":42,"api_token_sha256":"ab12"}"#.to_vec(),
        );
        b.put(keys::token("ab12"), b"ana@x.example".to_vec());
        kv.commit(b).expect("old layout");
        let store = Store::with_kv(Box::new(kv)).expect("migrates");
        assert_eq!(
            schema::read_version(store.kv.as_ref()).expect("version"),
            Some(crate::CURRENT_SCHEMA)
        );
        let tokens = store.api_tokens_of("ana@x.example").expect("list");
        assert_eq!(
            tokens,
            [ApiToken {
                sha256: "ab12".into(),
                username: "ana@x.example".into(),
                name: "API token".into(),
                created_at: 42,
                last_used_at: None,
            }]
        );
        assert_eq!(
            store
                .account("ana@x.example")
                .expect("get")
                .map(|a| a.created_at),
            Some(42),
            "the old account still reads"
        );
    }
}
