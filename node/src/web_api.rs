//! The node's side of the web interface: [`WebState`] implements the web
//! layer's [`NodeApi`] over the service, the store, the accounts and the
//! network handle.
//!
//! The web layer only checks roles. Everything a person may touch is
//! checked here: a member sees and changes only their own profile, offers
//! and requests (someone else's is "not found", never "forbidden", so ids
//! reveal nothing). Store and argon2 work runs on blocking threads. Errors
//! become [`ApiError`]s in one place ([`From<ServiceError>`]); storage and
//! I/O details go to the log, never to the person.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use sha2::{Digest, Sha256};
use skillmesh_protocol::kinds::OfferStatus;
use skillmesh_protocol::{Body, Header, Kind, OrgKey, RECORD_VERSION, Record};
use skillmesh_web::{
    AddedUser, ApiError, ApiResult, Approval, AuditQuery, AuditRow, Colleague, DemandRow,
    Federation, FederationMode, FeedItem, FeedbackForm, FollowOptions, Following, Health,
    HealthProblem, Impact, ImpactQuery, InboxItem, KudosNote, LearningGoals, Listing, MatchingApi,
    ModeChanged, NewKudos, NewObservation, NewRecommendation, NewRequest, NewUser, NodeApi,
    ObservationForm, ObservationView, Observations, Offer, OfferAction, OfferState, OrgAction,
    OrgName, OrgRow, OutboxItem, PeerRow, PolicyRefusalRow, Profile, ProfileUpdate, Progress,
    PublishedImpact, QuotaNoticeRow, Recommended, RejectionCount, RequestAnswer, RequestStatus,
    Role, Roster, RosterMember, SearchQuery, SearchResults, SharedFields, Suggestion, User,
};

use crate::accounts::{self, AccountError};
use crate::admin;
use crate::clock;
use crate::matching;
use crate::network::NetworkHandle;
use crate::outbound::expertise_listing;
use crate::requests::kudos_welcome;
use crate::service::{RECORD_LIFETIME_SECS, Service, ServiceError, listing_id};
use crate::store::{
    self, Account, AuditFilter, Goals, InboxEntry, InboxStatus, ItemState, OutboxEntry,
    OutboxStatus, OwnItem, Person, Sharing, StoreError, TokenKind,
};

/// What a person reads when the node failed for a reason of its own.
const TRY_AGAIN: &str = "the node could not complete this; try again";
/// Audit entries returned when the query does not say.
const AUDIT_DEFAULT_LIMIT: usize = 200;
/// Most audit entries returned at once.
const AUDIT_MAX_LIMIT: usize = 1000;
/// Tokens start with a prefix naming their kind, so they are recognisable
/// (in a leaked log, say) and cheap to tell from garbage.
fn token_prefix(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::Api => "smk_",
        TokenKind::Calendar => "smc_",
    }
}

/// The SHA-256 (hex) a token of `kind` is stored under, if it has the
/// shape of one (its prefix and 64 hex digits).
fn token_sha256(kind: TokenKind, token: &str) -> Option<String> {
    token
        .strip_prefix(token_prefix(kind))
        .is_some_and(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| sha256_hex(token))
}

/// What a person reads when the node cannot save (or, rarely, read) its
/// data: what is wrong, that nothing changed, and what to do.
fn store_fault_words(fault: &crate::storage::WriteFault) -> String {
    if fault.reads_work {
        format!(
            "the node cannot save changes right now ({}); this change may not have been saved \
             — try again later (the node recovers by itself once it can write again)",
            fault.cause.words()
        )
    } else {
        format!(
            "the node cannot read or save its data right now ({}), so nothing was changed; try \
             again later (the node recovers by itself once it can write again)",
            fault.cause.words()
        )
    }
}

fn unavailable() -> ApiError {
    ApiError::Unavailable(TRY_AGAIN.into())
}

/// The one mapping from the node's errors to what a person sees.
impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> ApiError {
        match e {
            ServiceError::NotFound(what) => ApiError::NotFound(format!("{what} not found")),
            ServiceError::Invalid(why) => ApiError::Invalid(why),
            ServiceError::Rejected(r) => ApiError::Invalid(r.to_string()),
            ServiceError::Store(StoreError::NotFound(what)) => {
                ApiError::NotFound(format!("{what} not found"))
            }
            ServiceError::Store(StoreError::AlreadyExists(what)) => {
                ApiError::Conflict(format!("{what} already exists"))
            }
            // Logged once when the fault began (see `storage`), not per request.
            ref other if let Some(fault) = other.store_fault() => {
                tracing::debug!(error = %other, "web request refused: the store cannot save changes");
                ApiError::Unavailable(store_fault_words(fault))
            }
            other => {
                tracing::warn!(error = %other, "web request failed inside the node");
                unavailable()
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        ApiError::from(ServiceError::Store(e))
    }
}

fn account_error(e: AccountError) -> ApiError {
    match e {
        AccountError::BadUsername(_)
        | AccountError::BadName
        | AccountError::WeakPassword
        | AccountError::LongPassword => ApiError::Invalid(e.to_string()),
        AccountError::Exists(_) => ApiError::Conflict(e.to_string()),
        AccountError::Store(s) => s.into(),
        AccountError::Hash(why) => {
            tracing::warn!(error = %why, "cannot hash a password");
            unavailable()
        }
    }
}

/// Runs store or argon2 work on a blocking thread.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "web request task failed");
        Err(unavailable())
    })
}

fn sharing_to_fields(s: Sharing) -> SharedFields {
    SharedFields {
        display_name: s.display_name,
        headline: s.headline,
        topics: s.topics,
        languages: s.languages,
        time_zone: s.time_zone,
        formats: s.formats,
        availability: s.availability,
        email: s.email,
        recognition: s.recognition,
    }
}

fn fields_to_sharing(f: SharedFields) -> Sharing {
    Sharing {
        display_name: f.display_name,
        headline: f.headline,
        topics: f.topics,
        languages: f.languages,
        time_zone: f.time_zone,
        formats: f.formats,
        availability: f.availability,
        email: f.email,
        recognition: f.recognition,
    }
}

fn mode_to_web(m: skillmesh_config::FederationMode) -> FederationMode {
    match m {
        skillmesh_config::FederationMode::Open => FederationMode::Open,
        skillmesh_config::FederationMode::Allowlist => FederationMode::Allowlist,
        skillmesh_config::FederationMode::Blocklist => FederationMode::Blocklist,
    }
}

fn mode_from_web(m: FederationMode) -> skillmesh_config::FederationMode {
    match m {
        FederationMode::Open => skillmesh_config::FederationMode::Open,
        FederationMode::Allowlist => skillmesh_config::FederationMode::Allowlist,
        FederationMode::Blocklist => skillmesh_config::FederationMode::Blocklist,
    }
}

fn role_to_web(r: store::Role) -> Role {
    match r {
        store::Role::Member => Role::Member,
        store::Role::Admin => Role::Admin,
    }
}

fn role_from_web(r: Role) -> store::Role {
    match r {
        Role::Member => store::Role::Member,
        Role::Admin => store::Role::Admin,
    }
}

fn offer_state(s: ItemState) -> OfferState {
    match s {
        ItemState::Draft => OfferState::Draft,
        ItemState::PendingApproval => OfferState::PendingApproval,
        ItemState::Published => OfferState::Published,
        ItemState::Unpublished => OfferState::Unpublished,
    }
}

fn outbox_status(s: OutboxStatus) -> RequestStatus {
    match s {
        OutboxStatus::Waiting => RequestStatus::Waiting,
        OutboxStatus::Queued => RequestStatus::Queued,
        OutboxStatus::Accepted => RequestStatus::Accepted,
        OutboxStatus::Declined => RequestStatus::Declined,
        OutboxStatus::Refused => RequestStatus::Refused,
    }
}

fn inbox_status(s: InboxStatus) -> RequestStatus {
    match s {
        InboxStatus::Pending => RequestStatus::Pending,
        InboxStatus::Accepted => RequestStatus::Accepted,
        InboxStatus::Declined => RequestStatus::Declined,
    }
}

/// What "My offers" lists: talks, mentoring, cohorts, calls for talks,
/// content and learning paths, and the events an admin runs.
fn in_my_offers(body: &Body) -> bool {
    body.offer_status().is_some() || matches!(body, Body::Event(_) | Body::Content(_))
}

