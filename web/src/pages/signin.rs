//! Signing in and out. The sign-in form is protected against cross-site
//! submission by a double-submit token (a cookie and a hidden field that
//! must match), since there is no session yet to hold one.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use maud::html;

use super::{Ctx, FormData, PageError, PageResult, query_map};
use crate::Shared;
use crate::SignInFailure;
use crate::api::ApiError;
use crate::ports::NodeApi;
use crate::session::{self, SESSION_MAX_AGE};

/// Where to go after signing in: only a local path, never another site.
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/"
    }
}

fn form_page<S: NodeApi>(
    state: &Shared<S>,
    ctx: &Ctx,
    next: &str,
    error: Option<&str>,
) -> PageResult {
    let token = session::random_token().map_err(|e| ctx.fail(e))?;
    let page = ctx.render(
        "Sign in",
        html! {
            h1 { "Sign in to " (ctx.org_name) }
            @if let Some(error) = error {
                p.error role="alert" { (error) }
            }
            form.stack method="post" action="/signin" {
                (crate::layout::csrf_field(&token))
                input type="hidden" name="next" value=(safe_next(next));
                label { "Email" input #username type="email" name="username" autocomplete="username" required; }
                label { "Password" input #password type="password" name="password" autocomplete="current-password" required; }
                button #signin type="submit" { "Sign in" }
            }
            p.hint { "Accounts are made by this organisation's admins (or with " code { "skillmesh user add" } ")." }
        },
    );
    let cookie = session::set_cookie(
        &state.cookies.signin,
        &token,
        Duration::from_secs(3600),
        state.options.secure_cookies(),
    );
    Ok(([(header::SET_COOKIE, cookie)], page).into_response())
}

pub async fn form<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    uri: axum::http::Uri,
) -> PageResult {
    let q = query_map(&uri);
    let next = q.get("next").map_or("/", String::as_str);
    if ctx.me.is_some() {
        return Ok(Redirect::to(safe_next(next)).into_response());
    }
    form_page(&state, &ctx, next, None)
}

pub async fn submit<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    parts: Parts,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let next = form.get("next").to_string();
    let expected = session::cookie(&parts.headers, &state.cookies.signin).unwrap_or_default();
    if !session::csrf_matches(form.get("csrf"), expected) {
        return Err(ctx.fail(ApiError::Forbidden(
            "This sign-in form has expired or did not come from this site. Reload the page and try again."
                .into(),
        )));
    }
    let username = form.get("username");
    let ip = session::client_ip(&parts, &state.options.trusted_proxies);
    if let Err(e) = state.sign_in_limiter.check(username, ip) {
        state.sign_in_failed(SignInFailure::RateLimited);
        tracing::warn!(username, ?ip, "sign-in refused: too many failures");
        return Err(ctx.fail(e));
    }
    let user = state
        .node
        .sign_in(username, form.raw("password"))
        .await
        .map_err(|e| ctx.fail(e))?;
    let Some(user) = user else {
        state.sign_in_limiter.failed(username, ip);
        state.sign_in_failed(SignInFailure::WrongPassword);
        tracing::info!(username, ?ip, "sign-in failed");
        let mut page = form_page(&state, &ctx, &next, Some("Wrong email or password."))?;
        *page.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
        return Ok(page);
    };
    let (token, _csrf) = state
        .sessions
        .start(&state.node, &user.username)
        .await
        .map_err(|e| ctx.fail(e))?;
    tracing::info!(username = %user.username, "signed in");
    let secure = state.options.secure_cookies();
    Ok((
        AppendHeaders([
            (
                header::SET_COOKIE,
                session::set_cookie(&state.cookies.session, &token, SESSION_MAX_AGE, secure),
            ),
            (
                header::SET_COOKIE,
                session::set_cookie(&state.cookies.signin, "", Duration::ZERO, secure),
            ),
        ]),
        Redirect::to(safe_next(&next)),
    )
        .into_response())
}

pub async fn sign_out<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    body: Bytes,
) -> Result<Response, PageError> {
    let form = FormData::parse(&body);
    let me = ctx.user_posting(&form)?;
    state
        .sessions
        .end(&state.node, &me.token)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(signed_out(&state, "signed_out"))
}

/// `POST /account/signout-everywhere`: ends every session of mine, in
/// every browser, this one too.
pub async fn sign_out_everywhere<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    body: Bytes,
) -> Result<Response, PageError> {
    let form = FormData::parse(&body);
    let me = ctx.user_posting(&form)?;
    let ended = state
        .sessions
        .end_all(&state.node, &me.user)
        .await
        .map_err(|e| ctx.fail(e))?;
    tracing::info!(username = %me.user.username, sessions = ended, "signed out everywhere");
    Ok(signed_out(&state, "signed_out_everywhere"))
}

/// To the sign-in page with `notice`, the session cookie deleted.
fn signed_out<S: NodeApi>(state: &Shared<S>, notice: &str) -> Response {
    (
        [(
            header::SET_COOKIE,
            session::set_cookie(
                &state.cookies.session,
                "",
                Duration::ZERO,
                state.options.secure_cookies(),
            ),
        )],
        Redirect::to(&format!("/signin?notice={notice}")),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(super::safe_next("/find?q=x"), "/find?q=x");
        assert_eq!(super::safe_next("//evil.example/"), "/");
        assert_eq!(super::safe_next("https://evil.example/"), "/");
        assert_eq!(super::safe_next("/\\evil.example"), "/");
    }
}
