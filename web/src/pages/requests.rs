//! `/requests`: my inbox (requests from other organisations for my offers:
//! accept or decline, with a reply) and my outbox (what I asked for, its
//! status, and contact details once accepted).

use axum::body::Bytes;
use axum::extract::{Path, State};
use maud::{Markup, html};

use super::{Ctx, FormData, PageResult, done, org_key, scale};
use crate::Shared;
use crate::api::{
    FeedbackForm, InboxItem, NewKudos, OutboxItem, RequestAnswer, RequestStatus, Roster,
};
use crate::dates::datetime;
use crate::ports::NodeApi;
use skillmesh_protocol::kinds::wire_name;

pub async fn page<S: NodeApi>(State(state): State<Shared<S>>, ctx: Ctx) -> PageResult {
    let me = ctx.user()?;
    let inbox = state.node.inbox(&me.user).await.map_err(|e| ctx.fail(e))?;
    let outbox = state.node.outbox(&me.user).await.map_err(|e| ctx.fail(e))?;
    Ok(ctx.render(
        "Requests",
        html! {
            h1 { "Requests" }
            h2 { "Inbox: asked of me" }
            @if inbox.is_empty() { p { "Nobody has asked for one of your offers yet." } }
            ol.results #inbox { @for i in &inbox { li.card data-request=(i.id) { (inbox_item(&ctx, i)) } } }
            h2 { "Outbox: what I asked for" }
            @if outbox.is_empty() { p { "You have not asked for anything yet. " a href="/find" { "Find someone" } "." } }
            ol.results #outbox { @for o in &outbox { li.card data-request=(o.id) { (outbox_item(&ctx, o)) } } }
        },
    ))
}

fn status(s: RequestStatus) -> Markup {
    let name = wire_name(&s);
    let label = match s {
        RequestStatus::Waiting => "waiting to reach the other organisation",
        RequestStatus::Queued => "queued at the other organisation",
        RequestStatus::Pending => "waiting for your answer",
        RequestStatus::Accepted => "accepted",
        RequestStatus::Declined => "declined",
        RequestStatus::Refused => "refused by the other organisation",
    };
    html! { span class={ "status " (name) } data-status=(name) { (label) } }
}

fn inbox_item(ctx: &Ctx, i: &InboxItem) -> Markup {
    html! {
        h3 { (i.requester_name.as_deref().unwrap_or("Someone")) " at " (i.from_org_name) " " small.fingerprint title="The organisation's key fingerprint" { code { (i.from_org_fingerprint) } } @if i.from_org_new { " " span.badge.new-org title="First seen by this node recently" { "new" } } }
        @if let Some(warning) = &i.from_org_lookalike { p.warning.lookalike { strong { "Check who this is: " } (warning) ". It may be someone else using that name." } }
        @if let Some(format) = i.ask {
            p.meta { strong.question { "A question for you" } " · would like " (format.label()) " · received " (datetime(i.received_at)) " · " (status(i.status)) }
            p { strong { "Asks: " } (i.goal) }
        } @else {
            p.meta { "For " strong { (i.offer_title) } " · received " (datetime(i.received_at)) " · " (status(i.status)) }
            p { strong { "Wants to learn: " } (i.goal) }
        }
        @if !i.preferred_times.is_empty() { p { strong { "Preferred times: " } (i.preferred_times) } }
        @if !i.message.is_empty() { p { (i.message) } }
        @if i.status == RequestStatus::Pending {
            form.stack method="post" action={ "/requests/" (i.from_org.to_hex()) "/" (i.id) "/answer" } {
                (ctx.csrf())
                label { "Reply" textarea name="reply" maxlength="2000" placeholder="e.g. Happy to. Let's start next week." {} }
                @if i.from_org_lookalike.is_none() {
                    div.row {
                        button.accept type="submit" name="decision" value="accept" { "Accept" }
                        button.secondary.decline type="submit" name="decision" value="decline" { "Decline" }
                    }
                } @else {
                    div.row {
                        button.secondary.decline type="submit" name="decision" value="decline" { "Decline" }
                    }
                }
            }
            @if i.from_org_lookalike.is_some() {
                // Accepting a look-alike takes a second, deliberate step.
                form.stack.confirm-accept method="post" action={ "/requests/" (i.from_org.to_hex()) "/" (i.id) "/answer" } {
                    (ctx.csrf())
                    input type="hidden" name="reply" value="";
                    label { input type="checkbox" name="confirm" value="yes" required; " I checked the key " code { (i.from_org_fingerprint) } " with the organisation, and want to accept" }
                    button.accept type="submit" name="decision" value="accept" { "Accept anyway" }
                }
            }
            p.hint { "Accepting shares your name and email with the person who asked." }
        } @else if !i.reply.is_empty() {
            p { strong { "Your reply: " } (i.reply) }
        }
        @if let Some(k) = &i.kudos { p.kudos { strong { "Kudos: " } (k) } }
    }
}

