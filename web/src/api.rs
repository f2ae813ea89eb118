//! The service interface the web layer needs from a node ([`NodeApi`]), and
//! the types that cross it. The same types are the JSON API's bodies, so
//! what a page shows and what `/api/v1` returns never drift apart.
//!
//! The node implements the trait over its store and network; the router's
//! tests implement it in memory. Every operation on behalf of a person takes
//! the signed-in [`User`], and the node checks ownership itself: the web
//! layer decides who may call what (roles), the node decides what a person
//! may touch (their own profile, offers and requests).

use serde::{Deserialize, Serialize};
use skillmesh_protocol::kinds::{Contact, EventSession, Format, Slot};
use skillmesh_protocol::profile::ProfileDetails;
use skillmesh_protocol::{Body, Kind, OrgKey};

/// What `GET /healthz` reports. The answer is `200 OK` whenever the node
/// serves at all; `status` says whether it does everything it should.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `ok`, or `degraded` while one of `problems` holds.
    pub status: HealthStatus,
    /// What keeps the node from doing all it should, most serious first;
    /// empty when `status` is `ok`.
    pub problems: Vec<HealthProblem>,
    pub version: String,
    /// This organisation's name and public key (hex).
    pub org: String,
    pub org_key: String,
    /// The key's fingerprint as people compare it out loud: the first 16
    /// hex digits of the key in groups of four (docs/PROTOCOL.md,
    /// "Joining").
    pub org_fingerprint: String,
    /// The node's libp2p peer id, derived from `org_key`.
    pub peer_id: String,
    /// Addresses other nodes can dial, each ending in `/p2p/<peer_id>`.
    pub listen_addrs: Vec<String>,
    /// Peers connected over the network right now.
    pub peers: usize,
    /// Records held from other organisations (tombstones included).
    pub federated_records: u64,
    /// Records this organisation publishes (tombstones included).
    pub own_records: u64,
    /// The reconciliation fingerprint of every record held (32 hex digits;
    /// docs/PROTOCOL.md, "Reconciliation"): two nodes that show the same
    /// fingerprint hold the same records, in the same versions.
    pub records_fingerprint: String,
    /// Seconds since the node started.
    pub uptime_secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Ok,
    Degraded,
}

/// One reason a node is `degraded`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthProblem {
    /// A stable code: `store_unwritable`, `no_peers`, `index_failed` or
    /// `index_rebuilding`.
    pub code: String,
    /// What is wrong and what the node is doing about it, in words.
    pub message: String,
}

impl Health {
    /// `degraded` exactly when there is a problem.
    pub fn status_of(problems: &[HealthProblem]) -> HealthStatus {
        if problems.is_empty() {
            HealthStatus::Ok
        } else {
            HealthStatus::Degraded
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Member,
    Admin,
}

/// A signed-in person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub username: String,
    pub role: Role,
    pub person_id: String,
    pub display_name: String,
    /// An admin deactivated the account (only admins' lists show such).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deactivated: bool,
}

impl User {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// Why an operation failed, in words a person can act on. The node maps its
/// own errors here and never puts storage or I/O details in the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("{0}")]
    Unavailable(String),
}

impl ApiError {
    /// The stable code carried in JSON errors.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Invalid(_) => "invalid",
            ApiError::NotFound(_) => "not_found",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::Conflict(_) => "conflict",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::TooManyRequests(_) => "too_many_requests",
            ApiError::Unavailable(_) => "unavailable",
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The fields of a profile that may leave the organisation, each switched
/// on by its person (all off at first) and by the admin's outbound policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SharedFields {
    pub display_name: bool,
    pub headline: bool,
    pub topics: bool,
    pub languages: bool,
    pub time_zone: bool,
    pub formats: bool,
    pub availability: bool,
    pub email: bool,
    /// The recognition figures (people helped, sessions, kudos...).
    pub recognition: bool,
}

impl SharedFields {
    /// Every field with its label, in the order pages show them.
    pub fn fields(&self) -> [(&'static str, &'static str, bool); 9] {
        [
            ("display_name", "Name", self.display_name),
            ("headline", "Headline", self.headline),
            ("topics", "Topics and levels", self.topics),
            ("languages", "Languages", self.languages),
            ("time_zone", "Time zone", self.time_zone),
            ("formats", "Formats I offer", self.formats),
            ("availability", "Availability", self.availability),
            ("email", "Email", self.email),
            (
                "recognition",
                "Recognition (sessions given, people helped, kudos)",
                self.recognition,
            ),
        ]
    }

