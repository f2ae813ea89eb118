//! `/offers`: my talks, mentoring offers and cohorts (and, for admins, the
//! organisation's events): create, edit, publish, pause, reopen, close and
//! unpublish.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use maud::{Markup, html};
use skillmesh_protocol::Body;
use skillmesh_protocol::kinds::{
    Audience, Cadence, CohortOffer, Delivery, MentoringOffer, OfferStatus, SessionFormat, Slot,
    TalkOffer, TalkSession, TalkWanted,
};

use super::{Ctx, FormData, PageResult, content, done, events, query_map};
use crate::Shared;
use crate::api::{ApiError, Offer, OfferAction, OfferState, OrgRow};
use crate::dates::{date, datetime, parse_date, parse_time_of_day, time_of_day};
use crate::layout::words;
use crate::pages::find::kind_label;
use crate::ports::NodeApi;
use skillmesh_protocol::kinds::wire_name;

const OFFER_KINDS: [(&str, &str); 6] = [
    ("talk_offer", "A talk or workshop"),
    ("mentoring_offer", "Mentoring"),
    (
        "cohort_offer",
        "A cohort (a small group over several weeks)",
    ),
    ("event", "A learning week or other event (admins)"),
    (
        "talk_wanted",
        "Ask for a talk (experts elsewhere offer to give it)",
    ),
    (
        "content",
        "Something worth learning from, or a learning path",
    ),
];

/// Events speak for the organisation: only admins run them.
fn allowed(ctx: &Ctx, kind: &str) -> bool {
    kind != "event" || ctx.me.as_ref().is_some_and(|m| m.user.is_admin())
}

/// The organisations an event may invite to add sessions: every one this
/// node knows that is not blocked. Only asked for events (admins).
async fn invitable<S: NodeApi>(state: &Shared<S>, ctx: &Ctx) -> Result<Vec<OrgRow>, ApiError> {
    if !ctx.me.as_ref().is_some_and(|m| m.user.is_admin()) {
        return Ok(Vec::new());
    }
    Ok(state
        .node
        .federation()
        .await?
        .orgs
        .into_iter()
        .filter(|o| o.listing.as_deref() != Some("blocked"))
        .collect())
}

pub async fn list<S: NodeApi>(State(state): State<Shared<S>>, ctx: Ctx) -> PageResult {
    let me = ctx.user()?;
    let offers = state.node.offers(&me.user).await.map_err(|e| ctx.fail(e))?;
    Ok(ctx.render(
        "My offers",
        html! {
            h1 { "My offers" }
            p.hint { "Giving your first talk or workshop? " a href="/guide" { "Read the short guide" } ", with a template to start from." }
            p { "New: "
                @for (i, (k, label)) in OFFER_KINDS.iter().filter(|(k, _)| allowed(&ctx, k)).enumerate() {
                    @if i > 0 { " · " }
                    a href={ "/offers/new?kind=" (k) } { (label) }
                }
            }
            @if offers.is_empty() {
                p { "You have no offers yet." }
            } @else {
                div.scroll {
                    table #offers {
                        thead { tr { th { "Offer" } th { "State" } th { "Actions" } } }
                        tbody { @for o in &offers { (row(&ctx, o)) } }
                    }
                }
            }
        },
    ))
}

fn state_label(state: OfferState) -> &'static str {
    match state {
        OfferState::Draft => "draft (not published)",
        OfferState::PendingApproval => "waiting for approval",
        OfferState::Published => "published",
        OfferState::Unpublished => "unpublished",
    }
}

