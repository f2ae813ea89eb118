//! `/account`: who I am here, my API token for scripts, and my calendar
//! feed. `/calendar/{token}.ics` serves that feed to calendar programs,
//! which fetch it without signing in: the token in the address is the
//! only key, it opens nothing but the feed, and making a new one revokes
//! the old address.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::{Ctx, FormData, PageResult};
use crate::Shared;
use crate::ics;
use crate::ports::NodeApi;

/// What the page shows once, right after it was made.
enum Fresh {
    Nothing,
    ApiToken(String),
    CalendarUrl(String),
}

fn render(ctx: &Ctx, fresh: &Fresh) -> Markup {
    let user = ctx.me.as_ref().map(|m| &m.user);
    html! {
        h1 { "My account" }
        @if let Some(u) = user {
            dl.facts {
                dt { "Signed in as" } dd { (u.username) }
                dt { "Name" } dd { (u.display_name) }
                dt { "Role" } dd { @if u.is_admin() { "admin" } @else { "member" } }
            }
        }
        h2 { "API token" }
        p { "Scripts can call this node's JSON API (" a href="/api/v1/openapi.json" { "OpenAPI document" } ") with " code { "Authorization: Bearer <token>" } ", acting as you." }
        @if let Fresh::ApiToken(t) = fresh {
            p.notice { "Your new token (shown only now; a new one replaces it):" }
            pre.preview #api-token { (t) }
        }
        form method="post" action="/account" {
            (ctx.csrf())
            button type="submit" { "Create a new token" }
        }
        h2 { "Calendar feed" }
        p { "Subscribe to this address in your calendar program to see the sessions of the cohorts you joined and of your own offers. Anyone with the address can read the feed, and nothing else; a new address stops the old one." }
        @if let Fresh::CalendarUrl(url) = fresh {
            p.notice { "Your feed's address (shown only now):" }
            pre.preview #calendar-url { (url) }
        }
        form method="post" action="/account/calendar" {
            (ctx.csrf())
            button #new-calendar type="submit" { "Make a new feed address" }
        }
    }
}

pub async fn page(ctx: Ctx) -> PageResult {
    ctx.user()?;
    Ok(ctx.render("My account", render(&ctx, &Fresh::Nothing)))
}

pub async fn new_token<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.user_posting(&form)?;
    let token = state
        .node
        .new_api_token(&me.user)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(ctx.render("My account", render(&ctx, &Fresh::ApiToken(token))))
}

pub async fn new_calendar<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.user_posting(&form)?;
    let token = state
        .node
        .new_calendar_token(&me.user)
        .await
        .map_err(|e| ctx.fail(e))?;
    // Calendar programs need the whole address: the node's public one, or
    // else the one this browser reached it at.
    let base = match &state.options.public_url {
        Some(public) => public.trim_end_matches('/').to_string(),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .filter(|h| {
                    h.bytes().all(|b| {
                        b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
                    })
                })
                .unwrap_or("localhost");
            format!("http://{host}")
        }
    };
    let url = format!("{base}/calendar/{token}.ics");
    Ok(ctx.render("My account", render(&ctx, &Fresh::CalendarUrl(url))))
}

/// `GET /calendar/{token}.ics`: the feed, for whoever holds its address.
pub async fn feed<S: NodeApi>(
    State(state): State<Shared<S>>,
    Path(file): Path<String>,
) -> Response {
    let Some(token) = file.strip_suffix(".ics") else {
        return (StatusCode::NOT_FOUND, "No such calendar.").into_response();
    };
    let items = match state.node.calendar_feed(token).await {
        Ok(Some(items)) => items,
        Ok(None) => return (StatusCode::NOT_FOUND, "No such calendar.").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "calendar feed failed");
            return (StatusCode::SERVICE_UNAVAILABLE, "Try again later.").into_response();
        }
    };
    let sessions: Vec<Vec<ics::Session>> = items.iter().map(ics::of_feed_item).collect();
    let events: Vec<ics::Event<'_>> = items
        .iter()
        .zip(&sessions)
        .flat_map(|(item, sessions)| {
            sessions.iter().map(move |session| ics::Event {
                org: &item.org,
                org_name: &item.org_name,
                id: &item.id,
                session,
            })
        })
        .collect();
    ics::response("skillmesh", &events)
}
