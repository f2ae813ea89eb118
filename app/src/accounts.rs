//! Local user accounts: argon2id password hashes, the rules for new
//! accounts, and the shape of the tokens a person uses for the API and
//! their calendar feed (only their SHA-256 is kept). API tokens and
//! sessions are in `access`.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use sha2::{Digest, Sha256};

use crate::clock;
use crate::service::{Result as ServiceResult, Service, ServiceError};
use crate::store::Actor;
use crate::store::{Account, AuditAction, AuditEntry, Person, Role, Store, StoreError, TokenKind};

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted (argon2 copes, but bounded input is the rule).
pub const MAX_PASSWORD_BYTES: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0:?} is not an email address")]
    BadUsername(String),
    #[error("the password must be at least {MIN_PASSWORD_CHARS} characters")]
    WeakPassword,
    #[error("the password is too long")]
    LongPassword,
    #[error("the name must be 1 to {MAX_NAME_BYTES} bytes")]
    BadName,
    #[error("an account for {0} already exists")]
    Exists(String),
    #[error("cannot hash the password: {0}")]
    Hash(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The work could not run (its blocking task was interrupted).
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// An argon2id PHC string for `password`, with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AccountError::WeakPassword);
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AccountError::LongPassword);
    }
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC string `hash`. A malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// An argon2id hash, with the default parameters, of a password nobody
/// has. Sign-in checks a password against it when the username does not
/// exist, so that an unknown name takes as long as a wrong password.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$w7vYm4O7FAn2XmtEFrEF3g$lUxYQTTBtybTSKt+QOWSksOZm2oS5J3ri3ngeQ9iLi4";

/// Whether `password` matches the account's hash; with no account, checks
/// it against [`DUMMY_HASH`] anyway (same cost) and says no.
pub fn verify_password_or_dummy(password: &str, hash: Option<&str>) -> bool {
    match hash {
        Some(h) => verify_password(password, h),
        None => {
            let _ = verify_password(password, DUMMY_HASH);
            false
        }
    }
}

/// A random password of 20 letters and digits, for a first sign-in.
pub fn random_password() -> Result<String, AccountError> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).map_err(|e| AccountError::Hash(e.to_string()))?;
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect())
}

fn check_username(email: &str) -> Result<(), AccountError> {
    let ok = email.len() <= 200
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(email.split_once('@'), Some((l, d)) if !l.is_empty() && d.contains('.') && !d.contains('@'));
    if ok {
        Ok(())
    } else {
        Err(AccountError::BadUsername(email.to_string()))
    }
}

/// Longest display name accepted for a new person, in bytes.
pub const MAX_NAME_BYTES: usize = 200;

/// Creates a person and their account (signing in with `email`), audited
/// as done by `actor` (an admin's username, or `cli`). Nothing of the new
/// person is shared until they opt in.
pub fn add_user(
    store: &Store,
    email: &str,
    name: &str,
    role: Role,
    password: &str,
    actor: &Actor,
) -> Result<Account, AccountError> {
    let password_hash = hash_password(password)?;
    add_person_account(store, email, name, role, password_hash, None, actor)
}

/// Creates a person and their account with no password, bound to the
/// single sign-on identity `sso_subject` (see `single_sign_on`).
pub(crate) fn add_account_with(
    store: &Store,
    email: &str,
    name: &str,
    role: Role,
    sso_subject: Option<String>,
    actor: &Actor,
) -> Result<Account, AccountError> {
    add_person_account(store, email, name, role, String::new(), sso_subject, actor)
}

fn add_person_account(
    store: &Store,
    email: &str,
    name: &str,
    role: Role,
    password_hash: String,
    sso_subject: Option<String>,
    actor: &Actor,
) -> Result<Account, AccountError> {
    let name = name.trim();
    if name.is_empty() || name.len() > MAX_NAME_BYTES {
        return Err(AccountError::BadName);
    }
    check_new_account(store, email)?;
    let mut id = person_id_for(email);
    while store.person(&id)?.is_some() {
        id = format!(
            "{}-{}",
            person_id_for(email),
            &random_password()?[..4].to_lowercase()
        );
    }
    let person = Person::new(&id, name, email, clock::now());
    let account = new_account(email, &id, role, password_hash, sso_subject);
    add_account(store, account, Some(&person), actor)
}

/// Gives an existing person an account (signing in with `email`) with a
/// password already hashed by [`hash_password`] (the demo hashes its one
/// password once for all its accounts), audited as done by `actor`.
pub fn add_account_for(
    store: &Store,
    email: &str,
    person_id: &str,
    role: Role,
    password_hash: String,
    actor: &Actor,
) -> Result<Account, AccountError> {
    check_new_account(store, email)?;
    let account = new_account(email, person_id, role, password_hash, None);
    add_account(store, account, None, actor)
}

