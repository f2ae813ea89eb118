//! Accounts for people who sign in through the organisation's OpenID
//! provider: the node's relying party (`node/src/sso.rs`) verifies who
//! the provider says signed in, and this decides what that means here.
//!
//! - The first sign-in of an address with no account makes the person and
//!   their account ("just in time"), with no password: they sign in
//!   through the provider only.
//! - An existing account with that address is bound to the provider's
//!   identity (its issuer and `sub`) at its first such sign-in; from then
//!   on another identity with the same address is refused, so an address
//!   the provider later gives to someone else does not open it.
//! - A deactivated account stays shut, whoever vouches for it.
//! - When an admin claim is configured, the provider decides the role at
//!   every sign-in (a person taken out of the admin group is a member at
//!   their next sign-in), and a change is audited.

use crate::accounts::{AccountError, MAX_NAME_BYTES, add_account_with};
use crate::clock;
use crate::service::{Service, ServiceError};
use crate::store::Actor;
use crate::store::{Account, AuditAction, Role};

/// Who the provider says signed in, once its ID token was verified and
/// its claims read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoIdentity {
    /// The provider's issuer and the person's `sub` there, one space
    /// apart: unique and stable for the person.
    pub subject: String,
    /// The address the provider verified, lower case.
    pub email: String,
    /// The name the provider gives, if any.
    pub name: Option<String>,
    /// Whether the admin claim says admin; `None` when no admin claim is
    /// configured (the role here is then the admins' to set).
    pub admin: Option<bool>,
}

/// Why a verified identity does not sign in here.
#[derive(Debug, thiserror::Error)]
pub enum SsoRefusal {
    #[error("The account for {0} has been deactivated by an admin of this organisation.")]
    Deactivated(String),
    #[error(
        "The account for {0} belongs to another identity at the sign-in provider. Ask an admin of this organisation."
    )]
    OtherIdentity(String),
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<crate::store::StoreError> for SsoRefusal {
    fn from(e: crate::store::StoreError) -> Self {
        SsoRefusal::Service(e.into())
    }
}

impl Service {
    /// The account `who` signs in to, made on their first sign-in.
    pub fn sign_in_sso(&self, who: &SsoIdentity) -> Result<Account, SsoRefusal> {
        let actor = Actor::person(&who.email);
        let account = match self.store().account(&who.email)? {
            Some(account) => account,
            None => match self.add_sso_account(who, &actor) {
                Ok(account) => return Ok(account),
                // Another sign-in of the same person made it meanwhile.
                Err(SsoRefusal::Account(AccountError::Exists(_))) => self
                    .store()
                    .account(&who.email)?
                    .ok_or_else(|| ServiceError::NotFound(format!("account {}", who.email)))?,
                Err(e) => return Err(e),
            },
        };
        if !account.is_active() {
            return Err(SsoRefusal::Deactivated(who.email.clone()));
        }
        let mut changed = account.clone();
        match &account.sso_subject {
            Some(bound) if bound != &who.subject => {
                tracing::warn!(username = %who.email, "single sign-on refused: the account is bound to another identity");
                return Err(SsoRefusal::OtherIdentity(who.email.clone()));
            }
            Some(_) => {}
            None => changed.sso_subject = Some(who.subject.clone()),
        }
        if let Some(admin) = who.admin {
            changed.role = if admin { Role::Admin } else { Role::Member };
        }
        if changed != account {
            self.store().update_account(&changed)?;
            if changed.role != account.role {
                self.audit(
                    &Actor::Node,
                    AuditAction::UserRoleChanged,
                    None,
                    changed.person_id.as_deref(),
                    format!(
                        "{}: {} to {} (the sign-in provider's admin claim)",
                        who.email,
                        account.role.as_str(),
                        changed.role.as_str()
                    ),
                )?;
            }
        }
        Ok(changed)
    }

    fn add_sso_account(&self, who: &SsoIdentity, actor: &Actor) -> Result<Account, SsoRefusal> {
        let name = who
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty() && n.len() <= MAX_NAME_BYTES)
            .unwrap_or_else(|| who.email.split('@').next().unwrap_or("colleague"));
        let role = match who.admin {
            Some(true) => Role::Admin,
            _ => Role::Member,
        };
        let account = add_account_with(
            self.store(),
            &who.email,
            name,
            role,
            Some(who.subject.clone()),
            actor,
        )?;
        tracing::info!(username = %who.email, role = role.as_str(), at = clock::now(), "account made at a first single sign-on");
        Ok(account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::add_user;

    fn who(sub: &str, email: &str, admin: Option<bool>) -> SsoIdentity {
        SsoIdentity {
            subject: format!("https://login.example {sub}"),
            email: email.into(),
            name: Some("Mia Chen".into()),
            admin,
        }
    }

    #[test]
    fn the_first_sign_in_makes_the_account_and_the_provider_keeps_the_role() {
        let (_dir, svc) = Service::for_tests();
        let first = svc
            .sign_in_sso(&who("mia", "mia@contoso.example", Some(true)))
            .expect("made");
        assert_eq!(first.role, Role::Admin);
        assert_eq!(
            first.sso_subject.as_deref(),
            Some("https://login.example mia")
        );
        // No password opens it.
        assert!(!crate::accounts::verify_password("", &first.password_hash));
        let person = svc
            .store()
            .person(first.person_id.as_deref().expect("person"))
            .expect("read")
            .expect("made too");
        assert_eq!(person.display_name, "Mia Chen");

        // Taken out of the admin group: a member at the next sign-in.
        let again = svc
            .sign_in_sso(&who("mia", "mia@contoso.example", Some(false)))
            .expect("signed in");
        assert_eq!(again.role, Role::Member);
        assert_eq!(again.person_id, first.person_id, "the same person");
        let changes = svc
            .audit_log(&crate::store::AuditFilter {
                action: Some("user_role_changed".into()),
                ..Default::default()
            })
            .expect("log");
        assert_eq!(changes.len(), 1);

        // Another identity with the same address is refused.
        assert!(matches!(
            svc.sign_in_sso(&who("someone-else", "mia@contoso.example", None)),
            Err(SsoRefusal::OtherIdentity(_))
        ));
    }

    #[test]
    fn a_local_account_is_bound_at_its_first_sign_in_and_a_deactivated_one_stays_shut() {
        let (_dir, svc) = Service::for_tests();
        let local = add_user(
            svc.store(),
            "tomas@contoso.example",
            "Tomas",
            Role::Member,
            "a long enough password",
            &Actor::person("cli"),
        )
        .expect("added");
        let bound = svc
            .sign_in_sso(&who("tomas", "tomas@contoso.example", None))
            .expect("signed in");
        assert_eq!(bound.person_id, local.person_id);
        assert_eq!(bound.role, Role::Member, "no admin claim: role unchanged");
        svc.set_account_active("tomas@contoso.example", false, &Actor::person("admin"))
            .expect("deactivated");
        assert!(matches!(
            svc.sign_in_sso(&who("tomas", "tomas@contoso.example", Some(true))),
            Err(SsoRefusal::Deactivated(_))
        ));
    }
}
