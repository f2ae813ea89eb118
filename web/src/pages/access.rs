//! The page of an invitation or password-reset link (`/access/{token}`):
//! the person chooses their password, twice, and is signed in. The form
//! is protected like the sign-in form, by a double-submit token, since
//! there is no session yet. After a reset every other session of the
//! account ends.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use maud::html;

use super::{Ctx, FormData, PageResult};
use crate::Shared;
use crate::api::{AccessLinkFor, ApiError};
use crate::ports::NodeApi;
use crate::session;

fn form_page<S: NodeApi>(
    state: &Shared<S>,
    ctx: &Ctx,
    token: &str,
    link: &AccessLinkFor,
    error: Option<&str>,
) -> PageResult {
    let csrf = session::random_token().map_err(|e| ctx.fail(e))?;
    let invited = link.purpose == "invitation";
    let page = ctx.render(
        "Choose your password",
        html! {
            h1 { @if invited { "Welcome, " (link.display_name) } @else { "Choose a new password" } }
            p { "You sign in to " (ctx.org_name) " as " strong { (link.username) } "." }
            @if !invited { p.hint { "Choosing a new password signs you out everywhere else." } }
            @if let Some(error) = error { p.error role="alert" { (error) } }
            form.stack method="post" action={ "/access/" (token) } {
                (crate::layout::csrf_field(&csrf))
                label { "Password (at least 10 characters)" input #new-password type="password" name="password" autocomplete="new-password" minlength="10" required; }
                label { "The same again" input #repeat-password type="password" name="repeat" autocomplete="new-password" required; }
                button #set-password type="submit" { "Set my password and sign in" }
            }
        },
    );
    let cookie = session::set_cookie(
        &state.cookies.signin,
        &csrf,
        Duration::from_secs(3600),
        state.options.secure_cookies(),
    );
    Ok(([(header::SET_COOKIE, cookie)], page).into_response())
}

/// Whose password the link `token` sets; a link that does not work is
/// said so, with what to do.
async fn working_link<S: NodeApi>(
    state: &Shared<S>,
    ctx: &Ctx,
    token: &str,
) -> Result<AccessLinkFor, super::PageError> {
    state
        .node
        .access_link(token)
        .await
        .map_err(|e| ctx.fail(e))?
        .ok_or_else(|| {
            ctx.fail(ApiError::NotFound(
                "This link does not work (any more): it was used, expired, or was replaced by a newer one. Ask an admin of this organisation for a new one.".into(),
            ))
        })
}

/// `GET /access/{token}`.
pub async fn page<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> PageResult {
    let link = working_link(&state, &ctx, &token).await?;
    form_page(&state, &ctx, &token, &link, None)
}

/// `POST /access/{token}`: sets the password and signs in.
pub async fn submit<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    Path(token): Path<String>,
    parts: Parts,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let expected = session::cookie(&parts.headers, &state.cookies.signin).unwrap_or_default();
    if !session::csrf_matches(form.get("csrf"), expected) {
        return Err(ctx.fail(ApiError::Forbidden(
            "This form has expired or did not come from this site. Reload the page and try again."
                .into(),
        )));
    }
    let link = working_link(&state, &ctx, &token).await?;
    if form.raw("password") != form.raw("repeat") {
        let mut page = form_page(
            &state,
            &ctx,
            &token,
            &link,
            Some("The two passwords differ."),
        )?;
        *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(page);
    }
    let user = match state
        .node
        .use_access_link(&token, form.raw("password"))
        .await
    {
        Ok(user) => user,
        Err(ApiError::Invalid(why)) => {
            let mut page = form_page(&state, &ctx, &token, &link, Some(&why))?;
            *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(page);
        }
        Err(e) => return Err(ctx.fail(e)),
    };
    if link.purpose != "invitation" {
        let ended = state
            .sessions
            .end_all(&state.node, &user)
            .await
            .map_err(|e| ctx.fail(e))?;
        tracing::info!(username = %user.username, sessions = ended, "new password through a link; signed out everywhere");
    } else {
        tracing::info!(username = %user.username, "first password through an invitation");
    }
    let next = if link.purpose == "invitation" {
        "/profile"
    } else {
        "/"
    };
    super::signin::start_session(&state, &ctx, &user, &state.cookies.signin, next).await
}