    /// Sets the field called `name`; false if there is none.
    pub fn set(&mut self, name: &str, on: bool) -> bool {
        let slot = match name {
            "display_name" => &mut self.display_name,
            "headline" => &mut self.headline,
            "topics" => &mut self.topics,
            "languages" => &mut self.languages,
            "time_zone" => &mut self.time_zone,
            "formats" => &mut self.formats,
            "availability" => &mut self.availability,
            "email" => &mut self.email,
            "recognition" => &mut self.recognition,
            _ => return false,
        };
        *slot = on;
        true
    }
}

/// A person's own profile, with what of it partners see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub person_id: String,
    pub display_name: String,
    pub email: String,
    #[serde(flatten)]
    pub profile: ProfileDetails,
    /// What the person chose to share.
    pub sharing: SharedFields,
    /// What the organisation lets leave at all.
    pub policy: SharedFields,
    /// Exactly what other organisations see (the signed listing), or none
    /// when nothing may leave.
    pub preview: Option<skillmesh_protocol::kinds::Expertise>,
    /// The listing waits for an admin's approval.
    pub pending_approval: bool,
    /// What the person has given (kept on this node).
    #[serde(default)]
    pub recognition: Recognition,
    /// The thank-you notes they received, newest first.
    #[serde(default)]
    pub kudos: Vec<KudosNote>,
    /// Whether and how often they take questions from other
    /// organisations through their listing.
    #[serde(default)]
    pub questions: QuestionSettings,
}

/// Whether a person takes questions from people of other organisations
/// through their listing, and at most how many in 30 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionSettings {
    pub open: bool,
    pub per_month: u8,
}

impl Default for QuestionSettings {
    fn default() -> QuestionSettings {
        QuestionSettings {
            open: true,
            per_month: 4,
        }
    }
}

/// A thank-you note someone elsewhere sent after a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KudosNote {
    pub from_name: Option<String>,
    pub from_org_name: String,
    /// The sending organisation's key fingerprint.
    #[serde(default)]
    pub from_org_fingerprint: String,
    /// What it was for.
    pub offer_title: String,
    pub message: String,
    pub at: i64,
}

/// Kudos for something I was accepted for (`POST
/// /api/v1/requests/outbox/{id}/kudos`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKudos {
    pub message: String,
}

/// Credit for teaching, mentoring and running cohorts, counted on the
/// person's own node (see the node's `recognition` module for the rules):
/// the same figures a listing carries when its organisation publishes them.
pub use skillmesh_protocol::kinds::RecognitionSummary as Recognition;

/// What a person may change in their profile (`PUT /api/v1/profile`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileUpdate {
    pub display_name: String,
    /// Stands in the body as its fields (the protocol crate's one
    /// definition of a profile); unknown fields are still refused.
    #[serde(flatten)]
    pub profile: ProfileDetails,
    #[serde(default)]
    pub sharing: SharedFields,
    /// Whether and how often I take questions; left out, unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub questions: Option<QuestionSettings>,
}

/// What a search asks and answers: the search crate's own types, which
/// the API serves as they are (see the `skillmesh-search-types` crate).
pub use skillmesh_search_types::{
    Facet, FacetValue, Highlight, HighlightPart, SearchHit, SearchQuery, SearchResults,
};

