//! `GET /listing/{org}/{id}`: one expert, offer, cohort, event or content
//! item, with the organisation it comes from, whether its signature checked
//! out, and (for another organisation's open offer) a request form.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use maud::{Markup, html};
use skillmesh_protocol::Body;
use skillmesh_protocol::kinds::{AskFormat, EventSession, Slot, TalkSession, wire_name};

use super::{Ctx, FormData, PageResult, done, events, org_key};
use crate::Shared;
use crate::api::{ApiError, Listing, NewRequest};
use crate::dates::datetime;
use crate::ics;
use crate::layout::words;
use crate::ports::NodeApi;

pub async fn page<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    Path((org, id)): Path<(String, String)>,
) -> PageResult {
    let me = ctx.user()?;
    let org = org_key(&ctx, &org)?;
    let listing = state
        .node
        .listing(&me.user, &org, &id)
        .await
        .map_err(|e| ctx.fail(e))?;
    let colleagues = if matches!(listing.body, Body::Content(_)) {
        state
            .node
            .colleagues(&me.user)
            .await
            .map_err(|e| ctx.fail(e))?
    } else {
        Vec::new()
    };
    Ok(ctx.render(
        &listing.body.title(),
        html! {
            (render(&ctx, &listing))
            (super::content::recommend_form(&ctx, &listing, &colleagues))
        },
    ))
}

pub async fn request<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    Path((org, id)): Path<(String, String)>,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.user_posting(&form)?;
    let offer_org = org_key(&ctx, &org)?;
    state
        .node
        .send_request(
            &me.user,
            NewRequest {
                offer_org,
                offer_id: id,
                goal: form.get("goal").to_string(),
                preferred_times: form.get("preferred_times").to_string(),
                message: form.get("message").to_string(),
                name_to_group: form.has("name_to_group"),
                session: Some(form.get("session").to_string()).filter(|s| !s.is_empty()),
                contribution: None,
                withdraw: None,
                ask: AskFormat::ALL
                    .into_iter()
                    .find(|f| f.as_str() == form.get("ask")),
            },
        )
        .await
        .map_err(|e| ctx.fail(e))?;
    done("/requests", "requested")
}

/// For an expert: their open offers held here, each a link to its page.
fn expert_offers(l: &Listing) -> Markup {
    html! {
        @if !l.offers.is_empty() {
            h2 { "Their offers" }
            ul #expert-offers {
                @for o in &l.offers {
                    li {
                        span.kind { (super::find::kind_label(o.kind.as_str())) } " "
                        a href={ "/listing/" (l.org.to_hex()) "/" (o.id) } { (o.title) }
                    }
                }
            }
        }
    }
}

