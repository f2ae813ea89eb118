//! Direct requests: a person here asks for another organisation's talk,
//! mentoring place or cohort seat (or offers to answer its call for a
//! talk); the other node checks and queues it in the offering person's
//! inbox; that person accepts or declines, and a signed answer travels
//! back. After an accepted request, the person who asked may send kudos,
//! which travel the same way. Contact details travel only with an
//! acceptance. Everything is stored before it is sent, so requests and
//! answers survive restarts of either side and are delivered by the
//! courier (see `network::courier`) once the other node is reachable.

use skillmesh_protocol::kinds::{
    Answer, AskFormat, Contact, Decision, EventSession, Group, GroupMember, Kudos, OfferStatus,
    Request,
};
use skillmesh_protocol::{Body, Header, OrgKey, RECORD_VERSION, Record, Rejection};

use crate::clock;
use crate::policy::Admission;
use crate::service::{Result, Service, ServiceError};
use crate::store::Actor;
use crate::store::{
    AuditAction, InboxEntry, InboxStatus, ItemState, NotificationKind, OutboxEntry, OutboxStatus,
    ReceivedKudos, SentKudos,
};

/// How long a request or answer record is valid.
const DIRECT_LIFETIME_SECS: i64 = 90 * 24 * 3600;

/// What handling a message from another node came to. The outer error
/// failed here (storage, say): not the sender's doing, so nothing is
/// answered and the sender tries again later. The inner [`Refusal`] is the
/// answer the sender gets.
pub type PeerOutcome<T> = Result<std::result::Result<T, Refusal>>;

/// Why a node refused a request or an answer from another node. The text
/// goes back to the sender.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("invalid: {0}")]
    Invalid(#[from] Rejection),
    #[error("not signed by the sending organisation")]
    WrongSender,
    #[error("not addressed to this organisation")]
    NotForUs,
    #[error("your organisation is not accepted here")]
    NotAdmitted,
    #[error("too many requests; try again later")]
    RateLimited,
    /// The budget all new organisations share, or the node-wide one, is
    /// spent (see `request_limits`).
    #[error("too many requests to this node; try again later")]
    Busy,
    /// The offering person's inbox holds as many unanswered requests as
    /// it may (`federation.max_pending_per_person`; half of that for new
    /// organisations).
    #[error("this person has too many requests waiting for an answer; ask again later")]
    TooManyWaiting,
    #[error("no such offer")]
    NoSuchOffer,
    #[error("the offer is not open")]
    OfferClosed,
    #[error("the offer has no places left")]
    Full,
    #[error("no such request")]
    UnknownRequest,
    #[error("kudos are for a talk, mentoring or a cohort that was accepted")]
    NotAccepted,
    #[error("your organisation was not invited to add sessions to this event")]
    NotContributor,
    #[error("the session {0:?} belongs to another organisation")]
    SessionTaken(String),
    #[error("the session does not fit the event: {0}")]
    SessionMisfit(String),
    #[error("the event has no session {0:?}")]
    NoSuchSession(String),
    #[error("no such learning path")]
    NoSuchList,
    #[error("this person does not take questions now")]
    NoQuestions,
    #[error("this person has had as many questions as they take in 30 days; ask again later")]
    QuestionsFull,
}

/// Something signed here that another node has not yet acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Request {
        to: OrgKey,
        id: String,
        envelope: Vec<u8>,
    },
    Answer {
        to: OrgKey,
        id: String,
        envelope: Vec<u8>,
    },
    /// Kudos for the request `id`.
    Kudos {
        to: OrgKey,
        id: String,
        envelope: Vec<u8>,
    },
    /// Our follower count for the list `id` of `to`.
    FollowerCount {
        to: OrgKey,
        id: String,
        envelope: Vec<u8>,
    },
}

impl Delivery {
    pub fn to(&self) -> OrgKey {
        match self {
            Delivery::Request { to, .. }
            | Delivery::Answer { to, .. }
            | Delivery::Kudos { to, .. }
            | Delivery::FollowerCount { to, .. } => *to,
        }
    }
}

/// Verifies a direct envelope (a request, answer, kudos or follower count)
/// and that the organisation whose node sent it is the one that signed it.
pub(crate) fn open_direct(bytes: &[u8], sender: OrgKey) -> std::result::Result<Record, Refusal> {
    let record = skillmesh_protocol::open(bytes, clock::now())?;
    if record.header.org != sender {
        return Err(Refusal::WrongSender);
    }
    Ok(record)
}

/// What a request to an event is for, if anything but the offer itself:
/// at most one of these is set (the protocol refuses more).
#[derive(Clone, Copy, Default)]
struct Purpose<'a> {
    session: Option<&'a str>,
    contribution: Option<&'a EventSession>,
    withdraw: Option<&'a str>,
}

/// What a person asks for, besides the offer.
struct Ask<'a> {
    goal: &'a str,
    preferred_times: &'a str,
    message: &'a str,
    name_to_group: bool,
    purpose: Purpose<'a>,
    /// A question for the person of an expertise listing.
    format: Option<AskFormat>,
}

impl<'a> Ask<'a> {
    /// A request about an event (a sign-up or a programme change): only
    /// its goal says anything to a person.
    fn about_event(goal: &'a str, purpose: Purpose<'a>) -> Ask<'a> {
        Ask {
            goal,
            preferred_times: "",
            message: "",
            name_to_group: false,
            purpose,
            format: None,
        }
    }
}

/// Whether `org` may put `session` into `event`'s programme: it starts
/// within the event's dates, and its id is new or names a session `org`
/// added before. (The session's own fields are checked with the request.)
fn session_fits(
    event: &skillmesh_protocol::kinds::Event,
    session: &EventSession,
    org: &OrgKey,
) -> std::result::Result<(), Refusal> {
    if session.starts_at < event.starts_at || session.starts_at > event.ends_at {
        return Err(Refusal::SessionMisfit(
            "it starts outside the event's dates".into(),
        ));
    }
    match event.sessions.iter().find(|s| s.id == session.id) {
        Some(s) if s.contributor.as_ref() != Some(org) => {
            Err(Refusal::SessionTaken(session.id.clone()))
        }
        Some(_) => Ok(()),
        None if event.sessions.len() >= skillmesh_protocol::limits::MAX_SESSIONS => {
            Err(Refusal::Full)
        }
        None => Ok(()),
    }
}