/// One record in full, as a person opening it sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    pub org: OrgKey,
    pub org_name: String,
    /// The organisation's key fingerprint (`a1b2 c3d4 e5f6 0718`), to tell
    /// two organisations of one name apart.
    #[serde(default)]
    pub org_fingerprint: String,
    pub id: String,
    pub seq: u64,
    pub issued_at: i64,
    pub expires_at: i64,
    #[serde(flatten)]
    pub body: Body,
    /// The signature was checked again over the stored bytes just now.
    pub signature_verified: bool,
    pub own: bool,
    /// A person here may ask for it (an open offer of another organisation).
    pub requestable: bool,
    /// Another organisation's event that invited ours to add sessions
    /// (our admins may).
    #[serde(default)]
    pub contributable: bool,
    /// Of such an event: the ids of the sessions our organisation added,
    /// which our admins may take out of the programme again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub our_sessions: Vec<String>,
    /// Names of the other organisations the body mentions (an event's
    /// contributors), for display.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub org_names: Vec<OrgName>,
    /// For a learning path the person asking follows: the entries they
    /// ticked off (positions from 0). Theirs alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub following: Option<Vec<u16>>,
    /// They follow it and let its organisation count them among its
    /// followers (see [`FollowOptions`]).
    #[serde(default)]
    pub tell_curator: bool,
    /// One of our own content items kept inside the organisation: not
    /// signed, not shared.
    #[serde(default)]
    pub local_only: bool,
    /// Another organisation's expert who takes questions: a person here
    /// may ask them one from this page.
    #[serde(default)]
    pub askable: bool,
    /// For an expert: their open offers (talks, mentoring, cohorts) held
    /// here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub offers: Vec<PersonOffer>,
}

/// One offer of an expert, listed on their page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonOffer {
    pub id: String,
    pub kind: skillmesh_protocol::Kind,
    pub title: String,
}

/// What an observer saw of a session: for the trainer alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObservationForm {
    /// 1 (poor) to 5 (excellent).
    pub clarity: u8,
    /// 1 (far too slow or fast) to 5 (just right).
    pub pace: u8,
    /// 1 (none) to 5 (lively).
    pub interaction: u8,
    /// One thing to keep.
    pub keep: String,
    /// One thing to change.
    pub change: String,
}

/// I invite a colleague to observe a session of my offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewObservation {
    /// The colleague's person id.
    pub observer: String,
    /// Which session (a date, a place).
    #[serde(default)]
    pub when: String,
}

/// An observation, as its trainer or its observer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservationView {
    pub id: String,
    pub trainer_name: String,
    pub observer_name: String,
    pub offer_id: String,
    pub offer_title: String,
    pub when: String,
    pub feedback: Option<ObservationForm>,
    pub invited_at: i64,
}

/// My observations: those I was asked to give, and those of my sessions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observations {
    pub to_give: Vec<ObservationView>,
    pub of_mine: Vec<ObservationView>,
}

/// A colleague on this node, to recommend something to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Colleague {
    pub person_id: String,
    pub name: String,
}

/// I recommend content to a colleague (`POST /api/v1/recommendations`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRecommendation {
    pub org: OrgKey,
    pub id: String,
    /// The colleague's person id.
    pub to: String,
    #[serde(default)]
    pub note: String,
}

/// Something a colleague recommended to me.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recommended {
    pub from_name: String,
    pub org: OrgKey,
    pub org_name: String,
    /// The organisation's key fingerprint (`a1b2 c3d4 e5f6 0718`), to tell
    /// two organisations of one name apart.
    #[serde(default)]
    pub org_fingerprint: String,
    pub id: String,
    pub title: String,
    pub note: String,
    pub at: i64,
}

/// How a person follows a learning path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowOptions {
    /// For a partner's list: let its organisation count you among its
    /// followers (your node sends a count, never who you are).
    #[serde(default)]
    pub tell_curator: bool,
}

/// A learning path a person follows, and how far they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Following {
    pub org: OrgKey,
    pub org_name: String,
    /// The organisation's key fingerprint (`a1b2 c3d4 e5f6 0718`), to tell
    /// two organisations of one name apart.
    #[serde(default)]
    pub org_fingerprint: String,
    pub id: String,
    pub title: String,
    pub done: usize,
    /// Entries in the list; 0 once its organisation withdrew it.
    pub total: usize,
    /// Its organisation withdrew it: only the progress is left.
    pub withdrawn: bool,
}