fn offer_of(item: OwnItem) -> Offer {
    Offer {
        id: item.id,
        state: offer_state(item.state),
        body: item.body,
        updated_at: item.updated_at,
    }
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The state the web layer is served with.
#[derive(Clone)]
pub struct WebState {
    service: Service,
    network: NetworkHandle,
    started: Instant,
}

impl WebState {
    pub fn new(service: Service, network: NetworkHandle) -> WebState {
        WebState {
            service,
            network,
            started: Instant::now(),
        }
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

/// Everything below runs on blocking threads, over the service.
impl Service {
    /// The name other organisations gave themselves on their cards (or
    /// when asking to join), else the first 8 hex digits of the key.
    pub(crate) fn org_display_name(&self, org: &OrgKey) -> String {
        if *org == self.org() {
            return self.org_name().to_string();
        }
        if let Some(name) = self.known_org_name(org) {
            return name;
        }
        match self.store().join_request(org) {
            Ok(Some(r)) => r.card.map(|c| c.name),
            _ => None,
        }
        .unwrap_or_else(|| org.short())
    }

    fn web_user(&self, account: &Account) -> ApiResult<User> {
        let person = match &account.person_id {
            Some(id) => self.store().person(id)?,
            None => None,
        };
        Ok(User {
            username: account.username.clone(),
            role: role_to_web(account.role),
            person_id: account.person_id.clone().unwrap_or_default(),
            display_name: person
                .map(|p| p.display_name)
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| account.username.clone()),
        })
    }

    /// The signed-in person's own profile.
    fn own_person(&self, user: &User) -> ApiResult<Person> {
        if user.person_id.is_empty() {
            return Err(ApiError::NotFound(
                "this account has no profile on this node".into(),
            ));
        }
        self.store()
            .person(&user.person_id)?
            .ok_or_else(|| ApiError::NotFound("this account has no profile on this node".into()))
    }

    /// One of the signed-in person's own offers; anyone else's is not found.
    /// One of `user`'s offers or events.
    fn own_offer(&self, user: &User, id: &str) -> ApiResult<OwnItem> {
        self.store()
            .item(id)?
            .filter(|i| {
                !user.person_id.is_empty()
                    && i.owner.as_deref() == Some(user.person_id.as_str())
                    && in_my_offers(&i.body)
            })
            .ok_or_else(|| ApiError::NotFound("no such offer".into()))
    }

    /// Refuses what publishing would refuse, with the same words: the body
    /// is checked exactly as signing checks it.
    fn check_publishable(&self, id: &str, body: &Body) -> ApiResult<()> {
        let now = clock::now();
        let record = Record {
            header: Header {
                version: RECORD_VERSION,
                org: self.org(),
                id: id.to_string(),
                seq: 1,
                issued_at: now,
                expires_at: now + RECORD_LIFETIME_SECS,
            },
            body: body.clone(),
        };
        skillmesh_protocol::seal(&record, self.identity().signing_key())
            .map(|_| ())
            .map_err(|r| ApiError::Invalid(r.to_string()))
    }

    fn web_profile(&self, person: Person) -> ApiResult<Profile> {
        let policy = self.store().outbound_policy()?;
        let preview = self.listing_of(&person)?;
        let recognition = self.recognition(&person.id)?;
        let mut kudos: Vec<KudosNote> = Vec::new();
        for e in self.store().inbox()? {
            if e.owner.as_deref() != Some(person.id.as_str()) {
                continue;
            }
            if let Some(k) = e.kudos {
                kudos.push(KudosNote {
                    from_name: k.from_name,
                    from_org_name: self.org_display_name(&e.from_org),
                    from_org_fingerprint: e.from_org.fingerprint(),
                    offer_title: self.own_title(&e.offer_id)?,
                    message: k.message,
                    at: k.at,
                });
            }
        }
        kudos.sort_by_key(|k| std::cmp::Reverse(k.at));
        Ok(Profile {
            kudos,
            preview,
            recognition,
            pending_approval: person.listing_pending,
            sharing: sharing_to_fields(person.sharing),
            policy: sharing_to_fields(policy.fields),
            person_id: person.id,
            display_name: person.display_name,
            email: person.email,
            headline: person.headline,
            topics: person.topics,
            languages: person.languages,
            time_zone: person.time_zone,
            formats: person.formats,
            availability: person.availability,
        })
    }

    fn outbox_item(&self, e: OutboxEntry) -> OutboxItem {
        OutboxItem {
            offer_org_name: self.org_display_name(&e.offer_org),
            offer_org_fingerprint: e.offer_org.fingerprint(),
            // A store error here only hides the "feedback given" mark.
            feedback_given: self.store().feedback(&e.id).ok().flatten().is_some(),
            contribution: e.changes_programme(),
            kudos_welcome: kudos_welcome(&e),
            kudos_refused: e.kudos.as_ref().and_then(|k| k.refused.clone()),
            kudos: e.kudos.map(|k| k.message),
            id: e.id,
            offer_org: e.offer_org,
            offer_id: e.offer_id,
            offer_title: e.offer_title,
            goal: e.goal,
            status: outbox_status(e.status),
            detail: e.detail,
            contact: e.contact,
            group: e.group.map(|g| Roster {
                goal: g.goal,
                starts_at: g.starts_at,
                weeks: g.weeks,
                weekly_hours: g.weekly_hours,
                schedule: g.schedule,
                members: g
                    .members
                    .into_iter()
                    .map(|m| RosterMember {
                        org_name: self.org_display_name(&m.org),
                        org_fingerprint: m.org.fingerprint(),
                        org: m.org,
                        name: m.name,
                    })
                    .collect(),
            }),
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }

    /// The name of our person `id`, or the id if they are gone.
    fn person_name(&self, id: &str) -> ApiResult<String> {
        Ok(self
            .store()
            .person(id)?
            .map_or_else(|| id.to_string(), |p| p.display_name))
    }

    fn observation_view(&self, o: crate::store::Observation) -> ApiResult<ObservationView> {
        Ok(ObservationView {
            trainer_name: self.person_name(&o.trainer)?,
            observer_name: self.person_name(&o.observer)?,
            id: o.id,
            offer_id: o.offer_id,
            offer_title: o.offer_title,
            when: o.when,
            feedback: o.feedback,
            invited_at: o.invited_at,
        })
    }

    /// The title of our offer `id`, or the id if it is gone.
    fn own_title(&self, id: &str) -> ApiResult<String> {
        Ok(self
            .store()
            .item(id)?
            .map_or_else(|| id.to_string(), |i| i.body.title()))
    }

    fn inbox_item(&self, e: InboxEntry) -> ApiResult<InboxItem> {
        let offer_title = self.own_title(&e.offer_id)?;
        let from_org_lookalike = self
            .lookalike_of(&e.from_org)?
            .map(|(name, key)| format!("name looks like {name}'s, key {}", key.fingerprint()));
        Ok(InboxItem {
            from_org_name: self.org_display_name(&e.from_org),
            from_org_fingerprint: e.from_org.fingerprint(),
            from_org_new: self.is_new_org(&e.from_org)?,
            from_org_lookalike,
            from_org: e.from_org,
            id: e.id,
            offer_id: e.offer_id,
            offer_title,
            requester_name: e.requester_name,
            goal: e.goal,
            preferred_times: e.preferred_times,
            message: e.message,
            status: inbox_status(e.status),
            reply: e.reply,
            received_at: e.received_at,
            kudos: e.kudos.map(|k| k.message),
        })
    }

    /// The feed item of a session signed up for, from the event as held
    /// (none if the event is gone or no longer has that session).
    fn signed_up_session(&self, e: &OutboxEntry, session: &str) -> ApiResult<Option<FeedItem>> {
        let Some(row) = self
            .store()
            .get_record(&e.offer_org, &e.offer_id)?
            .filter(|r| !r.tombstone)
        else {
            return Ok(None);
        };
        let Body::Event(event) = row.record()?.body else {
            return Ok(None);
        };
        Ok(event
            .sessions
            .iter()
            .find(|s| s.id == session)
            .map(|s| FeedItem {
                org: e.offer_org,
                org_name: self.org_display_name(&e.offer_org),
                org_fingerprint: e.offer_org.fingerprint(),
                id: e.offer_id.clone(),
                title: s.title.clone(),
                detail: event.title.clone(),
                slots: vec![skillmesh_protocol::kinds::Slot {
                    starts_at: s.starts_at,
                    duration_minutes: s.duration_minutes,
                }],
                session: Some(s.id.clone()),
            }))
    }

    /// What goes into `person`'s calendar feed: the cohorts they were
    /// admitted to (the schedule their admission carried) and their own
    /// published offers with scheduled sessions.
    fn calendar_items(&self, person: &str) -> ApiResult<Vec<FeedItem>> {
        let mut items = Vec::new();
        for e in self.store().outbox()? {
            if e.requester != person || e.status != OutboxStatus::Accepted {
                continue;
            }
            if let Some(session) = &e.session {
                if let Some(item) = self.signed_up_session(&e, session)? {
                    items.push(item);
                }
                continue;
            }
            if let Some(g) = e.group.filter(|g| !g.schedule.is_empty()) {
                items.push(FeedItem {
                    org_name: self.org_display_name(&e.offer_org),
                    org_fingerprint: e.offer_org.fingerprint(),
                    org: e.offer_org,
                    id: e.offer_id,
                    title: e.offer_title,
                    detail: g.goal,
                    slots: g.schedule,
                    session: None,
                });
            }
        }
        let own = self.org();
        for item in self.store().items()? {
            if item.owner.as_deref() != Some(person) || item.state != ItemState::Published {
                continue;
            }
            let title = item.body.title();
            let (detail, slots) = match item.body {
                Body::CohortOffer(c) => (c.goal, c.schedule),
                Body::MentoringOffer(m) => (m.description, m.slots),
                _ => continue,
            };
            if !slots.is_empty() {
                items.push(FeedItem {
                    org: own,
                    org_name: self.org_name().to_string(),
                    org_fingerprint: own.fingerprint(),
                    title,
                    id: item.id,
                    detail,
                    slots,
                    session: None,
                });
            }
        }
        Ok(items)
    }

    fn web_listing(&self, org: &OrgKey, id: &str) -> ApiResult<Listing> {
        let not_found = || ApiError::NotFound("no such record".into());
        // A record of an organisation not admitted here is not shown.
        let Some(row) = self.visible_record(org, id)? else {
            return self.local_listing(org, id)?.ok_or_else(not_found);
        };
        let record = row.record()?;
        // What people search for, and what organisations publish of
        // their impact, has a page.
        if !Kind::SEARCHABLE.contains(&record.kind()) && record.kind() != Kind::ImpactSummary {
            return Err(not_found());
        }
        // Re-check the signature on view (the page says so).
        let signature_verified = row.signed_by(org);
        let own = *org == self.org();
        let requestable = !own && record.body.offer_status() == Some(OfferStatus::Open);
        let (contributable, our_sessions, org_names) = match &record.body {
            Body::Event(e) => {
                let contributable = !own && e.contributors.contains(&self.org());
                let ours: Vec<String> = e
                    .sessions
                    .iter()
                    .filter(|s| contributable && s.contributor == Some(self.org()))
                    .map(|s| s.id.clone())
                    .collect();
                let mut mentioned: Vec<OrgKey> = e
                    .contributors
                    .iter()
                    .chain(e.sessions.iter().filter_map(|s| s.contributor.as_ref()))
                    .copied()
                    .collect();
                mentioned.sort();
                mentioned.dedup();
                (
                    contributable,
                    ours,
                    mentioned
                        .into_iter()
                        .map(|org| OrgName {
                            name: self.org_display_name(&org),
                            fingerprint: org.fingerprint(),
                            org,
                        })
                        .collect(),
                )
            }
            _ => (false, Vec::new(), Vec::new()),
        };
        Ok(Listing {
            org: *org,
            org_name: self.org_display_name(org),
            org_fingerprint: org.fingerprint(),
            id: record.header.id,
            seq: record.header.seq,
            issued_at: record.header.issued_at,
            expires_at: record.header.expires_at,
            body: record.body,
            signature_verified,
            own,
            requestable,
            contributable,
            our_sessions,
            org_names,
            following: None,
            tell_curator: false,
            local_only: false,
        })
    }

    /// One of our own content items kept inside the organisation, shown
    /// to colleagues as a listing (not signed: nothing was published).
    fn local_listing(&self, org: &OrgKey, id: &str) -> ApiResult<Option<Listing>> {
        if *org != self.org() {
            return Ok(None);
        }
        let Some(item) = self.store().item(id)?.filter(OwnItem::kept_inside) else {
            return Ok(None);
        };
        Ok(Some(Listing {
            org: *org,
            org_name: self.org_name().to_string(),
            org_fingerprint: org.fingerprint(),
            id: item.id,
            seq: 0,
            issued_at: item.updated_at,
            expires_at: 0,
            body: item.body,
            signature_verified: false,
            own: true,
            requestable: false,
            contributable: false,
            our_sessions: Vec::new(),
            org_names: Vec::new(),
            following: None,
            tell_curator: false,
            local_only: true,
        }))
    }

    /// Stores a new offer as a draft, or replaces an own offer's body
    /// (re-publishing it if it was published).
    fn save_offer_as(&self, user: &User, id: Option<&str>, body: Body) -> ApiResult<Offer> {
        let person = self.own_person(user)?;
        let name = Some(person.display_name.trim().to_string()).filter(|n| !n.is_empty());
        let body = match body {
            Body::TalkOffer(mut o) => {
                o.person = person.id.clone();
                o.speaker_name = name;
                Body::TalkOffer(o)
            }
            Body::MentoringOffer(mut o) => {
                o.person = person.id.clone();
                o.mentor_name = name;
                Body::MentoringOffer(o)
            }
            Body::CohortOffer(mut o) => {
                o.person = person.id.clone();
                o.owner_name = name;
                Body::CohortOffer(o)
            }
            Body::TalkWanted(mut o) => {
                o.person = person.id.clone();
                o.asker_name = name;
                Body::TalkWanted(o)
            }
            Body::Content(mut c) => {
                c.curator_name = name;
                Body::Content(c)
            }
            // An event speaks for the organisation: admins run them.
            Body::Event(e) if user.is_admin() => Body::Event(e),
            Body::Event(_) => {
                return Err(ApiError::Forbidden(
                    "only admins create and edit events".into(),
                ));
            }
            other => {
                return Err(ApiError::Invalid(format!(
                    "{} is not an offer: offer a talk, mentoring or a cohort, ask for a talk, or (admins) run an event",
                    other.kind()
                )));
            }
        };
        let actor = user.username.as_str();
        match id {
            None => {
                let id = crate::service::random_id("offer")?;
                self.check_publishable(&id, &body)?;
                let item = self.create_item(&id, Some(&person.id), body, actor)?;
                Ok(offer_of(item))
            }
            Some(id) => {
                let mut item = self.own_offer(user, id)?;
                self.check_publishable(id, &body)?;
                item.body = body;
                item.updated_at = clock::now();
                self.update_item(&item)?;
                self.audit(
                    actor,
                    "item_updated",
                    None,
                    Some(id),
                    item.body.kind().to_string(),
                )?;
                if item.state == ItemState::Published {
                    item = self.publish_item(id, actor)?;
                }
                Ok(offer_of(item))
            }
        }
    }

    fn offer_action_as(&self, user: &User, id: &str, action: OfferAction) -> ApiResult<Offer> {
        let mut item = self.own_offer(user, id)?;
        let actor = user.username.as_str();
        let status = match action {
            OfferAction::Publish => return Ok(offer_of(self.publish_item(id, actor)?)),
            OfferAction::Unpublish => {
                if item.state == ItemState::Draft {
                    return Err(ApiError::Invalid(
                        "this offer has not been published".into(),
                    ));
                }
                return Ok(offer_of(self.unpublish_item(id, actor)?));
            }
            OfferAction::Delete => {
                self.delete_item(id, actor)?;
                return Ok(offer_of(item));
            }
            OfferAction::Pause => OfferStatus::Paused,
            OfferAction::Reopen => OfferStatus::Open,
            OfferAction::Close => OfferStatus::Closed,
        };
        if !item.body.set_offer_status(status) {
            return Err(ApiError::NotFound("no such offer".into()));
        }
        item.updated_at = clock::now();
        self.update_item(&item)?;
        self.audit(
            actor,
            "offer_status_changed",
            None,
            Some(id),
            format!("{status:?}").to_lowercase(),
        )?;
        if item.state == ItemState::Published {
            item = self.publish_item(id, actor)?;
        }
        Ok(offer_of(item))
    }

    fn send_request_as(&self, user: &User, request: NewRequest) -> ApiResult<OutboxItem> {
        let person = self.own_person(user)?;
        let entry = match (&request.session, request.contribution, &request.withdraw) {
            (Some(session), None, None) => {
                self.sign_up(&person.id, request.offer_org, &request.offer_id, session)?
            }
            (None, Some(session), None) => {
                if !user.is_admin() {
                    return Err(ApiError::Forbidden(
                        "only admins add sessions to another organisation's event".into(),
                    ));
                }
                self.contribute_session(&person.id, request.offer_org, &request.offer_id, session)?
            }
            (None, None, Some(session_id)) => {
                if !user.is_admin() {
                    return Err(ApiError::Forbidden(
                        "only admins take sessions out of another organisation's event".into(),
                    ));
                }
                self.withdraw_session(&person.id, request.offer_org, &request.offer_id, session_id)?
            }
            (None, None, None) => self.request_offer(
                &person.id,
                request.offer_org,
                &request.offer_id,
                &request.goal,
                &request.preferred_times,
                &request.message,
                request.name_to_group,
            )?,
            _ => {
                return Err(ApiError::Invalid(
                    "sign up for a session, add one or take one out: only one of them".into(),
                ));
            }
        };
        Ok(self.outbox_item(entry))
    }

    fn answer_as(
        &self,
        user: &User,
        from_org: OrgKey,
        id: &str,
        answer: RequestAnswer,
    ) -> ApiResult<InboxItem> {
        let mine = self.store().inbox_entry(&from_org, id)?.is_some_and(|e| {
            !user.person_id.is_empty() && e.owner.as_deref() == Some(user.person_id.as_str())
        });
        if !mine {
            return Err(ApiError::NotFound("no such request".into()));
        }
        let entry =
            self.answer_request(from_org, id, answer.accept, &answer.reply, &user.username)?;
        self.inbox_item(entry)
    }

    fn web_federation(&self, peers: Vec<crate::network::PeerInfo>) -> ApiResult<Federation> {
        let store = self.store();
        let own = self.org();
        let mut rows: BTreeMap<OrgKey, OrgRow> = BTreeMap::new();
        /// The row for `org`, made on first sight; none for our own.
        fn row(
            rows: &mut BTreeMap<OrgKey, OrgRow>,
            own: OrgKey,
            org: OrgKey,
        ) -> Option<&mut OrgRow> {
            if org == own {
                return None;
            }
            Some(rows.entry(org).or_insert_with(|| OrgRow {
                key: org,
                name: String::new(),
                listing: None,
                records: 0,
                connected: false,
                wants_to_join: false,
                fingerprint: String::new(),
                new: false,
                lookalike: None,
            }))
        }
        let (mut federated, mut own_records) = (0, 0);
        for (org, n) in store.record_counts()? {
            if org == own {
                own_records += n;
            } else {
                federated += n;
            }
            row(&mut rows, own, org);
        }
        for (org, n) in store.live_counts()? {
            if let Some(r) = row(&mut rows, own, org) {
                r.records = n;
            }
        }
        for (org, listing) in store.org_listings()? {
            if let Some(r) = row(&mut rows, own, org) {
                r.listing = Some(
                    match listing {
                        store::OrgListing::Allowed => "allowed",
                        store::OrgListing::Blocked => "blocked",
                    }
                    .to_string(),
                );
            }
        }
        for request in store.join_requests()? {
            if let Some(r) = row(&mut rows, own, request.org) {
                r.wants_to_join = true;
            }
        }
        let connected: Vec<OrgKey> = peers.iter().filter_map(|p| p.org).collect();
        let current_partners = self.current_partners(&connected)?.len() as u64;
        let mut peer_rows = Vec::with_capacity(peers.len());
        for p in peers {
            if let Some(org) = p.org
                && let Some(r) = row(&mut rows, own, org)
            {
                r.connected = true;
            }
            peer_rows.push(PeerRow {
                org_name: p
                    .org
                    .map_or_else(|| "unknown".to_string(), |o| self.org_display_name(&o)),
                org_fingerprint: p.org.map(|o| o.fingerprint()),
                peer_id: p.peer,
                org: p.org,
            });
        }
        let mut orgs: Vec<OrgRow> = rows
            .into_values()
            .map(|mut r| -> ApiResult<OrgRow> {
                r.name = self.org_display_name(&r.key);
                r.fingerprint = r.key.fingerprint();
                r.new = self.is_new_org(&r.key)?;
                r.lookalike = self.lookalike_of(&r.key)?.map(|(name, key)| {
                    format!("name looks like {name}'s, key {}", key.fingerprint())
                });
                Ok(r)
            })
            .collect::<ApiResult<_>>()?;
        orgs.sort_by(|a, b| {
            (b.wants_to_join, a.name.to_lowercase(), a.key).cmp(&(
                a.wants_to_join,
                b.name.to_lowercase(),
                b.key,
            ))
        });
        let inbound = self.inbound();
        Ok(Federation {
            mode: mode_to_web(inbound.mode),
            approval_required: inbound.approval_required,
            orgs,
            peers: peer_rows,
            rejections: store
                .rejection_counts()?
                .into_iter()
                .map(|(code, count)| RejectionCount { code, count })
                .collect(),
            policy_refusals: store
                .policy_refusals()?
                .into_iter()
                .map(|r| PolicyRefusalRow {
                    org_name: self.org_display_name(&r.org),
                    org_fingerprint: r.org.fingerprint(),
                    org: r.org,
                    reason: r.reason,
                    count: r.count,
                    last_at: r.last_at,
                })
                .collect(),
            quota_notices: store
                .quota_notices()?
                .into_iter()
                .map(|n| QuotaNoticeRow {
                    org_name: self.org_display_name(&n.from),
                    org_fingerprint: n.from.fingerprint(),
                    org: n.from,
                    record_id: n.record_id,
                    held: n.held,
                    limit: n.limit,
                    received_at: n.received_at,
                    count: n.count,
                })
                .collect(),
            current_partners,
            federated_records: federated,
            own_records,
        })
    }

    fn web_approvals(&self) -> ApiResult<Vec<Approval>> {
        let (people, items) = self.pending_approvals()?;
        let mut out = Vec::new();
        for person in people {
            let Some(listing) = self.listing_of(&person)? else {
                continue;
            };
            let body = Body::Expertise(listing);
            out.push(Approval {
                id: listing_id(&person.id),
                kind: Kind::Expertise.to_string(),
                title: body.title(),
                owner: person.display_name.clone(),
                body,
            });
        }
        for item in items {
            let owner = match &item.owner {
                Some(p) => self
                    .store()
                    .person(p)?
                    .map_or_else(|| p.clone(), |p| p.display_name),
                None => self.org_name().to_string(),
            };
            out.push(Approval {
                id: item.id,
                kind: item.body.kind().to_string(),
                title: item.body.title(),
                owner,
                body: item.body,
            });
        }
        Ok(out)
    }

    fn approve_as(&self, actor: &User, id: &str) -> ApiResult<()> {
        let (people, items) = self.pending_approvals()?;
        if let Some(person) = people.iter().find(|p| listing_id(&p.id) == id) {
            return Ok(self.approve_listing(&person.id, &actor.username)?);
        }
        if items.iter().any(|i| i.id == id) {
            self.approve_item(id, &actor.username)?;
            return Ok(());
        }
        Err(ApiError::NotFound(
            "nothing with this id waits for approval".into(),
        ))
    }

    fn web_audit(&self, query: &AuditQuery) -> ApiResult<Vec<AuditRow>> {
        let org = query.org.trim();
        if !org.is_empty() && org.parse::<OrgKey>().is_err() {
            return Err(ApiError::Invalid(
                "org must be an organisation key: 64 lowercase hex digits".into(),
            ));
        }
        let day = query.day.trim();
        let (since, until) = if day.is_empty() {
            (None, None)
        } else {
            let since = skillmesh_web::dates::parse_date(day).ok_or_else(|| {
                ApiError::Invalid(format!("{day:?} is not a day written YYYY-MM-DD"))
            })?;
            (Some(since), Some(since + 86_400))
        };
        let limit = match query.limit {
            0 => AUDIT_DEFAULT_LIMIT,
            n => n.min(AUDIT_MAX_LIMIT),
        };
        let filter = AuditFilter {
            org: (!org.is_empty()).then(|| org.to_string()),
            action: Some(query.action.trim().to_string()).filter(|a| !a.is_empty()),
            since,
            until,
            limit: Some(limit),
            people: match query.who.as_str() {
                "people" => Some(true),
                "network" => Some(false),
                _ => None,
            },
        };
        let mut names: HashMap<String, Option<String>> = HashMap::new();
        Ok(self
            .store()
            .audit_log(&filter)?
            .into_iter()
            .map(|e| {
                let org_name = e.org.as_ref().and_then(|hex| {
                    names
                        .entry(hex.clone())
                        .or_insert_with(|| {
                            hex.parse::<OrgKey>()
                                .ok()
                                .map(|o| self.org_display_name(&o))
                        })
                        .clone()
                });
                AuditRow {
                    at: e.at,
                    actor: e.actor,
                    action: e.action,
                    org_fingerprint: e
                        .org
                        .as_ref()
                        .and_then(|h| h.parse::<OrgKey>().ok())
                        .map(|o| o.fingerprint()),
                    org: e.org,
                    org_name,
                    claimed_org: e.claimed_org,
                    count: e.count,
                    record_id: e.record_id,
                    detail: e.detail,
                }
            })
            .collect())
    }

    fn add_user_as(&self, actor: &User, new: NewUser) -> ApiResult<AddedUser> {
        let generated = new.password.is_empty();
        let password = if generated {
            accounts::random_password().map_err(account_error)?
        } else {
            new.password
        };
        let account = accounts::add_user(
            self.store(),
            new.username.trim(),
            &new.display_name,
            role_from_web(new.role),
            &password,
            &actor.username,
        )
        .map_err(account_error)?;
        Ok(AddedUser {
            user: self.web_user(&account)?,
            // Only a password the node made up is handed back.
            password: if generated { password } else { String::new() },
        })
    }
}

fn new_token(kind: TokenKind) -> ApiResult<String> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| {
        tracing::warn!(error = %e, "no randomness for a token");
        unavailable()
    })?;
    Ok(format!("{}{}", token_prefix(kind), hex::encode(b)))
}

impl NodeApi for WebState {
    fn org_name(&self) -> String {
        self.service.org_name().to_string()
    }

    async fn health(&self) -> Health {
        let (federated, own) = match self.service.record_counts() {
            Ok(c) => c,
            // A store that cannot be read shows as a problem below.
            Err(e) if e.store_fault().is_some() => (0, 0),
            Err(e) => {
                tracing::warn!(error = %e, "health: cannot count records");
                (0, 0)
            }
        };
        let records_fingerprint = match self.service.store().fingerprint_all() {
            Ok(acc) => hex::encode(acc.fingerprint()),
            Err(e) => {
                tracing::warn!(error = %e, "health: cannot read the records' fingerprint");
                String::new()
            }
        };
        let network = self.network.status().await.unwrap_or_default();
        let mut problems = self.service.problems();
        problems.extend(network.problems());
        problems.sort_by_key(|p| p.kind);
        let problems: Vec<HealthProblem> = problems
            .into_iter()
            .map(|p| HealthProblem {
                code: p.kind.code().into(),
                message: p.message,
            })
            .collect();
        let org = self.service.org();
        Health {
            status: Health::status_of(&problems),
            problems,
            version: env!("CARGO_PKG_VERSION").into(),
            org: self.service.org_name().to_string(),
            org_key: org.to_hex(),
            org_fingerprint: org.fingerprint(),
            peer_id: network.peer_id,
            listen_addrs: network.listen_addrs,
            peers: network.peers,
            federated_records: federated,
            own_records: own,
            records_fingerprint,
            uptime_secs: self.started.elapsed().as_secs(),
        }
    }

    async fn sign_in(&self, username: &str, password: &str) -> ApiResult<Option<User>> {
        let (svc, username, password) = (
            self.service.clone(),
            username.to_string(),
            password.to_string(),
        );
        blocking(move || {
            let account = svc.store().account(&username)?;
            let ok = accounts::verify_password_or_dummy(
                &password,
                account.as_ref().map(|a| a.password_hash.as_str()),
            );
            match account {
                Some(a) if ok => Ok(Some(svc.web_user(&a)?)),
                _ => Ok(None),
            }
        })
        .await
    }

    async fn user(&self, username: &str) -> ApiResult<Option<User>> {
        let (svc, username) = (self.service.clone(), username.to_string());
        blocking(move || {
            svc.store()
                .account(&username)?
                .map(|a| svc.web_user(&a))
                .transpose()
        })
        .await
    }

    async fn user_for_token(&self, token: &str) -> ApiResult<Option<User>> {
        let Some(sha) = token_sha256(TokenKind::Api, token) else {
            return Ok(None);
        };
        let svc = self.service.clone();
        blocking(move || {
            svc.store()
                .account_for_token(TokenKind::Api, &sha)?
                .map(|a| svc.web_user(&a))
                .transpose()
        })
        .await
    }

    async fn new_api_token(&self, user: &User) -> ApiResult<String> {
        let (svc, username) = (self.service.clone(), user.username.clone());
        blocking(move || {
            let token = new_token(TokenKind::Api)?;
            svc.store()
                .set_token(TokenKind::Api, &username, &sha256_hex(&token))?;
            svc.audit(&username, "api_token_created", None, None, String::new())?;
            Ok(token)
        })
        .await
    }

    async fn send_kudos(
        &self,
        user: &User,
        request_id: &str,
        kudos: NewKudos,
    ) -> ApiResult<OutboxItem> {
        let (svc, user, id) = (self.service.clone(), user.clone(), request_id.to_string());
        blocking(move || {
            let person = svc.own_person(&user)?;
            let entry = svc.send_kudos(&person.id, &id, &kudos.message)?;
            Ok(svc.outbox_item(entry))
        })
        .await
    }

    async fn give_feedback(
        &self,
        user: &User,
        request_id: &str,
        form: FeedbackForm,
    ) -> ApiResult<()> {
        let (svc, user, id) = (self.service.clone(), user.clone(), request_id.to_string());
        blocking(move || {
            let person = svc.own_person(&user)?;
            svc.give_feedback(&person.id, &id, form)?;
            Ok(())
        })
        .await
    }

    async fn impact(&self, query: &ImpactQuery) -> ApiResult<Impact> {
        let (svc, query) = (self.service.clone(), query.clone());
        blocking(move || Ok(svc.impact(&query)?)).await
    }

    async fn impact_summaries(&self) -> ApiResult<Vec<PublishedImpact>> {
        let svc = self.service.clone();
        blocking(move || {
            let own = svc.org();
            Ok(svc
                .impact_summaries()?
                .into_iter()
                .map(|h| PublishedImpact {
                    org_name: svc.org_display_name(&h.org),
                    org_fingerprint: h.org.fingerprint(),
                    own: h.org == own,
                    issued_at: h.record.header.issued_at,
                    org: h.org,
                    summary: h.summary,
                    signature_verified: h.signature_verified,
                })
                .collect())
        })
        .await
    }

    async fn publish_impact(
        &self,
        actor: &User,
        query: &ImpactQuery,
    ) -> ApiResult<PublishedImpact> {
        let (svc, query, actor) = (self.service.clone(), query.clone(), actor.username.clone());
        blocking(move || {
            let summary = svc.publish_impact_summary(&query, &actor)?;
            Ok(PublishedImpact {
                org: svc.org(),
                org_name: svc.org_name().to_string(),
                org_fingerprint: svc.org().fingerprint(),
                own: true,
                issued_at: clock::now(),
                summary,
                signature_verified: true,
            })
        })
        .await
    }

    async fn withdraw_impact(&self, actor: &User) -> ApiResult<()> {
        let (svc, actor) = (self.service.clone(), actor.username.clone());
        blocking(move || {
            if svc.withdraw_impact_summary(&actor)? {
                Ok(())
            } else {
                Err(ApiError::NotFound("no impact summary is published".into()))
            }
        })
        .await
    }

    async fn new_calendar_token(&self, user: &User) -> ApiResult<String> {
        let (svc, username) = (self.service.clone(), user.username.clone());
        blocking(move || {
            let token = new_token(TokenKind::Calendar)?;
            svc.store()
                .set_token(TokenKind::Calendar, &username, &sha256_hex(&token))?;
            svc.audit(
                &username,
                "calendar_token_created",
                None,
                None,
                String::new(),
            )?;
            Ok(token)
        })
        .await
    }

    async fn calendar_feed(&self, token: &str) -> ApiResult<Option<Vec<FeedItem>>> {
        let Some(sha) = token_sha256(TokenKind::Calendar, token) else {
            return Ok(None);
        };
        let svc = self.service.clone();
        blocking(move || {
            let Some(account) = svc.store().account_for_token(TokenKind::Calendar, &sha)? else {
                return Ok(None);
            };
            let Some(person) = account.person_id else {
                return Ok(Some(Vec::new()));
            };
            Ok(Some(svc.calendar_items(&person)?))
        })
        .await
    }

    async fn search(&self, _user: &User, query: &SearchQuery) -> ApiResult<SearchResults> {
        let (svc, query) = (self.service.clone(), query.clone());
        blocking(move || Ok(svc.search(&query, clock::now()))).await
    }

    async fn listing(&self, user: &User, org: &OrgKey, id: &str) -> ApiResult<Listing> {
        let (svc, org, id, person) = (
            self.service.clone(),
            *org,
            id.to_string(),
            user.person_id.clone(),
        );
        blocking(move || {
            let mut listing = svc.web_listing(&org, &id)?;
            if !person.is_empty()
                && let Some(f) = svc.store().follow(&person, &org, &id)?
            {
                listing.tell_curator = f.tell_curator;
                listing.following = Some(f.done.into_iter().collect());
            }
            Ok(listing)
        })
        .await
    }

    async fn invite_observer(
        &self,
        user: &User,
        offer_id: &str,
        invitation: NewObservation,
    ) -> ApiResult<ObservationView> {
        let (svc, user, offer_id) = (self.service.clone(), user.clone(), offer_id.to_string());
        blocking(move || {
            let person = svc.own_person(&user)?;
            let o = svc.invite_observer(
                &person.id,
                &offer_id,
                &invitation.observer,
                &invitation.when,
            )?;
            svc.observation_view(o)
        })
        .await
    }

    async fn observations(&self, user: &User) -> ApiResult<Observations> {
        let (svc, user) = (self.service.clone(), user.clone());
        blocking(move || {
            let person = svc.own_person(&user)?;
            let (to_give, of_mine) = svc.observations_of(&person.id)?;
            Ok(Observations {
                to_give: to_give
                    .into_iter()
                    .map(|o| svc.observation_view(o))
                    .collect::<ApiResult<_>>()?,
                of_mine: of_mine
                    .into_iter()
                    .map(|o| svc.observation_view(o))
                    .collect::<ApiResult<_>>()?,
            })
        })
        .await
    }

    async fn give_observation(
        &self,
        user: &User,
        id: &str,
        form: ObservationForm,
    ) -> ApiResult<()> {
        let (svc, user, id) = (self.service.clone(), user.clone(), id.to_string());
        blocking(move || {
            let person = svc.own_person(&user)?;
            svc.give_observation(&person.id, &id, form)?;
            Ok(())
        })
        .await
    }

    async fn colleagues(&self, user: &User) -> ApiResult<Vec<Colleague>> {
        let me = user.person_id.clone();
        let svc = self.service.clone();
        blocking(move || {
            let mut out: Vec<Colleague> = svc
                .store()
                .people()?
                .into_iter()
                .filter(|p| p.id != me)
                .map(|p| Colleague {
                    name: if p.display_name.trim().is_empty() {
                        p.id.clone()
                    } else {
                        p.display_name
                    },
                    person_id: p.id,
                })
                .collect();
            out.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(out)
        })
        .await
    }

    async fn recommend(&self, user: &User, r: NewRecommendation) -> ApiResult<()> {
        let (svc, user) = (self.service.clone(), user.clone());
        blocking(move || {
            let person = svc.own_person(&user)?;
            svc.recommend(&person.id, &r.to, r.org, &r.id, &r.note)?;
            Ok(())
        })
        .await
    }

    async fn recommended(&self, user: &User) -> ApiResult<Vec<Recommended>> {
        let (svc, user) = (self.service.clone(), user.clone());
        blocking(move || {
            let person = svc.own_person(&user)?;
            let mut out = Vec::new();
            for r in svc.store().recommendations_to(&person.id)? {
                out.push(Recommended {
                    from_name: svc.person_name(&r.from)?,
                    org_name: svc.org_display_name(&r.org),
                    org_fingerprint: r.org.fingerprint(),
                    org: r.org,
                    id: r.id,
                    title: r.title,
                    note: r.note,
                    at: r.at,
                });
            }
            out.sort_by_key(|r| std::cmp::Reverse(r.at));
            Ok(out)
        })
        .await
    }

    async fn following(&self, user: &User) -> ApiResult<Vec<Following>> {
        let (svc, user) = (self.service.clone(), user.clone());
        blocking(move || {
            let person = svc.own_person(&user)?;
            let mut out = Vec::new();
            for f in svc.store().follows_of(&person.id)? {
                let held = match svc.store().get_record(&f.org, &f.id)? {
                    Some(row) if !row.tombstone => Some(row.record()?.body),
                    _ => None,
                };
                let (title, total) = match held {
                    Some(Body::Content(c)) => (c.title, c.items.len()),
                    _ => (f.title.clone(), 0),
                };
                out.push(Following {
                    org_name: svc.org_display_name(&f.org),
                    org_fingerprint: f.org.fingerprint(),
                    org: f.org,
                    id: f.id,
                    title,
                    done: f.done.len(),
                    withdrawn: total == 0,
                    total,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn follow(
        &self,
        user: &User,
        org: &OrgKey,
        id: &str,
        options: FollowOptions,
    ) -> ApiResult<()> {
        let (svc, user, org, id) = (self.service.clone(), user.clone(), *org, id.to_string());
        blocking(move || {
            let person = svc.own_person(&user)?;
            svc.follow_list(&person.id, org, &id, options.tell_curator)?;
            Ok(())
        })
        .await
    }

    async fn unfollow(&self, user: &User, org: &OrgKey, id: &str) -> ApiResult<()> {
        let (svc, user, org, id) = (self.service.clone(), user.clone(), *org, id.to_string());
        blocking(move || {
            let person = svc.own_person(&user)?;
            Ok(svc.unfollow_list(&person.id, org, &id)?)
        })
        .await
    }

    async fn set_progress(
        &self,
        user: &User,
        org: &OrgKey,
        id: &str,
        progress: Progress,
    ) -> ApiResult<()> {
        let (svc, user, org, id) = (self.service.clone(), user.clone(), *org, id.to_string());
        blocking(move || {
            let person = svc.own_person(&user)?;
            svc.tick_off(&person.id, org, &id, &progress.done)?;
            Ok(())
        })
        .await
    }

    async fn profile(&self, user: &User) -> ApiResult<Profile> {
        let (svc, user) = (self.service.clone(), user.clone());
        blocking(move || svc.web_profile(svc.own_person(&user)?)).await
    }

    async fn update_profile(&self, user: &User, update: ProfileUpdate) -> ApiResult<Profile> {
        let (svc, user) = (self.service.clone(), user.clone());
        blocking(move || {
            let mut person = svc.own_person(&user)?;
            let display_name = update.display_name.trim();
            if display_name.is_empty() {
                return Err(ApiError::Invalid("the name is empty".into()));
            }
            person.display_name = display_name.to_string();
            person.headline = update.headline.trim().to_string();
            person.topics = update.topics;
            person.languages = update.languages;
            person.time_zone = update.time_zone.filter(|t| !t.trim().is_empty());
            person.formats = update.formats;
            person.availability = update.availability;
            person.sharing = fields_to_sharing(update.sharing);
            person.updated_at = clock::now();
            // Whatever the person shares now or later must be publishable:
            // check every field as a listing would carry it.
            let everything = Person {
                sharing: Sharing::listing(),
                ..person.clone()
            };
            if let Some(everything) =
                expertise_listing(&everything, &store::OutboundPolicy::default(), None)
            {
                svc.check_publishable(&listing_id(&person.id), &Body::Expertise(everything))?;
            }
            svc.update_person(&person, &user.username)?;
            let person = svc.own_person(&user)?;
            svc.web_profile(person)
        })
        .await
    }

    async fn offers(&self, user: &User) -> ApiResult<Vec<Offer>> {
        let (svc, user) = (self.service.clone(), user.clone());
        blocking(move || {
            if user.person_id.is_empty() {
                return Ok(Vec::new());
            }
            let mut items: Vec<OwnItem> = svc
                .store()
                .items()?
                .into_iter()
                .filter(|i| {
                    i.owner.as_deref() == Some(user.person_id.as_str()) && in_my_offers(&i.body)
                })
                .collect();
            items.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(a.id.cmp(&b.id)));
            Ok(items.into_iter().map(offer_of).collect())
        })
        .await
    }

    async fn offer(&self, user: &User, id: &str) -> ApiResult<Offer> {
        let (svc, user, id) = (self.service.clone(), user.clone(), id.to_string());
        blocking(move || svc.own_offer(&user, &id).map(offer_of)).await
    }

    async fn save_offer(&self, user: &User, id: Option<&str>, body: Body) -> ApiResult<Offer> {
        let (svc, user, id) = (self.service.clone(), user.clone(), id.map(str::to_string));
        blocking(move || svc.save_offer_as(&user, id.as_deref(), body)).await
    }

    async fn offer_action(&self, user: &User, id: &str, action: OfferAction) -> ApiResult<Offer> {
        let (svc, user, id) = (self.service.clone(), user.clone(), id.to_string());
        blocking(move || svc.offer_action_as(&user, &id, action)).await
    }

    async fn send_request(&self, user: &User, request: NewRequest) -> ApiResult<OutboxItem> {
        let (svc, user) = (self.service.clone(), user.clone());
        blocking(move || svc.send_request_as(&user, request)).await
    }

    async fn inbox(&self, user: &User) -> ApiResult<Vec<InboxItem>> {
        let (svc, user) = (self.service.clone(), user.clone());
        blocking(move || {
            if user.person_id.is_empty() {
                return Ok(Vec::new());
            }
            let mut entries: Vec<InboxEntry> = svc
                .store()
                .inbox()?
                .into_iter()
                .filter(|e| e.owner.as_deref() == Some(user.person_id.as_str()))
                .collect();
            entries.sort_by(|a, b| b.received_at.cmp(&a.received_at).then(a.id.cmp(&b.id)));
            entries.into_iter().map(|e| svc.inbox_item(e)).collect()
        })
        .await
    }

    async fn outbox(&self, user: &User) -> ApiResult<Vec<OutboxItem>> {
        let (svc, user) = (self.service.clone(), user.clone());
        blocking(move || {
            if user.person_id.is_empty() {
                return Ok(Vec::new());
            }
            let mut entries: Vec<OutboxEntry> = svc
                .store()
                .outbox()?
                .into_iter()
                .filter(|e| e.requester == user.person_id)
                .collect();
            entries.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
            Ok(entries.into_iter().map(|e| svc.outbox_item(e)).collect())
        })
        .await
    }

    async fn answer_request(
        &self,
        user: &User,
        from_org: &OrgKey,
        id: &str,
        answer: RequestAnswer,
    ) -> ApiResult<InboxItem> {
        let (svc, user, from_org, id) = (
            self.service.clone(),
            user.clone(),
            *from_org,
            id.to_string(),
        );
        blocking(move || svc.answer_as(&user, from_org, &id, answer)).await
    }

    async fn federation(&self) -> ApiResult<Federation> {
        let peers = self.peers().await;
        let svc = self.service.clone();
        blocking(move || svc.web_federation(peers)).await
    }

    async fn set_federation_mode(
        &self,
        actor: &User,
        mode: FederationMode,
    ) -> ApiResult<ModeChanged> {
        let connected = self.connected_orgs().await;
        let (svc, actor) = (self.service.clone(), actor.username.clone());
        let kept = blocking(move || {
            Ok(svc.set_federation_mode(mode_from_web(mode), &actor, &connected)?)
        })
        .await?;
        // Organisations the new mode lets in catch up at once.
        admin::resync(&self.network).await;
        Ok(ModeChanged {
            mode,
            partners_kept: kept as u64,
        })
    }

    async fn org_action(&self, actor: &User, org: &OrgKey, action: OrgAction) -> ApiResult<()> {
        if *org == self.service.org() {
            return Err(ApiError::Invalid(
                "that is this organisation's own key".into(),
            ));
        }
        let (svc, net, who) = (&self.service, &self.network, actor.username.as_str());
        match action {
            OrgAction::Allow => admin::allow_org(svc, net, *org, who).await?,
            OrgAction::Block => {
                admin::block_org(svc, net, *org, who).await?;
            }
            OrgAction::Clear => admin::unblock_org(svc, net, *org, who).await?,
            OrgAction::Refuse => {
                let (svc, org, who) = (svc.clone(), *org, who.to_string());
                blocking(move || Ok(svc.refuse_join(&org, &who)?)).await?;
            }
        }
        Ok(())
    }

    async fn approvals(&self) -> ApiResult<Vec<Approval>> {
        let svc = self.service.clone();
        blocking(move || svc.web_approvals()).await
    }

    async fn approve(&self, actor: &User, id: &str) -> ApiResult<()> {
        let (svc, actor, id) = (self.service.clone(), actor.clone(), id.to_string());
        blocking(move || svc.approve_as(&actor, &id)).await
    }

    async fn outbound_policy(&self) -> ApiResult<SharedFields> {
        let svc = self.service.clone();
        blocking(move || Ok(sharing_to_fields(svc.store().outbound_policy()?.fields))).await
    }

    async fn set_outbound_policy(&self, actor: &User, fields: SharedFields) -> ApiResult<()> {
        let (svc, actor) = (self.service.clone(), actor.username.clone());
        blocking(move || {
            let policy = store::OutboundPolicy {
                fields: fields_to_sharing(fields),
            };
            Ok(svc.set_outbound_policy(&policy, &actor)?)
        })
        .await
    }

    async fn audit(&self, query: &AuditQuery) -> ApiResult<Vec<AuditRow>> {
        let (svc, query) = (self.service.clone(), query.clone());
        blocking(move || svc.web_audit(&query)).await
    }

    async fn users(&self) -> ApiResult<Vec<User>> {
        let svc = self.service.clone();
        blocking(move || {
            svc.store()
                .accounts()?
                .iter()
                .map(|a| svc.web_user(a))
                .collect()
        })
        .await
    }

    async fn add_user(&self, actor: &User, user: NewUser) -> ApiResult<AddedUser> {
        let (svc, actor) = (self.service.clone(), actor.clone());
        blocking(move || svc.add_user_as(&actor, user)).await
    }
}

/// Bounds on what a person may note as goals (they stay on this node, but
/// are still input from a browser).
const MAX_GOALS_CHARS: usize = 2_000;
const MAX_GOAL_TOPICS: usize = 20;
const MAX_GOAL_TOPIC_CHARS: usize = 100;

fn goals_to_web(g: Goals) -> LearningGoals {
    LearningGoals {
        goals: g.goals,
        topics: g.topics,
        formats: g.formats,
        languages: g.languages,
        max_hours_apart: g.max_hours_apart,
    }
}

fn goals_from_web(g: LearningGoals) -> ApiResult<Goals> {
    let topics: Vec<String> = g
        .topics
        .iter()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    if g.goals.chars().count() > MAX_GOALS_CHARS {
        return Err(ApiError::Invalid(format!(
            "Keep your goals under {MAX_GOALS_CHARS} characters."
        )));
    }
    if topics.len() > MAX_GOAL_TOPICS
        || topics
            .iter()
            .any(|t| t.chars().count() > MAX_GOAL_TOPIC_CHARS)
    {
        return Err(ApiError::Invalid(format!(
            "Name at most {MAX_GOAL_TOPICS} topics of at most {MAX_GOAL_TOPIC_CHARS} characters."
        )));
    }
    if g.languages.len() > 10 || g.max_hours_apart.is_some_and(|h| h > 12) {
        return Err(ApiError::Invalid(
            "Name at most 10 languages and at most 12 hours apart.".into(),
        ));
    }
    Ok(Goals {
        goals: g.goals.trim().to_string(),
        topics,
        formats: g.formats,
        languages: g
            .languages
            .iter()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect(),
        max_hours_apart: g.max_hours_apart,
        updated_at: clock::now(),
    })
}

impl MatchingApi for WebState {
    async fn goals(&self, user: &User) -> ApiResult<LearningGoals> {
        let (svc, user) = (self.service.clone(), user.clone());
        blocking(move || {
            let me = svc.own_person(&user)?;
            Ok(goals_to_web(svc.store().goals(&me.id)?))
        })
        .await
    }

    async fn set_goals(&self, user: &User, goals: LearningGoals) -> ApiResult<LearningGoals> {
        let (svc, user) = (self.service.clone(), user.clone());
        blocking(move || {
            let me = svc.own_person(&user)?;
            let goals = goals_from_web(goals)?;
            svc.store().set_goals(&me.id, &goals)?;
            Ok(goals_to_web(goals))
        })
        .await
    }

    async fn suggestions(&self, user: &User) -> ApiResult<Vec<Suggestion>> {
        let (svc, user) = (self.service.clone(), user.clone());
        blocking(move || {
            let me = svc.own_person(&user)?;
            let goals = svc.store().goals(&me.id)?;
            Ok(matching::suggest(&svc, &me, &goals, clock::now())?)
        })
        .await
    }

    async fn demand(&self) -> ApiResult<Vec<DemandRow>> {
        let svc = self.service.clone();
        blocking(move || Ok(matching::demand(&svc, clock::now())?)).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ed25519_dalek::SigningKey;
    use skillmesh_protocol::kinds::{
        Audience, Availability, AvailabilityStatus, Delivery, Expertise, Format, Level,
        SessionFormat, TalkOffer, Topic,
    };
    use skillmesh_protocol::samples;

    use super::*;
    use crate::identity::OrgIdentity;
    use crate::policy::Admission;
    use crate::service::{InboundSettings, Ingested};
    use crate::store::Store;

    const PASSWORD: &str = "a long enough password";

    fn open_service(dir: &std::path::Path, key: &SigningKey, inbound: InboundSettings) -> Service {
        let store = Arc::new(Store::open(&dir.join("store")).expect("store"));
        let identity = OrgIdentity::from_signing_key(key.clone());
        let service = Service::new("Northwind".into(), identity, store, inbound).expect("service");
        service.ensure_org_card().expect("card");
        service
    }

    /// A node with two members, Ana and Bob, and no network.
    struct Node {
        _dir: tempfile::TempDir,
        api: WebState,
        ana: User,
        bob: User,
    }

    fn node_with(inbound: InboundSettings) -> Node {
        let dir = tempfile::tempdir().expect("tempdir");
        let service = open_service(dir.path(), &SigningKey::from_bytes(&[1; 32]), inbound);
        let mut users = ["ana@northwind.example", "bob@northwind.example"].map(|email| {
            let account = accounts::add_user(
                service.store(),
                email,
                &email[..3].to_uppercase(),
                store::Role::Member,
                PASSWORD,
                "test",
            )
            .expect("user");
            service.web_user(&account).expect("web user")
        });
        let bob = users[1].clone();
        let ana = std::mem::replace(&mut users[0], bob.clone());
        Node {
            _dir: dir,
            api: WebState::new(service, NetworkHandle::detached()),
            ana,
            bob,
        }
    }

    fn node() -> Node {
        node_with(InboundSettings::default())
    }

    fn talk(title: &str, minutes: u16) -> Body {
        Body::TalkOffer(TalkOffer {
            person: "someone-else".into(),
            speaker_name: Some("Not me".into()),
            title: title.into(),
            summary: "What we learnt.".into(),
            topics: vec!["Kubernetes".into()],
            format: SessionFormat::Talk,
            audience: Audience::Everyone,
            duration_minutes: minutes,
            languages: vec!["en".into()],
            delivery: Delivery::Remote,
            status: OfferStatus::Open,
        })
    }

    /// While the store cannot save (a full disk, simulated by a storage
    /// engine that fails as sled does), a change is refused with words a
    /// person can act on, `/healthz` says why, reads go on; once the disk
    /// takes writes again the node recovers by itself.
    #[tokio::test]
    async fn a_full_disk_refuses_changes_with_a_clear_error_until_the_node_recovers() {
        use crate::storage::testing::{Disk, recovering};
        let disk = Arc::new(Disk::default());
        let kv = recovering(
            &disk,
            std::time::Duration::from_millis(5),
            std::time::Duration::from_millis(20),
        );
        let store = Arc::new(Store::with_kv(Box::new(kv)).expect("store"));
        let identity = OrgIdentity::from_signing_key(SigningKey::from_bytes(&[1; 32]));
        let service = Service::new(
            "Northwind".into(),
            identity,
            store,
            InboundSettings::default(),
        )
        .expect("service");
        let account = accounts::add_user(
            service.store(),
            "ana@northwind.example",
            "Ana",
            store::Role::Member,
            PASSWORD,
            "test",
        )
        .expect("user");
        let ana = service.web_user(&account).expect("web user");
        let api = WebState::new(service, NetworkHandle::detached());
        let codes =
            |h: &Health| -> Vec<String> { h.problems.iter().map(|p| p.code.clone()).collect() };
        let before = api
            .save_offer(&ana, None, talk("Before the disk filled", 30))
            .await
            .expect("saved");
        assert!(!codes(&api.health().await).contains(&"store_unwritable".to_string()));

        disk.full.store(true, std::sync::atomic::Ordering::Release);
        let refused = api
            .save_offer(&ana, None, talk("While the disk is full", 30))
            .await
            .expect_err("the disk is full");
        let ApiError::Unavailable(words) = &refused else {
            panic!("{refused:?}");
        };
        assert!(
            words.contains("cannot save changes right now (its disk is full)")
                && words.contains("this change may not have been saved — try again later"),
            "{words}"
        );
        let health = api.health().await;
        assert_eq!(health.status, skillmesh_web::HealthStatus::Degraded);
        let problem = health
            .problems
            .iter()
            .find(|p| p.code == "store_unwritable")
            .expect("store_unwritable");
        assert!(
            problem.message.contains("its disk is full")
                && problem.message.contains("free space on the disk"),
            "{}",
            problem.message
        );
        let offers = api.offers(&ana).await.expect("reads go on");
        assert!(offers.iter().any(|o| o.id == before.id));

        disk.full.store(false, std::sync::atomic::Ordering::Release);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while codes(&api.health().await).contains(&"store_unwritable".to_string()) {
            assert!(
                std::time::Instant::now() < deadline,
                "the node did not recover"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let after = api
            .save_offer(&ana, None, talk("After space was freed", 30))
            .await
            .expect("saved again");
        let ids: Vec<String> = api
            .offers(&ana)
            .await
            .expect("offers")
            .into_iter()
            .map(|o| o.id)
            .collect();
        assert!(ids.contains(&before.id) && ids.contains(&after.id));
        assert_eq!(ids.len(), 2, "the refused offer is not there: {ids:?}");
    }

    #[tokio::test]
    async fn content_kept_inside_is_seen_and_recommended_by_colleagues_only() {
        let n = node();
        let org = n.api.service().org();
        let id = n
            .api
            .save_offer(&n.ana, None, samples::body(Kind::Content))
            .await
            .expect("save")
            .id;
        // Not shared: Bob sees it on this node, unsigned and marked so.
        let seen = n.api.listing(&n.bob, &org, &id).await.expect("listing");
        assert!(seen.local_only && !seen.signature_verified);
        // And finds it in search, marked as kept inside.
        let content = SearchQuery {
            kind: "content".into(),
            ..SearchQuery::default()
        };
        let found = n.api.search(&n.bob, &content).await.expect("search");
        assert_eq!(found.total, 1);
        assert!(found.hits[0].id == id && found.hits[0].local_only);
        assert!(
            n.api
                .service()
                .store()
                .get_record(&org, &id)
                .expect("get")
                .is_none(),
            "nothing was signed or stored for partners"
        );
        let to_bob = |note: &str| NewRecommendation {
            org,
            id: id.clone(),
            to: n.bob.person_id.clone(),
            note: note.into(),
        };
        n.api
            .recommend(&n.ana, to_bob("Read this before Tuesday"))
            .await
            .expect("recommend");
        let got = n.api.recommended(&n.bob).await.expect("recommended");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].title, seen.body.title());
        assert_eq!(got[0].note, "Read this before Tuesday");
        assert!(n.api.recommended(&n.ana).await.expect("ana's").is_empty());
        // Not to oneself, not to nobody, not what does not exist.
        assert!(matches!(
            n.api.recommend(&n.bob, to_bob("me")).await,
            Err(ApiError::Invalid(_))
        ));
        let mut nobody = to_bob("x");
        nobody.to = "nobody".into();
        assert!(matches!(
            n.api.recommend(&n.ana, nobody).await,
            Err(ApiError::NotFound(_))
        ));
        let mut missing = to_bob("x");
        missing.id = "no-such-item".into();
        assert!(matches!(
            n.api.recommend(&n.ana, missing).await,
            Err(ApiError::NotFound(_))
        ));
    }

    /// A learning path of one entry.
    fn list_body() -> Body {
        let mut body = samples::body(Kind::Content);
        if let Body::Content(c) = &mut body {
            c.content_type = skillmesh_protocol::kinds::ContentType::List;
            c.url = None;
            c.items = vec![skillmesh_protocol::kinds::ListEntry {
                title: "Being on-call".into(),
                url: "https://sre.google/sre-book/being-on-call/".into(),
                note: String::new(),
            }];
        }
        body
    }

    /// The follower counts waiting for the courier: (org, list id, count).
    fn counts_to_send(svc: &Service) -> Vec<(OrgKey, String, u32)> {
        svc.pending_deliveries()
            .expect("pending")
            .into_iter()
            .filter_map(|d| match d {
                crate::requests::Delivery::FollowerCount { to, id, envelope } => {
                    let record = skillmesh_protocol::open(&envelope, clock::now()).expect("open");
                    let Body::FollowerCount(c) = record.body else {
                        panic!("not a follower count: {}", record.kind());
                    };
                    assert_eq!((c.list_org, c.list_id.as_str()), (to, id.as_str()));
                    Some((to, id, c.followers))
                }
                _ => None,
            })
            .collect()
    }

    #[tokio::test]
    async fn a_partners_list_is_told_how_many_follow_it_among_those_who_chose_to() {
        let n = node();
        let svc = n.api.service();
        let key = other(7);
        let theirs = OrgKey::from(&key.verifying_key());
        let stored = ingest(svc, &envelope(&key, "path-1", 1, list_body()));
        assert!(matches!(stored, Ok(Ingested::Stored { .. })), "{stored:?}");
        // Following without telling sends nothing.
        n.api
            .follow(
                &n.ana,
                &theirs,
                "path-1",
                FollowOptions {
                    tell_curator: false,
                },
            )
            .await
            .expect("ana follows");
        assert!(counts_to_send(svc).is_empty());
        // Bob lets them know; then Ana does too; then Bob stops following.
        n.api
            .follow(
                &n.bob,
                &theirs,
                "path-1",
                FollowOptions { tell_curator: true },
            )
            .await
            .expect("bob follows");
        assert_eq!(counts_to_send(svc), [(theirs, "path-1".to_string(), 1)]);
        n.api
            .follow(
                &n.ana,
                &theirs,
                "path-1",
                FollowOptions { tell_curator: true },
            )
            .await
            .expect("ana tells");
        assert_eq!(counts_to_send(svc), [(theirs, "path-1".to_string(), 2)]);
        n.api
            .unfollow(&n.bob, &theirs, "path-1")
            .await
            .expect("unfollow");
        let pending = svc.pending_deliveries().expect("pending");
        assert_eq!(counts_to_send(svc), [(theirs, "path-1".to_string(), 1)]);
        // Delivered: nothing left to send, until the count changes again.
        for d in &pending {
            svc.delivered(d, Ok(())).expect("delivered");
        }
        assert!(counts_to_send(svc).is_empty());
        n.api
            .follow(
                &n.ana,
                &theirs,
                "path-1",
                FollowOptions { tell_curator: true },
            )
            .await
            .expect("the same again");
        assert!(counts_to_send(svc).is_empty(), "nothing changed");
        let sent = svc.store().sent_count(&theirs, "path-1").expect("sent");
        assert_eq!(sent.map(|c| (c.seq, c.followers)), Some((3, 1)));
        // Nothing names a person.
        assert!(!svc.store().sent_counts().expect("sent").iter().any(|c| {
            let bytes = hex::decode(&c.envelope).expect("hex");
            String::from_utf8_lossy(&bytes).contains(&n.ana.person_id)
        }));
    }

    #[tokio::test]
    async fn follower_counts_from_partners_credit_the_curator() {
        let n = node();
        let svc = n.api.service();
        let list = n
            .api
            .save_offer(&n.ana, None, list_body())
            .await
            .expect("save")
            .id;
        let talk_id = anas_published_talk(&n).await;
        let key = other(7);
        let contoso = OrgKey::from(&key.verifying_key());
        let count = |list_org: OrgKey, list_id: &str, seq: u64, followers: u32| {
            envelope(
                &key,
                "followers-1",
                seq,
                Body::FollowerCount(skillmesh_protocol::kinds::FollowerCount {
                    list_org,
                    list_id: list_id.into(),
                    followers,
                }),
            )
        };
        let curated = || {
            svc.recognition(&n.ana.person_id)
                .expect("recognition")
                .curated
        };
        assert_eq!(curated(), 0);
        let take = |bytes: Vec<u8>| {
            svc.receive_follower_count(&bytes, contoso)
                .expect("receive")
        };
        assert_eq!(take(count(svc.org(), &list, 2, 3)), Ok(()));
        assert_eq!(curated(), 3);
        // An older count changes nothing; a newer one replaces it.
        assert_eq!(take(count(svc.org(), &list, 1, 9)), Ok(()));
        assert_eq!(curated(), 3);
        assert_eq!(take(count(svc.org(), &list, 3, 1)), Ok(()));
        assert_eq!(curated(), 1);
        // Refused: another organisation's list, not a list, no such list,
        // signed by someone else than the sender.
        assert_eq!(
            take(count(contoso, &list, 4, 5)),
            Err(crate::requests::Refusal::NotForUs)
        );
        assert_eq!(
            take(count(svc.org(), &talk_id, 4, 5)),
            Err(crate::requests::Refusal::NoSuchList)
        );
        assert_eq!(
            take(count(svc.org(), "no-such-list", 4, 5)),
            Err(crate::requests::Refusal::NoSuchList)
        );
        assert_eq!(
            svc.receive_follower_count(&count(svc.org(), &list, 5, 5), theirs_other())
                .expect("receive"),
            Err(crate::requests::Refusal::WrongSender)
        );
        assert_eq!(curated(), 1);
        // Blocked since: its count no longer counts, and it sends no more.
        n.api
            .org_action(&n.ana, &contoso, OrgAction::Block)
            .await
            .expect("block");
        assert_eq!(curated(), 0);
        assert_eq!(
            take(count(svc.org(), &list, 6, 2)),
            Err(crate::requests::Refusal::NotAdmitted)
        );
    }

    /// An organisation that signed nothing here.
    fn theirs_other() -> OrgKey {
        OrgKey::from(&other(8).verifying_key())
    }

    /// Ana's talk "On-call", saved and published; its id.
    async fn anas_published_talk(n: &Node) -> String {
        let id = n
            .api
            .save_offer(&n.ana, None, talk("On-call", 45))
            .await
            .expect("save")
            .id;
        n.api
            .offer_action(&n.ana, &id, OfferAction::Publish)
            .await
            .expect("publish");
        id
    }

    /// Zoe, at `key`'s organisation, asks for our offer `offer_id`; the
    /// request is taken into the inbox.
    fn zoe_asks(svc: &Service, key: &SigningKey, request_id: &str, offer_id: &str) {
        let request = envelope(
            key,
            request_id,
            1,
            Body::Request(skillmesh_protocol::kinds::Request {
                offer_org: svc.org(),
                offer_id: offer_id.into(),
                requester: "zoe".into(),
                requester_name: Some("Zoe".into()),
                goal: "Run a calmer on-call.".into(),
                preferred_times: String::new(),
                message: String::new(),
                name_to_group: false,
                session: None,
                contribution: None,
                withdraw: None,
            }),
        );
        svc.receive_request(&request, OrgKey::from(&key.verifying_key()))
            .expect("receive")
            .expect("accepted");
    }

    /// Another organisation's key.
    fn other(n: u8) -> SigningKey {
        SigningKey::from_bytes(&[n; 32])
    }

    /// A record of `key`'s organisation, signed now.
    fn envelope(key: &SigningKey, id: &str, seq: u64, body: Body) -> Vec<u8> {
        let now = clock::now();
        let record = Record {
            header: Header {
                version: RECORD_VERSION,
                org: OrgKey::from(&key.verifying_key()),
                id: id.into(),
                seq,
                issued_at: now - 10,
                expires_at: now + 86_400,
            },
            body,
        };
        skillmesh_protocol::seal(&record, key)
            .expect("seal")
            .into_bytes()
    }

    fn ingest(service: &Service, bytes: &[u8]) -> Result<Ingested, skillmesh_protocol::Rejection> {
        service.ingest(bytes, "peer").expect("ingest")
    }

    /// Another organisation (`n`) with a card named `name` and a talk, a
    /// mentoring offer and a content item.
    fn federate(service: &Service, n: u8, name: &str) -> OrgKey {
        let key = other(n);
        let mut card = samples::body(Kind::OrgCard);
        if let Body::OrgCard(c) = &mut card {
            c.name = name.into();
        }
        for (id, body) in [
            ("org-card", card),
            ("talk-1", samples::body(Kind::TalkOffer)),
            ("mentoring-1", samples::body(Kind::MentoringOffer)),
            ("content-1", samples::body(Kind::Content)),
        ] {
            let outcome = ingest(service, &envelope(&key, id, 1, body));
            assert!(
                matches!(outcome, Ok(Ingested::Stored { .. })),
                "{outcome:?}"
            );
        }
        OrgKey::from(&key.verifying_key())
    }

    #[tokio::test]
    async fn a_calendar_feed_holds_my_scheduled_offers_and_a_new_address_revokes_the_old() {
        let n = node();
        let mut cohort = samples::body(Kind::CohortOffer);
        let Body::CohortOffer(c) = &mut cohort else {
            panic!("a cohort")
        };
        c.title = "New managers".into();
        c.starts_at = clock::now() + 86_400;
        c.schedule = vec![
            skillmesh_protocol::kinds::Slot {
                starts_at: c.starts_at,
                duration_minutes: 90,
            },
            skillmesh_protocol::kinds::Slot {
                starts_at: c.starts_at + 7 * 86_400,
                duration_minutes: 90,
            },
        ];
        let offer = n.api.save_offer(&n.ana, None, cohort).await.expect("save");
        let token = n.api.new_calendar_token(&n.ana).await.expect("token");
        assert!(token.starts_with("smc_"), "{token}");
        // A draft is not in the feed yet.
        assert_eq!(
            n.api.calendar_feed(&token).await.expect("feed"),
            Some(vec![])
        );
        n.api
            .offer_action(&n.ana, &offer.id, OfferAction::Publish)
            .await
            .expect("publish");
        let feed = n
            .api
            .calendar_feed(&token)
            .await
            .expect("feed")
            .expect("known");
        assert_eq!(feed.len(), 1);
        assert_eq!(feed[0].title, "New managers");
        assert_eq!(feed[0].slots.len(), 2);
        // Bob's feed does not show Ana's offer; a calendar token is not an
        // API token, nor the other way round.
        let bobs = n.api.new_calendar_token(&n.bob).await.expect("token");
        assert_eq!(
            n.api.calendar_feed(&bobs).await.expect("feed"),
            Some(vec![])
        );
        assert!(
            n.api
                .user_for_token(&token)
                .await
                .expect("lookup")
                .is_none()
        );
        let api = n.api.new_api_token(&n.ana).await.expect("api token");
        assert_eq!(n.api.calendar_feed(&api).await.expect("feed"), None);
        // A new address stops the old one.
        let again = n.api.new_calendar_token(&n.ana).await.expect("token");
        assert_eq!(n.api.calendar_feed(&token).await.expect("feed"), None);
        assert_eq!(
            n.api
                .calendar_feed(&again)
                .await
                .expect("feed")
                .map(|f| f.len()),
            Some(1)
        );
        assert_eq!(
            n.api.calendar_feed("smc_nonsense").await.expect("feed"),
            None
        );
    }

    #[tokio::test]
    async fn a_member_sees_and_changes_only_their_own_offers() {
        let n = node();
        let offer = n
            .api
            .save_offer(&n.ana, None, talk("On-call", 45))
            .await
            .expect("save");
        assert_eq!(offer.state, OfferState::Draft);
        let Body::TalkOffer(t) = &offer.body else {
            panic!("a talk")
        };
        assert_eq!(t.person, n.ana.person_id, "the person is always the author");
        assert_eq!(t.speaker_name.as_deref(), Some("ANA"));

        let id = offer.id.as_str();
        assert!(matches!(
            n.api.offer(&n.bob, id).await,
            Err(ApiError::NotFound(_))
        ));
        assert!(matches!(
            n.api
                .save_offer(&n.bob, Some(id), talk("Mine now", 45))
                .await,
            Err(ApiError::NotFound(_))
        ));
        assert!(matches!(
            n.api.offer_action(&n.bob, id, OfferAction::Publish).await,
            Err(ApiError::NotFound(_))
        ));
        assert!(n.api.offers(&n.bob).await.expect("offers").is_empty());
        assert_eq!(n.api.offers(&n.ana).await.expect("offers").len(), 1);
        assert_eq!(
            n.api.offer(&n.ana, id).await.expect("offer").body,
            offer.body
        );
    }

    #[tokio::test]
    async fn save_offer_refuses_what_publishing_would_refuse() {
        let n = node();
        let err = n
            .api
            .save_offer(&n.ana, None, talk("Too short", 1))
            .await
            .expect_err("refused");
        assert!(
            matches!(&err, ApiError::Invalid(m) if m.contains("duration_minutes must be between 5 and 480")),
            "{err:?}"
        );
        let mut script = samples::body(Kind::Content);
        if let Body::Content(c) = &mut script {
            c.url = Some("javascript:alert(1)".into());
        }
        let err = n
            .api
            .save_offer(&n.ana, None, script)
            .await
            .expect_err("a script link");
        assert!(
            matches!(&err, ApiError::Invalid(m) if m.contains("http:// or https://")),
            "{err:?}"
        );
        let err = n
            .api
            .save_offer(&n.ana, None, samples::body(Kind::OrgCard))
            .await
            .expect_err("not an offer");
        assert!(matches!(err, ApiError::Invalid(_)), "{err:?}");
        assert!(n.api.offers(&n.ana).await.expect("offers").is_empty());
    }

    #[tokio::test]
    async fn offers_are_published_paused_edited_and_unpublished() {
        let n = node();
        let svc = n.api.service().clone();
        let id = n
            .api
            .save_offer(&n.ana, None, talk("On-call", 45))
            .await
            .expect("save")
            .id;
        let published = n
            .api
            .offer_action(&n.ana, &id, OfferAction::Publish)
            .await
            .expect("publish");
        assert_eq!(published.state, OfferState::Published);
        let paused = n
            .api
            .offer_action(&n.ana, &id, OfferAction::Pause)
            .await
            .expect("pause");
        assert_eq!(paused.body.offer_status(), Some(OfferStatus::Paused));
        let edited = n
            .api
            .save_offer(&n.ana, Some(&id), talk("On-call, again", 50))
            .await
            .expect("edit");
        assert_eq!(edited.state, OfferState::Published);
        let row = svc
            .store()
            .get_record(&svc.org(), &id)
            .expect("get")
            .expect("published");
        assert_eq!(
            row.seq, 3,
            "publish, pause and edit each sign a new version"
        );
        assert_eq!(row.record().expect("record").body.title(), "On-call, again");
        let found = svc.search(
            &SearchQuery {
                q: "again".into(),
                ..SearchQuery::default()
            },
            clock::now(),
        );
        assert_eq!(found.total, 1, "our own published offers are searchable");
        let gone = n
            .api
            .offer_action(&n.ana, &id, OfferAction::Unpublish)
            .await
            .expect("unpublish");
        assert_eq!(gone.state, OfferState::Unpublished);
        assert!(
            svc.store()
                .get_record(&svc.org(), &id)
                .expect("get")
                .expect("row")
                .tombstone
        );
        let found = svc.search(
            &SearchQuery {
                q: "again".into(),
                ..SearchQuery::default()
            },
            clock::now(),
        );
        assert_eq!(found.total, 0, "a retracted offer is not found");
    }

    #[tokio::test]
    async fn search_finds_by_term_and_filter_with_matching_facet_counts() {
        let n = node();
        let svc = n.api.service();
        let contoso = federate(svc, 2, "Contoso");
        let fabrikam = federate(svc, 3, "Fabrikam");
        let search = |query: SearchQuery| {
            let (api, user) = (n.api.clone(), n.ana.clone());
            async move { api.search(&user, &query).await }
        };

        let all = search(SearchQuery::default()).await.expect("search");
        assert_eq!(all.total, 6, "three searchable records from each");
        let kubernetes = search(SearchQuery {
            q: "KUBERNETES production".into(),
            ..SearchQuery::default()
        })
        .await
        .expect("search");
        assert_eq!(kubernetes.total, 2, "{kubernetes:?}");
        assert!(kubernetes.hits.iter().all(|h| h.kind == "mentoring_offer"));
        assert!(kubernetes.hits.iter().all(|h| !h.own));

        let talks_at_contoso = search(SearchQuery {
            kind: "talk_offer".into(),
            org: contoso.to_hex(),
            ..SearchQuery::default()
        })
        .await
        .expect("search");
        assert_eq!(talks_at_contoso.total, 1);
        let hit = &talks_at_contoso.hits[0];
        assert_eq!(hit.org_name, "Contoso");
        assert_eq!(hit.formats, ["talk"]);
        assert_eq!(hit.availability.as_deref(), Some("open"));

        let on_call = search(SearchQuery {
            topic: "on-call".into(),
            ..SearchQuery::default()
        })
        .await
        .expect("search");
        assert_eq!(on_call.total, 4, "topics match whatever their case");
        for facet in &on_call.facets {
            let sum: usize = facet.values.iter().map(|v| v.count).sum();
            match facet.name.as_str() {
                "kind" | "org" => assert_eq!(sum, on_call.total, "{facet:?}"),
                _ => {}
            }
        }
        let orgs = on_call
            .facets
            .iter()
            .find(|f| f.name == "org")
            .expect("org facet");
        let labels: Vec<(&str, usize)> = orgs
            .values
            .iter()
            .map(|v| (v.label.as_str(), v.count))
            .collect();
        assert_eq!(labels, [("Contoso", 2), ("Fabrikam", 2)]);
        let kinds = on_call
            .facets
            .iter()
            .find(|f| f.name == "kind")
            .expect("kind");
        assert!(
            kinds
                .values
                .iter()
                .any(|v| v.value == "content" && v.count == 2)
        );
        // Narrowing by a facet value gives the count it showed.
        let contents = search(SearchQuery {
            topic: "on-call".into(),
            kind: "content".into(),
            ..SearchQuery::default()
        })
        .await
        .expect("search");
        assert_eq!(contents.total, 2);
        let nothing = search(SearchQuery {
            q: "kubernetes".into(),
            org: fabrikam.to_hex(),
            kind: "content".into(),
            ..SearchQuery::default()
        })
        .await
        .expect("search");
        assert_eq!(nothing.total, 0);
        // Pages are stable and complete.
        let page2 = search(SearchQuery {
            page: 2,
            ..SearchQuery::default()
        })
        .await
        .expect("search");
        assert!(page2.hits.is_empty());
        assert_eq!(page2.total, 6);
    }

    #[tokio::test]
    async fn a_blocked_organisation_disappears_from_search_and_comes_back_after_sync() {
        let n = node();
        let svc = n.api.service();
        let contoso = federate(svc, 2, "Contoso");
        federate(svc, 3, "Fabrikam");
        n.api
            .org_action(&n.ana, &contoso, OrgAction::Block)
            .await
            .expect("block");
        let all = n
            .api
            .search(&n.ana, &SearchQuery::default())
            .await
            .expect("search");
        assert_eq!(all.total, 3);
        assert!(all.hits.iter().all(|h| h.org != contoso.to_hex()));
        let listing = n.api.listing(&n.ana, &contoso, "talk-1").await;
        assert!(matches!(listing, Err(ApiError::NotFound(_))), "{listing:?}");
        let fed = n.api.federation().await.expect("federation");
        let row = fed.orgs.iter().find(|o| o.key == contoso).expect("row");
        assert_eq!(row.listing.as_deref(), Some("blocked"));
        assert_eq!(row.name, "Contoso", "still named after the purge");
        assert_eq!(row.records, 0);

        n.api
            .org_action(&n.ana, &contoso, OrgAction::Clear)
            .await
            .expect("unblock");
        federate(svc, 2, "Contoso");
        let all = n
            .api
            .search(&n.ana, &SearchQuery::default())
            .await
            .expect("search");
        assert_eq!(all.total, 6);
        let own = n.api.service().org();
        assert!(matches!(
            n.api.org_action(&n.ana, &own, OrgAction::Block).await,
            Err(ApiError::Invalid(_))
        ));
    }

    #[tokio::test]
    async fn a_listing_is_verified_again_and_requestable_only_when_open_elsewhere() {
        let n = node();
        let svc = n.api.service();
        let contoso = federate(svc, 2, "Contoso");
        let listing = n
            .api
            .listing(&n.ana, &contoso, "talk-1")
            .await
            .expect("listing");
        assert!(listing.signature_verified);
        assert!(listing.requestable);
        assert_eq!(listing.org_name, "Contoso");
        let content = n
            .api
            .listing(&n.ana, &contoso, "content-1")
            .await
            .expect("content");
        assert!(!content.requestable);
        assert!(matches!(
            n.api.listing(&n.ana, &contoso, "org-card").await,
            Err(ApiError::NotFound(_))
        ));

        // Held past its expiry (until the purge), a record is still
        // genuinely signed; stored bytes that were altered are not.
        let key = other(2);
        let now = clock::now();
        for (id, expires_at) in [("talk-expired", now - 60), ("talk-altered", now + 600)] {
            let record = Record {
                header: Header {
                    version: RECORD_VERSION,
                    org: contoso,
                    id: id.into(),
                    seq: 1,
                    issued_at: now - 3_600,
                    expires_at,
                },
                body: samples::body(Kind::TalkOffer),
            };
            let mut bytes = skillmesh_protocol::seal(&record, &key)
                .expect("seal")
                .into_bytes();
            if id == "talk-altered" {
                // A byte of the signature (after magic, format and key).
                bytes[4 + 32] ^= 1;
            }
            let envelope = skillmesh_protocol::Envelope::from_bytes(bytes);
            svc.store()
                .put_record(&record, &envelope, now - 3_000)
                .expect("put");
        }
        let verified = |id: &'static str| {
            let api = n.api.clone();
            let ana = n.ana.clone();
            async move {
                api.listing(&ana, &contoso, id)
                    .await
                    .expect("listing")
                    .signature_verified
            }
        };
        assert!(verified("talk-expired").await);
        assert!(!verified("talk-altered").await);
    }

    #[tokio::test]
    async fn feedback_and_requests_both_ways_add_up_to_the_impact_figures() {
        let n = node();
        let svc = n.api.service().clone();
        let id = anas_published_talk(&n).await;
        // Zoe at Contoso asks for Ana's talk, and Ana accepts.
        let contoso = other(2);
        let contoso_org = federate(&svc, 2, "Contoso");
        zoe_asks(&svc, &contoso, "req-zoe", &id);
        n.api
            .answer_request(
                &n.ana,
                &contoso_org,
                "req-zoe",
                RequestAnswer {
                    accept: true,
                    reply: String::new(),
                },
            )
            .await
            .expect("answer");
        // Ana asks for Contoso's talk, and Contoso accepts.
        let sent = n
            .api
            .send_request(
                &n.ana,
                NewRequest {
                    offer_org: contoso_org,
                    offer_id: "talk-1".into(),
                    goal: "Learn".into(),
                    preferred_times: String::new(),
                    message: String::new(),
                    name_to_group: false,
                    session: None,
                    contribution: None,
                    withdraw: None,
                },
            )
            .await
            .expect("send");
        // Not before it is accepted.
        let form = FeedbackForm {
            rating: 4,
            apply: "Blameless reviews".into(),
            comment: String::new(),
            before: 2,
            after: 4,
        };
        assert!(matches!(
            n.api.give_feedback(&n.ana, &sent.id, form.clone()).await,
            Err(ApiError::Invalid(_))
        ));
        let answer = envelope(
            &contoso,
            &format!("answer-{}", sent.id),
            1,
            Body::Answer(skillmesh_protocol::kinds::Answer {
                request_org: svc.org(),
                request_id: sent.id.clone(),
                decision: skillmesh_protocol::kinds::Decision::Accepted,
                reply: "Welcome".into(),
                contact: None,
                group: None,
            }),
        );
        svc.receive_answer(&answer, contoso_org)
            .expect("receive")
            .expect("taken");
        // The acknowledgement of the request, arriving after the answer,
        // does not take the answer back.
        svc.delivered(
            &crate::requests::Delivery::Request {
                to: contoso_org,
                id: sent.id.clone(),
                envelope: Vec::new(),
            },
            Ok(()),
        )
        .expect("delivered");
        assert_eq!(
            svc.store()
                .outbox_entry(&sent.id)
                .expect("get")
                .map(|e| e.status),
            Some(OutboxStatus::Accepted)
        );
        // Only the person who asked gives feedback on it, within bounds.
        assert!(matches!(
            n.api.give_feedback(&n.bob, &sent.id, form.clone()).await,
            Err(ApiError::NotFound(_))
        ));
        assert!(matches!(
            n.api
                .give_feedback(
                    &n.ana,
                    &sent.id,
                    FeedbackForm {
                        rating: 6,
                        ..form.clone()
                    }
                )
                .await,
            Err(ApiError::Invalid(_))
        ));
        n.api
            .give_feedback(&n.ana, &sent.id, form)
            .await
            .expect("feedback");
        let outbox = n.api.outbox(&n.ana).await.expect("outbox");
        assert!(outbox[0].feedback_given);

        let all = n.api.impact(&ImpactQuery::default()).await.expect("impact");
        assert_eq!(
            (all.sessions_given, all.minutes_given, all.participants),
            (1, 45, 1)
        );
        // Ana and Contoso, both ways: one connection.
        assert_eq!(all.connections, 1);
        assert_eq!((all.requests_made, all.requests_made_answered), (1, 1));
        assert_eq!(
            (all.requests_received, all.requests_received_answered),
            (1, 1)
        );
        assert!(all.median_hours_to_answer.is_some_and(|h| h >= 0.0));
        assert_eq!(all.feedback, 1);
        assert_eq!(
            (all.average_rating, all.skill_before, all.skill_after),
            (Some(4.0), Some(2.0), Some(4.0))
        );
        assert_eq!(all.partners.len(), 1);
        assert_eq!(
            (
                all.partners[0].org_name.as_str(),
                all.partners[0].given,
                all.partners[0].received
            ),
            ("Contoso", 1, 1)
        );
        // A topic nothing targeted, and a period before any of it: nothing.
        for query in [
            ImpactQuery {
                topic: "basket weaving".into(),
                ..ImpactQuery::default()
            },
            ImpactQuery {
                until: "2020-01-01".into(),
                ..ImpactQuery::default()
            },
        ] {
            let none = n.api.impact(&query).await.expect("impact");
            assert_eq!(
                (
                    none.requests_made,
                    none.requests_received,
                    none.feedback,
                    none.sessions_given
                ),
                (0, 0, 0, 0),
                "{query:?}"
            );
            assert!(none.partners.is_empty());
        }
        // The samples' topic is counted.
        let k8s = n
            .api
            .impact(&ImpactQuery {
                topic: "kubernetes".into(),
                ..ImpactQuery::default()
            })
            .await
            .expect("impact");
        assert_eq!((k8s.requests_received, k8s.sessions_given), (1, 1));
        assert!(matches!(
            n.api
                .impact(&ImpactQuery {
                    since: "soon".into(),
                    ..ImpactQuery::default()
                })
                .await,
            Err(ApiError::Invalid(_))
        ));
    }

    #[tokio::test]
    async fn requests_reach_only_the_offering_persons_inbox() {
        let n = node();
        let svc = n.api.service().clone();
        let id = anas_published_talk(&n).await;
        // Someone at Contoso asks for it.
        let contoso = other(2);
        let from = OrgKey::from(&contoso.verifying_key());
        zoe_asks(&svc, &contoso, "req-1", &id);
        let inbox = n.api.inbox(&n.ana).await.expect("inbox");
        assert_eq!(inbox.len(), 1);
        assert_eq!(inbox[0].offer_title, "On-call");
        assert_eq!(inbox[0].status, RequestStatus::Pending);
        assert!(n.api.inbox(&n.bob).await.expect("inbox").is_empty());
        let answer = RequestAnswer {
            accept: true,
            reply: "Gladly.".into(),
        };
        assert!(matches!(
            n.api
                .answer_request(&n.bob, &from, "req-1", answer.clone())
                .await,
            Err(ApiError::NotFound(_))
        ));
        let answered = n
            .api
            .answer_request(&n.ana, &from, "req-1", answer)
            .await
            .expect("answer");
        assert_eq!(answered.status, RequestStatus::Accepted);

        // Ana asks Contoso for its talk; Bob does not see it in his outbox.
        federate(&svc, 2, "Contoso");
        let sent = n
            .api
            .send_request(
                &n.ana,
                NewRequest {
                    offer_org: from,
                    offer_id: "talk-1".into(),
                    goal: "Learn from your year of on-call.".into(),
                    preferred_times: String::new(),
                    message: String::new(),
                    name_to_group: false,
                    session: None,
                    contribution: None,
                    withdraw: None,
                },
            )
            .await
            .expect("send");
        assert_eq!(sent.status, RequestStatus::Waiting);
        assert_eq!(sent.offer_org_name, "Contoso");
        assert_eq!(n.api.outbox(&n.ana).await.expect("outbox").len(), 1);
        assert!(n.api.outbox(&n.bob).await.expect("outbox").is_empty());
        let own = NewRequest {
            offer_org: svc.org(),
            offer_id: id,
            goal: "x".into(),
            preferred_times: String::new(),
            message: String::new(),
            name_to_group: false,
            session: None,
            contribution: None,
            withdraw: None,
        };
        assert!(matches!(
            n.api.send_request(&n.bob, own).await,
            Err(ApiError::Invalid(_))
        ));
        // One request signs up, adds a session or takes one out, never two.
        let two = NewRequest {
            offer_org: from,
            offer_id: "talk-1".into(),
            goal: String::new(),
            preferred_times: String::new(),
            message: String::new(),
            name_to_group: false,
            session: Some("s1".into()),
            contribution: None,
            withdraw: Some("s1".into()),
        };
        assert!(matches!(
            n.api.send_request(&n.ana, two).await,
            Err(ApiError::Invalid(m)) if m.contains("only one of them")
        ));
    }

    #[tokio::test]
    async fn tokens_and_passwords() {
        let n = node();
        let token = n.api.new_api_token(&n.ana).await.expect("token");
        assert!(token.starts_with("smk_") && token.len() == 68, "{token}");
        assert_eq!(
            n.api.user_for_token(&token).await.expect("lookup"),
            Some(n.ana.clone())
        );
        let account = n
            .api
            .service()
            .store()
            .account(&n.ana.username)
            .expect("get")
            .expect("account");
        assert_eq!(account.api_token_sha256, Some(sha256_hex(&token)));
        assert!(
            !serde_json::to_string(&account)
                .expect("json")
                .contains(&token)
        );
        let newer = n.api.new_api_token(&n.ana).await.expect("token");
        assert_eq!(n.api.user_for_token(&token).await.expect("lookup"), None);
        assert_eq!(
            n.api.user_for_token(&newer).await.expect("lookup"),
            Some(n.ana.clone())
        );
        assert_eq!(
            n.api.user_for_token("smk_nope").await.expect("lookup"),
            None
        );

        let ana = &n.ana.username;
        assert_eq!(
            n.api.sign_in(ana, PASSWORD).await.expect("sign in"),
            Some(n.ana.clone())
        );
        assert_eq!(
            n.api.sign_in(ana, "wrong password!").await.expect("x"),
            None
        );
        assert_eq!(
            n.api
                .sign_in("nobody@northwind.example", PASSWORD)
                .await
                .expect("x"),
            None
        );
    }

    #[tokio::test]
    async fn admins_add_users_with_a_password_shown_once() {
        let n = node();
        let added = n
            .api
            .add_user(
                &n.ana,
                NewUser {
                    username: "cy@northwind.example".into(),
                    display_name: "Cy".into(),
                    role: Role::Admin,
                    password: String::new(),
                },
            )
            .await
            .expect("add");
        assert_eq!(added.user.role, Role::Admin);
        assert_eq!(added.password.len(), 20);
        assert!(
            n.api
                .sign_in("cy@northwind.example", &added.password)
                .await
                .expect("sign in")
                .is_some()
        );
        let again = n
            .api
            .add_user(
                &n.ana,
                NewUser {
                    username: "cy@northwind.example".into(),
                    display_name: "Cy".into(),
                    role: Role::Member,
                    password: String::new(),
                },
            )
            .await;
        assert!(matches!(again, Err(ApiError::Conflict(_))), "{again:?}");
        assert_eq!(n.api.users().await.expect("users").len(), 3);
        let log = n
            .api
            .audit(&AuditQuery {
                action: "user_added".into(),
                ..AuditQuery::default()
            })
            .await
            .expect("audit");
        // The two set-up accounts, then the one Ana added.
        assert_eq!(log.len(), 3, "{log:?}");
        assert_eq!(log[0].actor, n.ana.username);
        assert!(log[1..].iter().all(|e| e.actor == "test"), "{log:?}");
    }

    #[tokio::test]
    async fn the_federation_mode_set_at_runtime_persists_and_decides_admission() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = SigningKey::from_bytes(&[1; 32]);
        let contoso = other(2);
        let contoso_org = OrgKey::from(&contoso.verifying_key());
        {
            let svc = open_service(dir.path(), &key, InboundSettings::default());
            let api = WebState::new(svc.clone(), NetworkHandle::detached());
            let admin = User {
                username: "admin@northwind.example".into(),
                role: Role::Admin,
                person_id: String::new(),
                display_name: "Admin".into(),
            };
            assert_eq!(
                svc.admission(&contoso_org).expect("admit"),
                Admission::Accept
            );
            api.set_federation_mode(&admin, FederationMode::Allowlist)
                .await
                .expect("set");
            assert_eq!(
                svc.admission(&contoso_org).expect("admit"),
                Admission::NotAllowed,
                "applies at once"
            );
            assert_eq!(
                api.federation().await.expect("federation").mode,
                FederationMode::Allowlist
            );
            let log = api
                .audit(&AuditQuery {
                    action: "federation_mode_changed".into(),
                    ..AuditQuery::default()
                })
                .await
                .expect("audit");
            assert_eq!(log.len(), 1);
            assert_eq!(log[0].actor, admin.username);
        }
        // Reopened with `open` in the config: the admin's choice wins.
        let svc = open_service(dir.path(), &key, InboundSettings::default());
        assert_eq!(
            svc.federation_mode(),
            skillmesh_config::FederationMode::Allowlist
        );
        let outcome = ingest(
            &svc,
            &envelope(&contoso, "talk-1", 1, samples::body(Kind::TalkOffer)),
        );
        assert_eq!(outcome, Ok(Ingested::NotAdmitted(Admission::NotAllowed)));
    }

    #[tokio::test]
    async fn rejected_records_are_counted_by_reason() {
        let n = node();
        let svc = n.api.service();
        let mut tampered = envelope(&other(2), "talk-1", 1, samples::body(Kind::TalkOffer));
        let last = tampered.len() - 2;
        tampered[last] ^= 1;
        for _ in 0..2 {
            assert!(ingest(svc, &tampered).is_err());
        }
        assert!(ingest(svc, b"SKM").is_err());
        let rejections = n.api.federation().await.expect("federation").rejections;
        assert_eq!(
            rejections,
            [
                RejectionCount {
                    code: "bad_signature".into(),
                    count: 2
                },
                RejectionCount {
                    code: "truncated".into(),
                    count: 1
                }
            ]
        );
        let log = n
            .api
            .audit(&AuditQuery {
                action: "record_rejected".into(),
                ..AuditQuery::default()
            })
            .await
            .expect("audit");
        // The two bad signatures from one sender in one minute are one
        // entry with a count.
        assert_eq!(log.iter().map(|r| r.count).sum::<u64>(), 3, "{log:?}");
    }

    /// A flood of thousands of rejections from one peer writes a few rows,
    /// and an admin's action stays on the first page, and first among
    /// people's actions.
    #[tokio::test]
    async fn a_flood_of_rejections_leaves_the_admins_action_findable() {
        let n = node();
        let svc = n.api.service();
        let peer = crate::network::identity::peer_id(&OrgKey::from(&other(3).verifying_key()))
            .expect("peer id");
        let mut forged = envelope(&other(2), "talk-1", 1, samples::body(Kind::TalkOffer));
        let last = forged.len() - 2;
        forged[last] ^= 1;
        svc.set_federation_mode(skillmesh_config::FederationMode::Blocklist, "ana", &[])
            .expect("mode");
        let refs: Vec<&[u8]> = (0..3000).map(|_| forged.as_slice()).collect();
        for chunk in refs.chunks(500) {
            svc.ingest_many(chunk, &format!("peer:{peer}"))
                .expect("ingest");
        }
        let all = n.api.audit(&AuditQuery::default()).await.expect("audit");
        let rejected: Vec<_> = all
            .iter()
            .filter(|r| r.action == "record_rejected")
            .collect();
        assert!(rejected.len() <= 4, "{} rows", rejected.len());
        assert_eq!(rejected.iter().map(|r| r.count).sum::<u64>(), 3000);
        assert!(all.iter().any(|r| r.actor == "ana"), "on the first page");
        let people = n
            .api
            .audit(&AuditQuery {
                who: "people".into(),
                ..AuditQuery::default()
            })
            .await
            .expect("audit");
        assert_eq!(people.first().map(|r| r.actor.as_str()), Some("ana"));
    }

    /// A forged record (its signature fails) is filed under the peer that
    /// sent it; the organisation it names is only claimed.
    #[tokio::test]
    async fn a_forgery_is_filed_under_its_sender_and_the_named_org_as_claimed() {
        let n = node();
        let svc = n.api.service();
        let victim = OrgKey::from(&other(2).verifying_key());
        let sender_key = other(3);
        let sender = OrgKey::from(&sender_key.verifying_key());
        let peer = crate::network::identity::peer_id(&sender).expect("peer id");
        let mut forged = envelope(&other(2), "talk-1", 1, samples::body(Kind::TalkOffer));
        let last = forged.len() - 2;
        forged[last] ^= 1;
        let outcome = svc
            .ingest(&forged, &format!("peer:{peer}"))
            .expect("ingest");
        assert!(outcome.is_err());
        let log = n
            .api
            .audit(&AuditQuery {
                action: "record_rejected".into(),
                ..AuditQuery::default()
            })
            .await
            .expect("audit");
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].org.as_deref(), Some(sender.to_hex().as_str()));
        assert_eq!(log[0].org_fingerprint, Some(sender.fingerprint()));
        assert_eq!(
            log[0].claimed_org.as_deref(),
            Some(victim.to_hex().as_str())
        );
        // Filtering on the named organisation does not find it.
        let of_victim = n
            .api
            .audit(&AuditQuery {
                org: victim.to_hex(),
                ..AuditQuery::default()
            })
            .await
            .expect("audit");
        assert!(of_victim.iter().all(|r| r.action != "record_rejected"));
    }

    /// A card named like our own organisation (or a known one), from a
    /// key seen later, is flagged with the other's name and fingerprint.
    #[tokio::test]
    async fn a_card_named_like_a_known_organisation_is_flagged() {
        let n = node();
        let svc = n.api.service();
        let card = |name: &str| {
            Body::OrgCard(skillmesh_protocol::kinds::OrgCard {
                name: name.into(),
                summary: String::new(),
                website: None,
                languages: Vec::new(),
            })
        };
        let real = other(4);
        let real_org = OrgKey::from(&real.verifying_key());
        // Known here for a day (two seen in the same second are both flagged).
        svc.store()
            .note_org_seen(&real_org, clock::now() - 86_400)
            .expect("seen");
        assert!(ingest(svc, &envelope(&real, "org-card", 1, card("Contoso"))).is_ok());
        let fake = other(5);
        let fake_org = OrgKey::from(&fake.verifying_key());
        assert!(ingest(svc, &envelope(&fake, "org-card", 1, card("C0nt\u{43e}so"))).is_ok());
        let honest = other(6);
        let honest_org = OrgKey::from(&honest.verifying_key());
        assert!(ingest(svc, &envelope(&honest, "org-card", 1, card("Contoso Labs"))).is_ok());
        let (name, key) = svc
            .lookalike_of(&fake_org)
            .expect("check")
            .expect("flagged");
        assert_eq!((name.as_str(), key), ("Contoso", real_org));
        assert_eq!(
            svc.lookalike_of(&real_org).expect("check"),
            None,
            "seen first"
        );
        assert_eq!(svc.lookalike_of(&honest_org).expect("check"), None);
        assert!(svc.is_new_org(&fake_org).expect("new?"));
    }

    #[tokio::test]
    async fn approvals_hold_offers_and_listings_until_an_admin_approves() {
        let n = node_with(InboundSettings {
            approval_required: true,
            ..InboundSettings::default()
        });
        let id = n
            .api
            .save_offer(&n.ana, None, talk("On-call", 45))
            .await
            .expect("save")
            .id;
        let pending = n
            .api
            .offer_action(&n.ana, &id, OfferAction::Publish)
            .await
            .expect("publish");
        assert_eq!(pending.state, OfferState::PendingApproval);
        let mut profile = n.api.profile(&n.bob).await.expect("profile");
        profile.sharing.display_name = true;
        let update = ProfileUpdate {
            display_name: "Bob B".into(),
            headline: "SRE".into(),
            topics: Vec::new(),
            languages: vec!["en".into()],
            time_zone: Some("Europe/Lisbon".into()),
            formats: Vec::new(),
            availability: None,
            sharing: profile.sharing,
        };
        let profile = n.api.update_profile(&n.bob, update).await.expect("update");
        assert!(profile.pending_approval);
        assert_eq!(
            profile.preview.and_then(|p| p.display_name).as_deref(),
            Some("Bob B")
        );

        let approvals = n.api.approvals().await.expect("approvals");
        let ids: Vec<&str> = approvals.iter().map(|a| a.id.as_str()).collect();
        let listing = listing_id(&n.bob.person_id);
        assert_eq!(ids.len(), 2);
        assert!(ids.contains(&id.as_str()) && ids.contains(&listing.as_str()));
        for a in &approvals {
            n.api.approve(&n.ana, &a.id).await.expect("approve");
        }
        assert!(n.api.approvals().await.expect("approvals").is_empty());
        assert_eq!(
            n.api.offer(&n.ana, &id).await.expect("offer").state,
            OfferState::Published
        );
        assert!(
            !n.api
                .profile(&n.bob)
                .await
                .expect("profile")
                .pending_approval
        );
        assert!(matches!(
            n.api.approve(&n.ana, "nothing").await,
            Err(ApiError::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn profile_updates_are_checked_like_listings() {
        let n = node();
        let update = ProfileUpdate {
            display_name: "Ana".into(),
            headline: String::new(),
            topics: Vec::new(),
            languages: vec!["not a language".into()],
            time_zone: None,
            formats: Vec::new(),
            availability: None,
            sharing: SharedFields::default(),
        };
        let err = n
            .api
            .update_profile(&n.ana, update)
            .await
            .expect_err("refused");
        assert!(
            matches!(&err, ApiError::Invalid(m) if m.contains("language tag")),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn the_audit_log_filters_by_day_and_refuses_bad_days() {
        let n = node();
        let rows = n
            .api
            .audit(&AuditQuery {
                day: "1999-12-31".into(),
                ..AuditQuery::default()
            })
            .await
            .expect("audit");
        assert!(rows.is_empty());
        let rows = n.api.audit(&AuditQuery::default()).await.expect("audit");
        assert!(!rows.is_empty());
        assert!(rows.windows(2).all(|w| w[0].at >= w[1].at), "newest first");
        let own = rows
            .iter()
            .find(|r| r.action == "record_published")
            .expect("the card");
        assert_eq!(own.org_name.as_deref(), Some("Northwind"));
        assert!(matches!(
            n.api
                .audit(&AuditQuery {
                    day: "yesterday".into(),
                    ..AuditQuery::default()
                })
                .await,
            Err(ApiError::Invalid(_))
        ));
    }

    fn expert(
        person: &str,
        topic: &str,
        level: Level,
        status: AvailabilityStatus,
        language: &str,
        tz: &str,
    ) -> Body {
        Body::Expertise(Expertise {
            person: person.into(),
            display_name: Some(format!("Expert {person}")),
            headline: None,
            topics: vec![Topic {
                name: topic.into(),
                level,
            }],
            languages: vec![language.into()],
            time_zone: Some(tz.into()),
            formats: vec![Format::Mentoring],
            availability: Some(Availability {
                status,
                hours_per_month: Some(2),
                note: None,
            }),
            email: None,
            recognition: None,
        })
    }

    #[tokio::test]
    async fn suggestions_are_ranked_here_from_private_goals_and_skip_whoever_cannot_help() {
        use AvailabilityStatus::{Full, Open};
        let n = node();
        let svc = n.api.service();
        let key = other(5);
        for (id, body) in [
            (
                "e-best",
                expert(
                    "best",
                    "Kubernetes",
                    Level::Expert,
                    Open,
                    "en",
                    "Europe/Berlin",
                ),
            ),
            (
                "e-good",
                expert(
                    "good",
                    "Kubernetes",
                    Level::Intermediate,
                    Open,
                    "en",
                    "Europe/Paris",
                ),
            ),
            (
                "e-full",
                expert(
                    "full",
                    "Kubernetes",
                    Level::Expert,
                    Full,
                    "en",
                    "Europe/Berlin",
                ),
            ),
            (
                "e-ja",
                expert(
                    "ja",
                    "Kubernetes",
                    Level::Expert,
                    Open,
                    "ja",
                    "Europe/Berlin",
                ),
            ),
            (
                "e-far",
                expert("far", "Kubernetes", Level::Expert, Open, "en", "Asia/Tokyo"),
            ),
        ] {
            assert!(matches!(
                ingest(svc, &envelope(&key, id, 1, body)),
                Ok(Ingested::Stored { .. })
            ));
        }
        let mut ana = svc
            .store()
            .person(&n.ana.person_id)
            .expect("get")
            .expect("ana");
        ana.time_zone = Some("Europe/Lisbon".into());
        svc.update_person(&ana, "test").expect("update");
        let before = svc.record_counts().expect("counts");
        let goals = LearningGoals {
            goals: "a secret goal phrase about kubernetes".into(),
            topics: vec!["Kubernetes".into()],
            formats: vec![Format::Mentoring],
            languages: vec!["en".into()],
            max_hours_apart: Some(3),
        };
        n.api.set_goals(&n.ana, goals.clone()).await.expect("goals");
        assert_eq!(
            n.api.goals(&n.ana).await.expect("read").topics,
            goals.topics
        );

        let list = n.api.suggestions(&n.ana).await.expect("suggestions");
        let ids: Vec<&str> = list.iter().map(|s| s.hit.id.as_str()).collect();
        assert_eq!(
            ids,
            ["e-best", "e-good"],
            "full, other-language and far-away experts are left out"
        );
        assert!(
            list[0]
                .reasons
                .iter()
                .any(|r| r == "Knows Kubernetes (expert)"),
            "{:?}",
            list[0].reasons
        );
        assert!(
            list[0]
                .reasons
                .iter()
                .any(|r| r.starts_with("Offers mentoring")),
            "{:?}",
            list[0].reasons
        );
        assert!(
            n.api.suggestions(&n.bob).await.expect("bob").is_empty(),
            "no goals, no suggestions"
        );

        // The goals never left: nothing was published, and no record holds them.
        assert_eq!(svc.record_counts().expect("counts"), before);
        svc.store()
            .scan_records(|row| {
                assert!(!String::from_utf8_lossy(row.envelope.as_bytes()).contains("secret goal"));
                Ok(())
            })
            .expect("scan");
    }

    #[tokio::test]
    async fn equal_experts_are_suggested_in_a_different_order_to_different_people() {
        let n = node();
        let svc = n.api.service();
        let key = other(6);
        for i in 0..12 {
            let body = expert(
                &format!("p{i}"),
                "Negotiation",
                Level::Advanced,
                AvailabilityStatus::Open,
                "en",
                "UTC",
            );
            assert!(matches!(
                ingest(svc, &envelope(&key, &format!("e-{i:02}"), 1, body)),
                Ok(Ingested::Stored { .. })
            ));
        }
        let goals = LearningGoals {
            topics: vec!["Negotiation".into()],
            ..LearningGoals::default()
        };
        let mut firsts = Vec::new();
        for user in [&n.ana, &n.bob] {
            n.api.set_goals(user, goals.clone()).await.expect("goals");
            let list = n.api.suggestions(user).await.expect("suggestions");
            assert_eq!(list.len(), matching::MAX_SUGGESTIONS);
            firsts.push(list.iter().map(|s| s.hit.id.clone()).collect::<Vec<_>>());
        }
        assert_ne!(
            firsts[0], firsts[1],
            "the same experts, in the same order, for everyone"
        );
    }

    #[tokio::test]
    async fn demand_counts_wanted_topics_and_puts_those_without_supply_first() {
        let n = node();
        let svc = n.api.service();
        // More offers than fit on one page of results: supply is the count
        // of them all.
        for k in 7..30 {
            federate(svc, k, &format!("Partner {k}"));
        }
        let wants = |topics: &[&str]| LearningGoals {
            topics: topics.iter().map(|t| t.to_string()).collect(),
            ..LearningGoals::default()
        };
        n.api
            .set_goals(&n.ana, wants(&["Kubernetes", "Basket weaving"]))
            .await
            .expect("ana");
        n.api
            .set_goals(&n.bob, wants(&["basket weaving"]))
            .await
            .expect("bob");
        let rows = n.api.demand().await.expect("demand");
        assert_eq!(rows[0].topic.to_lowercase(), "basket weaving");
        assert_eq!((rows[0].people, rows[0].supply), (2, 0));
        let k8s = rows
            .iter()
            .find(|r| r.topic == "Kubernetes")
            .expect("kubernetes");
        assert_eq!(k8s.people, 1);
        // One of each partner's sample offers covers Kubernetes: 23 in all,
        // more than a page of results holds.
        assert_eq!(k8s.supply, 23);
        let too_long = LearningGoals {
            goals: "x".repeat(2_001),
            ..LearningGoals::default()
        };
        assert!(matches!(
            n.api.set_goals(&n.ana, too_long).await,
            Err(ApiError::Invalid(_))
        ));
    }
}
