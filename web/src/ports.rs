//! The ports through which the web layer reaches the node: one trait per
//! area (accounts, people, discovery, offers, requests, content,
//! observations, impact, steering, matching), and [`NodeApi`], which is
//! all of them. The node implements each over its service
//! (`node/src/web_api/`); the in-memory fake the web tests use implements
//! each the same way (`fake.rs`).

use std::future::Future;

use skillmesh_protocol::{Body, OrgKey};

use crate::api::*;

/// Everything the web layer calls: every area's port, and the node's name
/// and health. The router needs all of it; a page or test needs only the
/// ports of its area.
pub trait NodeApi:
    AccountsApi
    + PeopleApi
    + DiscoveryApi
    + OffersApi
    + RequestsApi
    + ContentApi
    + ObservationsApi
    + ImpactApi
    + SteeringApi
    + MatchingApi
    + Clone
    + Send
    + Sync
    + 'static
{
    /// This organisation's name, shown on every page. Cheap.
    fn org_name(&self) -> String;
    fn health(&self) -> impl Future<Output = Health> + Send;
}

/// Who is signed in: accounts, passwords, API and calendar tokens
/// (adding users is for admins).
pub trait AccountsApi: Clone + Send + Sync + 'static {
    /// Checks a password; `None` for an unknown user or a wrong password
    /// (the caller must not learn which).
    fn sign_in(
        &self,
        username: &str,
        password: &str,
    ) -> impl Future<Output = ApiResult<Option<User>>> + Send;
    /// How people sign in here. Cheap.
    fn sign_in_options(&self) -> SignInOptions;
    /// Starts a single sign-on through the organisation's provider.
    fn begin_sso(&self) -> impl Future<Output = ApiResult<SsoStart>> + Send;
    /// Finishes the single sign-on started as `state`, with the `code` the
    /// provider sent back: the user signed in (made at their first).
    fn finish_sso(&self, state: &str, code: &str) -> impl Future<Output = ApiResult<User>> + Send;
    /// The user now (role and name may have changed since sign-in).
    fn user(&self, username: &str) -> impl Future<Output = ApiResult<Option<User>>> + Send;
    fn user_for_token(&self, token: &str) -> impl Future<Output = ApiResult<Option<User>>> + Send;
    /// A new API token for `user`, named `name`, besides those they hold.
    /// Shown once.
    fn new_api_token(
        &self,
        user: &User,
        name: &str,
    ) -> impl Future<Output = ApiResult<NewApiToken>> + Send;
    /// `user`'s API tokens, oldest first.
    fn api_tokens(&self, user: &User) -> impl Future<Output = ApiResult<Vec<ApiTokenInfo>>> + Send;
    /// Revokes `user`'s token `id`: it opens nothing from then on.
    fn revoke_api_token(&self, user: &User, id: &str)
    -> impl Future<Output = ApiResult<()>> + Send;
    /// Keeps a session (new, or seen again) across restarts.
    fn keep_session(&self, session: KeptSession) -> impl Future<Output = ApiResult<()>> + Send;
    /// A kept session by its id, expired or not.
    fn kept_session(&self, id: &str)
    -> impl Future<Output = ApiResult<Option<KeptSession>>> + Send;
    /// Forgets one session (signing out).
    fn end_session(&self, id: &str) -> impl Future<Output = ApiResult<()>> + Send;
    /// Forgets every session of `user` (signing out everywhere); returns
    /// their ids.
    fn end_sessions(&self, user: &User) -> impl Future<Output = ApiResult<Vec<String>>> + Send;
    /// A new calendar feed token for `user`, replacing (and so revoking)
    /// any earlier one. Shown once, inside the feed's address.
    fn new_calendar_token(&self, user: &User) -> impl Future<Output = ApiResult<String>> + Send;
    /// What goes into the calendar feed of the person whose calendar token
    /// this is; `None` for a token that is not (or no longer) anyone's.
    fn calendar_feed(
        &self,
        token: &str,
    ) -> impl Future<Output = ApiResult<Option<Vec<FeedItem>>>> + Send;
    fn users(&self) -> impl Future<Output = ApiResult<Vec<User>>> + Send;
    /// An admin deactivates (`active` false) or reactivates an account.
    fn set_user_active(
        &self,
        actor: &User,
        username: &str,
        active: bool,
    ) -> impl Future<Output = ApiResult<User>> + Send;
    /// Adds a person and their account: with the password given, or
    /// (none given) invited with a link to choose their own.
    fn add_user(
        &self,
        actor: &User,
        user: NewUser,
    ) -> impl Future<Output = ApiResult<AddedUser>> + Send;
    /// An admin removes `username` and the person it acts for: withdrawn
    /// from every partner, waiting requests declined, their offers,
    /// profile and account deleted. Not one's own.
    fn remove_user(
        &self,
        actor: &User,
        username: &str,
    ) -> impl Future<Output = ApiResult<()>> + Send;
    /// An admin makes `username` a new link to choose their password (an
    /// invitation while they never had one, else a reset).
    fn new_access_link(
        &self,
        actor: &User,
        username: &str,
    ) -> impl Future<Output = ApiResult<AccessLinkView>> + Send;
    /// Whose password the link `token` sets, while it works.
    fn access_link(
        &self,
        token: &str,
    ) -> impl Future<Output = ApiResult<Option<AccessLinkFor>>> + Send;
    /// Sets the password through the link `token` (once): the user, whose
    /// other sessions a reset has ended.
    fn use_access_link(
        &self,
        token: &str,
        password: &str,
    ) -> impl Future<Output = ApiResult<User>> + Send;
}