/// Session `id` of `event`, if `org` may take it out of the programme: it
/// is still invited, and the session is one it added.
fn withdrawable_session<'e>(
    event: &'e skillmesh_protocol::kinds::Event,
    id: &str,
    org: &OrgKey,
) -> std::result::Result<&'e EventSession, Refusal> {
    if !event.contributors.contains(org) {
        return Err(Refusal::NotContributor);
    }
    match event.sessions.iter().find(|s| s.id == id) {
        Some(s) if s.contributor.as_ref() == Some(org) => Ok(s),
        Some(_) => Err(Refusal::SessionTaken(id.to_string())),
        None => Err(Refusal::NoSuchSession(id.to_string())),
    }
}

/// Whether our person may still thank someone for `entry`: accepted for a
/// talk, mentoring, a cohort or a call for a talk (an event's sign-up has
/// no one person to thank, and a contribution is not something one took
/// part in), with no kudos sent yet.
pub fn kudos_welcome(entry: &OutboxEntry) -> bool {
    entry.status == OutboxStatus::Accepted
        && entry.session.is_none()
        && !entry.changes_programme()
        && entry.kudos.is_none()
}

/// The record id of the answer to request `request_id`.
fn answer_id(request_id: &str) -> String {
    format!("answer-{request_id}")
}

impl Service {
    pub(crate) fn sign_direct(&self, id: &str, seq: u64, body: Body) -> Result<Vec<u8>> {
        let now = clock::now();
        let record = Record {
            header: Header {
                version: RECORD_VERSION,
                org: self.org(),
                id: id.to_string(),
                seq,
                issued_at: now,
                expires_at: now + DIRECT_LIFETIME_SECS,
            },
            body,
        };
        Ok(skillmesh_protocol::seal(&record, self.identity().signing_key())?.into_bytes())
    }

    /// Our person `requester` asks for `offer_id` of `offer_org`, which we
    /// hold as a federated record. `name_to_group`: for a cohort, whether
    /// the other members may see the requester's name on the roster.
    #[allow(clippy::too_many_arguments)]
    pub fn request_offer(
        &self,
        requester: &str,
        offer_org: OrgKey,
        offer_id: &str,
        goal: &str,
        preferred_times: &str,
        message: &str,
        name_to_group: bool,
    ) -> Result<OutboxEntry> {
        let record = self.held_from_elsewhere(offer_org, offer_id)?;
        match record.body.offer_status() {
            None => {
                return Err(ServiceError::Invalid(
                    "only talks, mentoring, cohorts and calls for talks can be requested".into(),
                ));
            }
            Some(OfferStatus::Open) => {}
            Some(_) => {
                return Err(ServiceError::Invalid(
                    "this offer is not taking requests now".into(),
                ));
            }
        }
        self.send_request(
            requester,
            offer_org,
            offer_id,
            &record.body.title(),
            Ask {
                goal,
                preferred_times,
                message,
                name_to_group,
                purpose: Purpose::default(),
                format: None,
            },
        )
    }

    /// Our person `requester` asks the person of expertise listing
    /// `listing` of `org` a question, preferring help as `format`. It
    /// travels as a request for the listing; the expert's node takes it
    /// if they take questions and have room this month.
    pub fn ask_expert(
        &self,
        requester: &str,
        org: OrgKey,
        listing: &str,
        question: &str,
        format: AskFormat,
        message: &str,
    ) -> Result<OutboxEntry> {
        let record = self.held_from_elsewhere(org, listing)?;
        let Body::Expertise(expert) = &record.body else {
            return Err(ServiceError::Invalid(
                "questions go to a person's listing".into(),
            ));
        };
        if !expert.takes_questions {
            return Err(ServiceError::Invalid(Refusal::NoQuestions.to_string()));
        }
        let waiting = self.store().outbox_of(requester)?.into_iter().any(|e| {
            e.offer_org == org && e.offer_id == listing && e.status == OutboxStatus::Waiting
        });
        if waiting {
            return Err(ServiceError::Invalid(
                "you asked this person already; wait for their answer".into(),
            ));
        }
        let name = expert.display_name.as_deref().unwrap_or("an expert");
        self.send_request(
            requester,
            org,
            listing,
            &format!("Question for {name} ({})", format.label()),
            Ask {
                goal: question,
                preferred_times: "",
                message,
                name_to_group: false,
                purpose: Purpose::default(),
                format: Some(format),
            },
        )
    }

    /// The open offers of `person` of organisation `org` that we hold (a
    /// talk, mentoring, a cohort): what their listing's page shows next
    /// to the question form. Nothing of an organisation not admitted.
    pub fn offers_of_person(&self, org: OrgKey, person: &str) -> Result<Vec<Record>> {
        if self.admission(&org)? != Admission::Accept {
            return Ok(Vec::new());
        }
        let mut offers = Vec::new();
        for row in self.store().records_of(&org)? {
            if row.tombstone {
                continue;
            }
            let record = row.record()?;
            let (status, by) = match &record.body {
                Body::TalkOffer(o) => (o.status, o.person.as_str()),
                Body::MentoringOffer(o) => (o.status, o.person.as_str()),
                Body::CohortOffer(o) => (o.status, o.person.as_str()),
                _ => continue,
            };
            if status == OfferStatus::Open && by == person {
                offers.push(record);
            }
        }
        Ok(offers)
    }