fn row(ctx: &Ctx, o: &Offer) -> Markup {
    let status = o.body.offer_status();
    // Content is seen by colleagues from the start; publishing shares it.
    let shareable = matches!(o.body, Body::Content(_));
    let action_button = |action: &str, label: &str| {
        html! {
            form.inline method="post" action={ "/offers/" (o.id) "/action" } {
                (ctx.csrf())
                input type="hidden" name="action" value=(action);
                button.secondary type="submit" data-action=(action) { (label) }
            }
            " "
        }
    };
    html! {
        tr data-offer=(o.id) {
            td {
                span.kind { (kind_label(o.body.kind().as_str())) } br;
                a href={ "/offers/" (o.id) } { (o.body.title()) }
                br; span.meta { "changed " (datetime(o.updated_at)) }
            }
            td.state {
                (state_label(o.state))
                @if let Some(s) = status { br; span.status { (wire_name(&s)) } }
            }
            td {
                @match o.state {
                    OfferState::Draft | OfferState::Unpublished => {
                        (action_button("publish", if shareable { "Share with partners" } else { "Publish" }))
                    }
                    OfferState::PendingApproval => {}
                    OfferState::Published => {
                        @match status {
                            Some(OfferStatus::Open) => { (action_button("pause", "Pause")) (action_button("close", "Close")) }
                            Some(_) => { (action_button("reopen", "Reopen")) }
                            None => {}
                        }
                        (action_button("unpublish", if shareable { "Stop sharing" } else { "Unpublish" }))
                    }
                }
                (action_button("delete", "Delete"))
            }
        }
    }
}

pub async fn new_form<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    uri: Uri,
) -> PageResult {
    ctx.user()?;
    let q = query_map(&uri);
    let kind = q.get("kind").map_or("talk_offer", String::as_str);
    if !OFFER_KINDS.iter().any(|(k, _)| *k == kind) {
        return Err(ctx.fail(ApiError::NotFound("There is no such kind of offer.".into())));
    }
    if !allowed(&ctx, kind) {
        return Err(ctx.fail(ApiError::Forbidden("Only admins create events.".into())));
    }
    let orgs = invitable(&state, &ctx).await.map_err(|e| ctx.fail(e))?;
    let start = match (kind, q.get("template").map(String::as_str)) {
        ("talk_offer", Some("first-session")) => super::guide::first_session(),
        _ => blank(kind),
    };
    Ok(ctx.render("New offer", form(&ctx, &start, None, &orgs)))
}

pub async fn edit_form<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> PageResult {
    let me = ctx.user()?;
    let offer = state
        .node
        .offer(&me.user, &id)
        .await
        .map_err(|e| ctx.fail(e))?;
    let orgs = invitable(&state, &ctx).await.map_err(|e| ctx.fail(e))?;
    let colleagues = state
        .node
        .colleagues(&me.user)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(ctx.render(
        "Edit offer",
        html! {
            (form(&ctx, &offer.body, Some(&offer), &orgs))
            (events::programme(&ctx, &offer, &orgs))
            (super::observations::invite_form(&ctx, &offer, &colleagues))
        },
    ))
}

pub async fn create<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.user_posting(&form)?;
    let body = parse(&form, &me.user.person_id).map_err(|e| ctx.fail(e))?;
    let offer = state
        .node
        .save_offer(&me.user, None, body)
        .await
        .map_err(|e| ctx.fail(e))?;
    if form.has("publish") {
        let offer = state
            .node
            .offer_action(&me.user, &offer.id, OfferAction::Publish)
            .await
            .map_err(|e| ctx.fail(e))?;
        return done("/offers", published_notice(&offer));
    }
    done("/offers", "saved")
}

fn published_notice(o: &Offer) -> &'static str {
    if o.state == OfferState::PendingApproval {
        "pending"
    } else {
        "published"
    }
}

pub async fn update<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.user_posting(&form)?;
    let mut body = parse(&form, &me.user.person_id).map_err(|e| ctx.fail(e))?;
    // The event form carries its own fields; the programme is edited on
    // its own and kept as it is.
    if let Body::Event(e) = &mut body {
        let existing = state
            .node
            .offer(&me.user, &id)
            .await
            .map_err(|e| ctx.fail(e))?;
        if let Body::Event(old) = existing.body {
            e.sessions = old.sessions;
        }
    }
    let offer = state
        .node
        .save_offer(&me.user, Some(&id), body)
        .await
        .map_err(|e| ctx.fail(e))?;
    done(
        "/offers",
        match offer.state {
            OfferState::Published => "published",
            OfferState::PendingApproval => "pending",
            _ => "saved",
        },
    )
}