/// For another organisation's expert who takes questions: the form to
/// ask them one.
fn ask_form(ctx: &Ctx, l: &Listing) -> Markup {
    html! {
        @if l.askable {
            h2 { "Ask " (l.body.title()) }
            form.stack #ask-form method="post" action={ "/listing/" (l.org.to_hex()) "/" (l.id) "/request" } {
                (ctx.csrf())
                label { "Your question, or what you want to learn" textarea #question name="goal" required maxlength="2000" {} }
                fieldset {
                    legend { "I would like" }
                    @for (n, f) in AskFormat::ALL.iter().enumerate() {
                        label.check { input type="radio" name="ask" value=(f.as_str()) checked[n == 0]; (f.label()) }
                    }
                }
                label { "Message" textarea #ask-message name="message" maxlength="4000" {} }
                button #send-question type="submit" { "Send question" }
            }
            p.hint { "Your name and what you write go to " (l.org_name) "'s node, to this person alone. Contact details are exchanged only if they accept." }
        }
    }
}

/// For an event: a sign-up button per session.
fn sign_up(ctx: &Ctx, l: &Listing) -> Markup {
    let Body::Event(e) = &l.body else {
        return html! {};
    };
    html! {
        @if !e.sessions.is_empty() {
            h2 { "Sign up" }
            ul.sign-up {
                @for s in &e.sessions {
                    li {
                        form.inline method="post" action={ "/listing/" (l.org.to_hex()) "/" (l.id) "/request" } {
                            (ctx.csrf())
                            input type="hidden" name="session" value=(s.id);
                            button.secondary type="submit" data-session=(s.id) { "Sign up: " (s.title) }
                        }
                        " " span.meta { (datetime(s.starts_at)) }
                    }
                }
            }
            @if l.own {
                p.hint { "You are signed up at once; it is in your calendar feed." }
            } @else {
                p.hint { "Your name goes to " (l.org_name) "'s node, which signs you up at once." }
            }
        }
    }
}

/// Links to each scheduled session as an .ics file, and to all of them.
fn calendar_links(l: &Listing) -> Markup {
    let sessions = ics::sessions(&l.body);
    let base = format!("/listing/{}/{}/calendar.ics", l.org.to_hex(), l.id);
    html! {
        @if !sessions.is_empty() {
            h2 { "Add to my calendar" }
            ul.calendar {
                @for (n, s) in sessions.iter().enumerate() {
                    li { a.ics href={ (base) "?session=" (n) } { (datetime(s.starts_at)) " · " (s.title) } }
                }
                @if sessions.len() > 1 {
                    li { a.ics #calendar-all href=(base) { "All " (sessions.len()) " sessions (.ics)" } }
                }
            }
        }
    }
}

/// `GET /listing/{org}/{id}/calendar.ics[?session=N]`: the record's
/// scheduled sessions, or the one named, as an iCalendar file.
pub async fn calendar<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    Path((org, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> PageResult {
    let me = ctx.user()?;
    let org = org_key(&ctx, &org)?;
    let query = FormData::parse(query.unwrap_or_default().as_bytes());
    let wanted =
        match query.get("session") {
            "" => None,
            n => Some(n.parse::<usize>().map_err(|_| {
                ctx.fail(ApiError::Invalid(format!("{n:?} is not a session number.")))
            })?),
        };
    let listing = state
        .node
        .listing(&me.user, &org, &id)
        .await
        .map_err(|e| ctx.fail(e))?;
    let all = ics::sessions(&listing.body);
    let chosen: Vec<&ics::Session> = match wanted {
        None => all.iter().collect(),
        Some(n) => all.get(n).into_iter().collect(),
    };
    if chosen.is_empty() {
        return Err(ctx.fail(ApiError::NotFound(
            "There is no such scheduled session.".into(),
        )));
    }
    let events: Vec<ics::Event<'_>> = chosen
        .into_iter()
        .map(|session| ics::Event {
            org: &org,
            org_name: &listing.org_name,
            id: &listing.id,
            session,
        })
        .collect();
    let suffix = wanted.map(|n| format!("-{n}")).unwrap_or_default();
    Ok(ics::response(&format!("{}{suffix}", listing.id), &events))
}

fn slots(slots: &[Slot]) -> Markup {
    html! {
        @if !slots.is_empty() {
            ul { @for s in slots { li { (datetime(s.starts_at)) ", " (s.duration_minutes) " minutes" } } }
        }
    }
}

/// The facts of a talk offer's or call's session.
fn talk_session_facts(s: &TalkSession) -> Markup {
    html! {
        dt { "Format" } dd { (words(&wire_name(&s.format))) ", " (s.duration_minutes) " minutes" }
        dt { "For" } dd { (words(&wire_name(&s.audience))) }
        dt { "Delivery" } dd { (words(&wire_name(&s.delivery))) }
        @if !s.topics.is_empty() { dt { "Topics" } dd { (tags(&s.topics)) } }
        @if !s.languages.is_empty() { dt { "Languages" } dd { (tags(&s.languages)) } }
    }
}

fn tags(items: &[String]) -> Markup {
    html! { @for t in items { span.tag { (t) } } }
}

/// The body of a record as a page section; `from` names the organisation
/// a session of an event comes from.
pub fn body(body: &Body, from: &dyn Fn(&EventSession) -> Markup) -> Markup {
    html! {
        @match body {
            Body::Expertise(e) => {
                @if let Some(h) = &e.headline { p.lead { (h) } }
                dl.facts {
                    @if !e.topics.is_empty() {
                        dt { "Topics" }
                        dd { @for t in &e.topics { span.tag { (t.name) " · " (wire_name(&t.level)) } } }
                    }
                    @if !e.languages.is_empty() { dt { "Languages" } dd { (tags(&e.languages)) } }
                    @if let Some(tz) = &e.time_zone { dt { "Time zone" } dd { (tz) } }
                    @if !e.formats.is_empty() {
                        dt { "Offers" }
                        dd { @for f in &e.formats { span.tag { (words(&wire_name(f))) } } }
                    }
                    @if let Some(a) = &e.availability {
                        dt { "Availability" }
                        dd {
                            (words(&wire_name(&a.status)))
                            @if let Some(h) = a.hours_per_month { ", " (h) " hours a month" }
                            @if let Some(n) = &a.note { " · " (n) }
                        }
                    }
                }
                @if let Some(r) = &e.recognition {
                    section #recognition {
                        h2 { "Recognition" }
                        p.meta { "As their organisation counted it, signed with this listing." }
                        dl.facts {
                            dt { "People helped" } dd { (r.people_helped) }
                            dt { "Organisations reached" } dd { (r.organisations_reached) }
                            dt { "Sessions" } dd { (r.sessions) " (" (format!("{:.1}", f64::from(r.minutes) / 60.0)) " hours)" }
                            dt { "Cohorts run" } dd { (r.cohorts_run) }
                            dt { "Kudos" } dd { (r.kudos) }
                            dt { "Curating" } dd { (r.curated) }
                            dt { "Sessions observed" } dd { (r.observed) }
                        }
                    }
                }
            }
            Body::ImpactSummary(s) => {
                p { "What this organisation's peer learning came to, as its admin chose to publish it: totals and averages, never one person's." }
                (super::impact::summary_figures(s))
            }
            Body::TalkWanted(t) => {
                @if !t.description.is_empty() { p { (t.description) } }
                dl.facts {
                    @if let Some(s) = &t.asker_name { dt { "Asked by" } dd { (s) } }
                    (talk_session_facts(&t.session))
                    dt { "Status" } dd.status { (wire_name(&t.status)) }
                }
            }
            Body::TalkOffer(t) => {
                @if !t.summary.is_empty() { p { (t.summary) } }
                dl.facts {
                    @if let Some(s) = &t.speaker_name { dt { "Speaker" } dd { (s) } }
                    (talk_session_facts(&t.session))
                    dt { "Status" } dd.status { (wire_name(&t.status)) }
                }
            }
            Body::MentoringOffer(m) => {
                @if !m.description.is_empty() { p { (m.description) } }
                dl.facts {
                    @if let Some(s) = &m.mentor_name { dt { "Mentor" } dd { (s) } }
                    dt { "Shape" } dd { (m.sessions) " sessions of " (m.session_minutes) " minutes, " (words(&wire_name(&m.cadence))) }
                    dt { "Mentees at a time" } dd { (m.capacity) }
                    dt { "Delivery" } dd { (words(&wire_name(&m.delivery))) }
                    @if !m.topics.is_empty() { dt { "Topics" } dd { (tags(&m.topics)) } }
                    @if !m.languages.is_empty() { dt { "Languages" } dd { (tags(&m.languages)) } }
                    dt { "Status" } dd.status { (wire_name(&m.status)) }
                }
                (slots(&m.slots))
            }
            Body::CohortOffer(c) => {
                p.lead { (c.goal) }
                dl.facts {
                    @if let Some(s) = &c.owner_name { dt { "Run by" } dd { (s) } }
                    dt { "Length" } dd { (c.weeks) " weeks, " (c.weekly_hours) " hours a week, from " (datetime(c.starts_at)) }
                    dt { "Seats" } dd { (c.seats_total) " in all, at most " (c.seats_per_org) " per organisation" }
                    dt { "Delivery" } dd { (words(&wire_name(&c.delivery))) }
                    @if !c.topics.is_empty() { dt { "Topics" } dd { (tags(&c.topics)) } }
                    @if !c.languages.is_empty() { dt { "Languages" } dd { (tags(&c.languages)) } }
                    dt { "Status" } dd.status { (wire_name(&c.status)) }
                }
                (slots(&c.schedule))
            }
            Body::Event(e) => {
                @if !e.description.is_empty() { p { (e.description) } }
                p.meta { (datetime(e.starts_at)) " to " (datetime(e.ends_at)) }
                @if !e.sessions.is_empty() {
                    div.scroll {
                        table {
                            thead { tr { th { "When" } th { "Session" } th { "From" } th { "Format" } th { "For" } } }
                            tbody {
                                @for s in &e.sessions {
                                    tr data-session=(s.id) {
                                        td { (datetime(s.starts_at)) " (" (s.duration_minutes) " min)" }
                                        td { (s.title) @if let Some(n) = &s.speaker_name { br; span.meta { (n) } } }
                                        td.from { (from(s)) }
                                        td { (words(&wire_name(&s.format))) }
                                        td { (words(&wire_name(&s.audience))) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            Body::Content(c) => {
                p { (c.why) }
                dl.facts {
                    dt { "Type" } dd { (wire_name(&c.content_type)) }
                    @if let Some(url) = &c.url { dt { "Link" } dd { a href=(url) rel="noopener noreferrer nofollow" { (url) } } }
                    @if let Some(l) = &c.level { dt { "Level" } dd { (wire_name(l)) } }
                    @if let Some(m) = c.minutes { dt { "Time needed" } dd { (m) " minutes" } }
                    @if let Some(n) = &c.curator_name { dt { "Recommended by" } dd { (n) } }
                    @if !c.topics.is_empty() { dt { "Topics" } dd { (tags(&c.topics)) } }
                }
                @if !c.items.is_empty() {
                    ol { @for i in &c.items { li { a href=(i.url) rel="noopener noreferrer nofollow" { (i.title) } @if !i.note.is_empty() { " · " (i.note) } } } }
                }
            }
            _ => {}
        }
    }
}

fn render(ctx: &Ctx, l: &Listing) -> Markup {
    html! {
        span.kind { (super::find::kind_label(l.body.kind().as_str())) }
        h1 { (l.body.title()) }
        p.meta #provenance {
            "From " strong #from-org { (l.org_name) }
            @if !l.own { (super::fingerprint(&l.org_fingerprint)) }
            @if l.own { " (this organisation)" }
            " · "
            @if l.local_only {
                span.local { "only " (l.org_name) ": not shared with partners" }
            } @else if l.signature_verified {
                span.verified title={ "Signed with key " (l.org.to_hex()) } { "✓ signature checked" }
            } @else {
                span.unverified { "✗ signature did not check out" }
            }
            @if !l.local_only { " · version " (l.seq) ", issued " (datetime(l.issued_at)) }
        }
        (body(&l.body, &|s| events::session_from(l, s)))
        (calendar_links(l))
        (sign_up(ctx, l))
        (events::contribute_form(ctx, l))
        (super::content::follow_section(ctx, l))
        (expert_offers(l))
        (ask_form(ctx, l))
        @if l.requestable {
            @let answering = matches!(l.body, Body::TalkWanted(_));
            h2 { @if answering { "Offer to give this talk" } @else { "Ask for this" } }
            form.stack #request-form method="post" action={ "/listing/" (l.org.to_hex()) "/" (l.id) "/request" } {
                (ctx.csrf())
                label { @if answering { "What I would cover" } @else { "What I want to learn" } textarea #goal name="goal" required maxlength="2000" {} }
                label { "Preferred times" input #preferred_times type="text" name="preferred_times" maxlength="200" placeholder="e.g. Tuesday or Thursday mornings, CET"; }
                label { "Message" textarea #message name="message" maxlength="4000" {} }
                @if matches!(l.body, Body::CohortOffer(_)) {
                    label.check { input #name_to_group type="checkbox" name="name_to_group" value="yes"; "If I am admitted, the other members may see my name on the roster" }
                }
                button #send-request type="submit" { @if answering { "Offer to give it" } @else { "Send request" } }
            }
            p.hint { "Your name and what you write go to " (l.org_name) "'s node. Contact details are exchanged only if the request is accepted." }
        }
    }
}
