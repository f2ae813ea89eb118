//! Local user accounts: who may sign in to this node's web UI, and as what.

use serde::{Deserialize, Serialize};

use super::{Result, Store, StoreError, encode_json, keys};
use crate::storage::Batch;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Member,
    Admin,
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
}

impl Store {
    pub fn add_account(&self, account: &Account) -> Result<()> {
        let _guard = self.lock();
        let key = keys::account(&account.username);
        if self.kv.get(&key)?.is_some() {
            return Err(StoreError::AlreadyExists(format!(
                "account {}",
                account.username
            )));
        }
        let mut b = Batch::new();
        b.put(key, encode_json(account));
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

    pub fn account(&self, username: &str) -> Result<Option<Account>> {
        self.get_json(&keys::account(username))
    }

    pub fn accounts(&self) -> Result<Vec<Account>> {
        self.scan_json(keys::ACCOUNT)
    }
}
