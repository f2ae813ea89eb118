//! What a signed-in person may do with their own things: their profile,
//! offers, inbox and outbox, and the requests they send.
//!
//! The ownership and role rules live here, in the service, so every way
//! into the node (the web pages, the JSON API, a future command or
//! adapter) gets the same checks; the web layer only maps its `User` to a
//! [`Caller`] and the results to its own types. Something that is not the
//! caller's reads as not found ([`ServiceError::NotYours`]), so nobody
//! learns what another person holds by guessing ids.

use skillmesh_protocol::kinds::{AskFormat, EventSession, OfferStatus};
use skillmesh_protocol::profile::ProfileDetails;
use skillmesh_protocol::{Body, OrgKey};

use crate::clock;
use crate::outbound::expertise_listing;
use crate::service::{Result, Service, ServiceError, listing_id};
use crate::store::{
    Account, Actor, AuditAction, Goals, InboxEntry, ItemState, OutboundPolicy, OutboxEntry,
    OwnItem, Person, Questions, Role, Sharing,
};

/// Someone signed in on this node, as the domain rules see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The account's username: what the audit log names them by.
    pub username: String,
    /// Their profile on this node; an account without one (an admin who
    /// only runs the node, say) owns nothing.
    pub person_id: Option<String>,
    pub role: Role,
}

