//! `GET /`: the start page. Signed out, it says which organisation this
//! node is and how to sign in; signed in, it leads to search and to what
//! waits for the person.

use axum::extract::State;
use maud::html;

use super::{Ctx, PageResult};
use crate::Shared;
use crate::api::RequestStatus;
use crate::ports::NodeApi;

pub async fn page<S: NodeApi>(State(state): State<Shared<S>>, ctx: Ctx) -> PageResult {
    let health = state.node.health().await;
    let Some(me) = &ctx.me else {
        return Ok(ctx.render(
            "Welcome",
            html! {
                h1 { (health.org) }
                p.lead { "This is " (health.org) "'s Skillmesh node: find experts, mentors, talks and cohorts at partner organisations, and offer your own." }
                p { a.button href="/signin" { "Sign in" } }
                dl.facts {
                    dt { "Partner organisations' records held" } dd { (health.federated_records) }
                    dt { "Records " (health.org) " publishes" } dd { (health.own_records) }
                    dt { "Connected peers" } dd { (health.peers) }
                }
            },
        ));
    };
    let goals = state.node.goals(&me.user).await.map_err(|e| ctx.fail(e))?;
    let suggestions = if goals.goals.is_empty() && goals.topics.is_empty() {
        None
    } else {
        Some(
            state
                .node
                .suggestions(&me.user)
                .await
                .map_err(|e| ctx.fail(e))?,
        )
    };
    let recommended = state
        .node
        .recommended(&me.user)
        .await
        .map_err(|e| ctx.fail(e))?;
    let following = state
        .node
        .following(&me.user)
        .await
        .map_err(|e| ctx.fail(e))?;
    let inbox = state.node.inbox(&me.user).await.map_err(|e| ctx.fail(e))?;
    let outbox = state.node.outbox(&me.user).await.map_err(|e| ctx.fail(e))?;
    let waiting = inbox
        .iter()
        .filter(|i| i.status == RequestStatus::Pending)
        .count();
    let accepted = outbox
        .iter()
        .filter(|o| o.status == RequestStatus::Accepted)
        .count();
    Ok(ctx.render(
        "Home",
        html! {
            h1 { "Hello, " (me.user.display_name) }
            form.search role="search" method="get" action="/find" {
                label for="q" { "Find an expert, mentor, talk or cohort" }
                div.row {
                    input #q type="search" name="q" placeholder="e.g. kubernetes, negotiation, first-time managers";
                    button type="submit" { "Search" }
                }
            }
            @match &suggestions {
                Some(list) => { (super::goals::suggestions(&goals, list)) }
                None => {
                    p.notice { a href="/goals" { "Note what you want to learn" } " and this page will suggest people and offers that could help. It stays on this node." }
                }
            }
            @if !recommended.is_empty() {
                h2 { "Recommended to you" }
                ul #recommended {
                    @for r in &recommended {
                        li {
                            a href={ "/listing/" (r.org.to_hex()) "/" (r.id) } { (r.title) }
                            span.meta { " · from " (r.from_name) @if r.org_name != ctx.org_name { " · at " (r.org_name) (super::fingerprint(&r.org_fingerprint)) } }
                            @if !r.note.is_empty() { br; q { (r.note) } }
                        }
                    }
                }
            }
            @if !following.is_empty() {
                h2 { "Learning paths I follow" }
                ul #following {
                    @for f in &following {
                        li {
                            @if f.withdrawn {
                                (f.title) span.meta { " · withdrawn by " (f.org_name) (super::fingerprint(&f.org_fingerprint)) }
                            } @else {
                                a href={ "/listing/" (f.org.to_hex()) "/" (f.id) } { (f.title) }
                                span.meta { " · " (f.org_name) (super::fingerprint(&f.org_fingerprint)) " · " (f.done) " of " (f.total) " done" }
                            }
                        }
                    }
                }
            }
            ul.tiles {
                li { a href="/requests" { strong { (waiting) } " request" @if waiting != 1 { "s" } " waiting for your answer" } }
                li { a href="/requests" { strong { (accepted) } " of your request" @if accepted != 1 { "s" } " accepted" } }
                li { a href="/profile" { "Your profile and what leaves " (ctx.org_name) } }
                li { a href="/offers" { "Offer a talk, mentoring, a cohort or something worth learning from" } }
                li { a href="/observations" { "Peer observation: sessions you observe, and what observers said of yours" } }
                li { a href="/guide" { "Giving your first talk or workshop? The short guide" } }
            }
            p.hint { (health.federated_records) " records from partner organisations, " (health.peers) " peers connected." }
        },
    ))
}