    /// Checks that our person of listing `listing` takes one more
    /// question: the listing is published, they take questions, and
    /// fewer than their monthly number came in the last 30 days
    /// (whatever became of them). Their person id, when they do.
    fn check_question(&self, listing: &str) -> PeerOutcome<Option<String>> {
        let Some(person) = crate::service::listing_person(listing)
            .map(|id| self.store().person(id))
            .transpose()?
            .flatten()
        else {
            return Ok(Err(Refusal::NoSuchOffer));
        };
        let published = self
            .store()
            .get_record(&self.org(), listing)?
            .is_some_and(|r| !r.tombstone);
        if !published {
            return Ok(Err(Refusal::NoSuchOffer));
        }
        if !person.questions.open {
            return Ok(Err(Refusal::NoQuestions));
        }
        let since = clock::now() - 30 * 86_400;
        let recent = self
            .store()
            .inbox_for_offer(listing)?
            .iter()
            .filter(|e| e.received_at >= since)
            .count();
        if recent >= usize::from(person.questions.per_month) {
            return Ok(Err(Refusal::QuestionsFull));
        }
        Ok(Ok(Some(person.id)))
    }

    /// Our person `requester` signs up for session `session` of event
    /// `event_id` of `event_org`, which we hold as a federated record. The
    /// event's node admits sign-ups as they come (events have no seat
    /// limit), so the answer follows at once. For one of our own events,
    /// the sign-up is taken here and nothing is sent.
    pub fn sign_up(
        &self,
        requester: &str,
        event_org: OrgKey,
        event_id: &str,
        session: &str,
    ) -> Result<OutboxEntry> {
        let record = if event_org == self.org() {
            self.store()
                .get_record(&event_org, event_id)?
                .filter(|r| !r.tombstone)
                .ok_or_else(|| ServiceError::NotFound("event".into()))?
                .record()?
        } else {
            self.held_from_elsewhere(event_org, event_id)?
        };
        let Body::Event(event) = &record.body else {
            return Err(ServiceError::Invalid(
                "only the sessions of an event can be signed up for".into(),
            ));
        };
        let s = event
            .sessions
            .iter()
            .find(|s| s.id == session)
            .ok_or_else(|| ServiceError::NotFound(format!("session {session}")))?;
        if s.starts_at + i64::from(s.duration_minutes) * 60 < clock::now() {
            return Err(ServiceError::Invalid("this session is over".into()));
        }
        let already = self.store().outbox_of(requester)?.into_iter().any(|e| {
            e.offer_org == event_org
                && e.offer_id == event_id
                && e.session.as_deref() == Some(session)
                && !matches!(e.status, OutboxStatus::Declined | OutboxStatus::Refused)
        });
        if already {
            return Err(ServiceError::Invalid(
                "you are already signed up for this session".into(),
            ));
        }
        let title = format!("{}: {}", event.title, s.title);
        if event_org == self.org() {
            return self.sign_up_here(requester, event_id, session, &title, &s.title);
        }
        self.send_request(
            requester,
            event_org,
            event_id,
            &title,
            Ask::about_event(
                &format!("Attend \"{}\"", s.title),
                Purpose {
                    session: Some(session),
                    ..Purpose::default()
                },
            ),
        )
    }

    /// Our admin `actor` (person `requester`) adds `session` to the
    /// programme of event `event_id` of `event_org`, which invited us to
    /// contribute. The event's node adds it and signs the event again; a
    /// session with the id of one we added before replaces it.
    pub fn contribute_session(
        &self,
        requester: &str,
        event_org: OrgKey,
        event_id: &str,
        mut session: EventSession,
    ) -> Result<OutboxEntry> {
        let record = self.held_from_elsewhere(event_org, event_id)?;
        let Body::Event(event) = &record.body else {
            return Err(ServiceError::Invalid(
                "sessions can be added to events only".into(),
            ));
        };
        if !event.contributors.contains(&self.org()) {
            return Err(ServiceError::Invalid(Refusal::NotContributor.to_string()));
        }
        if session.id.is_empty() {
            session.id = crate::service::random_id("s")?;
        }
        session.contributor = Some(self.org());
        if let Err(why) = session_fits(event, &session, &self.org()) {
            return Err(ServiceError::Invalid(why.to_string()));
        }
        let title = format!("{}: {}", event.title, session.title);
        self.send_request(
            requester,
            event_org,
            event_id,
            &title,
            Ask::about_event(
                &format!("Add \"{}\" to the programme", session.title),
                Purpose {
                    contribution: Some(&session),
                    ..Purpose::default()
                },
            ),
        )
    }

    /// Our admin `actor` (person `requester`) takes session `session_id`,
    /// which we added, out of the programme of event `event_id` of
    /// `event_org`. The event's node removes it and signs the event again.
    pub fn withdraw_session(
        &self,
        requester: &str,
        event_org: OrgKey,
        event_id: &str,
        session_id: &str,
    ) -> Result<OutboxEntry> {
        let record = self.held_from_elsewhere(event_org, event_id)?;
        let Body::Event(event) = &record.body else {
            return Err(ServiceError::Invalid(
                "sessions can be withdrawn from events only".into(),
            ));
        };
        let session = withdrawable_session(event, session_id, &self.org())
            .map_err(|why| ServiceError::Invalid(why.to_string()))?;
        self.send_request(
            requester,
            event_org,
            event_id,
            &format!("{}: {}", event.title, session.title),
            Ask::about_event(
                &format!("Take \"{}\" out of the programme", session.title),
                Purpose {
                    withdraw: Some(session_id),
                    ..Purpose::default()
                },
            ),
        )
    }

    /// Our person signs up for a session of our own event: taken at once,
    /// with nothing to sign or send.
    fn sign_up_here(
        &self,
        requester: &str,
        event_id: &str,
        session: &str,
        title: &str,
        session_title: &str,
    ) -> Result<OutboxEntry> {
        let person = self
            .store()
            .person(requester)?
            .ok_or_else(|| ServiceError::NotFound(format!("person {requester}")))?;
        let now = clock::now();
        let entry = OutboxEntry {
            id: crate::service::random_id("req")?,
            requester: person.id,
            offer_org: self.org(),
            offer_id: event_id.to_string(),
            offer_title: title.to_string(),
            session: Some(session.to_string()),
            contribution: None,
            withdraw: None,
            goal: format!("Attend \"{session_title}\""),
            status: OutboxStatus::Accepted,
            detail: "You are signed up.".into(),
            contact: None,
            group: None,
            answer_seq: 0,
            envelope: String::new(),
            kudos: None,
            created_at: now,
            updated_at: now,
        };
        self.store().put_outbox(&entry)?;
        self.audit(
            &Actor::person(requester),
            AuditAction::SignedUp,
            None,
            Some(&entry.id),
            event_id.to_string(),
        )?;
        Ok(entry)
    }