impl Caller {
    /// The holder of `account` (signed in, or by one of their tokens).
    pub fn of_account(account: &Account) -> Caller {
        Caller {
            username: account.username.clone(),
            person_id: account.person_id.clone(),
            role: account.role,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// How the audit log names what they do.
    pub fn actor(&self) -> Actor {
        Actor::person(&self.username)
    }

    /// Whether `owner` (an item's or inbox entry's owner) is this caller.
    fn owns(&self, owner: Option<&str>) -> bool {
        self.person_id.is_some() && owner == self.person_id.as_deref()
    }
}

/// Bounds on what a person may note as goals (they stay on this node, but
/// are still input from a browser).
const MAX_GOALS_CHARS: usize = 2_000;
/// Most questions a person may take in 30 days (each is a request in
/// their inbox; the pending cap bounds them too).
pub const MAX_QUESTIONS_PER_MONTH: u8 = 50;
const MAX_GOAL_TOPICS: usize = 20;
const MAX_GOAL_TOPIC_CHARS: usize = 100;

/// What an owner does to one of their offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferChange {
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

/// What a person may change of their own profile: everything but their
/// id, email and the node's own bookkeeping.
#[derive(Debug, Clone)]
pub struct ProfileChange {
    pub display_name: String,
    pub profile: ProfileDetails,
    pub sharing: Sharing,
    /// Whether and how often they take questions; `None` keeps it.
    pub questions: Option<Questions>,
}

/// What a person asks of an offer of another organisation.
#[derive(Debug, Clone)]
pub enum Ask {
    /// A request for a talk, mentoring or a cohort seat.
    Request {
        goal: String,
        preferred_times: String,
        message: String,
        name_to_group: bool,
    },
    /// A seat in one session of an event.
    SignUp { session: String },
    /// A session added to another organisation's event (admins only).
    Contribute(EventSession),
    /// A session of ours taken out of another organisation's event
    /// (admins only).
    Withdraw { session_id: String },
    /// A question for the person of another organisation's expertise
    /// listing, with the help the asker prefers.
    Question {
        question: String,
        format: AskFormat,
        message: String,
    },
}

/// Whether a body is one of the things a person keeps on "My offers".
pub fn in_my_offers(body: &Body) -> bool {
    body.offer_status().is_some() || matches!(body, Body::Event(_) | Body::Content(_))
}

impl Service {
    /// The caller's own profile.
    pub fn own_person(&self, caller: &Caller) -> Result<Person> {
        let no_profile =
            || ServiceError::NotYours("this account has no profile on this node".into());
        let id = caller.person_id.as_deref().ok_or_else(no_profile)?;
        self.store().person(id)?.ok_or_else(no_profile)
    }

    /// Changes the caller's profile (and re-signs their listing). Whatever
    /// they share now or later must be publishable, so every field is
    /// checked as a listing would carry it, even those they keep inside.
    pub fn update_own_profile(&self, caller: &Caller, change: ProfileChange) -> Result<Person> {
        let mut person = self.own_person(caller)?;
        let display_name = change.display_name.trim();
        if display_name.is_empty() {
            return Err(ServiceError::Invalid("the name is empty".into()));
        }
        person.display_name = display_name.to_string();
        let mut profile = change.profile;
        profile.headline = profile.headline.trim().to_string();
        profile.time_zone = profile.time_zone.filter(|t| !t.trim().is_empty());
        person.profile = profile;
        person.sharing = change.sharing;
        if let Some(questions) = change.questions {
            if !(1..=MAX_QUESTIONS_PER_MONTH).contains(&questions.per_month) {
                return Err(ServiceError::Invalid(format!(
                    "Take 1 to {MAX_QUESTIONS_PER_MONTH} questions in 30 days, or close your listing to questions."
                )));
            }
            person.questions = questions;
        }
        person.updated_at = clock::now();
        let everything = Person {
            sharing: Sharing::listing(),
            ..person.clone()
        };
        if let Some(everything) = expertise_listing(&everything, &OutboundPolicy::default(), None) {
            self.check_publishable(&listing_id(&person.id), &Body::Expertise(everything))?;
        }
        self.update_person(&person, &caller.actor())?;
        self.own_person(caller)
    }

    /// The caller's private learning goals (empty until they note some).
    pub fn own_goals(&self, caller: &Caller) -> Result<Goals> {
        let me = self.own_person(caller)?;
        Ok(self.store().goals(&me.id)?)
    }

    /// Replaces the caller's learning goals, trimmed and bounded; returns
    /// them as stored.
    pub fn set_own_goals(&self, caller: &Caller, goals: Goals) -> Result<Goals> {
        let me = self.own_person(caller)?;
        let keep = |v: Vec<String>| -> Vec<String> {
            v.iter()
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect()
        };
        if goals.goals.chars().count() > MAX_GOALS_CHARS {
            return Err(ServiceError::Invalid(format!(
                "Keep your goals under {MAX_GOALS_CHARS} characters."
            )));
        }
        let topics = keep(goals.topics);
        if topics.len() > MAX_GOAL_TOPICS
            || topics
                .iter()
                .any(|t| t.chars().count() > MAX_GOAL_TOPIC_CHARS)
        {
            return Err(ServiceError::Invalid(format!(
                "Name at most {MAX_GOAL_TOPICS} topics of at most {MAX_GOAL_TOPIC_CHARS} characters."
            )));
        }
        if goals.languages.len() > 10 || goals.max_hours_apart.is_some_and(|h| h > 12) {
            return Err(ServiceError::Invalid(
                "Name at most 10 languages and at most 12 hours apart.".into(),
            ));
        }
        let goals = Goals {
            goals: goals.goals.trim().to_string(),
            topics,
            formats: goals.formats,
            languages: keep(goals.languages),
            max_hours_apart: goals.max_hours_apart,
            updated_at: clock::now(),
        };
        self.store().set_goals(&me.id, &goals)?;
        Ok(goals)
    }

    /// One of the caller's offers or events; anyone else's is not found.
    pub fn own_offer(&self, caller: &Caller, id: &str) -> Result<OwnItem> {
        self.store()
            .item(id)?
            .filter(|i| caller.owns(i.owner.as_deref()) && in_my_offers(&i.body))
            .ok_or_else(|| ServiceError::NotYours("no such offer".into()))
    }

    /// The caller's offers and events, the most recently changed first.
    pub fn own_offers(&self, caller: &Caller) -> Result<Vec<OwnItem>> {
        let Some(person) = caller.person_id.as_deref() else {
            return Ok(Vec::new());
        };
        let mut items = self.store().items_of(person)?;
        items.retain(|i| in_my_offers(&i.body));
        items.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(a.id.cmp(&b.id)));
        Ok(items)
    }

    /// Requests addressed to the caller, the newest first.
    pub fn own_inbox(&self, caller: &Caller) -> Result<Vec<InboxEntry>> {
        let Some(person) = caller.person_id.as_deref() else {
            return Ok(Vec::new());
        };
        let mut entries = self.store().inbox_of(person)?;
        entries.sort_by(|a, b| b.received_at.cmp(&a.received_at).then(a.id.cmp(&b.id)));
        Ok(entries)
    }

    /// Requests the caller sent, the newest first.
    pub fn own_outbox(&self, caller: &Caller) -> Result<Vec<OutboxEntry>> {
        let Some(person) = caller.person_id.as_deref() else {
            return Ok(Vec::new());
        };
        let mut entries = self.store().outbox_of(person)?;
        entries.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        Ok(entries)
    }

    /// Stores a new offer as a draft, or replaces an own offer's body
    /// (re-publishing it if it was published). The offer is the caller's:
    /// their person id and name go into it whatever the body said.
    pub fn save_offer(&self, caller: &Caller, id: Option<&str>, body: Body) -> Result<OwnItem> {
        let person = self.own_person(caller)?;
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
            Body::Event(e) if caller.is_admin() => Body::Event(e),
            Body::Event(_) => {
                return Err(ServiceError::Forbidden(
                    "only admins create and edit events".into(),
                ));
            }
            other => {
                return Err(ServiceError::Invalid(format!(
                    "{} is not an offer: offer a talk, mentoring or a cohort, ask for a talk, or (admins) run an event",
                    other.kind()
                )));
            }
        };
        let actor = &caller.actor();
        match id {
            None => {
                let id = crate::service::random_id("offer")?;
                self.check_publishable(&id, &body)?;
                self.create_item(&id, Some(&person.id), body, actor)
            }
            Some(id) => {
                let mut item = self.own_offer(caller, id)?;
                self.check_publishable(id, &body)?;
                item.body = body;
                item.updated_at = clock::now();
                self.update_item(&item)?;
                self.audit(
                    actor,
                    AuditAction::ItemUpdated,
                    None,
                    Some(id),
                    item.body.kind().to_string(),
                )?;
                if item.state == ItemState::Published {
                    item = self.publish_item(id, actor)?;
                }
                Ok(item)
            }
        }
    }