fn outbox_item(ctx: &Ctx, o: &OutboxItem) -> Markup {
    html! {
        h3 { a href={ "/listing/" (o.offer_org.to_hex()) "/" (o.offer_id) } { (o.offer_title) } }
        p.meta { "At " (o.offer_org_name) (super::fingerprint(&o.offer_org_fingerprint)) " · asked " (datetime(o.created_at)) " · " (status(o.status)) }
        p { strong { @if o.contribution { "Our session: " } @else { "I want to learn: " } } (o.goal) }
        @if !o.detail.is_empty() { p.reply { strong { "Reply: " } (o.detail) } }
        @if let Some(c) = &o.contact {
            p.contact {
                strong { "Contact: " } (c.name)
                @if let Some(email) = &c.email { " · " a href={ "mailto:" (email) } { (email) } }
            }
        }
        @if let Some(g) = &o.group { (roster(g)) }
        @if o.status == RequestStatus::Accepted && !o.contribution {
            @if o.feedback_given { p.meta { "Thank you for your feedback." } } @else { (feedback_form(ctx, o)) }
            @match (&o.kudos, &o.kudos_refused) {
                (Some(_), Some(why)) => { p.meta { "Your kudos were refused: " (why) } }
                (Some(k), None) => { p.kudos { strong { "Your kudos: " } (k) } }
                (None, _) => { @if o.kudos_welcome { (kudos_form(ctx, o)) } }
            }
        }
    }
}

/// After taking part: how it went. Only this node keeps it.
fn feedback_form(ctx: &Ctx, o: &OutboxItem) -> Markup {
    html! {
        details.feedback {
            summary { "How did it go?" }
            form.stack method="post" action={ "/requests/outbox/" (o.id) "/feedback" } {
                (ctx.csrf())
                (scale("rating", "Overall, from 1 (poor) to 5 (excellent)"))
                label { "What I will apply" textarea name="apply" maxlength="2000" {} }
                label { "Anything else" textarea name="comment" maxlength="2000" {} }
                (scale("before", "My skill in this before, 1 to 5"))
                (scale("after", "and after, 1 to 5"))
                button type="submit" { "Send feedback" }
            }
            p.hint { "Your answers stay on " (ctx.org_name) "'s node; admins see only totals and averages." }
        }
    }
}

/// After taking part: a thank-you to the person who gave it, which goes
/// to them (unlike feedback) and counts towards their recognition.
fn kudos_form(ctx: &Ctx, o: &OutboxItem) -> Markup {
    html! {
        details.kudos {
            summary { "Say thank you" }
            form.stack method="post" action={ "/requests/outbox/" (o.id) "/kudos" } {
                (ctx.csrf())
                label { "Kudos" textarea name="message" required maxlength="1000" placeholder="What made a difference?" {} }
                button type="submit" { "Send kudos" }
            }
            p.hint { "Your name and these words go to " (o.offer_org_name) "'s node, for the person who helped you." }
        }
    }
}

/// `POST /requests/outbox/{id}/kudos`.
pub async fn kudos<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.user_posting(&form)?;
    state
        .node
        .send_kudos(
            &me.user,
            &id,
            NewKudos {
                message: form.get("message").to_string(),
            },
        )
        .await
        .map_err(|e| ctx.fail(e))?;
    done("/requests", "kudos")
}

pub async fn feedback<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.user_posting(&form)?;
    let form = FeedbackForm {
        rating: form
            .number("rating", "The rating")
            .map_err(|e| ctx.fail(e))?,
        apply: form.get("apply").to_string(),
        comment: form.get("comment").to_string(),
        before: form
            .number("before", "The skill before")
            .map_err(|e| ctx.fail(e))?,
        after: form
            .number("after", "The skill after")
            .map_err(|e| ctx.fail(e))?,
    };
    state
        .node
        .give_feedback(&me.user, &id, form)
        .await
        .map_err(|e| ctx.fail(e))?;
    done("/requests", "feedback")
}

/// A cohort the person was admitted to: goal, schedule and who is in it
/// (a name only where that member allowed it).
fn roster(g: &Roster) -> Markup {
    html! {
        section.roster {
            p { strong { "The group's goal: " } (g.goal) }
            p.meta {
                "Starts " (datetime(g.starts_at)) " · " (g.weeks) " weeks, "
                (g.weekly_hours) " hours a week"
            }
            @if !g.schedule.is_empty() {
                ul.schedule {
                    @for s in &g.schedule { li { (datetime(s.starts_at)) ", " (s.duration_minutes) " minutes" } }
                }
            }
            p { strong { "Members (" (g.members.len()) "):" } }
            ul.members {
                @for m in &g.members {
                    li {
                        @match &m.name {
                            Some(name) => { (name) " · " (m.org_name) (super::fingerprint(&m.org_fingerprint)) }
                            None => { "A member from " (m.org_name) (super::fingerprint(&m.org_fingerprint)) }
                        }
                    }
                }
            }
        }
    }
}

pub async fn answer<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    Path((org, id)): Path<(String, String)>,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.user_posting(&form)?;
    let from_org = org_key(&ctx, &org)?;
    let accept = match form.get("decision") {
        "accept" => true,
        "decline" => false,
        _ => {
            return Err(ctx.fail(crate::api::ApiError::Invalid(
                "Choose Accept or Decline.".into(),
            )));
        }
    };
    if accept && form.get("confirm") != "yes" {
        // A sender whose name looks like another organisation's is
        // accepted only with the confirmation box ticked.
        let inbox = state.node.inbox(&me.user).await.map_err(|e| ctx.fail(e))?;
        if let Some(warning) = inbox
            .iter()
            .find(|i| i.from_org == from_org && i.id == id)
            .and_then(|i| i.from_org_lookalike.as_ref())
        {
            return Err(ctx.fail(crate::api::ApiError::Invalid(format!(
                "Check who this is first: {warning}. Tick the box to accept anyway."
            ))));
        }
    }
    state
        .node
        .answer_request(
            &me.user,
            &from_org,
            &id,
            RequestAnswer {
                accept,
                reply: form.get("reply").to_string(),
            },
        )
        .await
        .map_err(|e| ctx.fail(e))?;
    done("/requests", "answered")
}