/// The checks every new account's sign-in name passes: well-formed and
/// not taken.
fn check_new_account(store: &Store, email: &str) -> Result<(), AccountError> {
    check_username(email)?;
    if store.account(email)?.is_some() {
        return Err(AccountError::Exists(email.to_string()));
    }
    Ok(())
}

fn new_account(
    email: &str,
    person_id: &str,
    role: Role,
    password_hash: String,
    sso_subject: Option<String>,
) -> Account {
    Account {
        username: email.to_string(),
        role,
        person_id: Some(person_id.to_string()),
        password_hash,
        created_at: clock::now(),
        calendar_token_sha256: None,
        sso_subject,
        deactivated_at: None,
    }
}

fn add_account(
    store: &Store,
    account: Account,
    new_person: Option<&Person>,
    actor: &Actor,
) -> Result<Account, AccountError> {
    let audit = AuditEntry {
        at: account.created_at,
        actor: actor.to_string(),
        action: AuditAction::UserAdded.into(),
        org: None,
        record_id: account.person_id.clone(),
        detail: format!(
            "{} ({}{})",
            account.username,
            account.role.as_str(),
            if account.sso_subject.is_some() {
                ", single sign-on"
            } else {
                ""
            }
        ),
        claimed_org: None,
        count: 1,
    };
    // A race with another add of the same name ends here as AlreadyExists.
    store.add_account(&account, new_person, &audit)?;
    Ok(account)
}

/// A record-id-safe person id from the local part of an email address.
fn person_id_for(email: &str) -> String {
    let local = email.split('@').next().unwrap_or_default();
    let id: String = local
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    if id.trim_matches('-').is_empty() {
        "person".into()
    } else {
        id
    }
}

/// Tokens start with a prefix naming their kind, so they are recognisable
/// (in a leaked log, say) and cheap to tell from garbage.
pub fn token_prefix(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::Api => "smk_",
        TokenKind::Calendar => "smc_",
    }
}

/// The SHA-256 of `text`, in hex: what is kept of a token.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The SHA-256 (hex) a token of `kind` is stored under, if it has the
/// shape of one (its prefix and 64 hex digits). A caller on an async task
/// checks this first, so a malformed token costs no trip to the blocking
/// pool.
pub fn token_sha256(kind: TokenKind, token: &str) -> Option<String> {
    secret_sha256(token_prefix(kind), token)
}

/// A new secret token: `prefix` and 64 random hex digits (32 bytes).
/// Shown once; only its SHA-256 is kept (see [`secret_sha256`]).
pub fn new_secret(prefix: &str) -> ServiceResult<String> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| ServiceError::Random(e.to_string()))?;
    Ok(format!("{prefix}{}", hex::encode(b)))
}

/// The SHA-256 (hex) a secret made by [`new_secret`] with `prefix` is
/// kept under, if `token` has its shape.
pub fn secret_sha256(prefix: &str, token: &str) -> Option<String> {
    token
        .strip_prefix(prefix)
        .is_some_and(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| sha256_hex(token))
}

/// The accounts area of the service: who may sign in, and with what.
impl Service {
    /// The account `username` if `password` is its password. The hash is
    /// checked (against a dummy when there is no such account) either way,
    /// so the answer takes as long for a wrong name as for a wrong password.
    pub async fn sign_in(&self, username: &str, password: &str) -> ServiceResult<Option<Account>> {
        let (username, password) = (username.to_string(), password.to_string());
        self.gated(crate::gate::passwords(), move |svc| {
            // A deactivated account is checked like any (same cost) and
            // refused like an unknown one.
            let account = svc.store().account(&username)?.filter(Account::is_active);
            let hash = account.as_ref().map(|a| a.password_hash.as_str());
            let ok = verify_password_or_dummy(&password, hash);
            Ok(account.filter(|_| ok))
        })
        .await
    }

    /// The account signing in as `username`, if there is one.
    pub fn account(&self, username: &str) -> ServiceResult<Option<Account>> {
        Ok(self.store().account(username)?)
    }

    /// Every account, for the admins' list of users.
    pub fn accounts(&self) -> ServiceResult<Vec<Account>> {
        Ok(self.store().accounts()?)
    }

    /// The account a token of `kind` belongs to (none for anything that is
    /// not a live token of that kind).
    pub fn account_for_token(
        &self,
        kind: TokenKind,
        token: &str,
    ) -> ServiceResult<Option<Account>> {
        match kind {
            TokenKind::Api => self.account_for_api_token(token),
            TokenKind::Calendar => {
                let Some(sha) = token_sha256(kind, token) else {
                    return Ok(None);
                };
                Ok(self
                    .store()
                    .account_for_calendar_token(&sha)?
                    .filter(Account::is_active))
            }
        }
    }