pub async fn action<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.user_posting(&form)?;
    let (action, notice) = match form.get("action") {
        "publish" => (OfferAction::Publish, "published"),
        "pause" => (OfferAction::Pause, "paused"),
        "reopen" => (OfferAction::Reopen, "reopened"),
        "close" => (OfferAction::Close, "closed"),
        "unpublish" => (OfferAction::Unpublish, "unpublished"),
        // Deleting cannot be undone: the button asks first.
        "delete" => {
            let offer = state
                .node
                .offer(&me.user, &id)
                .await
                .map_err(|e| ctx.fail(e))?;
            return Ok(confirm_delete(&ctx, &offer));
        }
        "delete-confirmed" => (OfferAction::Delete, "deleted"),
        _ => return Err(ctx.fail(ApiError::Invalid("Unknown action.".into()))),
    };
    let offer = state
        .node
        .offer_action(&me.user, &id, action)
        .await
        .map_err(|e| ctx.fail(e))?;
    let notice = if offer.state == OfferState::PendingApproval {
        "pending"
    } else {
        notice
    };
    done("/offers", notice)
}

/// "Delete …?": what deleting this offer or content item does, with the
/// button that does it and the way back.
fn confirm_delete(ctx: &Ctx, offer: &Offer) -> Response {
    let title = offer.body.title();
    let content = matches!(offer.body, Body::Content(_));
    ctx.render(
        "Delete",
        html! {
            h1 { "Delete “" (title) "”?" }
            p #delete-effect {
                @match offer.state {
                    OfferState::Published => {
                        "It is published: deleting a published offer withdraws it from every partner. "
                        "Their nodes drop it, and people there can no longer find it or ask for it."
                        @if content { " Colleagues here no longer see it either." }
                    }
                    OfferState::PendingApproval => {
                        "It waits for an admin's approval: deleting it takes it out of the queue. It was never shared with partners."
                    }
                    OfferState::Draft | OfferState::Unpublished => {
                        "It is not shared with partners: deleting it removes it from this node only."
                        @if content { " Colleagues here no longer see it." }
                    }
                }
            }
            p { "It is deleted for good: this cannot be undone. To stop it for a while instead, pause or unpublish it." }
            form.inline method="post" action={ "/offers/" (offer.id) "/action" } {
                (ctx.csrf())
                input type="hidden" name="action" value="delete-confirmed";
                button #confirm-delete type="submit" { "Delete “" (title) "”" }
            }
            " "
            a #cancel href="/offers" { "Cancel" }
        },
    )
}

pub(super) fn pick<T: Copy + serde::Serialize>(
    options: &[T],
    value: &str,
    what: &str,
) -> Result<T, ApiError> {
    options
        .iter()
        .copied()
        .find(|o| wire_name(o) == value)
        .ok_or_else(|| ApiError::Invalid(format!("Choose {what} from the list.")))
}

const DELIVERIES: [Delivery; 3] = [Delivery::Remote, Delivery::InPerson, Delivery::Hybrid];
pub(super) const SESSION_FORMATS: [SessionFormat; 4] = [
    SessionFormat::Talk,
    SessionFormat::Workshop,
    SessionFormat::Discussion,
    SessionFormat::Demo,
];
pub(super) const AUDIENCES: [Audience; 3] = [
    Audience::Everyone,
    Audience::PeopleManagers,
    Audience::SeniorLeaders,
];
const CADENCES: [Cadence; 4] = [
    Cadence::Weekly,
    Cadence::Fortnightly,
    Cadence::Monthly,
    Cadence::AdHoc,
];
const STATUSES: [OfferStatus; 3] = [OfferStatus::Open, OfferStatus::Paused, OfferStatus::Closed];