    /// A record of another organisation that we hold (not retracted).
    fn held_from_elsewhere(&self, org: OrgKey, id: &str) -> Result<Record> {
        if org == self.org() {
            return Err(ServiceError::Invalid(
                "this is your own organisation's; ask your colleague directly".into(),
            ));
        }
        // Nothing of an organisation not admitted here can be requested
        // (its records are hidden; see `Service::visible_record`).
        match self.admission(&org)? {
            Admission::Accept => {}
            Admission::Blocked => {
                return Err(ServiceError::Invalid(
                    "this organisation is blocked here: its offers cannot be requested".into(),
                ));
            }
            Admission::NotAllowed => {
                return Err(ServiceError::Invalid(
                    "this organisation is not on this node's allowlist: its offers cannot be \
                     requested"
                        .into(),
                ));
            }
        }
        Ok(self
            .store()
            .get_record(&org, id)?
            .filter(|r| !r.tombstone)
            .ok_or_else(|| ServiceError::NotFound("offer".into()))?
            .record()?)
    }

    /// Signs a request of our person `requester` for `offer_id` of
    /// `offer_org` (titled `title`), stores it in the outbox and wakes the
    /// courier.
    fn send_request(
        &self,
        requester: &str,
        offer_org: OrgKey,
        offer_id: &str,
        title: &str,
        ask: Ask<'_>,
    ) -> Result<OutboxEntry> {
        let person = self
            .store()
            .person(requester)?
            .ok_or_else(|| ServiceError::NotFound(format!("person {requester}")))?;
        let Ask {
            goal,
            preferred_times,
            message,
            name_to_group,
            purpose:
                Purpose {
                    session,
                    contribution,
                    withdraw,
                },
            format,
        } = ask;
        let id = crate::service::random_id("req")?;
        let envelope = self.sign_direct(
            &id,
            1,
            Body::Request(Request {
                offer_org,
                offer_id: offer_id.to_string(),
                requester: person.id.clone(),
                // Asking is consent to be named to the organisation asked
                // (the request form says so), whatever the listing shares.
                requester_name: (!person.display_name.is_empty())
                    .then(|| person.display_name.clone()),
                goal: goal.to_string(),
                preferred_times: preferred_times.to_string(),
                message: message.to_string(),
                name_to_group,
                session: session.map(str::to_string),
                contribution: contribution.cloned(),
                withdraw: withdraw.map(str::to_string),
                ask: format,
            }),
        )?;
        let now = clock::now();
        let entry = OutboxEntry {
            id: id.clone(),
            requester: person.id,
            offer_org,
            offer_id: offer_id.to_string(),
            offer_title: title.to_string(),
            session: session.map(str::to_string),
            contribution: contribution.cloned(),
            withdraw: withdraw.map(str::to_string),
            goal: goal.to_string(),
            status: OutboxStatus::Waiting,
            detail: String::new(),
            contact: None,
            group: None,
            answer_seq: 0,
            envelope: hex::encode(envelope),
            kudos: None,
            created_at: now,
            updated_at: now,
        };
        self.store().put_outbox(&entry)?;
        self.audit(
            &Actor::person(requester),
            AuditAction::RequestSent,
            Some(offer_org),
            Some(&id),
            offer_id.to_string(),
        )?;
        self.deliveries_changed();
        Ok(entry)
    }

    /// Checks that an offer of ours can take one more request from `org`
    /// (for an event: a sign-up to `session`, a `contribution`, or the
    /// `withdraw`al of a session `org` contributed).
    fn check_offer(
        &self,
        offer_id: &str,
        purpose: Purpose<'_>,
        org: &OrgKey,
    ) -> PeerOutcome<Option<String>> {
        let Purpose {
            session,
            contribution,
            withdraw,
        } = purpose;
        let Some(item) = self.store().item(offer_id)? else {
            return Ok(Err(Refusal::NoSuchOffer));
        };
        if item.state != ItemState::Published {
            return Ok(Err(Refusal::NoSuchOffer));
        }
        // A sign-up names a session of one of our events, a contribution
        // offers one and a withdrawal takes one back; nothing else does.
        match (&item.body, session, contribution, withdraw) {
            (Body::Event(e), Some(s), None, None) => {
                return Ok(if e.sessions.iter().any(|x| x.id == s) {
                    Ok(item.owner)
                } else {
                    Err(Refusal::NoSuchOffer)
                });
            }
            (Body::Event(e), None, Some(c), None) => {
                return Ok(if !e.contributors.contains(org) {
                    Err(Refusal::NotContributor)
                } else {
                    session_fits(e, c, org).map(|()| item.owner)
                });
            }
            (Body::Event(e), None, None, Some(w)) => {
                return Ok(withdrawable_session(e, w, org).map(|_| item.owner));
            }
            (Body::Event(_), _, _, _)
            | (_, Some(_), _, _)
            | (_, _, Some(_), _)
            | (_, _, _, Some(_)) => {
                return Ok(Err(Refusal::NoSuchOffer));
            }
            _ => {}
        }
        let accepted: Vec<InboxEntry> = self
            .store()
            .inbox_for_offer(offer_id)?
            .into_iter()
            .filter(|e| e.status == InboxStatus::Accepted)
            .collect();
        let from_org = accepted.iter().filter(|e| e.from_org == *org).count();
        let (status, full) = match &item.body {
            Body::TalkOffer(o) => (o.status, false),
            Body::TalkWanted(o) => (o.status, false),
            Body::MentoringOffer(o) => (o.status, accepted.len() >= usize::from(o.capacity)),
            Body::CohortOffer(o) => (
                o.status,
                accepted.len() >= usize::from(o.seats_total)
                    || from_org >= usize::from(o.seats_per_org),
            ),
            _ => return Ok(Err(Refusal::NoSuchOffer)),
        };
        if status != OfferStatus::Open {
            return Ok(Err(Refusal::OfferClosed));
        }
        if full {
            return Ok(Err(Refusal::Full));
        }
        Ok(Ok(item.owner))
    }

