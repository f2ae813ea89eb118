//! Learning weeks and similar events: many sessions, several organisations.
//!
//! The host's admin creates the event from "My offers" (its title, dates,
//! and the organisations invited to add sessions) and edits its programme
//! on the event's own page. An admin of an invited organisation adds that
//! organisation's sessions from the event's listing on their own node: the
//! session travels to the host's node as a signed request, and the host's
//! node puts it in the programme and signs the event again. So each
//! organisation's sessions are added by that organisation's admin, and the
//! programme everyone sees is still one record signed by its host.

use axum::body::Bytes;
use axum::extract::{Path, State};
use maud::{Markup, html};
use skillmesh_protocol::Body;
use skillmesh_protocol::kinds::{Event, EventSession};

use super::offers::{AUDIENCES, SESSION_FORMATS, number, pick, select};
use super::{Ctx, FormData, PageResult, done, org_key};
use crate::Shared;
use crate::api::{ApiError, Listing, NewRequest, Offer, OrgRow};
use crate::dates::{date, datetime, parse_date, parse_time_of_day};
use crate::ports::NodeApi;

/// A new event's starting values.
pub fn blank() -> Body {
    Body::Event(Event {
        title: String::new(),
        description: String::new(),
        starts_at: 0,
        ends_at: 0,
        sessions: Vec::new(),
        languages: Vec::new(),
        contributors: Vec::new(),
    })
}

/// The event's own fields from its form; the programme is edited on its
/// own (see [`add_session`]), so `sessions` stays empty here.
pub fn parse(form: &FormData, title: String) -> Result<Body, ApiError> {
    let day = |name: &str, what: &str| {
        parse_date(form.get(name))
            .ok_or_else(|| ApiError::Invalid(format!("{what} must be a day such as 2027-03-09.")))
    };
    let starts_at = day("first_day", "The first day")?;
    // The last day counts whole.
    let ends_at = day("last_day", "The last day")? + 86_399;
    if ends_at < starts_at {
        return Err(ApiError::Invalid(
            "The last day is before the first.".into(),
        ));
    }
    let mut contributors = Vec::new();
    for hex in form.all("contributors") {
        contributors.push(hex.parse().map_err(|_| {
            ApiError::Invalid("Choose invited organisations from the list.".into())
        })?);
    }
    Ok(Body::Event(Event {
        title,
        description: form.get("description").to_string(),
        starts_at,
        ends_at,
        sessions: Vec::new(),
        languages: form.list("languages"),
        contributors,
    }))
}