    /// A new calendar feed token for `username`, replacing (and so
    /// revoking) the one before; shown once, kept only as its SHA-256,
    /// and audited.
    pub fn new_calendar_token(&self, username: &str) -> ServiceResult<String> {
        let token = new_secret(token_prefix(TokenKind::Calendar))?;
        self.store()
            .set_calendar_token(username, &sha256_hex(&token))?;
        self.audit(
            &Actor::person(username),
            AuditAction::CalendarTokenCreated,
            None,
            None,
            String::new(),
        )?;
        Ok(token)
    }

    /// An admin deactivates (`active` false) or reactivates the account
    /// `username`. Deactivating ends its sessions at once, its tokens open
    /// nothing from then on, and what its person shares is withdrawn from
    /// every partner: the listing (their sharing is switched off) and each
    /// published offer and content item (unpublished: retracted). Nothing
    /// comes back by itself on reactivation; the person shares again.
    /// Admins cannot deactivate themselves.
    pub fn set_account_active(
        &self,
        username: &str,
        active: bool,
        actor: &Actor,
    ) -> ServiceResult<Account> {
        if actor.to_string() == Actor::person(username).to_string() {
            return Err(ServiceError::Invalid(
                "You cannot deactivate your own account; ask another admin.".into(),
            ));
        }
        let mut account = self
            .store()
            .account(username)?
            .ok_or_else(|| ServiceError::NotFound(format!("account {username}")))?;
        if account.is_active() == active {
            return Ok(account);
        }
        account.deactivated_at = (!active).then(clock::now);
        self.store().update_account(&account)?;
        if !active {
            self.store().end_sessions_of(username)?;
            if let Some(person_id) = &account.person_id
                && let Some(mut person) = self.store().person(person_id)?
            {
                for item in self.store().items_of(person_id)? {
                    if item.state == crate::store::ItemState::Published {
                        self.unpublish_item(&item.id, actor)?;
                    }
                }
                person.sharing = crate::store::Sharing::default();
                self.update_person(&person, actor)?;
            }
        }
        let action = if active {
            AuditAction::UserReactivated
        } else {
            AuditAction::UserDeactivated
        };
        self.audit(
            actor,
            action,
            None,
            account.person_id.as_deref(),
            username.to_string(),
        )?;
        Ok(account)
    }

    /// An admin removes the account `username` and the person it acts
    /// for. First it is deactivated (see [`Service::set_account_active`]:
    /// signed out, everything shared withdrawn from every partner); then
    /// requests still waiting for the person are declined (the asker's
    /// node hears a definite no), their offers and content are deleted,
    /// and the account with its tokens, sessions and password links, the
    /// profile and the notifications are deleted. What others hold of
    /// what happened (requests answered, recognition given) stays. Not
    /// one's own account.
    pub fn remove_account(&self, username: &str, actor: &Actor) -> ServiceResult<()> {
        if actor.to_string() == Actor::person(username).to_string() {
            return Err(ServiceError::Invalid(
                "You cannot remove your own account; ask another admin.".into(),
            ));
        }
        let account = self
            .store()
            .account(username)?
            .ok_or_else(|| ServiceError::NotFound(format!("account {username}")))?;
        if account.is_active() {
            self.set_account_active(username, false, actor)?;
        }
        if let Some(person) = &account.person_id {
            let reply = format!("This person is no longer at {}.", self.org_name());
            for entry in self.store().inbox_of(person)? {
                if entry.status == crate::store::InboxStatus::Pending
                    && let Err(e) =
                        self.answer_request(entry.from_org, &entry.id, false, &reply, actor)
                {
                    tracing::warn!(error = %e, request = entry.id, "cannot decline a request to a person being removed");
                }
            }
            for item in self.store().items_of(person)? {
                self.delete_item(&item.id, actor)?;
            }
        }
        let audit = AuditEntry {
            at: clock::now(),
            actor: actor.to_string(),
            action: AuditAction::UserRemoved.into(),
            org: None,
            record_id: account.person_id.clone(),
            detail: username.to_string(),
            claimed_org: None,
            count: 1,
        };
        self.store().remove_account(username, &audit)?;
        tracing::info!(username, "account and person removed");
        Ok(())
    }

    /// A new account and person (see [`add_user`]), added by `actor`.
    pub async fn add_user(
        &self,
        email: &str,
        name: &str,
        role: Role,
        password: &str,
        actor: &Actor,
    ) -> Result<Account, AccountError> {
        let (email, name, password) = (email.to_string(), name.to_string(), password.to_string());
        let actor = actor.clone();
        self.gated(crate::gate::passwords(), move |svc| {
            add_user(svc.store(), &email, &name, role, &password, &actor)
        })
        .await
    }