    /// Another node delivers a request from one of its people.
    pub fn receive_request(&self, bytes: &[u8], sender: OrgKey) -> PeerOutcome<()> {
        let actor = Actor::Org(sender);
        let record = match open_direct(bytes, sender) {
            Ok(r) => r,
            Err(r) => {
                self.audit(
                    &actor,
                    AuditAction::RequestRefused,
                    Some(sender),
                    None,
                    r.to_string(),
                )?;
                return Ok(Err(r));
            }
        };
        self.note_seen(&sender)?;
        let refuse = |r: Refusal| -> PeerOutcome<()> {
            self.audit(
                &actor,
                AuditAction::RequestRefused,
                Some(sender),
                Some(&record.header.id),
                r.to_string(),
            )?;
            Ok(Err(r))
        };
        let Body::Request(req) = &record.body else {
            return refuse(Refusal::Invalid(Rejection::UnknownKind(
                record.kind().to_string(),
            )));
        };
        if req.offer_org != self.org() {
            return refuse(Refusal::NotForUs);
        }
        if self.admission(&sender)? != Admission::Accept {
            return refuse(Refusal::NotAdmitted);
        }
        if self
            .store()
            .inbox_entry(&sender, &record.header.id)?
            .is_some()
        {
            // Delivered before (the acknowledgement was lost): same answer.
            return Ok(Ok(()));
        }
        let new = self.is_new_org(&sender)?;
        match self.request_limits().check(&sender, new) {
            Ok(()) => {}
            Err(crate::request_limits::Exceeded::Org) => return refuse(Refusal::RateLimited),
            Err(_) => return refuse(Refusal::Busy),
        }
        let checked = if req.ask.is_some() {
            self.check_question(&req.offer_id)?
        } else {
            self.check_offer(
                &req.offer_id,
                Purpose {
                    session: req.session.as_deref(),
                    contribution: req.contribution.as_ref(),
                    withdraw: req.withdraw.as_deref(),
                },
                &sender,
            )?
        };
        let owner = match checked {
            Ok(owner) => owner,
            Err(r) => return refuse(r),
        };
        let answered_at_once =
            req.session.is_some() || req.contribution.is_some() || req.withdraw.is_some();
        let entry = InboxEntry {
            from_org: sender,
            id: record.header.id.clone(),
            offer_id: req.offer_id.clone(),
            owner,
            requester_name: req.requester_name.clone(),
            goal: req.goal.clone(),
            preferred_times: req.preferred_times.clone(),
            message: req.message.clone(),
            name_to_group: req.name_to_group,
            session: req.session.clone(),
            contribution: req.contribution.clone(),
            withdraw: req.withdraw.clone(),
            ask: req.ask,
            status: InboxStatus::Pending,
            reply: String::new(),
            answer: None,
            answer_delivered: false,
            received_at: clock::now(),
            answered_at: None,
            kudos: None,
        };
        {
            // Counting the person's waiting requests and adding this one is
            // one step: two requests handled at the same moment cannot
            // both take the last place.
            let _answering = self.answer_guard();
            if !answered_at_once
                && let Some(person) = &entry.owner
                && !self.room_in_inbox(person, new)?
            {
                return refuse(Refusal::TooManyWaiting);
            }
            self.store().add_inbox(&entry)?;
        }
        self.audit(
            &Actor::Org(sender),
            AuditAction::RequestReceived,
            Some(sender),
            Some(&entry.id),
            req.offer_id.clone(),
        )?;
        if !answered_at_once && let Some(person) = &entry.owner {
            let who = format!(
                "{} at {}",
                entry.requester_name.as_deref().unwrap_or("Someone"),
                self.org_display_name(&sender)
            );
            match entry.ask {
                Some(_) => self.notify(
                    person,
                    NotificationKind::QuestionReceived,
                    &format!("{who} asks you a question: {}", entry.goal),
                    "/requests",
                ),
                None => self.notify(
                    person,
                    NotificationKind::RequestReceived,
                    &format!(
                        "{who} asks for \"{}\"",
                        self.item_title(&entry.offer_id)?.unwrap_or_default()
                    ),
                    "/requests",
                ),
            }
        }
        // A sign-up to a session of our event is admitted at once, and so
        // is a session from an organisation we invited to contribute.
        if entry.session.is_some() {
            self.answer_request(sender, &entry.id, true, "You are signed up.", &Actor::Node)?;
        } else if entry.contribution.is_some() {
            self.answer_request(
                sender,
                &entry.id,
                true,
                "Your session is in the programme.",
                &Actor::Node,
            )?;
        } else if entry.withdraw.is_some() {
            self.answer_request(
                sender,
                &entry.id,
                true,
                "Your session is out of the programme.",
                &Actor::Node,
            )?;
        }
        Ok(Ok(()))
    }

    /// Whether `person`'s inbox may take one more unanswered request, from
    /// a new organisation (`new`) or another: all together may hold
    /// `federation.max_pending_per_person`, those from new organisations
    /// half of that, so a flood from fresh keys leaves room for the rest.
    fn room_in_inbox(&self, person: &str, new: bool) -> Result<bool> {
        let cap = usize::try_from(self.inbound().max_pending_per_person).unwrap_or(usize::MAX);
        let pending: Vec<InboxEntry> = self
            .store()
            .inbox_of(person)?
            .into_iter()
            .filter(|e| e.status == InboxStatus::Pending)
            .collect();
        if pending.len() >= cap {
            return Ok(false);
        }
        if !new {
            return Ok(true);
        }
        let mut from_new = 0;
        for e in &pending {
            if self.is_new_org(&e.from_org)? {
                from_new += 1;
            }
        }
        Ok(from_new < cap / 2)
    }

