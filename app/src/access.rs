//! How a person keeps access without a password each time: named API
//! tokens for scripts (several per person, each listed with its last use
//! and revocable on its own) and web sessions kept in the store, so that a
//! restart signs no one out and a person can sign out everywhere.
//!
//! How long a session lives is the web layer's rule (it writes the expiry
//! into each session); the service keeps them and drops the expired ones
//! in the node's housekeeping.

use crate::accounts::{sha256_hex, token_prefix, token_sha256};
use crate::clock;
use crate::service::{Result, Service, ServiceError};
use crate::store::{Account, Actor, ApiToken, AuditAction, StoredSession, TokenKind};

/// Tokens one person may hold at once: enough for every script and
/// machine a person runs, few enough that a leaked session cannot mint
/// an unbounded number.
pub const MAX_API_TOKENS: usize = 20;
/// Longest token name, in characters.
pub const MAX_TOKEN_NAME_CHARS: usize = 80;
/// The name of a token made without one.
pub const DEFAULT_TOKEN_NAME: &str = "API token";
/// A token's last use is written at most this often (seconds), so a
/// script calling in a loop does not write on every call.
const LAST_USE_GRAIN: i64 = 60;
/// How many hex digits of a token's SHA-256 name it in lists and
/// addresses: unique among one person's tokens, and no use to anyone
/// without the token.
pub const TOKEN_ID_HEX: usize = 16;

/// The public id of the token with SHA-256 `sha256_hex`.
pub fn token_id(sha256_hex: &str) -> &str {
    sha256_hex.get(..TOKEN_ID_HEX).unwrap_or(sha256_hex)
}