    /// An account for an existing person (see [`add_account_for`]).
    pub fn add_account_for(
        &self,
        email: &str,
        person_id: &str,
        role: Role,
        password_hash: String,
        actor: &Actor,
    ) -> Result<Account, AccountError> {
        add_account_for(self.store(), email, person_id, role, password_hash, actor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let a = hash_password("correct horse battery").expect("hash");
        let b = hash_password("correct horse battery").expect("hash");
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "a fresh salt each time");
        assert!(verify_password("correct horse battery", &a));
        assert!(!verify_password("correct horse battere", &a));
        assert!(!verify_password("anything", "not a hash"));
        assert!(matches!(
            hash_password("short"),
            Err(AccountError::WeakPassword)
        ));
    }

    /// A burst of sign-ins and a new account queue at the gate: every
    /// answer is right, and no more argon2 computations ran at once than
    /// the limit (without the gate, the blocking pool runs them all).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn password_work_runs_no_more_at_once_than_the_limit() {
        let (_dir, svc) = Service::for_tests();
        let admin = Actor::person("admin@northwind.example");
        svc.add_user(
            "ana@northwind.example",
            "Ana",
            Role::Member,
            "correct horse battery",
            &admin,
        )
        .await
        .expect("add");
        let limit = crate::gate::passwords().limit();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..4 * limit + 2 {
            let svc = svc.clone();
            tasks.spawn(async move {
                let password = if i % 2 == 0 {
                    "correct horse battery"
                } else {
                    "correct horse battere"
                };
                let signed_in = svc.sign_in("ana@northwind.example", password).await;
                (i, signed_in.expect("sign in").is_some())
            });
        }
        let added = svc
            .add_user(
                "bo@northwind.example",
                "Bo",
                Role::Member,
                "another good password",
                &admin,
            )
            .await;
        assert!(added.is_ok(), "{added:?}");
        while let Some(done) = tasks.join_next().await {
            let (i, signed_in) = done.expect("task");
            assert_eq!(signed_in, i % 2 == 0, "attempt {i}");
        }
        let peak = crate::gate::passwords().peak();
        assert!((1..=limit).contains(&peak), "{peak} at once, limit {limit}");
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_does() {
        let real = hash_password("correct horse battery").expect("hash");
        let params = |h: &str| h.split('$').nth(3).map(str::to_string);
        assert_eq!(params(DUMMY_HASH), params(&real), "same argon2 parameters");
        assert!(
            PasswordHash::new(DUMMY_HASH).is_ok(),
            "parses, so it is checked"
        );
        assert!(!verify_password_or_dummy("correct horse battery", None));
        assert!(verify_password_or_dummy(
            "correct horse battery",
            Some(&real)
        ));
    }

    #[test]
    fn add_user_creates_a_private_person_and_refuses_duplicates() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("store");
        let acct = add_user(
            &store,
            "priya@northwind.example",
            "Priya Raman",
            Role::Admin,
            "a long enough pw",
            &Actor::Cli,
        )
        .expect("add");
        let person = store
            .person(acct.person_id.as_deref().expect("person"))
            .expect("get")
            .expect("person");
        assert_eq!(person.display_name, "Priya Raman");
        assert!(!person.sharing.any());
        assert!(matches!(
            add_user(
                &store,
                "priya@northwind.example",
                "P",
                Role::Member,
                "a long enough pw",
                &Actor::Cli
            ),
            Err(AccountError::Exists(_))
        ));
        assert!(matches!(
            add_user(
                &store,
                "not-an-email",
                "X",
                Role::Member,
                "a long enough pw",
                &Actor::Cli
            ),
            Err(AccountError::BadUsername(_))
        ));
        let long_name = "N".repeat(MAX_NAME_BYTES + 1);
        for name in ["  ", long_name.as_str()] {
            assert!(matches!(
                add_user(
                    &store,
                    "n@x.example",
                    name,
                    Role::Member,
                    "a long enough pw",
                    &Actor::Cli
                ),
                Err(AccountError::BadName)
            ));
        }
        assert!(store.account("n@x.example").expect("get").is_none());
        // An account for a person who does not exist is refused, and
        // nothing is written.
        let hash = hash_password("a long enough pw").expect("hash");
        assert!(matches!(
            add_account_for(
                &store,
                "ghost@x.example",
                "ghost",
                Role::Member,
                hash,
                &Actor::Cli
            ),
            Err(AccountError::Store(StoreError::NotFound(_)))
        ));
        assert!(store.account("ghost@x.example").expect("get").is_none());
        // One audit entry, for the one account added.
        let log = store
            .audit_log(&crate::store::AuditFilter::default())
            .expect("audit");
        assert_eq!(log.len(), 1, "{log:?}");
        assert_eq!(log[0].action, "user_added");
        assert_eq!(log[0].actor, "cli");
        assert_eq!(log[0].detail, "priya@northwind.example (admin)");
    }
}