/// Which entries of a followed learning path are done (`PUT
/// /api/v1/following/{org}/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Progress {
    /// Positions (from 0) of the entries done.
    pub done: Vec<u16>,
}

/// An organisation's key and the name this node knows it by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgName {
    pub org: OrgKey,
    pub name: String,
    /// Its key fingerprint.
    #[serde(default)]
    pub fingerprint: String,
}

impl Listing {
    /// The name of `org` as the listing knows it, or its short key.
    pub fn org_name_of(&self, org: &OrgKey) -> String {
        self.org_names
            .iter()
            .find(|n| n.org == *org)
            .map_or_else(|| org.short(), |n| n.name.clone())
    }
}

/// The lifecycle of one of our own offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferState {
    Draft,
    PendingApproval,
    Published,
    Unpublished,
}

/// One of the signed-in person's offers (talk, mentoring, cohort).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    pub id: String,
    pub state: OfferState,
    #[serde(flatten)]
    pub body: Body,
    pub updated_at: i64,
}

/// What a person may do to one of their offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferAction {
    /// Sign and send it (again); waits for approval where that is required.
    Publish,
    /// Still listed, but takes no requests.
    Pause,
    /// Takes requests again.
    Reopen,
    /// Listed as finished.
    Close,
    /// Sends a retraction: it disappears from every partner.
    Unpublish,
    /// Gone for good: retracted first if it was published.
    Delete,
}

/// A person asks for another organisation's offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    pub offer_org: OrgKey,
    pub offer_id: String,
    /// What I want to learn.
    pub goal: String,
    #[serde(default)]
    pub preferred_times: String,
    #[serde(default)]
    pub message: String,
    /// For a cohort: the other members may see my name on its roster.
    #[serde(default)]
    pub name_to_group: bool,
    /// For an event: the session I sign up for (then `goal`, times and
    /// message are not used, and the event's node admits me at once).
    #[serde(default)]
    pub session: Option<String>,
    /// For an event that invited my organisation (admins only): a session
    /// my organisation adds to its programme. Its `id` may be empty (the
    /// node picks one); an id my organisation used before replaces that
    /// session. `goal`, times and message are not used.
    #[serde(default)]
    pub contribution: Option<EventSession>,
    /// For an event my organisation added sessions to (admins only): the
    /// id of one of those sessions, to take out of its programme. `goal`,
    /// times and message are not used.
    #[serde(default)]
    pub withdraw: Option<String>,
    /// For another organisation's expert (`offer_id` is their listing's
    /// id): a question (`goal`), with the help I would like. `preferred_times`
    /// is not used.
    #[serde(default)]
    pub ask: Option<skillmesh_protocol::kinds::AskFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    /// Stored here; not yet accepted by the other node (it may be down).
    Waiting,
    /// In the offering person's inbox.
    Queued,
    Pending,
    Accepted,
    Declined,
    /// The other node refused it (blocked, full, closed...).
    Refused,
}

/// A request someone at another organisation sent to one of our people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxItem {
    pub from_org: OrgKey,
    pub from_org_name: String,
    /// The sending organisation's key fingerprint (`a1b2 c3d4 e5f6 0718`),
    /// to tell two organisations of the same name apart.
    #[serde(default)]
    pub from_org_fingerprint: String,
    /// The sending organisation was first seen here recently.
    #[serde(default)]
    pub from_org_new: bool,
    /// Set when the sender's name looks like another organisation's:
    /// "name looks like X's, key …". Accepting asks for confirmation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_org_lookalike: Option<String>,
    pub id: String,
    pub offer_id: String,
    pub offer_title: String,
    pub requester_name: Option<String>,
    pub goal: String,
    pub preferred_times: String,
    pub message: String,
    pub status: RequestStatus,
    pub reply: String,
    pub received_at: i64,
    /// The requester's thank-you after the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kudos: Option<String>,
    /// A question through my listing (`goal` is the question), with the
    /// help the asker prefers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ask: Option<skillmesh_protocol::kinds::AskFormat>,
}

