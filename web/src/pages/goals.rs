//! `/goals`: what I want to learn, noted privately. It stays on this node:
//! suggestions on the home page are ranked from it here.

use axum::body::Bytes;
use axum::extract::State;
use maud::{Markup, html};

use super::{Ctx, FormData, PageResult, done};
use crate::Shared;
use crate::api::{LearningGoals, Suggestion};
use crate::pages::find::hit_card;
use crate::pages::profile::FORMATS;
use crate::ports::NodeApi;
use skillmesh_protocol::kinds::wire_name;

pub async fn page<S: NodeApi>(State(state): State<Shared<S>>, ctx: Ctx) -> PageResult {
    let me = ctx.user()?;
    let goals = state.node.goals(&me.user).await.map_err(|e| ctx.fail(e))?;
    Ok(ctx.render("What I want to learn", render(&ctx, &goals)))
}

pub async fn save<S: NodeApi>(State(state): State<Shared<S>>, ctx: Ctx, body: Bytes) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.user_posting(&form)?;
    let max_hours_apart = match form.get("max_hours_apart") {
        "" => None,
        _ => Some(
            form.number("max_hours_apart", "Hours apart")
                .map_err(|e| ctx.fail(e))?,
        ),
    };
    let goals = LearningGoals {
        goals: form.get("goals").to_string(),
        topics: form.list("topics"),
        formats: form
            .all("formats")
            .into_iter()
            .filter_map(|f| {
                FORMATS
                    .iter()
                    .find(|(x, _)| wire_name(x) == f)
                    .map(|(x, _)| *x)
            })
            .collect(),
        languages: form.list("languages"),
        max_hours_apart,
    };
    state
        .node
        .set_goals(&me.user, goals)
        .await
        .map_err(|e| ctx.fail(e))?;
    done("/", "goals")
}

fn render(ctx: &Ctx, g: &LearningGoals) -> Markup {
    html! {
        h1 { "What I want to learn" }
        p { "This stays on " (ctx.org_name) "'s node: it is never sent to another organisation. Your home page suggests people and offers that could help, ranked from it here." }
        form.stack #goals-form method="post" action="/goals" {
            (ctx.csrf())
            label { "My goals, in my own words" textarea #goals name="goals" maxlength="2000" placeholder="e.g. get better at running on-call for my team" { (g.goals) } }
            label { "Topics (comma-separated)" input #goal-topics type="text" name="topics" value=(g.topics.join(", ")) placeholder="e.g. incident response, Kubernetes"; }
            fieldset {
                legend { "Formats I prefer" }
                @for (f, l) in FORMATS {
                    label.check { input type="checkbox" name="formats" value=(wire_name(&f)) checked[g.formats.contains(&f)]; (l) }
                }
            }
            label { "Languages I can learn in (comma-separated; empty: any)" input #goal-languages type="text" name="languages" value=(g.languages.join(", ")); }
            label { "At most this many hours from my time zone (empty: any)" input #max_hours_apart type="number" min="0" max="12" name="max_hours_apart" value=(g.max_hours_apart.map(|h| h.to_string()).unwrap_or_default()); }
            button #save-goals type="submit" { "Save" }
        }
    }
}

/// The home page's "people who could help you with …" section.
pub fn suggestions(goals: &LearningGoals, list: &[Suggestion]) -> Markup {
    let about = if goals.topics.is_empty() {
        goals.goals.clone()
    } else {
        goals.topics.join(", ")
    };
    html! {
        section #suggestions {
            h2 { "People who could help you with " (about) }
            @if list.is_empty() {
                p { "Nobody in the network matches yet. " a href="/goals" { "Change what you want to learn" } " or " a href="/find" { "search" } "." }
            }
            ol.results {
                @for s in list {
                    li.card {
                        (hit_card(&s.hit))
                        ul.reasons { @for r in &s.reasons { li { (r) } } }
                    }
                }
            }
            p.hint { "Ranked on this node from your goals, which never leave it. " a href="/goals" { "Change them" } "." }
        }
    }
}
