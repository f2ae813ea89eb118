//! `/account`: who I am here, my API tokens for scripts (named, listed
//! with their last use, each revocable), signing out everywhere, and my
//! calendar feed. `/calendar/{token}.ics` serves that feed to calendar programs,
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
use crate::api::{ApiTokenInfo, MailChoiceView};
use crate::dates;
use crate::ics;
use crate::ports::NodeApi;

/// What the page shows once, right after it was made.
enum Fresh {
    Nothing,
    ApiToken(String),
    CalendarUrl(String),
}

/// How each kind of notification is mailed: a choice per kind.
fn mail_form(ctx: &Ctx, mail: &(bool, Vec<MailChoiceView>)) -> Markup {
    const CHOICES: [(&str, &str); 3] = [
        ("immediately", "at once"),
        ("digest", "in a digest"),
        ("never", "never"),
    ];
    html! {
        h2 { "Mail" }
        @if !mail.0 {
            p.hint { "This node sends no mail: its admin has not set up a mail server. Your notifications are under Notifications." }
        } @else {
            form.stack #mail-choices method="post" action="/account/mail" {
                (ctx.csrf())
                @for c in &mail.1 {
                    label { (c.label)
                        select name=(c.kind) id={ "mail-" (c.kind) } {
                            @for (value, words) in CHOICES {
                                option value=(value) selected[c.choice == value] { (words) }
                            }
                        }
                    }
                }
                button #save-mail type="submit" { "Save" }
            }
        }
    }
}

fn render(
    ctx: &Ctx,
    tokens: &[ApiTokenInfo],
    mail: &(bool, Vec<MailChoiceView>),
    fresh: &Fresh,
) -> Markup {
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
        h2 { "API tokens" }
        p { "Scripts can call this node's JSON API (" a href="/api/v1/openapi.json" { "OpenAPI document" } ") with " code { "Authorization: Bearer <token>" } ", acting as you. Give each script or machine its own token, so you can revoke one without stopping the others." }
        @if let Fresh::ApiToken(t) = fresh {
            p.notice { "Your new token (shown only now; copy it into your script):" }
            pre.preview #api-token { (t) }
        }
        @if tokens.is_empty() {
            p.empty #tokens { "You have no API tokens." }
        } @else {
            table #tokens {
                thead { tr { th { "Name" } th { "Made" } th { "Last used" } th {} } }
                tbody {
                    @for t in tokens {
                        tr data-token=(t.id) {
                            td { (t.name) }
                            td { (dates::datetime(t.created_at)) }
                            td { @if let Some(at) = t.last_used_at { (dates::datetime(at)) } @else { "never" } }
                            td {
                                form method="post" action={ "/account/tokens/" (t.id) "/revoke" } {
                                    (ctx.csrf())
                                    button.secondary type="submit" { "Revoke" }
                                }
                            }
                        }
                    }
                }
            }
        }
        form method="post" action="/account" {
            (ctx.csrf())
            label for="token-name" { "Name of the new token" }
            input #token-name type="text" name="name" maxlength="80" placeholder="e.g. reporting script";
            button type="submit" { "Create a token" }
        }
        (mail_form(ctx, mail))
        h2 { "Where you are signed in" }
        p { "A sign-in lasts 8 hours without use and 7 days at most, and survives restarts of this node. Signing out everywhere ends it in every browser, this one too." }
        form method="post" action="/account/signout-everywhere" {
            (ctx.csrf())
            button #signout-everywhere type="submit" { "Sign out everywhere" }
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

/// The page with `fresh` shown once.
async fn show<S: NodeApi>(state: &Shared<S>, ctx: &Ctx, fresh: &Fresh) -> PageResult {
    let me = ctx.user()?;
    let tokens = state
        .node
        .api_tokens(&me.user)
        .await
        .map_err(|e| ctx.fail(e))?;
    let mail = state
        .node
        .mail_choices(&me.user)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(ctx.render("My account", render(ctx, &tokens, &mail, fresh)))
}

/// `POST /account/mail`: how each kind of notification is mailed.
pub async fn set_mail<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.user_posting(&form)?;
    let (_, current) = state
        .node
        .mail_choices(&me.user)
        .await
        .map_err(|e| ctx.fail(e))?;
    let choices = current
        .into_iter()
        .map(|c| MailChoiceView {
            choice: match form.get(&c.kind) {
                "" => c.choice.clone(),
                chosen => chosen.to_string(),
            },
            ..c
        })
        .collect();
    state
        .node
        .set_mail_choices(&me.user, choices)
        .await
        .map_err(|e| ctx.fail(e))?;
    super::done("/account", "mail_saved")
}

pub async fn page<S: NodeApi>(State(state): State<Shared<S>>, ctx: Ctx) -> PageResult {
    show(&state, &ctx, &Fresh::Nothing).await
}

pub async fn new_token<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.user_posting(&form)?;
    let made = state
        .node
        .new_api_token(&me.user, form.get("name"))
        .await
        .map_err(|e| ctx.fail(e))?;
    show(&state, &ctx, &Fresh::ApiToken(made.token)).await
}

/// `POST /account/tokens/{id}/revoke`.
pub async fn revoke_token<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let me = ctx.user_posting(&form)?;
    state
        .node
        .revoke_api_token(&me.user, &id)
        .await
        .map_err(|e| ctx.fail(e))?;
    super::done("/account", "token_revoked")
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
    show(&state, &ctx, &Fresh::CalendarUrl(url)).await
}

/// `GET /calendar/{token}.ics`: the feed, for whoever holds its address.
pub async fn feed<S: NodeApi>(
    State(state): State<Shared<S>>,
    Path(file): Path<String>,
) -> Response {
    // Calendar apps read these answers, not people: plain text, as is.
    let as_is = axum::Extension(crate::layers::AsIs);
    let Some(token) = file.strip_suffix(".ics") else {
        return (StatusCode::NOT_FOUND, as_is, "No such calendar.").into_response();
    };
    let items = match state.node.calendar_feed(token).await {
        Ok(Some(items)) => items,
        Ok(None) => return (StatusCode::NOT_FOUND, as_is, "No such calendar.").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "calendar feed failed");
            return (StatusCode::SERVICE_UNAVAILABLE, as_is, "Try again later.").into_response();
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
