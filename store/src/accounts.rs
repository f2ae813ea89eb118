//! Local user accounts: who may sign in to this node's web UI, and as what.

use serde::{Deserialize, Serialize};

use super::{AuditEntry, Person, Result, Store, StoreError, encode_json, keys};
use crate::storage::Batch;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Member,
    Admin,
}

impl Role {
    /// The role as the audit log and the pages write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The sign-in name, usually an email address.
    pub username: String,
    pub role: Role,
    /// The person this account acts for.
    pub person_id: Option<String>,
    /// A PHC-format password hash; never the password.
    pub password_hash: String,
    pub created_at: i64,
    /// When an admin deactivated it: it signs in no more, and its
    /// sessions and tokens open nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deactivated_at: Option<i64>,
    /// SHA-256 (hex) of the account's calendar feed token, if any. The
    /// `ctok/` index maps it to the username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar_token_sha256: Option<String>,
    /// The single sign-on identity this account is bound to (the
    /// provider's issuer and the person's `sub` there), from its first
    /// sign-in through the provider on. Another identity with the same
    /// email address is refused, so an address the provider hands to
    /// someone else later does not open this account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sso_subject: Option<String>,
}

impl Account {
    /// Not deactivated: it may sign in, and its sessions and tokens work.
    pub fn is_active(&self) -> bool {
        self.deactivated_at.is_none()
    }
}

/// What a token lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Call the JSON API as the account (a person may hold several: see
    /// [`crate::api_tokens`]).
    Api,
    /// Read the account's calendar feed and nothing else (calendar
    /// programs fetch it without signing in). One per account.
    Calendar,
}

/// The key of a row, from the id an index row ends with.
type RowKey = fn(&str) -> Vec<u8>;

impl Store {
    /// Adds an account, the person it acts for when that person is new
    /// (`new_person`; otherwise the person must exist), and the audit
    /// entry saying so, in one batch: a crash leaves all of it or none.
    pub fn add_account(
        &self,
        account: &Account,
        new_person: Option<&Person>,
        audit: &AuditEntry,
    ) -> Result<()> {
        let _guard = self.lock();
        let key = keys::account(&account.username);
        if self.kv.get(&key)?.is_some() {
            return Err(StoreError::AlreadyExists(format!(
                "account {}",
                account.username
            )));
        }
        let person_id = account.person_id.as_deref().unwrap_or_default();
        let mut b = Batch::new();
        match new_person {
            Some(person) => {
                debug_assert_eq!(person.id, person_id, "the account acts for the new person");
                let person_key = keys::person(&person.id);
                if self.kv.get(&person_key)?.is_some() {
                    return Err(StoreError::AlreadyExists(format!("person {}", person.id)));
                }
                b.put(person_key, encode_json(person));
            }
            None => {
                if self.kv.get(&keys::person(person_id))?.is_none() {
                    return Err(StoreError::NotFound(format!("person {person_id}")));
                }
            }
        }
        b.put(key, encode_json(account));
        self.audit_into(&mut b, std::slice::from_ref(audit))?;
        self.commit(b)
    }

    pub fn update_account(&self, account: &Account) -> Result<()> {
        let _guard = self.lock();
        let key = keys::account(&account.username);
        if self.kv.get(&key)?.is_none() {
            return Err(StoreError::NotFound(format!(
                "account {}",
                account.username
            )));
        }
        let mut b = Batch::new();
        b.put(key, encode_json(account));
        self.commit(b)
    }

    /// Gives `username` the calendar token whose SHA-256 is
    /// `sha256_hex`, replacing (and unindexing) the earlier one, in one
    /// batch.
    pub fn set_calendar_token(&self, username: &str, sha256_hex: &str) -> Result<()> {
        let _guard = self.lock();
        let key = keys::account(username);
        let mut account: Account = self
            .get_json(&key)?
            .ok_or_else(|| StoreError::NotFound(format!("account {username}")))?;
        let mut b = Batch::new();
        if let Some(old) = account
            .calendar_token_sha256
            .replace(sha256_hex.to_string())
        {
            b.delete(keys::calendar_token(&old));
        }
        b.put(key, encode_json(&account));
        b.put(
            keys::calendar_token(sha256_hex),
            username.as_bytes().to_vec(),
        );
        self.commit(b)
    }

    /// The account whose calendar token has SHA-256 `sha256_hex`.
    pub fn account_for_calendar_token(&self, sha256_hex: &str) -> Result<Option<Account>> {
        let Some(username) = self.kv.get(&keys::calendar_token(sha256_hex))? else {
            return Ok(None);
        };
        let account = self.account(&String::from_utf8_lossy(&username))?;
        // The index and the account are written together; check anyway.
        Ok(account.filter(|a| a.calendar_token_sha256.as_deref() == Some(sha256_hex)))
    }

    /// Removes the account `username`, everything that opens it (API
    /// tokens, its calendar token, sessions, password links) and, when it
    /// acts for a person, that person's profile and notifications, with
    /// `audit`, in one batch. The account as it was, if there was one.
    pub fn remove_account(&self, username: &str, audit: &AuditEntry) -> Result<Option<Account>> {
        let _guard = self.lock();
        let Some(account) = self.account(username)? else {
            return Ok(None);
        };
        let mut b = Batch::new();
        b.delete(keys::account(username));
        if let Some(sha) = &account.calendar_token_sha256 {
            b.delete(keys::calendar_token(sha));
        }
        // Each index row `<prefix><username>\0<id>` and the row it names.
        let indexed: [(Vec<u8>, RowKey); 3] = [
            (keys::api_token_by_user(username, ""), keys::token),
            (keys::session_by_user(username, ""), keys::session),
            (keys::access_link_by_user(username, ""), keys::access_link),
        ];
        for (prefix, row) in indexed {
            for entry in self.kv.scan_prefix(&prefix) {
                let (key, _) = entry?;
                b.delete(row(&String::from_utf8_lossy(&key[prefix.len()..])));
                b.delete(key.to_vec());
            }
        }
        if let Some(person) = &account.person_id {
            b.delete(keys::person(person));
            for prefix in [
                keys::notification(person, ""),
                keys::unread_notification(person, ""),
            ] {
                for entry in self.kv.scan_prefix(&prefix) {
                    let (key, _) = entry?;
                    b.delete(key.to_vec());
                }
            }
        }
        self.audit_into(&mut b, std::slice::from_ref(audit))?;
        self.commit(b)?;
        Ok(Some(account))
    }

    pub fn account(&self, username: &str) -> Result<Option<Account>> {
        self.get_json(&keys::account(username))
    }

    pub fn accounts(&self) -> Result<Vec<Account>> {
        self.scan_json(keys::ACCOUNT)
    }
}