/// What the form says of a talk, offered or wanted alike.
/// The session fields both talk kinds share, from their form.
fn talk_session(form: &FormData, delivery: Delivery) -> Result<TalkSession, ApiError> {
    Ok(TalkSession {
        topics: form.list("topics"),
        format: pick(&SESSION_FORMATS, form.get("format"), "a format")?,
        audience: pick(&AUDIENCES, form.get("audience"), "an audience")?,
        duration_minutes: form.number("duration_minutes", "Length in minutes")?,
        languages: form.list("languages"),
        delivery,
    })
}

/// A new talk's session as its form starts: 45 minutes, remote, for
/// everyone, in `format`.
pub(super) fn blank_talk_session(format: SessionFormat) -> TalkSession {
    TalkSession {
        topics: Vec::new(),
        format,
        audience: Audience::Everyone,
        duration_minutes: 45,
        languages: Vec::new(),
        delivery: Delivery::Remote,
    }
}

/// Builds an offer body from its form. Limits and the remaining checks are
/// the protocol's, applied by the node when it saves.
fn parse(form: &FormData, person: &str) -> Result<Body, ApiError> {
    let title = form.get("title").to_string();
    if title.is_empty() {
        return Err(ApiError::Invalid("Give the offer a title.".into()));
    }
    match form.get("kind") {
        "event" => return events::parse(form, title),
        "content" => return content::parse(form, title),
        _ => {}
    }
    let status = match form.get("status") {
        "" => OfferStatus::Open,
        s => pick(&STATUSES, s, "a status")?,
    };
    let delivery = pick(&DELIVERIES, form.get("delivery"), "how it is delivered")?;
    Ok(match form.get("kind") {
        "talk_offer" => Body::TalkOffer(TalkOffer {
            person: person.to_string(),
            speaker_name: None,
            title,
            summary: form.get("summary").to_string(),
            session: talk_session(form, delivery)?,
            status,
        }),
        "talk_wanted" => Body::TalkWanted(TalkWanted {
            person: person.to_string(),
            asker_name: None,
            title,
            description: form.get("description").to_string(),
            session: talk_session(form, delivery)?,
            status,
        }),
        "mentoring_offer" => Body::MentoringOffer(MentoringOffer {
            person: person.to_string(),
            mentor_name: None,
            title,
            description: form.get("description").to_string(),
            topics: form.list("topics"),
            languages: form.list("languages"),
            capacity: form.number("capacity", "Mentees at a time")?,
            sessions: form.number("sessions", "Sessions per mentee")?,
            session_minutes: form.number("session_minutes", "Minutes per session")?,
            cadence: pick(&CADENCES, form.get("cadence"), "how often")?,
            slots: Vec::new(),
            delivery,
            status,
        }),
        "cohort_offer" => {
            let day = parse_date(form.get("starts_on")).ok_or_else(|| {
                ApiError::Invalid("The start date must be a day such as 2027-03-09.".into())
            })?;
            let weeks: u8 = form.number("weeks", "Weeks")?;
            // With a time of day, one session a week from the first day.
            let (starts_at, schedule) = match form.get("session_time") {
                "" => (day, Vec::new()),
                t => {
                    let at = day
                        + parse_time_of_day(t).ok_or_else(|| {
                            ApiError::Invalid(
                                "The session time must be a time such as 18:30.".into(),
                            )
                        })?;
                    let minutes: u16 =
                        form.number("cohort_session_minutes", "Minutes per session")?;
                    let slots = (0..i64::from(weeks))
                        .map(|w| Slot {
                            starts_at: at + w * 7 * 86_400,
                            duration_minutes: minutes,
                        })
                        .collect();
                    (at, slots)
                }
            };
            Body::CohortOffer(CohortOffer {
                person: person.to_string(),
                owner_name: None,
                title,
                goal: form.get("goal").to_string(),
                topics: form.list("topics"),
                seats_total: form.number("seats_total", "Seats in all")?,
                seats_per_org: form.number("seats_per_org", "Seats per organisation")?,
                weeks,
                weekly_hours: form.number("weekly_hours", "Hours a week")?,
                starts_at,
                schedule,
                languages: form.list("languages"),
                delivery,
                status,
            })
        }
        _ => {
            return Err(ApiError::Invalid(
                "Choose what kind of offer this is.".into(),
            ));
        }
    })
}