impl Service {
    /// A new API token named `name` for `username`, shown once (the
    /// first value) and kept only as its SHA-256; audited. Refused past
    /// [`MAX_API_TOKENS`].
    pub fn new_api_token(&self, username: &str, name: &str) -> Result<(String, ApiToken)> {
        let name = name.trim();
        let name = if name.is_empty() {
            DEFAULT_TOKEN_NAME
        } else {
            name
        };
        if name.chars().count() > MAX_TOKEN_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(ServiceError::Invalid(format!(
                "A token's name is at most {MAX_TOKEN_NAME_CHARS} characters on one line."
            )));
        }
        let token = crate::accounts::new_secret(token_prefix(TokenKind::Api))?;
        let held = ApiToken {
            sha256: sha256_hex(&token),
            username: username.to_string(),
            name: name.to_string(),
            created_at: clock::now(),
            last_used_at: None,
        };
        match self.store().add_api_token(&held, MAX_API_TOKENS) {
            Err(crate::store::StoreError::AlreadyExists(_)) => {
                return Err(ServiceError::Invalid(format!(
                    "You hold {MAX_API_TOKENS} API tokens already; revoke one you no longer use first."
                )));
            }
            other => other?,
        }
        self.audit(
            &Actor::person(username),
            AuditAction::ApiTokenCreated,
            None,
            None,
            format!("{} ({name})", token_id(&held.sha256)),
        )?;
        Ok((token, held))
    }

    /// `username`'s API tokens, oldest first.
    pub fn api_tokens(&self, username: &str) -> Result<Vec<ApiToken>> {
        Ok(self.store().api_tokens_of(username)?)
    }

    /// Revokes `username`'s token with public id `id` ([`token_id`]):
    /// from the next call on, it opens nothing. Not found when they hold
    /// no such token.
    pub fn revoke_api_token(&self, username: &str, id: &str) -> Result<()> {
        let held = self.store().api_tokens_of(username)?;
        let Some(token) = held
            .iter()
            .find(|t| id.len() == TOKEN_ID_HEX && token_id(&t.sha256) == id)
        else {
            return Err(ServiceError::NotFound(format!("API token {id}")));
        };
        if self.store().revoke_api_token(username, &token.sha256)? {
            self.audit(
                &Actor::person(username),
                AuditAction::ApiTokenRevoked,
                None,
                None,
                format!("{id} ({})", token.name),
            )?;
        }
        Ok(())
    }

    /// The account an API token belongs to, noting the use (to the
    /// minute); none for anything that is not a live API token.
    pub(crate) fn account_for_api_token(&self, token: &str) -> Result<Option<Account>> {
        let Some(sha) = token_sha256(TokenKind::Api, token) else {
            return Ok(None);
        };
        let Some(held) = self.store().api_token(&sha)? else {
            return Ok(None);
        };
        let now = clock::now();
        if held
            .last_used_at
            .is_none_or(|at| now - at >= LAST_USE_GRAIN)
            && let Err(e) = self.store().note_api_token_used(&sha, now)
        {
            // The call is still allowed: a lost note of its use is not
            // worth refusing it (the store may be full, say).
            tracing::debug!(error = %e, "cannot note an API token's use");
        }
        Ok(self
            .store()
            .account(&held.username)?
            .filter(Account::is_active))
    }

    /// Keeps a web session (new, or seen again).
    pub fn save_session(&self, session: &StoredSession) -> Result<()> {
        Ok(self.store().put_session(session)?)
    }

    /// The session whose cookie token has SHA-256 `id`, expired or not.
    pub fn session(&self, id: &str) -> Result<Option<StoredSession>> {
        Ok(self.store().session(id)?)
    }

    /// Ends one session (signing out in one browser).
    pub fn end_session(&self, id: &str) -> Result<()> {
        self.store().end_session(id)?;
        Ok(())
    }

    /// Ends every session of `username`, audited as done by `actor`;
    /// returns the ids ended.
    pub fn end_sessions_of(&self, username: &str, actor: &Actor) -> Result<Vec<String>> {
        let ended = self.store().end_sessions_of(username)?;
        self.audit(
            actor,
            AuditAction::SignedOutEverywhere,
            None,
            None,
            format!("{username}: {} sessions", ended.len()),
        )?;
        Ok(ended)
    }

    /// Drops sessions that expired; how many.
    pub fn purge_expired_sessions(&self) -> Result<usize> {
        Ok(self.store().purge_expired_sessions(clock::now())?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Role;

    async fn with_ana() -> (tempfile::TempDir, Service) {
        let (dir, svc) = Service::for_tests();
        svc.add_user(
            "ana@northwind.example",
            "Ana",
            Role::Member,
            "correct horse battery",
            &Actor::Cli,
        )
        .await
        .expect("add");
        (dir, svc)
    }

    #[tokio::test]
    async fn tokens_are_named_listed_used_and_revoked_one_by_one() {
        let (_dir, svc) = with_ana().await;
        let ana = "ana@northwind.example";
        let (ci, _) = svc.new_api_token(ana, "  CI pipeline ").expect("ci");
        let (laptop, held) = svc.new_api_token(ana, "").expect("laptop");
        assert_eq!(held.name, DEFAULT_TOKEN_NAME);
        let names: Vec<String> = svc
            .api_tokens(ana)
            .expect("list")
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(names.len(), 2);
        assert!(names.contains(&"CI pipeline".to_string()), "{names:?}");
        for token in [&ci, &laptop] {
            let account = svc.account_for_api_token(token).expect("lookup");
            assert_eq!(account.map(|a| a.username), Some(ana.to_string()));
        }
        assert!(
            svc.api_tokens(ana)
                .expect("list")
                .iter()
                .all(|t| t.last_used_at.is_some()),
            "each use is noted"
        );
        let ci_id = token_id(&sha256_hex(&ci)).to_string();
        svc.revoke_api_token(ana, &ci_id).expect("revoke");
        assert!(svc.account_for_api_token(&ci).expect("lookup").is_none());
        assert!(
            svc.account_for_api_token(&laptop)
                .expect("lookup")
                .is_some(),
            "the other token keeps working"
        );
        assert!(matches!(
            svc.revoke_api_token(ana, &ci_id),
            Err(ServiceError::NotFound(_))
        ));
        assert!(matches!(
            svc.new_api_token(ana, &"x".repeat(MAX_TOKEN_NAME_CHARS + 1)),
            Err(ServiceError::Invalid(_))
        ));
        for i in 1..MAX_API_TOKENS {
            svc.new_api_token(ana, &format!("t{i}"))
                .expect("up to the limit");
        }
        assert!(matches!(
            svc.new_api_token(ana, "one too many"),
            Err(ServiceError::Invalid(_))
        ));
        assert!(
            svc.account_for_api_token("smk_garbage")
                .expect("lookup")
                .is_none()
        );
    }
}