/// A request one of our people sent, and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxItem {
    pub id: String,
    pub offer_org: OrgKey,
    pub offer_org_name: String,
    /// The offering organisation's key fingerprint.
    #[serde(default)]
    pub offer_org_fingerprint: String,
    pub offer_id: String,
    pub offer_title: String,
    pub goal: String,
    pub status: RequestStatus,
    /// The reply, or why it was refused.
    pub detail: String,
    /// Only once accepted.
    pub contact: Option<Contact>,
    /// For a cohort I was admitted to: the group as its owner's latest
    /// answer describes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<Roster>,
    /// I already said how it went.
    #[serde(default)]
    pub feedback_given: bool,
    /// A session I added to, or took out of, another organisation's event
    /// (not something I take part in: no feedback).
    #[serde(default)]
    pub contribution: bool,
    /// I may thank the person who helped: accepted for a talk, mentoring,
    /// a cohort or a call for a talk, and no kudos sent yet.
    #[serde(default)]
    pub kudos_welcome: bool,
    /// The kudos I sent, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kudos: Option<String>,
    /// Why the other node refused my kudos, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kudos_refused: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Something with scheduled sessions in a person's calendar feed: a cohort
/// they were admitted to, an event session they signed up for, or an
/// offer of their own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedItem {
    /// The organisation whose record it is.
    pub org: OrgKey,
    pub org_name: String,
    /// The organisation's key fingerprint (`a1b2 c3d4 e5f6 0718`), to tell
    /// two organisations of one name apart.
    #[serde(default)]
    pub org_fingerprint: String,
    /// The record's id.
    pub id: String,
    pub title: String,
    /// What it is about (a cohort's goal, an offer's description).
    pub detail: String,
    pub slots: Vec<Slot>,
    /// For a sign-up to one session of an event: that session's id (then
    /// `id` is the event's and `slots` holds the one session).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
}

/// After taking part in something I was accepted for: how it went. It
/// stays on this node; admins see only aggregates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedbackForm {
    /// 1 to 5.
    pub rating: u8,
    /// What I will apply.
    #[serde(default)]
    pub apply: String,
    #[serde(default)]
    pub comment: String,
    /// My skill in what it targeted, 1 to 5, before and after.
    pub before: u8,
    pub after: u8,
}

/// Which part of the organisation's learning the impact figures cover.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImpactQuery {
    /// First day, `YYYY-MM-DD` (UTC), or empty for no bound.
    pub since: String,
    /// Last day, inclusive, or empty.
    pub until: String,
    /// Only what targeted this topic, or empty for all.
    pub topic: String,
}

/// What the organisation's peer learning came to, counted on this node
/// from its own records. Nothing about one person: counts and averages.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Impact {
    /// Sessions our people gave (see the node's `recognition` rules) and
    /// their length in minutes.
    pub sessions_given: u64,
    pub minutes_given: u64,
    /// People from elsewhere whose requests our people accepted.
    pub participants: u64,
    /// Distinct pairs of one of our people and another organisation that
    /// came together through an accepted request, either way.
    pub connections: u64,
    /// Requests our people made, and how many were answered.
    pub requests_made: u64,
    pub requests_made_answered: u64,
    /// Requests our people received, how many they answered, and the
    /// median time they took, in hours.
    pub requests_received: u64,
    pub requests_received_answered: u64,
    pub median_hours_to_answer: Option<f64>,
    /// Feedback our people gave after taking part.
    pub feedback: u64,
    pub average_rating: Option<f64>,
    /// Average self-assessed skill (1 to 5) before and after.
    pub skill_before: Option<f64>,
    pub skill_after: Option<f64>,
    /// Given to (accepted requests from) and received from each partner.
    pub partners: Vec<PartnerImpact>,
    /// Topics our people want to learn that no partner offers (only
    /// topics at least `min_group_size` people want).
    pub wanted_without_supply: Vec<String>,
    /// `privacy.min_group_size`: figures fewer distinct people stand behind
    /// are left out.
    #[serde(default)]
    pub min_group_size: u32,
    /// Fewer than `min_group_size` of our people stand behind the figures
    /// for this period and topic: every count and average is left out
    /// (zero, or none), and no partner is shown.
    #[serde(default)]
    pub withheld: bool,
    /// Partners left out of `partners`: fewer than `min_group_size` of our
    /// people were brought together with each.
    #[serde(default)]
    pub partners_withheld: u64,
    /// Feedback was given, but by fewer than `min_group_size` people: its
    /// count and averages are left out.
    #[serde(default)]
    pub feedback_withheld: bool,
}