/// A person's own profile, and their colleagues on this node.
pub trait PeopleApi: Clone + Send + Sync + 'static {
    fn profile(&self, user: &User) -> impl Future<Output = ApiResult<Profile>> + Send;
    fn update_profile(
        &self,
        user: &User,
        update: ProfileUpdate,
    ) -> impl Future<Output = ApiResult<Profile>> + Send;
    /// My colleagues on this node.
    fn colleagues(&self, user: &User) -> impl Future<Output = ApiResult<Vec<Colleague>>> + Send;
    /// My notifications, newest first.
    fn notifications(
        &self,
        user: &User,
    ) -> impl Future<Output = ApiResult<Vec<NotificationView>>> + Send;
    /// How I want each kind of notification mailed, and whether this node
    /// sends mail at all.
    fn mail_choices(
        &self,
        user: &User,
    ) -> impl Future<Output = ApiResult<(bool, Vec<MailChoiceView>)>> + Send;
    fn set_mail_choices(
        &self,
        user: &User,
        choices: Vec<MailChoiceView>,
    ) -> impl Future<Output = ApiResult<()>> + Send;
    /// How many of my notifications are unread (shown on every page).
    fn unread_notifications(&self, user: &User) -> impl Future<Output = ApiResult<usize>> + Send;
    /// Marks my notifications `ids` read, or all of them; how many changed.
    fn mark_notifications_read(
        &self,
        user: &User,
        ids: Option<Vec<String>>,
    ) -> impl Future<Output = ApiResult<usize>> + Send;
}

/// Finding experts, offers and content across the network.
pub trait DiscoveryApi: Clone + Send + Sync + 'static {
    fn search(
        &self,
        user: &User,
        query: &SearchQuery,
    ) -> impl Future<Output = ApiResult<SearchResults>> + Send;
    fn listing(
        &self,
        user: &User,
        org: &OrgKey,
        id: &str,
    ) -> impl Future<Output = ApiResult<Listing>> + Send;
}

