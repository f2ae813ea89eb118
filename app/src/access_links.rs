//! Invitation and password-reset links, instead of a password shown once:
//! an admin adds a person without a password and the node makes a link
//! (valid [`INVITATION_DAYS`]) where they choose their own; for someone
//! who forgot theirs, an admin makes a reset link (valid [`RESET_HOURS`]),
//! and using it signs them out everywhere (the web layer ends the
//! sessions, which it also holds in memory). With mail on, the link is also
//! mailed to the person. Only the SHA-256 of a link's token is kept
//! (`store::access_links`); a link works once.

use maud::html;

use crate::accounts::{AccountError, hash_password, new_secret, secret_sha256, sha256_hex};
use crate::clock;
use crate::service::{Result as ServiceResult, Service, ServiceError};
use crate::store::{AccessLink, Account, Actor, AuditAction, LinkPurpose, LinkRefusal, StoreError};

/// How long an invitation works.
pub const INVITATION_DAYS: i64 = 7;
/// How long a password-reset link works.
pub const RESET_HOURS: i64 = 24;
/// Where a link's page is, under the node's address.
pub const LINK_PATH: &str = "/access/";
/// Link tokens start with this, then 64 hex digits.
const PREFIX: &str = "sml_";

/// The SHA-256 (hex) a link token is kept under, if it has the shape of one.
pub fn link_sha256(token: &str) -> Option<String> {
    secret_sha256(PREFIX, token)
}

/// Why a link did not set a password.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error(
        "This link does not work (any more): it was used, replaced by a newer one, or never made. Ask an admin of this organisation for a new one."
    )]
    Unknown,
    #[error("This link has expired. Ask an admin of this organisation for a new one.")]
    Expired,
    #[error("The account this link was for is gone or deactivated.")]
    NoAccount,
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<LinkRefusal> for LinkError {
    fn from(r: LinkRefusal) -> Self {
        match r {
            LinkRefusal::Unknown => LinkError::Unknown,
            LinkRefusal::Expired => LinkError::Expired,
            LinkRefusal::NoAccount => LinkError::NoAccount,
        }
    }
}

impl From<StoreError> for LinkError {
    fn from(e: StoreError) -> Self {
        LinkError::Service(e.into())
    }
}

impl Service {
    /// A new link for `username`, made by `actor`: an invitation while
    /// they have never had a password (nor signed in through the
    /// organisation's provider), else a password reset. Replaces the link
    /// they had; mailed to them when mail is on. The token (shown once).
    pub fn new_access_link(
        &self,
        username: &str,
        actor: &Actor,
    ) -> ServiceResult<(String, AccessLink)> {
        let account = self
            .store()
            .account(username)?
            .filter(Account::is_active)
            .ok_or_else(|| ServiceError::NotFound(format!("active account {username}")))?;
        let invited = account.password_hash.is_empty() && account.sso_subject.is_none();
        let (purpose, lasts) = if invited {
            (LinkPurpose::Invitation, INVITATION_DAYS * 86_400)
        } else {
            (LinkPurpose::PasswordReset, RESET_HOURS * 3600)
        };
        let token = new_secret(PREFIX)?;
        let now = clock::now();
        let link = AccessLink {
            sha256: sha256_hex(&token),
            username: username.to_string(),
            purpose,
            created_at: now,
            expires_at: now + lasts,
            created_by: actor.to_string(),
        };
        self.store().add_access_link(&link)?;
        self.audit(
            actor,
            AuditAction::AccessLinkCreated,
            None,
            account.person_id.as_deref(),
            format!("{} for {username}", purpose.as_str()),
        )?;
        self.mail_access_link(&account, &token, &link);
        Ok((token, link))
    }

    /// Forgets links that expired (the hourly housekeeping); how many.
    pub fn purge_expired_access_links(&self) -> ServiceResult<usize> {
        Ok(self.store().purge_expired_access_links(clock::now())?)
    }

    /// The link `token` and its account, if it still works (for its page).
    pub fn access_link(&self, token: &str) -> ServiceResult<Option<(AccessLink, Account)>> {
        let Some(sha) = link_sha256(token) else {
            return Ok(None);
        };
        let Some(link) = self.store().access_link(&sha)? else {
            return Ok(None);
        };
        if clock::now() >= link.expires_at {
            return Ok(None);
        }
        Ok(self
            .store()
            .account(&link.username)?
            .filter(Account::is_active)
            .map(|a| (link, a)))
    }

    /// Sets the password through the link `token`, once. The account, and
    /// what the link was for: after a reset, the caller ends the account's
    /// other sessions (the web layer, which also holds them in memory).
    pub async fn use_access_link(
        &self,
        token: &str,
        password: &str,
    ) -> Result<(Account, LinkPurpose), LinkError> {
        let sha = link_sha256(token).ok_or(LinkError::Unknown)?;
        let password = password.to_string();
        self.gated(crate::gate::passwords(), move |svc| {
            let hash = hash_password(&password)?;
            let (link, account) = svc.store().use_access_link(&sha, &hash, clock::now())??;
            svc.audit(
                &Actor::person(&account.username),
                AuditAction::PasswordSet,
                None,
                account.person_id.as_deref(),
                format!(
                    "through a{} link",
                    match link.purpose {
                        LinkPurpose::Invitation => "n invitation",
                        LinkPurpose::PasswordReset => " password-reset",
                    }
                ),
            )?;
            Ok((account, link.purpose))
        })
        .await
    }

    /// Mails the link to its person, when mail is on.
    fn mail_access_link(&self, account: &Account, token: &str, link: &AccessLink) {
        if !self.mails() {
            return;
        }
        let to = match account
            .person_id
            .as_deref()
            .map(|id| self.store().person(id))
            .transpose()
        {
            Ok(Some(Some(p))) if !p.email.is_empty() => p.email,
            Ok(_) => account.username.clone(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read a person to mail a link");
                return;
            }
        };
        let url = self.link(&format!("{LINK_PATH}{token}"));
        let org = self.org_name();
        let (subject, lead, lasts) = match link.purpose {
            LinkPurpose::Invitation => (
                format!("You are invited to Skillmesh at {org}"),
                format!("An admin of {org} invited you to Skillmesh. Choose your password here:"),
                format!("The link works once, for {INVITATION_DAYS} days."),
            ),
            LinkPurpose::PasswordReset => (
                format!("Choose a new Skillmesh password at {org}"),
                format!(
                    "An admin of {org} made you a link to choose a new password. Using it signs you out everywhere:"
                ),
                format!("The link works once, for {RESET_HOURS} hours."),
            ),
        };
        let text = format!("{lead}\n\n{url}\n\n{lasts}\n");
        let html = html! {
            p { (lead) }
            p { a href=(url) { (url) } }
            p style="color:#5b6575" { (lasts) }
        }
        .into_string();
        if let Some(mail) = self.mail_to(&to, &subject, text, html) {
            self.queue(&[mail]);
        }
    }
}

impl Service {
    /// A new person and their account without a password, and an
    /// invitation link for them to choose one (the token, shown once).
    pub fn add_invited_user(
        &self,
        email: &str,
        name: &str,
        role: crate::store::Role,
        actor: &Actor,
    ) -> Result<(Account, String, AccessLink), AccountError> {
        let account =
            crate::accounts::add_account_with(self.store(), email, name, role, None, actor)?;
        let (token, link) = self.new_access_link(&account.username, actor)?;
        Ok((account, token, link))
    }
}