pub(super) fn select<T: Copy + serde::Serialize + PartialEq>(
    name: &str,
    label: &str,
    options: &[T],
    current: Option<T>,
) -> Markup {
    html! {
        label { (label)
            select id=(name) name=(name) {
                @for o in options {
                    option value=(wire_name(o)) selected[current == Some(*o)] { (words(&wire_name(o))) }
                }
            }
        }
    }
}

pub(super) fn number(
    name: &str,
    label: &str,
    value: impl std::fmt::Display,
    min: u32,
    max: u32,
) -> Markup {
    html! {
        label { (label) input id=(name) type="number" name=(name) min=(min) max=(max) required value=(value); }
    }
}

/// The inputs for a talk's format, audience and length (its topics,
/// languages and delivery are among every offer's fields). The length's
/// bounds are the protocol's.
fn talk_session_fields(session: &TalkSession) -> Markup {
    html! {
        (select("format", "Format", &SESSION_FORMATS, Some(session.format)))
        (select("audience", "For", &AUDIENCES, Some(session.audience)))
        (number("duration_minutes", "Length in minutes", session.duration_minutes, 5, 480))
    }
}

/// A new offer of `kind` with the form's starting values.
fn blank(kind: &str) -> Body {
    match kind {
        "event" => events::blank(),
        "content" => content::blank(),
        "talk_wanted" => Body::TalkWanted(TalkWanted {
            person: String::new(),
            asker_name: None,
            title: String::new(),
            description: String::new(),
            session: blank_talk_session(SessionFormat::Talk),
            status: OfferStatus::Open,
        }),
        "talk_offer" => Body::TalkOffer(TalkOffer {
            person: String::new(),
            speaker_name: None,
            title: String::new(),
            summary: String::new(),
            session: blank_talk_session(SessionFormat::Talk),
            status: OfferStatus::Open,
        }),
        "mentoring_offer" => Body::MentoringOffer(MentoringOffer {
            person: String::new(),
            mentor_name: None,
            title: String::new(),
            description: String::new(),
            topics: Vec::new(),
            languages: Vec::new(),
            capacity: 2,
            sessions: 4,
            session_minutes: 45,
            cadence: Cadence::Weekly,
            slots: Vec::new(),
            delivery: Delivery::Remote,
            status: OfferStatus::Open,
        }),
        _ => Body::CohortOffer(CohortOffer {
            person: String::new(),
            owner_name: None,
            title: String::new(),
            goal: String::new(),
            topics: Vec::new(),
            seats_total: 12,
            seats_per_org: 4,
            weeks: 6,
            weekly_hours: 2,
            starts_at: 0,
            schedule: Vec::new(),
            languages: Vec::new(),
            delivery: Delivery::Remote,
            status: OfferStatus::Open,
        }),
    }
}

