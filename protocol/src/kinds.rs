//! The bodies of the record kinds, one struct per kind, with the fields a
//! person looking for help (or offering it) needs.
//!
//! Every field an organisation's people may choose not to share is optional
//! or may be empty: outbound policy removes fields before signing, so a
//! receiver must cope with any of them missing.

use serde::{Deserialize, Serialize};

use crate::keys::OrgKey;

/// The wire name of a unit enum value of these bodies
/// (`SessionFormat::Talk` → `talk`, `Format::CodeReview` → `code_review`);
/// empty for anything that does not serialise to a string.
pub fn wire_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// How well someone knows a topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Beginner,
    Intermediate,
    Advanced,
    Expert,
}

/// A topic with the level at which someone knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    pub name: String,
    pub level: Level,
}

/// The ways someone can help.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Talk,
    Workshop,
    Mentoring,
    Cohort,
    CodeReview,
    Pairing,
    Discussion,
}

/// How a person asking an expert a question would like to be helped
/// (`request.ask`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AskFormat {
    /// A short call.
    Call,
    /// A review of the asker's work (a design, a document, code).
    Review,
    /// A talk for the asker's team.
    TeamTalk,
}

impl AskFormat {
    pub const ALL: [AskFormat; 3] = [AskFormat::Call, AskFormat::Review, AskFormat::TeamTalk];

    /// As pages and mail write it.
    pub fn label(self) -> &'static str {
        match self {
            AskFormat::Call => "a call",
            AskFormat::Review => "a review of my work",
            AskFormat::TeamTalk => "a talk for my team",
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AskFormat::Call => "call",
            AskFormat::Review => "review",
            AskFormat::TeamTalk => "team_talk",
        }
    }
}

/// Whether someone takes on new requests now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AvailabilityStatus {
    Open,
    Limited,
    Full,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Availability {
    pub status: AvailabilityStatus,
    /// Hours a month the person can give, if they said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours_per_month: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Whether an offer takes requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferStatus {
    Open,
    Paused,
    Closed,
}

/// Where a session happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    Remote,
    InPerson,
    Hybrid,
}

/// Who a talk or session is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    Everyone,
    PeopleManagers,
    SeniorLeaders,
}

/// The shape of a live session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionFormat {
    Talk,
    Workshop,
    Discussion,
    Demo,
}

/// How often mentoring sessions happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    Weekly,
    Fortnightly,
    Monthly,
    AdHoc,
}

/// A point in time with a length: a bookable slot or a scheduled session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slot {
    /// Unix seconds, UTC.
    pub starts_at: i64,
    pub duration_minutes: u16,
}

/// Body of `org_card`: who an organisation is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgCard {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
}

/// Body of `expertise`: one person's listing. `person` is the organisation's
/// stable, opaque id for the person; every other field is there only if the
/// person opted in to share it and outbound policy lets it leave.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expertise {
    pub person: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headline: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<Topic>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub formats: Vec<Format>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability: Option<Availability>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// What the person has given, as their organisation counted it, if
    /// the organisation publishes it: signed with the listing, so anyone
    /// can check which organisation vouches for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recognition: Option<RecognitionSummary>,
    /// The person takes questions from people of other organisations: a
    /// `request` with `ask` may name this listing.
    #[serde(default, skip_serializing_if = "is_false")]
    pub takes_questions: bool,
}

/// Credit for teaching, mentoring and running cohorts, as the person's
/// own organisation counted it (see docs/PROTOCOL.md for what counts).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecognitionSummary {
    /// Requests to the person's offers that they accepted.
    pub people_helped: u32,
    /// Organisations those requests came from.
    pub organisations_reached: u32,
    pub sessions: u32,
    pub minutes: u32,
    pub cohorts_run: u32,
    /// Thank-you notes received after sessions.
    pub kudos: u32,
    /// Curating: follows of the person's learning paths by others, and
    /// items the person recommended to colleagues.
    #[serde(default)]
    pub curated: u32,
    /// Sessions of colleagues the person observed and gave feedback on.
    #[serde(default)]
    pub observed: u32,
}