    /// The offering person answers a request in their inbox.
    pub fn answer_request(
        &self,
        from_org: OrgKey,
        id: &str,
        accept: bool,
        reply: &str,
        actor: &Actor,
    ) -> Result<InboxEntry> {
        // From reading the request to storing the answer: the seat count
        // of check_offer and the seat this answer takes are one step.
        let _answering = self.answer_guard();
        let mut entry = self
            .store()
            .inbox_entry(&from_org, id)?
            .ok_or_else(|| ServiceError::NotFound(format!("request {id}")))?;
        if entry.status != InboxStatus::Pending {
            return Err(ServiceError::Invalid(
                "this request has already been answered".into(),
            ));
        }
        // A question took its place when it came in; answering it takes
        // nothing more.
        if accept
            && entry.ask.is_none()
            && let Err(r) = self.check_offer(
                &entry.offer_id,
                Purpose {
                    session: entry.session.as_deref(),
                    contribution: entry.contribution.as_ref(),
                    withdraw: entry.withdraw.as_deref(),
                },
                &from_org,
            )?
        {
            return Err(ServiceError::Invalid(r.to_string()));
        }
        if accept && let Some(session) = &entry.contribution {
            // In place of the session with its id that `from_org` added
            // before, if any; `contributor` is the sender, whatever it said.
            self.change_contributed_programme(&entry.offer_id, from_org, |sessions| {
                sessions.retain(|s| s.id != session.id);
                sessions.push(EventSession {
                    contributor: Some(from_org),
                    ..session.clone()
                });
                sessions.sort_by(|a, b| (a.starts_at, &a.id).cmp(&(b.starts_at, &b.id)));
            })?;
        }
        if accept && let Some(session_id) = &entry.withdraw {
            // Who signed up for it keeps their sign-up (as when our admin
            // removes a session): the programme no longer lists it.
            self.change_contributed_programme(&entry.offer_id, from_org, |sessions| {
                sessions.retain(|s| !(s.id == *session_id && s.contributor == Some(from_org)));
            })?;
        }
        let contact = if accept {
            let person = match &entry.owner {
                Some(p) => self.store().person(p)?,
                None => None,
            };
            Some(match person {
                Some(p) => Contact {
                    name: p.display_name,
                    email: (!p.email.is_empty()).then_some(p.email),
                },
                None => Contact {
                    name: self.org_name().to_string(),
                    email: None,
                },
            })
        } else {
            None
        };
        let answer = self.sign_direct(
            &answer_id(id),
            1,
            Body::Answer(Answer {
                request_org: from_org,
                request_id: id.to_string(),
                decision: if accept {
                    Decision::Accepted
                } else {
                    Decision::Declined
                },
                reply: reply.to_string(),
                contact,
                group: None,
            }),
        )?;
        entry.status = if accept {
            InboxStatus::Accepted
        } else {
            InboxStatus::Declined
        };
        entry.reply = reply.to_string();
        entry.answer = Some(hex::encode(answer));
        entry.answered_at = Some(clock::now());
        self.store().update_inbox(&entry)?;
        let action = if accept {
            AuditAction::RequestAccepted
        } else {
            AuditAction::RequestDeclined
        };
        self.audit(actor, action, Some(from_org), Some(id), String::new())?;
        if accept {
            self.sign_group_answers(&entry.offer_id)?;
            if let Some(owner) = &entry.owner {
                self.recognition_changed(owner)?;
            }
        }
        self.deliveries_changed();
        Ok(self.store().inbox_entry(&from_org, id)?.unwrap_or(entry))
    }

    /// Changes the programme of our event `event_id` as invited
    /// organisation `org` asked (a session it adds, replaces or takes out
    /// again), then signs and publishes the event again. The host invited
    /// `org`, so this does not wait in the approval queue.
    fn change_contributed_programme(
        &self,
        event_id: &str,
        org: OrgKey,
        change: impl FnOnce(&mut Vec<EventSession>),
    ) -> Result<()> {
        let mut item = self
            .store()
            .item(event_id)?
            .ok_or_else(|| ServiceError::NotFound(format!("event {event_id}")))?;
        let Body::Event(event) = &mut item.body else {
            return Err(ServiceError::Invalid(format!("{event_id} is not an event")));
        };
        change(&mut event.sessions);
        item.updated_at = clock::now();
        self.update_item(&item)?;
        self.publish_item_with(event_id, &Actor::Org(org), true)?;
        Ok(())
    }

    /// For a cohort of ours: signs again the answer to every admitted
    /// member, now carrying the group as it stands (goal, schedule, who is
    /// in it, with the names each allowed), numbered by the group's size,
    /// and queues them for delivery. Called with the answer lock held,
    /// after each admission. Any other offer: nothing to do.
    fn sign_group_answers(&self, offer_id: &str) -> Result<()> {
        let Some(item) = self.store().item(offer_id)? else {
            return Ok(());
        };
        let Body::CohortOffer(cohort) = &item.body else {
            return Ok(());
        };
        let mut admitted: Vec<InboxEntry> = self
            .store()
            .inbox_for_offer(offer_id)?
            .into_iter()
            .filter(|e| e.status == InboxStatus::Accepted)
            .collect();
        admitted.sort_by(|a, b| (a.answered_at, &a.id).cmp(&(b.answered_at, &b.id)));
        let group = Group {
            goal: cohort.goal.clone(),
            starts_at: cohort.starts_at,
            weeks: cohort.weeks,
            weekly_hours: cohort.weekly_hours,
            schedule: cohort.schedule.clone(),
            members: admitted
                .iter()
                .map(|e| GroupMember {
                    org: e.from_org,
                    name: e.requester_name.clone().filter(|_| e.name_to_group),
                })
                .collect(),
        };
        let seq = admitted.len() as u64;
        for mut entry in admitted {
            let Some(previous) = entry
                .answer
                .as_deref()
                .and_then(|hex| hex::decode(hex).ok())
            else {
                continue;
            };
            let mut answer = match skillmesh_protocol::split(&previous)
                .and_then(|parts| Record::from_payload(parts.payload))
            {
                Ok(Record {
                    body: Body::Answer(answer),
                    ..
                }) => answer,
                _ => {
                    tracing::warn!(request = %entry.id, "a stored answer does not decode; its roster is not updated");
                    continue;
                }
            };
            answer.group = Some(group.clone());
            let signed = self.sign_direct(&answer_id(&entry.id), seq, Body::Answer(answer))?;
            entry.answer = Some(hex::encode(signed));
            entry.answer_delivered = false;
            self.store().update_inbox(&entry)?;
        }
        Ok(())
    }