    /// Publishes, pauses, reopens, closes, unpublishes or deletes one of
    /// the caller's offers. A deleted offer is returned as it was.
    pub fn change_offer(&self, caller: &Caller, id: &str, change: OfferChange) -> Result<OwnItem> {
        let mut item = self.own_offer(caller, id)?;
        let actor = &caller.actor();
        let status = match change {
            OfferChange::Publish => return self.publish_item(id, actor),
            OfferChange::Unpublish => {
                if item.state == ItemState::Draft {
                    return Err(ServiceError::Invalid(
                        "this offer has not been published".into(),
                    ));
                }
                return self.unpublish_item(id, actor);
            }
            OfferChange::Delete => {
                self.delete_item(id, actor)?;
                return Ok(item);
            }
            OfferChange::Pause => OfferStatus::Paused,
            OfferChange::Reopen => OfferStatus::Open,
            OfferChange::Close => OfferStatus::Closed,
        };
        if !item.body.set_offer_status(status) {
            return Err(ServiceError::NotYours("no such offer".into()));
        }
        item.updated_at = clock::now();
        self.update_item(&item)?;
        self.audit(
            actor,
            AuditAction::OfferStatusChanged,
            None,
            Some(id),
            format!("{status:?}").to_lowercase(),
        )?;
        if item.state == ItemState::Published {
            item = self.publish_item(id, actor)?;
        }
        Ok(item)
    }

    /// Sends what the caller asks of `offer_id` at `offer_org`. Adding or
    /// taking out a session of another organisation's event speaks for
    /// this organisation: only admins do it.
    pub fn ask(
        &self,
        caller: &Caller,
        offer_org: OrgKey,
        offer_id: &str,
        ask: Ask,
    ) -> Result<OutboxEntry> {
        let person = self.own_person(caller)?;
        match ask {
            Ask::SignUp { session } => self.sign_up(&person.id, offer_org, offer_id, &session),
            Ask::Contribute(session) => {
                if !caller.is_admin() {
                    return Err(ServiceError::Forbidden(
                        "only admins add sessions to another organisation's event".into(),
                    ));
                }
                self.contribute_session(&person.id, offer_org, offer_id, session)
            }
            Ask::Withdraw { session_id } => {
                if !caller.is_admin() {
                    return Err(ServiceError::Forbidden(
                        "only admins take sessions out of another organisation's event".into(),
                    ));
                }
                self.withdraw_session(&person.id, offer_org, offer_id, &session_id)
            }
            Ask::Question {
                question,
                format,
                message,
            } => self.ask_expert(&person.id, offer_org, offer_id, &question, format, &message),
            Ask::Request {
                goal,
                preferred_times,
                message,
                name_to_group,
            } => self.request_offer(
                &person.id,
                offer_org,
                offer_id,
                &goal,
                &preferred_times,
                &message,
                name_to_group,
            ),
        }
    }

    /// The caller accepts or declines a request addressed to them.
    pub fn answer_own_request(
        &self,
        caller: &Caller,
        from_org: OrgKey,
        id: &str,
        accept: bool,
        reply: &str,
    ) -> Result<InboxEntry> {
        let mine = self
            .store()
            .inbox_entry(&from_org, id)?
            .is_some_and(|e| caller.owns(e.owner.as_deref()));
        if !mine {
            return Err(ServiceError::NotYours("no such request".into()));
        }
        self.answer_request(from_org, id, accept, reply, &caller.actor())
    }

