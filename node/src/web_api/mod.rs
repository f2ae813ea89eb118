//! The node's side of the web interface: [`WebState`] implements the web
//! layer's ports (one per area; [`NodeApi`] is all of them) over the
//! application's service and the network handle. It never reaches the
//! store: the service's store is private to the application crate.
//!
//! The web layer checks roles for its admin pages; what a person may touch
//! is checked in the service (`skillmesh_app::members`), which this module
//! calls with the signed-in user as a [`Caller`]: a member sees and changes
//! only their own profile, offers and requests (someone else's is "not
//! found", never "forbidden", so ids reveal nothing). Store and argon2 work
//! runs on blocking threads through [`Service::blocking`]. Errors become
//! [`ApiError`]s in one place (`skillmesh_app::service::web_error`);
//! storage and I/O details go to the log, never to the person.
//!
//! By file: `node_api` and `matching_api` implement the web's traits,
//! `views` builds what pages and the API show, `convert` maps the store's
//! types to the web's.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use skillmesh_protocol::kinds::OfferStatus;
use skillmesh_protocol::{Body, Kind, OrgKey};
use skillmesh_web::{AccessLinkFor, AccessLinkView};
use skillmesh_web::{
    AccountsApi, AddedUser, ApiError, ApiResult, ApiTokenInfo, Approval, AuditQuery, AuditRow,
    Colleague, ContentApi, DemandRow, DiscoveryApi, Federation, FederationMode, FeedItem,
    FeedbackForm, FollowOptions, Following, Health, HealthProblem, Impact, ImpactApi, ImpactQuery,
    InboxItem, KeptSession, KudosNote, LearningGoals, Listing, MailChoiceView, MatchingApi,
    ModeChanged, NewApiToken, NewKudos, NewObservation, NewRecommendation, NewRequest, NewUser,
    NodeApi, NotificationView, ObservationForm, ObservationView, Observations, ObservationsApi,
    Offer, OfferAction, OfferState, OffersApi, OrgAction, OrgName, OrgRow, OutboxItem, PeerRow,
    PeopleApi, PersonOffer, PolicyRefusalRow, Profile, ProfileUpdate, Progress, PublishedImpact,
    QuestionSettings, QuotaNoticeRow, Recommended, RejectionCount, RequestAnswer, RequestStatus,
    RequestsApi, Role, Roster, RosterMember, SearchQuery, SearchResults, SharedFields,
    SignInOptions, SsoStart, SteeringApi, Suggestion, User, Webhook,
};

use crate::access_links;
use crate::accounts::{self, AccountError};
use crate::admin;
use crate::clock;
use crate::matching;
use crate::members::{Ask, Caller, OfferChange, ProfileChange};
use crate::network::NetworkHandle;
use crate::requests::kudos_welcome;
use crate::service::web_error::unavailable;
use crate::service::{Service, ServiceError, listing_id};
use crate::store::{
    self, Account, Actor, AuditFilter, Goals, InboxEntry, InboxStatus, ItemState, OutboxEntry,
    OutboxStatus, OwnItem, Person, Sharing, StoreError, TokenKind,
};
use skillmesh_app::single_sign_on;

mod convert;
mod matching_api;
mod node_api;
#[cfg(test)]
mod tests;
mod views;

use convert::*;

/// Audit entries returned when the query does not say.
const AUDIT_DEFAULT_LIMIT: usize = 200;
/// Most audit entries returned at once.
const AUDIT_MAX_LIMIT: usize = 1000;
/// A store error as the web sees it (through the service's mapping, so a
/// full disk reads the same from every path).
fn store_error(e: StoreError) -> ApiError {
    ApiError::from(ServiceError::Store(e))
}

