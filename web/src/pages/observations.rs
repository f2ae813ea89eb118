//! `/observations`: peer observation. A person giving a session invites a
//! colleague (from the offer's page); the colleague answers a short form
//! here; what they wrote is shown to the trainer, and to nobody else.

use axum::body::Bytes;
use axum::extract::{Path, State};
use maud::{Markup, html};

use super::{Ctx, FormData, PageResult, done, scale};
use crate::Shared;
use crate::api::{Colleague, NewObservation, ObservationForm, ObservationView, Offer};
use crate::dates::datetime;
use crate::ports::NodeApi;

pub async fn page<S: NodeApi>(State(state): State<Shared<S>>, ctx: Ctx) -> PageResult {
    let me = ctx.user()?;
    let o = state
        .node
        .observations(&me.user)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(ctx.render(
        "Observations",
        html! {
            h1 { "Peer observation" }
            h2 { "Asked to observe" }
            @if o.to_give.is_empty() { p { "No one has asked you to observe a session." } }
            ol.results #to-give {
                @for v in &o.to_give {
                    li.card data-observation=(v.id) {
                        h3 { (v.offer_title) }
                        p.meta { (v.trainer_name) " asked you · " (v.when) " · " (datetime(v.invited_at)) }
                        @match &v.feedback {
                            Some(f) => { p.meta { "You answered." } (said(f)) }
                            None => { (form(&ctx, v)) }
                        }
                    }
                }
            }
            h2 { "Of my sessions" }
            @if o.of_mine.is_empty() { p { "Invite a colleague from one of " a href="/offers" { "your offers" } "." } }
            ol.results #of-mine {
                @for v in &o.of_mine {
                    li.card data-observation=(v.id) {
                        h3 { (v.offer_title) }
                        p.meta { (v.observer_name) " · " (v.when) }
                        @match &v.feedback {
                            Some(f) => { (said(f)) }
                            None => { p.meta { "Not answered yet." } }
                        }
                    }
                }
            }
            p.hint { "What an observer writes is for the person observed only." }
        },
    ))
}

fn said(f: &ObservationForm) -> Markup {
    html! {
        dl.facts.observation {
            dt { "Clarity" } dd { (f.clarity) " of 5" }
            dt { "Pace" } dd { (f.pace) " of 5" }
            dt { "Interaction" } dd { (f.interaction) " of 5" }
            dt { "Keep" } dd { (f.keep) }
            dt { "Change" } dd { (f.change) }
        }
    }
}

fn form(ctx: &Ctx, v: &ObservationView) -> Markup {
    html! {
        form.stack.observe method="post" action={ "/observations/" (v.id) } {
            (ctx.csrf())
            (scale("clarity", "Clarity, 1 to 5"))
            (scale("pace", "Pace, 1 (too slow or fast) to 5 (right)"))
            (scale("interaction", "Interaction, 1 to 5"))
            label { "One thing to keep" textarea name="keep" maxlength="2000" {} }
            label { "One thing to change" textarea name="change" maxlength="2000" {} }
            button type="submit" { "Send to " (v.trainer_name) }
        }
    }
}

/// `POST /observations/{id}`: the observer's answer.
pub async fn give<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.user_posting(&form)?;
    let answer = ObservationForm {
        clarity: form.number("clarity", "Clarity").map_err(|e| ctx.fail(e))?,
        pace: form.number("pace", "Pace").map_err(|e| ctx.fail(e))?,
        interaction: form
            .number("interaction", "Interaction")
            .map_err(|e| ctx.fail(e))?,
        keep: form.get("keep").to_string(),
        change: form.get("change").to_string(),
    };
    state
        .node
        .give_observation(&me.user, &id, answer)
        .await
        .map_err(|e| ctx.fail(e))?;
    done("/observations", "observed")
}

/// On one of my offers: invite a colleague to observe a session.
pub fn invite_form(ctx: &Ctx, offer: &Offer, colleagues: &[Colleague]) -> Markup {
    if offer.body.offer_status().is_none() || colleagues.is_empty() {
        return html! {};
    }
    html! {
        h2 { "Invite a colleague to observe" }
        form.stack #invite-observer method="post" action={ "/offers/" (offer.id) "/observers" } {
            (ctx.csrf())
            label { "Colleague"
                select #observer name="observer" {
                    @for c in colleagues { option value=(c.person_id) { (c.name) } }
                }
            }
            label { "Which session" input #when type="text" name="when" maxlength="200" placeholder="e.g. Tuesday 14:00, room 3"; }
            button #invite-observer-button type="submit" { "Invite" }
        }
        p.hint { "They answer a short form (clarity, pace, interaction, one thing to keep, one to change) that only you see." }
    }
}

/// `POST /offers/{id}/observers`.
pub async fn invite<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.user_posting(&form)?;
    state
        .node
        .invite_observer(
            &me.user,
            &id,
            NewObservation {
                observer: form.get("observer").to_string(),
                when: form.get("when").to_string(),
            },
        )
        .await
        .map_err(|e| ctx.fail(e))?;
    done("/observations", "observer_invited")
}