    /// Another node delivers its answer to one of our requests.
    pub fn receive_answer(&self, bytes: &[u8], sender: OrgKey) -> PeerOutcome<()> {
        let outcome = self.take_answer(bytes, sender)?;
        if let Err(r) = &outcome {
            self.audit(
                &Actor::Org(sender),
                AuditAction::AnswerRefused,
                Some(sender),
                None,
                r.to_string(),
            )?;
        }
        Ok(outcome)
    }

    fn take_answer(&self, bytes: &[u8], sender: OrgKey) -> PeerOutcome<()> {
        // Serialised with `delivered`, which writes the same entry.
        let _answering = self.answer_guard();
        let record = match open_direct(bytes, sender) {
            Ok(r) => r,
            Err(r) => return Ok(Err(r)),
        };
        let Body::Answer(answer) = record.body else {
            return Ok(Err(Refusal::Invalid(Rejection::UnknownKind(
                record.kind().to_string(),
            ))));
        };
        if answer.request_org != self.org() {
            return Ok(Err(Refusal::NotForUs));
        }
        let Some(mut entry) = self.store().outbox_entry(&answer.request_id)? else {
            return Ok(Err(Refusal::UnknownRequest));
        };
        if entry.offer_org != sender {
            return Ok(Err(Refusal::WrongSender));
        }
        let seq = record.header.seq;
        match entry.status {
            // A later answer to an admission: the group as it now stands.
            OutboxStatus::Accepted
                if answer.decision == Decision::Accepted && seq > entry.answer_seq =>
            {
                entry.group = answer.group;
                entry.answer_seq = seq;
                entry.updated_at = clock::now();
                self.store().put_outbox(&entry)?;
                return Ok(Ok(()));
            }
            // Answered before: a decision does not change.
            OutboxStatus::Accepted | OutboxStatus::Declined => return Ok(Ok(())),
            _ => {}
        }
        entry.status = match answer.decision {
            Decision::Accepted => OutboxStatus::Accepted,
            Decision::Declined => OutboxStatus::Declined,
        };
        entry.detail = answer.reply;
        entry.contact = answer
            .contact
            .filter(|_| answer.decision == Decision::Accepted);
        entry.group = answer
            .group
            .filter(|_| answer.decision == Decision::Accepted);
        entry.answer_seq = seq;
        entry.updated_at = clock::now();
        self.store().put_outbox(&entry)?;
        if answer.decision == Decision::Accepted {
            // Accepted to give a talk another organisation asked for.
            self.recognition_changed(&entry.requester)?;
        }
        if !entry.changes_programme() && entry.session.is_none() {
            let decided = match answer.decision {
                Decision::Accepted => "accepted",
                Decision::Declined => "declined",
            };
            self.notify(
                &entry.requester,
                NotificationKind::RequestAnswered,
                &format!(
                    "{} {decided} your request: {}",
                    self.org_display_name(&sender),
                    entry.offer_title
                ),
                "/requests",
            );
        }
        let action = match answer.decision {
            Decision::Accepted => AuditAction::AnswerAcceptedReceived,
            Decision::Declined => AuditAction::AnswerDeclinedReceived,
        };
        self.audit(
            &Actor::Org(sender),
            action,
            Some(sender),
            Some(&entry.id),
            String::new(),
        )?;
        Ok(Ok(()))
    }

    /// A signed answer declining the request in `bytes` from `sender`, an
    /// organisation blocked here, with `reason` as the reply; `None` when
    /// the bytes are not a valid request signed by `sender` and addressed
    /// to us. Nothing is stored: the answer only travels back with the
    /// refusal (see `network::direct`).
    pub fn decline_blocked(
        &self,
        bytes: &[u8],
        sender: OrgKey,
        reason: &str,
    ) -> Result<Option<Vec<u8>>> {
        let Ok(record) = open_direct(bytes, sender) else {
            return Ok(None);
        };
        let Body::Request(req) = &record.body else {
            return Ok(None);
        };
        if req.offer_org != self.org() {
            return Ok(None);
        }
        let answer = Answer {
            request_org: sender,
            request_id: record.header.id.clone(),
            decision: Decision::Declined,
            reply: reason.to_string(),
            contact: None,
            group: None,
        };
        self.sign_direct(&answer_id(&record.header.id), 1, Body::Answer(answer))
            .map(Some)
    }

    /// Requests and answers signed here and not yet acknowledged.
    pub fn pending_deliveries(&self) -> Result<Vec<Delivery>> {
        let mut out = Vec::new();
        for e in self.store().outbox()? {
            if e.status == OutboxStatus::Waiting
                && let Ok(envelope) = hex::decode(&e.envelope)
            {
                out.push(Delivery::Request {
                    to: e.offer_org,
                    id: e.id,
                    envelope,
                });
            }
        }
        for e in self.store().outbox()? {
            if let Some(k) = e.kudos.as_ref().filter(|k| !k.delivered)
                && let Ok(envelope) = hex::decode(&k.envelope)
            {
                out.push(Delivery::Kudos {
                    to: e.offer_org,
                    id: e.id,
                    envelope,
                });
            }
        }
        for c in self.store().sent_counts()? {
            if !c.delivered
                && let Ok(envelope) = hex::decode(&c.envelope)
            {
                out.push(Delivery::FollowerCount {
                    to: c.list_org,
                    id: c.list_id,
                    envelope,
                });
            }
        }
        for e in self.store().inbox()? {
            if let (Some(answer), false) = (&e.answer, e.answer_delivered)
                && let Ok(envelope) = hex::decode(answer)
            {
                out.push(Delivery::Answer {
                    to: e.from_org,
                    id: e.id,
                    envelope,
                });
            }
        }
        Ok(out)
    }