/// An impact summary an organisation published (ours, or a partner's
/// that this node holds): totals and averages only, signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedImpact {
    pub org: OrgKey,
    pub org_name: String,
    /// The organisation's key fingerprint (`a1b2 c3d4 e5f6 0718`), to tell
    /// two organisations of one name apart.
    #[serde(default)]
    pub org_fingerprint: String,
    pub own: bool,
    pub issued_at: i64,
    pub summary: skillmesh_protocol::kinds::ImpactSummary,
    /// The signature was checked again just now.
    pub signature_verified: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerImpact {
    pub org: OrgKey,
    pub org_name: String,
    /// The organisation's key fingerprint (`a1b2 c3d4 e5f6 0718`), to tell
    /// two organisations of one name apart.
    #[serde(default)]
    pub org_fingerprint: String,
    pub given: u64,
    pub received: u64,
}

/// A cohort's goal, schedule and members, as an admitted member sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roster {
    pub goal: String,
    /// Unix seconds of the first session.
    pub starts_at: i64,
    pub weeks: u8,
    pub weekly_hours: u8,
    pub schedule: Vec<Slot>,
    /// In the order they were admitted.
    pub members: Vec<RosterMember>,
}

/// One member of a cohort: their organisation, and their name only if
/// they let the group see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterMember {
    pub org: OrgKey,
    pub org_name: String,
    /// The organisation's key fingerprint (`a1b2 c3d4 e5f6 0718`), to tell
    /// two organisations of one name apart.
    #[serde(default)]
    pub org_fingerprint: String,
    pub name: Option<String>,
}

/// Accept or decline a request in my inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestAnswer {
    pub accept: bool,
    #[serde(default)]
    pub reply: String,
}

/// How this node admits other organisations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FederationMode {
    Open,
    Allowlist,
    Blocklist,
}

/// An admin's decision about one organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgAction {
    /// Put on the allowlist (a partner); also accepts a join request.
    Allow,
    /// Disconnect, purge its records, refuse its requests.
    Block,
    /// Neither allowed nor blocked.
    Clear,
    /// Refuse a join request.
    Refuse,
}

/// Another organisation as the admin console shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgRow {
    pub key: OrgKey,
    pub name: String,
    /// `allowed`, `blocked` or none.
    pub listing: Option<String>,
    /// Records held from it (withdrawn ones not counted: what its quota
    /// counts).
    pub records: u64,
    pub connected: bool,
    /// It asked to join and waits for a decision.
    pub wants_to_join: bool,
    /// The key's fingerprint (`a1b2 c3d4 e5f6 0718`).
    #[serde(default)]
    pub fingerprint: String,
    /// First seen here recently (and not allowed as a partner).
    #[serde(default)]
    pub new: bool,
    /// Set when its name looks like another known organisation's:
    /// "name looks like X's, key …".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookalike: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerRow {
    pub peer_id: String,
    pub org: Option<OrgKey>,
    pub org_name: String,
    /// `org`'s key fingerprint, when the peer is an organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_fingerprint: Option<String>,
}

/// How many records were rejected for one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectionCount {
    /// The rejection's stable code (docs/PROTOCOL.md), e.g. `bad_signature`.
    pub code: String,
    pub count: u64,
}