    /// Refuses what publishing would refuse, with the same words: the body
    /// is checked exactly as signing checks it.
    pub fn check_publishable(&self, id: &str, body: &Body) -> Result<()> {
        let now = clock::now();
        let record = skillmesh_protocol::Record {
            header: skillmesh_protocol::Header {
                version: skillmesh_protocol::RECORD_VERSION,
                org: self.org(),
                id: id.to_string(),
                seq: 1,
                issued_at: now,
                expires_at: now + crate::service::RECORD_LIFETIME_SECS,
            },
            body: body.clone(),
        };
        skillmesh_protocol::seal(&record, self.identity().signing_key())
            .map(|_| ())
            .map_err(|r| ServiceError::Invalid(r.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use skillmesh_protocol::Kind;
    use skillmesh_protocol::samples;

    use super::*;

    /// A service with two people, Ana and Bob.
    fn service() -> (tempfile::TempDir, Service) {
        let (dir, service) = Service::for_tests();
        for (id, name) in [("p-ana", "Ana"), ("p-bob", "Bob")] {
            let person = Person::new(id, name, &format!("{id}@example.org"), 0);
            service
                .add_person(&person, &Actor::person("test"))
                .expect("person");
        }
        (dir, service)
    }

    fn member(person: &str) -> Caller {
        Caller {
            username: format!("{person}@example.org"),
            person_id: Some(person.to_string()),
            role: Role::Member,
        }
    }

    /// Without the web: the service alone keeps a member to their own
    /// things, so any other way in gets the same rules.
    #[test]
    fn a_member_reaches_only_their_own_things_whoever_calls() {
        let (_dir, svc) = service();
        let (ana, bob) = (member("p-ana"), member("p-bob"));
        let offer = svc
            .save_offer(&ana, None, samples::body(Kind::TalkOffer))
            .expect("save");
        assert_eq!(offer.owner.as_deref(), Some("p-ana"));
        assert_eq!(svc.own_offers(&ana).expect("offers").len(), 1);
        assert!(svc.own_offers(&bob).expect("offers").is_empty());
        for result in [
            svc.own_offer(&bob, &offer.id).map(|_| ()),
            svc.change_offer(&bob, &offer.id, OfferChange::Delete)
                .map(|_| ()),
            svc.save_offer(&bob, Some(&offer.id), samples::body(Kind::TalkOffer))
                .map(|_| ()),
        ] {
            assert!(
                matches!(&result, Err(ServiceError::NotYours(w)) if w == "no such offer"),
                "{result:?}"
            );
        }
        // Still Ana's, unchanged.
        assert!(svc.own_offer(&ana, &offer.id).is_ok());

        // An account without a profile owns nothing and has no profile.
        let nobody = Caller {
            person_id: None,
            ..member("p-ana")
        };
        assert!(svc.own_offers(&nobody).expect("offers").is_empty());
        assert!(svc.own_inbox(&nobody).expect("inbox").is_empty());
        assert!(matches!(
            svc.own_person(&nobody),
            Err(ServiceError::NotYours(_))
        ));
    }

    #[test]
    fn events_and_other_organisations_programmes_are_for_admins() {
        let (_dir, svc) = service();
        let ana = member("p-ana");
        let refused = svc.save_offer(&ana, None, samples::body(Kind::Event));
        assert!(
            matches!(&refused, Err(ServiceError::Forbidden(w)) if w.contains("only admins")),
            "{refused:?}"
        );
        let admin = Caller {
            role: Role::Admin,
            ..ana.clone()
        };
        assert!(
            svc.save_offer(&admin, None, samples::body(Kind::Event))
                .is_ok()
        );
        let withdraw = Ask::Withdraw {
            session_id: "s-1".into(),
        };
        let refused = svc.ask(&ana, OrgKey::from_bytes([9; 32]), "event-1", withdraw);
        assert!(
            matches!(&refused, Err(ServiceError::Forbidden(_))),
            "{refused:?}"
        );
    }

    #[test]
    fn goals_are_bounded_and_trimmed() {
        let (_dir, svc) = service();
        let ana = member("p-ana");
        let goals = Goals {
            goals: "  Lead incident reviews  ".into(),
            topics: vec![" Kubernetes ".into(), "  ".into()],
            ..Goals::default()
        };
        let kept = svc.set_own_goals(&ana, goals).expect("set");
        assert_eq!(kept.goals, "Lead incident reviews");
        assert_eq!(kept.topics, ["Kubernetes"]);
        assert_eq!(svc.own_goals(&ana).expect("goals"), kept);
        let too_many = Goals {
            topics: (0..=MAX_GOAL_TOPICS).map(|i| format!("t{i}")).collect(),
            ..Goals::default()
        };
        assert!(matches!(
            svc.set_own_goals(&ana, too_many),
            Err(ServiceError::Invalid(_))
        ));
    }
}
