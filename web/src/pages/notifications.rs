//! `/notifications`: what happened that I should know of, newest first,
//! unread ones marked, each linking to the page it is about; and marking
//! them read. The count of unread ones shows in the navigation of every
//! page (see `layout`).

use axum::body::Bytes;
use axum::extract::State;
use maud::{Markup, html};

use super::{Ctx, FormData, PageResult, done};
use crate::Shared;
use crate::api::NotificationView;
use crate::dates::datetime;
use crate::ports::NodeApi;

fn render(ctx: &Ctx, notes: &[NotificationView]) -> Markup {
    html! {
        h1 { "Notifications" }
        @if notes.is_empty() {
            p.empty #notifications { "Nothing yet. When someone asks you for something, answers you or thanks you, it shows here." }
        } @else {
            @if notes.iter().any(|n| !n.read) {
                form method="post" action="/notifications/read" {
                    (ctx.csrf())
                    button #mark-all-read type="submit" { "Mark all as read" }
                }
            }
            ul.notifications #notifications {
                @for n in notes {
                    li class=(if n.read { "read" } else { "unread" }) data-kind=(n.kind) {
                        // Only our own paths: a notification's link is
                        // made by this node, but is checked here again.
                        @if n.link.starts_with('/') && !n.link.starts_with("//") {
                            a href=(n.link) { (n.text) }
                        } @else {
                            (n.text)
                        }
                        " " small.meta { (datetime(n.at)) }
                    }
                }
            }
        }
    }
}

pub async fn page<S: NodeApi>(State(state): State<Shared<S>>, ctx: Ctx) -> PageResult {
    let me = ctx.user()?;
    let notes = state
        .node
        .notifications(&me.user)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(ctx.render("Notifications", render(&ctx, &notes)))
}

/// `POST /notifications/read`: all of mine, read.
pub async fn mark_read<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.user_posting(&form)?;
    state
        .node
        .mark_notifications_read(&me.user, None)
        .await
        .map_err(|e| ctx.fail(e))?;
    done("/notifications", "notifications_read")
}