/// Records of one organisation refused by inbound policy for one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRefusalRow {
    pub org: OrgKey,
    pub org_name: String,
    /// The organisation's key fingerprint (`a1b2 c3d4 e5f6 0718`), to tell
    /// two organisations of one name apart.
    #[serde(default)]
    pub org_fingerprint: String,
    /// `blocked`, `not_allowed` or `over_quota`.
    pub reason: String,
    pub count: u64,
    /// Unix seconds of the last refusal.
    pub last_at: i64,
}

/// A partner told this node it refused one of its records for its quota.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaNoticeRow {
    pub org: OrgKey,
    pub org_name: String,
    /// The organisation's key fingerprint (`a1b2 c3d4 e5f6 0718`), to tell
    /// two organisations of one name apart.
    #[serde(default)]
    pub org_fingerprint: String,
    /// Our record it refused (the latest it told us of).
    pub record_id: String,
    /// Our live records it holds, and its quota.
    pub held: u64,
    pub limit: u64,
    /// Unix seconds the latest notice arrived.
    pub received_at: i64,
    /// Notices received from it.
    pub count: u64,
}

/// The admin console's view of federation and network health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Federation {
    pub mode: FederationMode,
    pub approval_required: bool,
    pub orgs: Vec<OrgRow>,
    pub peers: Vec<PeerRow>,
    /// Records rejected, by reason code, since the node's data began.
    pub rejections: Vec<RejectionCount>,
    /// Records refused by policy (blocked, not on the allowlist, over
    /// quota), per organisation and reason, most recent first.
    #[serde(default)]
    pub policy_refusals: Vec<PolicyRefusalRow>,
    /// The latest quota notice from each partner that refused our records.
    #[serde(default)]
    pub quota_notices: Vec<QuotaNoticeRow>,
    /// The organisations this node federates with now (not blocked; held
    /// records, in the peer book or connected): those a switch to
    /// allowlist keeps allowed.
    #[serde(default)]
    pub current_partners: u64,
    pub federated_records: u64,
    pub own_records: u64,
}

/// What changing the federation mode did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModeChanged {
    pub mode: FederationMode,
    /// Current partners kept on the allowlist (0 unless the switch was to
    /// allowlist).
    pub partners_kept: u64,
}

/// The organisation's chat webhook, as admins see it: the address of a
/// Slack, Microsoft Teams, Mattermost or Rocket.Chat incoming webhook that
/// hears of the organisation's new offers and events and of what waits
/// for approval, and the messages waiting to be posted to it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    /// The address, if one is set (shown to admins only).
    pub url: Option<String>,
    /// Messages waiting to be posted.
    pub waiting: u64,
    /// Why the oldest waiting message was not taken, if it was tried.
    pub last_error: Option<String>,
    /// When it is tried next (unix seconds), if it was tried.
    pub next_try_at: Option<i64>,
}

/// The address an admin sets for the chat webhook; `null` or empty
/// clears it (and drops what waits).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookUpdate {
    pub url: Option<String>,
}

/// Something waiting for an admin's approval before it leaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// The record id that will be published.
    pub id: String,
    pub kind: Kind,
    pub title: String,
    pub owner: String,
    /// What will be signed and sent.
    #[serde(flatten)]
    pub body: Body,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditQuery {
    /// A full organisation key (64 hex digits); anything else is invalid.
    pub org: String,
    pub action: String,
    /// A UTC day, `YYYY-MM-DD`.
    pub day: String,
    pub limit: usize,
    /// `people`: only what people (admins, members) did; `network`: only
    /// the node's and other organisations' doings; else everything.
    pub who: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub at: i64,
    pub actor: String,
    pub action: String,
    /// For a rejected record or message, the sending peer's organisation
    /// (never the one the record names, which is `claimed_org`).
    pub org: Option<String>,
    pub org_name: Option<String>,
    /// `org`'s key fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_fingerprint: Option<String>,
    /// The organisation a rejected record only *claims* to be from (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_org: Option<String>,
    pub record_id: Option<String>,
    pub detail: String,
    /// How many times this happened in the entry's window (repeated
    /// rejections are one entry).
    #[serde(default = "one")]
    pub count: u64,
}

fn one() -> u64 {
    1
}