/// The event's own fields, inside the offer form. `orgs`: the
/// organisations that may be invited (not blocked).
pub fn fields(e: &Event, orgs: &[OrgRow]) -> Markup {
    html! {
        label { "What it is" textarea #description name="description" maxlength="4000" { (e.description) } }
        label { "First day (YYYY-MM-DD)" input #first_day type="date" name="first_day" required value=(if e.starts_at > 0 { date(e.starts_at) } else { String::new() }); }
        label { "Last day (YYYY-MM-DD)" input #last_day type="date" name="last_day" required value=(if e.ends_at > 0 { date(e.ends_at) } else { String::new() }); }
        fieldset #contributors {
            legend { "Organisations invited to add their own sessions" }
            @if orgs.is_empty() {
                p.meta { "No partner organisations yet." }
            }
            @for o in orgs {
                label.check {
                    input type="checkbox" name="contributors" value=(o.key.to_hex()) checked[e.contributors.contains(&o.key)];
                    (o.name) (super::fingerprint(&o.key.fingerprint()))
                }
            }
        }
        label { "Languages (comma-separated)" input #languages type="text" name="languages" value=(e.languages.join(", ")) placeholder="en"; }
    }
}

/// The fields of one session, for the host's programme and for an invited
/// organisation's contribution alike.
fn session_fields() -> Markup {
    html! {
        label { "Session title" input #session_title type="text" name="session_title" required maxlength="200"; }
        label { "Speaker" input #speaker type="text" name="speaker" maxlength="200"; }
        label { "Day (YYYY-MM-DD)" input #session_day type="date" name="session_day" required; }
        label { "Starts at (HH:MM, UTC)" input #session_at type="time" name="session_at" required; }
        (number("session_minutes", "Minutes", 60, 5, 1440))
        (select("session_format", "Format", &SESSION_FORMATS, None))
        (select("session_audience", "For", &AUDIENCES, None))
        label { "Topics (comma-separated)" input #session_topics type="text" name="session_topics"; }
    }
}

/// A session from [`session_fields`]; its id is left empty for the caller.
fn parse_session(form: &FormData) -> Result<EventSession, ApiError> {
    let title = form.get("session_title").to_string();
    if title.is_empty() {
        return Err(ApiError::Invalid("Give the session a title.".into()));
    }
    let day = parse_date(form.get("session_day"))
        .ok_or_else(|| ApiError::Invalid("The day must be a day such as 2027-03-09.".into()))?;
    let at = parse_time_of_day(form.get("session_at"))
        .ok_or_else(|| ApiError::Invalid("The start must be a time such as 14:30.".into()))?;
    Ok(EventSession {
        id: String::new(),
        title,
        speaker_name: Some(form.get("speaker").to_string()).filter(|s| !s.is_empty()),
        contributor: None,
        starts_at: day + at,
        duration_minutes: form.number("session_minutes", "Minutes")?,
        format: pick(&SESSION_FORMATS, form.get("session_format"), "a format")?,
        audience: pick(&AUDIENCES, form.get("session_audience"), "an audience")?,
        topics: form.list("session_topics"),
    })
}

/// On the host's edit page: the programme (naming the organisation of
/// each contributed session from `orgs`), with a remove button for each
/// session, and a form to add one.
pub fn programme(ctx: &Ctx, offer: &Offer, orgs: &[OrgRow]) -> Markup {
    let Body::Event(e) = &offer.body else {
        return html! {};
    };
    html! {
        h2 #programme { "Programme" }
        @if e.sessions.is_empty() {
            p.meta { "No sessions yet." }
        } @else {
            div.scroll {
                table #sessions {
                    thead { tr { th { "When" } th { "Session" } th { "From" } th {} } }
                    tbody {
                        @for s in &e.sessions {
                            tr data-session=(s.id) {
                                td { (datetime(s.starts_at)) " (" (s.duration_minutes) " min)" }
                                td { (s.title) @if let Some(n) = &s.speaker_name { br; span.meta { (n) } } }
                                td.from { @match &s.contributor {
                                    Some(org) => { (orgs.iter().find(|o| o.key == *org).map_or_else(|| org.short(), |o| o.name.clone())) (super::fingerprint(&org.fingerprint())) }
                                    None => { (ctx.org_name) }
                                } }
                                td {
                                    form.inline method="post" action={ "/offers/" (offer.id) "/sessions/" (s.id) "/remove" } {
                                        (ctx.csrf())
                                        button.secondary type="submit" { "Remove" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        h3 { "Add a session" }
        form.stack #add-session method="post" action={ "/offers/" (offer.id) "/sessions" } {
            (ctx.csrf())
            (session_fields())
            button #add-session-button type="submit" { "Add to the programme" }
        }
    }
}

/// On another organisation's event that invited ours, for our admins: a
/// form to add one of our sessions.
pub fn contribute_form(ctx: &Ctx, l: &Listing) -> Markup {
    let admin = ctx.me.as_ref().is_some_and(|m| m.user.is_admin());
    let our: Vec<&EventSession> = match &l.body {
        Body::Event(e) => e
            .sessions
            .iter()
            .filter(|s| l.our_sessions.contains(&s.id))
            .collect(),
        _ => Vec::new(),
    };
    html! {
        @if l.contributable && admin && !our.is_empty() {
            h2 { "Sessions from " (ctx.org_name) }
            ul #our-sessions {
                @for s in &our {
                    li data-session=(s.id) {
                        (datetime(s.starts_at)) " · " (s.title) " "
                        form.inline method="post" action={ "/listing/" (l.org.to_hex()) "/" (l.id) "/sessions/" (s.id) "/withdraw" } {
                            (ctx.csrf())
                            button.secondary type="submit" data-action="withdraw" { "Take out of the programme" }
                        }
                    }
                }
            }
        }
        @if l.contributable && admin {
            h2 { "Add a session from " (ctx.org_name) }
            p.hint { (l.org_name) " invited " (ctx.org_name) " to add sessions. Yours goes to " (l.org_name) "'s node, which puts it in the programme for everyone." }
            form.stack #contribute-session method="post" action={ "/listing/" (l.org.to_hex()) "/" (l.id) "/sessions" } {
                (ctx.csrf())
                (session_fields())
                button #contribute-button type="submit" { "Add to " (l.body.title()) }
            }
        }
    }
}

/// `POST /offers/{id}/sessions`: the host's admin adds a session.
pub async fn add_session<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.admin_posting(&form)?;
    let mut session = parse_session(&form).map_err(|e| ctx.fail(e))?;
    change_programme(&state, &ctx, me, &id, |event| {
        // The first free `s<n>`: ids stay short and readable in links.
        session.id = (1..)
            .map(|n| format!("s{n}"))
            .find(|id| event.sessions.iter().all(|s| s.id != *id))
            .unwrap_or_default();
        event.sessions.push(session);
        event.sessions.sort_by_key(|s| s.starts_at);
        Ok(())
    })
    .await
}

/// Applies `change` to the programme of our event `id` and saves it
/// (which signs and sends it again if it is published).
async fn change_programme<S: NodeApi>(
    state: &Shared<S>,
    ctx: &Ctx,
    me: &crate::session::SignedIn,
    id: &str,
    change: impl FnOnce(&mut Event) -> Result<(), ApiError>,
) -> PageResult {
    let offer = state
        .node
        .offer(&me.user, id)
        .await
        .map_err(|e| ctx.fail(e))?;
    let Body::Event(mut event) = offer.body else {
        return Err(ctx.fail(ApiError::NotFound("no such event".into())));
    };
    change(&mut event).map_err(|e| ctx.fail(e))?;
    state
        .node
        .save_offer(&me.user, Some(id), Body::Event(event))
        .await
        .map_err(|e| ctx.fail(e))?;
    done(&format!("/offers/{id}"), "saved")
}

/// `POST /offers/{id}/sessions/{session}/remove`: the host's admin takes
/// a session out of the programme.
pub async fn remove_session<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    Path((id, session)): Path<(String, String)>,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.admin_posting(&form)?;
    change_programme(&state, &ctx, me, &id, |event| {
        let before = event.sessions.len();
        event.sessions.retain(|s| s.id != session);
        if event.sessions.len() == before {
            return Err(ApiError::NotFound("no such session".into()));
        }
        Ok(())
    })
    .await
}

/// `POST /listing/{org}/{id}/sessions`: our admin adds one of our sessions
/// to another organisation's event that invited us.
pub async fn contribute<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    Path((org, id)): Path<(String, String)>,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.admin_posting(&form)?;
    let session = parse_session(&form).map_err(|e| ctx.fail(e))?;
    ask_host(&state, &ctx, me, &org, id, Some(session), None).await
}

/// `POST /listing/{org}/{id}/sessions/{session}/withdraw`: our admin
/// takes one of our sessions out of another organisation's event.
pub async fn withdraw<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    Path((org, id, session)): Path<(String, String, String)>,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.admin_posting(&form)?;
    ask_host(&state, &ctx, me, &org, id, None, Some(session)).await
}

/// Sends the host of event `id` (organisation `org`, as hex) our admin's
/// change to its programme: a session to add, or one of ours to take out.
async fn ask_host<S: NodeApi>(
    state: &Shared<S>,
    ctx: &Ctx,
    me: &crate::session::SignedIn,
    org: &str,
    id: String,
    contribution: Option<EventSession>,
    withdraw: Option<String>,
) -> PageResult {
    let offer_org = org_key(ctx, org)?;
    state
        .node
        .send_request(
            &me.user,
            NewRequest {
                offer_org,
                offer_id: id,
                goal: String::new(),
                preferred_times: String::new(),
                message: String::new(),
                name_to_group: false,
                session: None,
                contribution,
                withdraw,
                ask: None,
            },
        )
        .await
        .map_err(|e| ctx.fail(e))?;
    done("/requests", "requested")
}

/// The "From" of a session in a programme: the contributing organisation,
/// or the host, with its key fingerprint.
pub fn session_from(l: &Listing, s: &EventSession) -> Markup {
    let (name, org) = match &s.contributor {
        Some(org) => (l.org_name_of(org), *org),
        None => (l.org_name.clone(), l.org),
    };
    html! { (name) (super::fingerprint(&org.fingerprint())) }
}