/// A person's own offers and events.
pub trait OffersApi: Clone + Send + Sync + 'static {
    fn offers(&self, user: &User) -> impl Future<Output = ApiResult<Vec<Offer>>> + Send;
    fn offer(&self, user: &User, id: &str) -> impl Future<Output = ApiResult<Offer>> + Send;
    /// Stores a new offer as a draft, or replaces the body of an existing
    /// one (`id`), re-publishing it if it was published.
    fn save_offer(
        &self,
        user: &User,
        id: Option<&str>,
        body: Body,
    ) -> impl Future<Output = ApiResult<Offer>> + Send;
    fn offer_action(
        &self,
        user: &User,
        id: &str,
        action: OfferAction,
    ) -> impl Future<Output = ApiResult<Offer>> + Send;
}

/// Requests between people of different organisations: sending,
/// answering, and what follows an accepted one (feedback, kudos).
pub trait RequestsApi: Clone + Send + Sync + 'static {
    fn send_request(
        &self,
        user: &User,
        request: NewRequest,
    ) -> impl Future<Output = ApiResult<OutboxItem>> + Send;
    fn inbox(&self, user: &User) -> impl Future<Output = ApiResult<Vec<InboxItem>>> + Send;
    fn outbox(&self, user: &User) -> impl Future<Output = ApiResult<Vec<OutboxItem>>> + Send;
    fn answer_request(
        &self,
        user: &User,
        from_org: &OrgKey,
        id: &str,
        answer: RequestAnswer,
    ) -> impl Future<Output = ApiResult<InboxItem>> + Send;
    /// How something I took part in went (an accepted request of mine).
    fn give_feedback(
        &self,
        user: &User,
        request_id: &str,
        form: FeedbackForm,
    ) -> impl Future<Output = ApiResult<()>> + Send;
    /// Thanks the person who gave what my accepted request asked for.
    fn send_kudos(
        &self,
        user: &User,
        request_id: &str,
        kudos: NewKudos,
    ) -> impl Future<Output = ApiResult<OutboxItem>> + Send;
}

/// Learning paths and content: following, progress, recommendations to
/// colleagues.
pub trait ContentApi: Clone + Send + Sync + 'static {
    /// The learning paths `user` follows.
    fn following(&self, user: &User) -> impl Future<Output = ApiResult<Vec<Following>>> + Send;
    /// `user` follows a learning path (ours or a partner's), or changes
    /// `options` of one they follow.
    fn follow(
        &self,
        user: &User,
        org: &OrgKey,
        id: &str,
        options: FollowOptions,
    ) -> impl Future<Output = ApiResult<()>> + Send;
    fn unfollow(
        &self,
        user: &User,
        org: &OrgKey,
        id: &str,
    ) -> impl Future<Output = ApiResult<()>> + Send;
    /// Sets which entries of a followed learning path `user` has done.
    fn set_progress(
        &self,
        user: &User,
        org: &OrgKey,
        id: &str,
        progress: Progress,
    ) -> impl Future<Output = ApiResult<()>> + Send;
    /// `user` recommends content to a colleague, with a note.
    fn recommend(
        &self,
        user: &User,
        recommendation: NewRecommendation,
    ) -> impl Future<Output = ApiResult<()>> + Send;
    /// What colleagues recommended to `user`, newest first.
    fn recommended(&self, user: &User) -> impl Future<Output = ApiResult<Vec<Recommended>>> + Send;
}

/// Colleagues observing a session and giving its trainer feedback.
pub trait ObservationsApi: Clone + Send + Sync + 'static {
    /// `user` invites a colleague to observe a session of their offer.
    fn invite_observer(
        &self,
        user: &User,
        offer_id: &str,
        invitation: NewObservation,
    ) -> impl Future<Output = ApiResult<ObservationView>> + Send;
    /// The observations `user` was asked to give, and those of their
    /// sessions (nobody else's).
    fn observations(&self, user: &User) -> impl Future<Output = ApiResult<Observations>> + Send;
    /// The observer gives (or changes) their feedback.
    fn give_observation(
        &self,
        user: &User,
        id: &str,
        form: ObservationForm,
    ) -> impl Future<Output = ApiResult<()>> + Send;
}