/// The session a talk offer or a call for a talk describes: what it is
/// about, in which format, for whom, how long, in which languages and how
/// it is delivered.
///
/// It only ever appears flattened into [`TalkOffer`] and [`TalkWanted`], so
/// on the wire its fields stand in the body itself (see docs/PROTOCOL.md):
/// one declaration keeps the two talk kinds from drifting apart. It has no
/// `deny_unknown_fields` of its own on purpose: serde checks unknown fields
/// once, in the body that flattens it (a flattened struct that also denied
/// them would refuse the body's own fields). `talk_bodies_refuse_unknown_fields`
/// in the protocol tests pins that.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TalkSession {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
    pub format: SessionFormat,
    pub audience: Audience,
    pub duration_minutes: u16,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    pub delivery: Delivery,
}

/// Body of `talk_offer`: a talk, workshop or discussion someone will give.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TalkOffer {
    pub person: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker_name: Option<String>,
    pub title: String,
    #[serde(rename = "abstract", default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
    #[serde(flatten)]
    pub session: TalkSession,
    pub status: OfferStatus,
}

/// Body of `talk_wanted`: an organisation asks for a talk, workshop or
/// discussion on a topic, for experts elsewhere to offer to give. An
/// expert answers with a `request` for it (what they would cover); the
/// asking person accepts one or more, and contacts are exchanged as for
/// any request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TalkWanted {
    /// The person at the asking organisation who handles the answers.
    pub person: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asker_name: Option<String>,
    pub title: String,
    /// What the audience needs, and why.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(flatten)]
    pub session: TalkSession,
    /// Open while the organisation takes offers to give it.
    pub status: OfferStatus,
}

/// Body of `mentoring_offer`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MentoringOffer {
    pub person: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mentor_name: Option<String>,
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    /// Mentees at a time.
    pub capacity: u8,
    /// Sessions per mentee.
    pub sessions: u8,
    pub session_minutes: u16,
    pub cadence: Cadence,
    /// Concrete times on offer, if the mentor lists them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slots: Vec<Slot>,
    pub delivery: Delivery,
    pub status: OfferStatus,
}

/// Body of `cohort_offer`: a small group (5 to 15 people, from one or more
/// organisations) working on a goal over a fixed number of weeks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CohortOffer {
    pub person: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_name: Option<String>,
    pub title: String,
    /// The goal or real business problem the group works on.
    pub goal: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
    pub seats_total: u8,
    pub seats_per_org: u8,
    pub weeks: u8,
    pub weekly_hours: u8,
    /// Unix seconds of the first session.
    pub starts_at: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedule: Vec<Slot>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    pub delivery: Delivery,
    pub status: OfferStatus,
}

/// One session of an event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSession {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker_name: Option<String>,
    /// The organisation contributing the session, if not the event's host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contributor: Option<OrgKey>,
    pub starts_at: i64,
    pub duration_minutes: u16,
    pub format: SessionFormat,
    pub audience: Audience,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
}

/// Body of `event`: a learning week or similar, with its sessions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub starts_at: i64,
    pub ends_at: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sessions: Vec<EventSession>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    /// Organisations the host invited to add sessions: their admins send
    /// a `request` with a `contribution`, which the host's node adds to
    /// `sessions` (with `contributor` set) and signs again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contributors: Vec<OrgKey>,
}

/// What kind of thing a content item points to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentType {
    Article,
    Video,
    Book,
    Course,
    Podcast,
    Tool,
    /// A curated list (learning path): see `ContentItem::items`.
    List,
}

/// One entry of a curated list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListEntry {
    pub title: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// Body of `content`: something worth learning from, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContentItem {
    pub content_type: ContentType,
    pub title: String,
    /// Required for every type but `list`; http or https only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Why it is recommended.
    pub why: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curator_name: Option<String>,
    /// The entries of a curated list, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<ListEntry>,
}

/// Body of `retraction`: a signed tombstone for the record with the same
/// organisation and id. It replaces every version with a lower `seq` and is
/// kept until its own `expires_at`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retraction {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Body of `request`: a person at one organisation asks for an offer of
/// another (a talk, a mentoring place or a cohort seat). Sent directly to
/// the offering organisation's node, never gossiped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// The organisation that published the offer.
    pub offer_org: OrgKey,
    /// The offer's record id.
    pub offer_id: String,
    /// The requesting person's id at the requesting organisation.
    pub requester: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester_name: Option<String>,
    /// What the person wants to learn.
    pub goal: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub preferred_times: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// For a cohort: whether the requester lets the other members of the
    /// group see their name on the roster (else they appear there only as
    /// a member from their organisation).
    #[serde(default, skip_serializing_if = "is_false")]
    pub name_to_group: bool,
    /// For an `event`: the id of the session the person signs up for
    /// (then `offer_id` is the event's id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// For an `event` the requesting organisation was invited to
    /// contribute to: a session its admin adds to the programme (then
    /// `offer_id` is the event's id). Sending one with the id of a
    /// session the same organisation added before replaces it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contribution: Option<EventSession>,
    /// For an `event` the requesting organisation contributed to: the id
    /// of one of its own sessions, to take out of the programme (then
    /// `offer_id` is the event's id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdraw: Option<String>,
    /// A question for the person of an `expertise` listing (then
    /// `offer_id` is the listing's id), with the help the asker prefers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ask: Option<AskFormat>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The offering side's decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Accepted,
    Declined,
}