/// An admin adds someone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// The sign-in name: an email address.
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// Empty: the node makes one up and returns it once.
    #[serde(default)]
    pub password: String,
}

/// Something that happened that I should know of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationView {
    pub id: String,
    /// `request_received`, `question_received`, `request_answered`,
    /// `kudos_received` or `approval_waiting`.
    pub kind: String,
    pub text: String,
    /// The page it is about, on this node.
    pub link: String,
    /// Unix seconds.
    pub at: i64,
    pub read: bool,
}

/// How I want one kind of notification mailed: `kind` as in
/// [`NotificationView`], `choice` `immediately`, `digest` or `never`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailChoiceView {
    pub kind: String,
    /// What the kind is called, for the page.
    #[serde(default)]
    pub label: String,
    pub choice: String,
}

/// Which notifications to mark read (`POST /api/v1/notifications/read`):
/// those named, or all when `ids` is left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MarkRead {
    pub ids: Option<Vec<String>>,
}

/// One of my API tokens as listed: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenInfo {
    /// The first 16 hex digits of the token's SHA-256: what revoking it
    /// names.
    pub id: String,
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
    /// The last call made with it, to the minute (unix seconds); none yet.
    pub last_used_at: Option<i64>,
}

/// How people sign in here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInOptions {
    /// With a password (`auth.password_sign_in`).
    pub password: bool,
    /// Through the organisation's OpenID provider: what its button calls
    /// it (`auth.oidc.name`); `None` without single sign-on.
    pub single_sign_on: Option<String>,
}

impl Default for SignInOptions {
    fn default() -> Self {
        SignInOptions {
            password: true,
            single_sign_on: None,
        }
    }
}

/// A single sign-on started: where to send the browser, and the state the
/// provider sends back with it (bound to the browser by a cookie).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoStart {
    pub url: String,
    pub state: String,
}

/// A token just made: the token, shown this once, and how it is listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiToken {
    pub token: String,
    #[serde(flatten)]
    pub info: ApiTokenInfo,
}

/// What to call a new API token (`POST /api/v1/tokens`); a token made
/// without a name is called "API token".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenName {
    pub name: String,
}

/// A web session as the node keeps it, so that a restart signs no one
/// out: known by the SHA-256 (hex) of its cookie's token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptSession {
    pub id: String,
    pub username: String,
    pub csrf: String,
    /// Unix seconds, as are the two below.
    pub created_at: i64,
    pub last_seen: i64,
    pub expires_at: i64,
}

/// A user just added. Added without a password, they are invited: the
/// link where they choose theirs (shown once, and mailed to them when
/// the node sends mail).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddedUser {
    pub user: User,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation: Option<AccessLinkView>,
}

/// A link where a person chooses their password: an invitation, or a
/// password reset an admin made. Shown once; it works once, until it
/// expires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessLinkView {
    pub url: String,
    /// `invitation` or `password_reset`.
    pub purpose: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// A link's page: whose password it sets, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessLinkFor {
    pub username: String,
    pub display_name: String,
    /// `invitation` or `password_reset`.
    pub purpose: String,
}

/// What a person wants to learn, noted privately: kept on this node only
/// and never sent to another organisation. Suggestions are ranked from it
/// locally.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LearningGoals {
    /// In the person's own words, e.g. "get better at running on-call for
    /// my team".
    pub goals: String,
    pub topics: Vec<String>,
    pub formats: Vec<Format>,
    /// Languages the person can learn in (empty: any).
    pub languages: Vec<String>,
    /// At most this many hours between the person's time zone and the
    /// expert's (none: any).
    pub max_hours_apart: Option<u8>,
}

/// Someone (or an offer) that could help with a person's goals, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    pub hit: SearchHit,
    /// Sentences saying why it was suggested.
    pub reasons: Vec<String>,
    pub score: f32,
}

/// One topic people here want to learn, with how much supply the network
/// has for it. Aggregates only: never who wants it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemandRow {
    pub topic: String,
    /// People at this organisation whose goals name it.
    pub people: usize,
    /// Experts and open offers that match it, across the network.
    pub supply: usize,
}