    /// Records what the other node said about a delivery: `Ok` when it
    /// took it, `Err(reason)` when it refused it for good.
    pub fn delivered(
        &self,
        delivery: &Delivery,
        outcome: std::result::Result<(), String>,
    ) -> Result<()> {
        match delivery {
            Delivery::Request { id, .. } => {
                // The answer can arrive before the acknowledgement of the
                // request (an event admits sign-ups at once): a request
                // already answered keeps its answer.
                let _answering = self.answer_guard();
                if let Some(mut e) = self
                    .store()
                    .outbox_entry(id)?
                    .filter(|e| e.status == OutboxStatus::Waiting)
                {
                    match outcome {
                        Ok(()) => e.status = OutboxStatus::Queued,
                        Err(reason) => {
                            e.status = OutboxStatus::Refused;
                            e.detail = reason;
                        }
                    }
                    e.updated_at = clock::now();
                    self.store().put_outbox(&e)?;
                }
            }
            Delivery::Kudos { id, .. } => {
                if let Some(mut e) = self.store().outbox_entry(id)?
                    && let Some(k) = e.kudos.as_mut()
                {
                    k.delivered = true;
                    k.refused = outcome.err();
                    self.store().put_outbox(&e)?;
                }
            }
            Delivery::FollowerCount { to, id, envelope } => {
                self.follower_count_delivered(to, id, envelope, outcome)?;
            }
            Delivery::Answer { to, id, envelope } => {
                // Under the answer lock: a newer answer (a cohort's updated
                // roster) signed since this one was sent stays to be sent.
                let _answering = self.answer_guard();
                if let Some(mut e) = self.store().inbox_entry(to, id)? {
                    if let Err(reason) = &outcome {
                        tracing::warn!(request = %id, %reason, "the requesting node refused our answer");
                    }
                    if e.answer.as_deref() == Some(hex::encode(envelope).as_str()) {
                        e.answer_delivered = true;
                        self.store().update_inbox(&e)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Our person `person` thanks the person who gave what their request
    /// `request_id` asked for (accepted). Stored, then delivered by the
    /// courier like requests; once per request.
    pub fn send_kudos(&self, person: &str, request_id: &str, message: &str) -> Result<OutboxEntry> {
        let mut entry = self
            .store()
            .outbox_entry(request_id)?
            .filter(|e| e.requester == person)
            .ok_or_else(|| ServiceError::NotFound("request".into()))?;
        if entry.kudos.is_some() {
            return Err(ServiceError::Invalid(
                "you have already sent kudos for this".into(),
            ));
        }
        if !kudos_welcome(&entry) {
            return Err(ServiceError::Invalid(
                "kudos are for a talk, mentoring or a cohort you were accepted for".into(),
            ));
        }
        let message = message.trim();
        if message.is_empty() {
            return Err(ServiceError::Invalid("write a few words of thanks".into()));
        }
        let max = skillmesh_protocol::limits::MAX_KUDOS_BYTES;
        if message.len() > max {
            return Err(ServiceError::Invalid(format!(
                "keep kudos under {max} bytes"
            )));
        }
        let from_name = self
            .store()
            .person(person)?
            .map(|p| p.display_name)
            .filter(|n| !n.trim().is_empty());
        let envelope = self.sign_direct(
            &format!("kudos-{request_id}"),
            1,
            Body::Kudos(Kudos {
                offer_org: entry.offer_org,
                request_id: request_id.to_string(),
                from_name,
                message: message.to_string(),
            }),
        )?;
        entry.kudos = Some(SentKudos {
            message: message.to_string(),
            envelope: hex::encode(envelope),
            delivered: false,
            refused: None,
            at: clock::now(),
        });
        self.store().put_outbox(&entry)?;
        self.audit(
            &Actor::person(person),
            AuditAction::KudosSent,
            Some(entry.offer_org),
            Some(request_id),
            String::new(),
        )?;
        self.deliveries_changed();
        Ok(entry)
    }

    /// Another node delivers kudos from one of its people for a request of
    /// theirs that one of ours accepted.
    pub fn receive_kudos(&self, bytes: &[u8], sender: OrgKey) -> PeerOutcome<()> {
        let actor = Actor::Org(sender);
        let outcome = self.take_kudos(bytes, sender)?;
        match &outcome {
            Ok(Some(owner)) => {
                self.audit(
                    &actor,
                    AuditAction::KudosReceived,
                    Some(sender),
                    None,
                    String::new(),
                )?;
                self.recognition_changed(owner)?;
                self.notify(
                    owner,
                    NotificationKind::KudosReceived,
                    &format!(
                        "Someone at {} thanked you for a session",
                        self.org_display_name(&sender)
                    ),
                    "/profile",
                );
            }
            Ok(None) => {}
            Err(r) => {
                self.audit(
                    &actor,
                    AuditAction::KudosRefused,
                    Some(sender),
                    None,
                    r.to_string(),
                )?;
            }
        }
        Ok(outcome.map(|_| ()))
    }

    /// Stores kudos on the request they follow; the person thanked, or
    /// `None` when these kudos were stored before.
    fn take_kudos(&self, bytes: &[u8], sender: OrgKey) -> PeerOutcome<Option<String>> {
        let _answering = self.answer_guard();
        let record = match open_direct(bytes, sender) {
            Ok(r) => r,
            Err(r) => return Ok(Err(r)),
        };
        let Body::Kudos(kudos) = record.body else {
            return Ok(Err(Refusal::Invalid(Rejection::UnknownKind(
                record.kind().to_string(),
            ))));
        };
        if kudos.offer_org != self.org() {
            return Ok(Err(Refusal::NotForUs));
        }
        let Some(mut entry) = self.store().inbox_entry(&sender, &kudos.request_id)? else {
            return Ok(Err(Refusal::UnknownRequest));
        };
        if entry.status != InboxStatus::Accepted
            || entry.changes_programme()
            || entry.session.is_some()
        {
            return Ok(Err(Refusal::NotAccepted));
        }
        if entry.kudos.is_some() {
            return Ok(Ok(None));
        }
        entry.kudos = Some(ReceivedKudos {
            message: kudos.message,
            from_name: kudos.from_name,
            at: clock::now(),
        });
        self.store().update_inbox(&entry)?;
        Ok(Ok(entry.owner))
    }
}