/// How to reach the person who accepted. Only ever sent with an acceptance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// Body of `answer`: the offering organisation's signed reply to a request,
/// sent directly back to the requesting organisation's node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    pub request_org: OrgKey,
    pub request_id: String,
    pub decision: Decision,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reply: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    /// For a person admitted to a cohort: the group as it stands when this
    /// answer is signed. As others are admitted the offering node signs
    /// the answer again with a higher `seq`; the highest one received wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<Group>,
}

/// What an admitted member of a cohort sees of it: the goal, the schedule
/// and who else is in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub goal: String,
    /// Unix seconds of the first session.
    pub starts_at: i64,
    pub weeks: u8,
    pub weekly_hours: u8,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedule: Vec<Slot>,
    /// Everyone admitted, in the order they were admitted.
    pub members: Vec<GroupMember>,
}

/// One member on a cohort's roster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupMember {
    /// The member's organisation.
    pub org: OrgKey,
    /// Present only if the member let the group see it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Body of `impact_summary`: what came of an organisation's peer learning
/// over a period, as its admin chose to publish it. Counts and averages
/// only: never what one person said or rated. Each organisation publishes
/// at most one, with the id `impact-summary`; a newer one replaces it and
/// a retraction withdraws it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImpactSummary {
    /// The period the figures cover, unix seconds, `period_end` excluded.
    pub period_start: i64,
    pub period_end: i64,
    /// The topic the figures were narrowed to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    pub sessions_given: u32,
    pub minutes_given: u32,
    pub participants: u32,
    /// Distinct (person, partner organisation) pairs brought together.
    pub connections: u32,
    pub requests_received: u32,
    pub requests_received_answered: u32,
    pub requests_made: u32,
    pub requests_made_answered: u32,
    /// Median time to answer a request, in minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median_minutes_to_answer: Option<u32>,
    /// Feedback forms counted.
    pub feedback: u32,
    /// Averages on the 1-5 scales, in tenths (42 = 4.2); present only when
    /// at least `limits::MIN_FEEDBACK_TO_PUBLISH` people gave feedback, so
    /// that no one's answer can be read back from them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_rating_tenths: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skill_before_tenths: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skill_after_tenths: Option<u8>,
}

/// Body of `kudos`: after a session, the person who asked for it thanks
/// the person who gave it. Sent directly to the offering organisation's
/// node (like `request`), never gossiped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kudos {
    /// The organisation whose person is thanked (the addressee).
    pub offer_org: OrgKey,
    /// The accepted request the kudos follows.
    pub request_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_name: Option<String>,
    pub message: String,
}

/// Body of `follower_count`: how many people of the sending organisation
/// follow one learning path (a content list) of `list_org`, among those
/// who chose to let its curator know. A count, never who. Sent directly to
/// the node of `list_org` (like `kudos`), never gossiped; a new version
/// (higher `seq`) replaces the last whenever the count changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowerCount {
    /// The organisation whose list is followed (the addressee).
    pub list_org: OrgKey,
    /// The list's record id.
    pub list_id: String,
    /// People of the sending organisation following it (0: none now).
    pub followers: u32,
}

/// Body of `quota_notice`: the sending organisation refused record
/// `record_id` of `publisher` because `publisher` already has `held` live
/// (not withdrawn) records there, its quota being `limit`. Sent directly
/// to the node of `publisher`, at most about once an hour per publisher,
/// never gossiped; informational only (nothing is retried because of it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaNotice {
    /// The organisation whose record was refused (the addressee).
    pub publisher: OrgKey,
    /// One of its records refused.
    pub record_id: String,
    /// Its live records held by the sender when it refused.
    pub held: u64,
    /// The sender's per-organisation quota.
    pub limit: u64,
}