/// The form for `body`: a new offer's starting values, or `existing`'s.
fn form(ctx: &Ctx, body: &Body, existing: Option<&Offer>, orgs: &[OrgRow]) -> Markup {
    let kind = body.kind().as_str();
    let action = match existing {
        Some(o) => format!("/offers/{}", o.id),
        None => "/offers".to_string(),
    };
    // The fields every offer has (an event has its own).
    let common = match body {
        Body::TalkOffer(t) => Some((
            &t.session.topics,
            &t.session.languages,
            t.session.delivery,
            t.status,
        )),
        Body::MentoringOffer(m) => Some((&m.topics, &m.languages, m.delivery, m.status)),
        Body::CohortOffer(c) => Some((&c.topics, &c.languages, c.delivery, c.status)),
        Body::TalkWanted(t) => Some((
            &t.session.topics,
            &t.session.languages,
            t.session.delivery,
            t.status,
        )),
        Body::Event(_) | Body::Content(_) => None,
        _ => return html! { p { "This is not an offer." } },
    };
    let title = body.title();
    html! {
        h1 { @if existing.is_some() { "Edit: " (title) } @else { "New offer: " (kind_label(kind)) } }
        @if existing.is_some_and(|o| o.state == OfferState::Published) {
            p.notice { "This offer is published: saving sends the new version to partner organisations." }
        }
        form.stack #offer-form method="post" action=(action) {
            (ctx.csrf())
            input type="hidden" name="kind" value=(body.kind().as_str());
            @if let (Some(_), Some((_, _, _, status))) = (existing, common) { input type="hidden" name="status" value=(wire_name(&status)); }
            label { "Title" input #title type="text" name="title" required maxlength="200" value=(title); }
            @match body {
                Body::TalkOffer(t) => {
                    label { "Abstract" textarea #summary name="summary" maxlength="4000" { (t.summary) } }
                    (talk_session_fields(&t.session))
                }
                Body::MentoringOffer(m) => {
                    label { "What you can help with" textarea #description name="description" maxlength="4000" { (m.description) } }
                    (number("capacity", "Mentees at a time", m.capacity, 1, 50))
                    (number("sessions", "Sessions per mentee", m.sessions, 1, 100))
                    (number("session_minutes", "Minutes per session", m.session_minutes, 5, 600))
                    (select("cadence", "How often", &CADENCES, Some(m.cadence)))
                }
                Body::CohortOffer(c) => {
                    label { "Goal or business problem the group works on" textarea #goal name="goal" required maxlength="2000" { (c.goal) } }
                    (number("seats_total", "Seats in all (5 to 15)", c.seats_total, 5, 15))
                    (number("seats_per_org", "Seats per organisation", c.seats_per_org, 1, 15))
                    (number("weeks", "Weeks", c.weeks, 1, 52))
                    (number("weekly_hours", "Hours a week", c.weekly_hours, 1, 40))
                    label { "First session (a day, YYYY-MM-DD)" input #starts_on type="date" name="starts_on" required value=(if c.starts_at > 0 { date(c.starts_at) } else { String::new() }); }
                    @let first = c.schedule.first();
                    label { "Weekly session at (HH:MM, UTC; leave empty if not fixed yet)"
                        input #session_time type="time" name="session_time" value=(first.map(|s| time_of_day(s.starts_at)).unwrap_or_default()); }
                    (number("cohort_session_minutes", "Minutes per session", first.map_or(90, |s| s.duration_minutes), 15, 600))
                }
                Body::TalkWanted(t) => {
                    label { "What your people need, and why" textarea #description name="description" maxlength="4000" { (t.description) } }
                    (talk_session_fields(&t.session))
                }
                Body::Event(e) => { (events::fields(e, orgs)) }
                Body::Content(c) => { (content::fields(c)) }
                _ => {}
            }
            @if let Some((topics, languages, delivery, _)) = common {
                label { "Topics (comma-separated)" input #topics type="text" name="topics" value=(topics.join(", ")); }
                label { "Languages (comma-separated)" input #languages type="text" name="languages" value=(languages.join(", ")) placeholder="en"; }
                (select("delivery", "Delivery", &DELIVERIES, Some(delivery)))
            }
            div.row {
                @if existing.is_none() {
                    button #save-publish type="submit" name="publish" value="1" { "Save and publish" }
                    button.secondary #save-draft type="submit" { "Save as draft" }
                } @else {
                    button #save-offer type="submit" { "Save" }
                }
            }
        }
    }
}