fn sso_error(e: crate::sso::SsoError) -> ApiError {
    use crate::sso::SsoError as E;
    match e {
        E::Unreachable { .. } | E::Busy | E::Http(_) => {
            tracing::warn!(error = %e, "single sign-on failed");
            ApiError::Unavailable(e.to_string())
        }
        E::UnknownState | E::Provider(_) | E::Invalid(_) => {
            tracing::info!(error = %e, "single sign-on refused");
            ApiError::Unauthorized(e.to_string())
        }
        E::NoEmail | E::DomainNotAllowed { .. } => {
            tracing::info!(error = %e, "single sign-on refused");
            ApiError::Forbidden(e.to_string())
        }
        E::SecretFile { .. } | E::EmptySecret(_) | E::Setting(_) => {
            tracing::warn!(error = %e, "single sign-on is misconfigured");
            unavailable()
        }
    }
}

fn sso_refusal(e: single_sign_on::SsoRefusal) -> ApiError {
    use single_sign_on::SsoRefusal as R;
    match e {
        R::Deactivated(_) | R::OtherIdentity(_) => {
            tracing::info!(error = %e, "single sign-on refused");
            ApiError::Forbidden(e.to_string())
        }
        R::Account(e) => account_error(e),
        R::Service(e) => e.into(),
    }
}

fn link_error(e: access_links::LinkError) -> ApiError {
    use access_links::LinkError as L;
    match e {
        L::Unknown | L::Expired | L::NoAccount => ApiError::NotFound(e.to_string()),
        L::Account(e) => account_error(e),
        L::Service(e) => e.into(),
    }
}

/// A link as an admin or the API shows it: its full address.
fn link_view(
    svc: &Service,
    token: &str,
    link: &store::AccessLink,
) -> skillmesh_web::AccessLinkView {
    skillmesh_web::AccessLinkView {
        url: svc.link(&format!("{}{token}", access_links::LINK_PATH)),
        purpose: link.purpose.as_str().to_string(),
        expires_at: link.expires_at,
    }
}

fn account_error(e: AccountError) -> ApiError {
    match e {
        AccountError::BadUsername(_)
        | AccountError::BadName
        | AccountError::WeakPassword
        | AccountError::LongPassword => ApiError::Invalid(e.to_string()),
        AccountError::Exists(_) => ApiError::Conflict(e.to_string()),
        AccountError::Store(s) => store_error(s),
        AccountError::Service(e) => e.into(),
        AccountError::Hash(why) => {
            tracing::warn!(error = %why, "cannot hash a password");
            unavailable()
        }
    }
}

/// The state the web layer is served with.
#[derive(Clone)]
pub struct WebState {
    service: Service,
    network: NetworkHandle,
    started: Instant,
    /// Single sign-on through the organisation's provider, if set up.
    sso: Option<std::sync::Arc<crate::sso::SingleSignOn>>,
    /// Whether accounts may sign in with a password.
    password_sign_in: bool,
}

impl WebState {
    pub fn new(service: Service, network: NetworkHandle) -> WebState {
        WebState {
            service,
            network,
            started: Instant::now(),
            sso: None,
            password_sign_in: true,
        }
    }

    /// With single sign-on through `sso`, and password sign-in on or off.
    pub fn with_sign_in(
        mut self,
        sso: Option<std::sync::Arc<crate::sso::SingleSignOn>>,
        password_sign_in: bool,
    ) -> WebState {
        // Someone must be able to sign in.
        self.password_sign_in = password_sign_in || sso.is_none();
        self.sso = sso;
        self
    }

    /// Single sign-on, or "not found" on a node without it.
    fn sso(&self) -> ApiResult<&crate::sso::SingleSignOn> {
        self.sso
            .as_deref()
            .ok_or_else(|| ApiError::NotFound("single sign-on is not set up here".into()))
    }

    pub fn service(&self) -> &Service {
        &self.service
    }

    /// The peers connected now (none, with a warning, if the network
    /// cannot say).
    async fn peers(&self) -> Vec<crate::network::PeerInfo> {
        self.network.peers().await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot list peers");
            Vec::new()
        })
    }

    /// The organisations whose nodes are connected now.
    async fn connected_orgs(&self) -> Vec<OrgKey> {
        self.peers()
            .await
            .into_iter()
            .filter_map(|p| p.org)
            .collect()
    }
}