/// The impact figures, and the summaries published to partners (admins
/// only).
pub trait ImpactApi: Clone + Send + Sync + 'static {
    /// The impact figures (admins only).
    fn impact(&self, query: &ImpactQuery) -> impl Future<Output = ApiResult<Impact>> + Send;
    /// The impact summaries held: ours (if published) first, then
    /// partners' (admins only).
    fn impact_summaries(&self) -> impl Future<Output = ApiResult<Vec<PublishedImpact>>> + Send;
    /// Publishes to partners the summary of the figures for `query`,
    /// replacing ours (admins only).
    fn publish_impact(
        &self,
        actor: &User,
        query: &ImpactQuery,
    ) -> impl Future<Output = ApiResult<PublishedImpact>> + Send;
    /// Withdraws our published summary (admins only).
    fn withdraw_impact(&self, actor: &User) -> impl Future<Output = ApiResult<()>> + Send;
}

/// Admin operations (the web layer lets only admins call these):
/// federation, approvals, the outbound policy, the audit log, the chat
/// webhook.
pub trait SteeringApi: Clone + Send + Sync + 'static {
    fn federation(&self) -> impl Future<Output = ApiResult<Federation>> + Send;
    fn set_federation_mode(
        &self,
        actor: &User,
        mode: FederationMode,
    ) -> impl Future<Output = ApiResult<ModeChanged>> + Send;
    /// Refused (invalid) for this node's own organisation.
    fn org_action(
        &self,
        actor: &User,
        org: &OrgKey,
        action: OrgAction,
    ) -> impl Future<Output = ApiResult<()>> + Send;
    fn approvals(&self) -> impl Future<Output = ApiResult<Vec<Approval>>> + Send;
    fn approve(&self, actor: &User, id: &str) -> impl Future<Output = ApiResult<()>> + Send;
    fn outbound_policy(&self) -> impl Future<Output = ApiResult<SharedFields>> + Send;
    fn set_outbound_policy(
        &self,
        actor: &User,
        fields: SharedFields,
    ) -> impl Future<Output = ApiResult<()>> + Send;
    fn audit(&self, query: &AuditQuery) -> impl Future<Output = ApiResult<Vec<AuditRow>>> + Send;
    /// The chat webhook: its address and what waits.
    fn webhook(&self) -> impl Future<Output = ApiResult<Webhook>> + Send;
    /// Sets the chat webhook's address, or clears it with `None` (what
    /// waits is dropped); an address that is not http or https with a
    /// host, or longer than 2,000 characters, is invalid.
    fn set_webhook(
        &self,
        actor: &User,
        url: Option<String>,
    ) -> impl Future<Output = ApiResult<Webhook>> + Send;
    /// Queues a test message for the chat webhook (invalid without an
    /// address).
    fn test_webhook(&self, actor: &User) -> impl Future<Output = ApiResult<Webhook>> + Send;
}

/// Private matching and aggregate demand: the part of the service interface
/// that works on what people want to learn (every [`NodeApi`] has it).
pub trait MatchingApi: Clone + Send + Sync + 'static {
    fn goals(&self, user: &User) -> impl Future<Output = ApiResult<LearningGoals>> + Send;
    fn set_goals(
        &self,
        user: &User,
        goals: LearningGoals,
    ) -> impl Future<Output = ApiResult<LearningGoals>> + Send;
    /// Ranked locally from the person's goals; empty without goals.
    fn suggestions(&self, user: &User) -> impl Future<Output = ApiResult<Vec<Suggestion>>> + Send;
    /// Most-wanted topics, those with no supply first (admins only);
    /// topics fewer than [`MatchingApi::min_group_size`] people want are
    /// left out.
    fn demand(&self) -> impl Future<Output = ApiResult<Vec<DemandRow>>> + Send;
    /// `privacy.min_group_size`: figures about fewer people are not shown.
    fn min_group_size(&self) -> u32;
}
