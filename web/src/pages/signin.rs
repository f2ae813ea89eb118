//! Signing in and out. The sign-in form is protected against cross-site
//! submission by a double-submit token (a cookie and a hidden field that
//! must match), since there is no session yet to hold one.
//!
//! Single sign-on (when the node has `[auth.oidc]`) is two requests:
//! `/signin/sso` starts it with the node and sends the browser to the
//! provider, with a short-lived cookie holding the state (and where to go
//! after); `/signin/sso/callback` is where the provider sends it back,
//! and is finished only when the state it brings is the cookie's, so a
//! sign-in cannot be finished in a browser that did not start it.

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
    let options = state.node.sign_in_options();
    let sso_href = format!(
        "/signin/sso?next={}",
        form_urlencoded::byte_serialize(safe_next(next).as_bytes()).collect::<String>()
    );
    let page = ctx.render(
        "Sign in",
        html! {
            h1 { "Sign in to " (ctx.org_name) }
            @if let Some(error) = error {
                p.error role="alert" { (error) }
            }
            @if let Some(provider) = &options.single_sign_on {
                p { a.button #sso href=(sso_href) { "Sign in with " (provider) } }
            }
            @if options.password {
                @if options.single_sign_on.is_some() {
                    p.hint { "Or with the password of a local account:" }
                }
                form.stack method="post" action="/signin" {
                    (crate::layout::csrf_field(&token))
                    input type="hidden" name="next" value=(safe_next(next));
                    label { "Email" input #username type="email" name="username" autocomplete="username" required; }
                    label { "Password" input #password type="password" name="password" autocomplete="current-password" required; }
                    button #signin type="submit" { "Sign in" }
                }
                p.hint { "Accounts are made by this organisation's admins (or with " code { "skillmesh user add" } ")." }
            }
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
    let options = state.node.sign_in_options();
    if !options.password {
        return Err(ctx.fail(ApiError::Forbidden(format!(
            "Signing in with a password is switched off here: sign in with {}.",
            options
                .single_sign_on
                .as_deref()
                .unwrap_or("the organisation's account")
        ))));
    }
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
    tracing::info!(username = %user.username, "signed in");
    start_session(&state, &ctx, &user, &state.cookies.signin, &next).await
}

/// Starts a session for `user` and goes to `next`, deleting the cookie
/// `used` that carried the sign-in.
pub(crate) async fn start_session<S: NodeApi>(
    state: &Shared<S>,
    ctx: &Ctx,
    user: &crate::api::User,
    used: &str,
    next: &str,
) -> PageResult {
    let (token, _csrf) = state
        .sessions
        .start(&state.node, &user.username)
        .await
        .map_err(|e| ctx.fail(e))?;
    let secure = state.options.secure_cookies();
    Ok((
        AppendHeaders([
            (
                header::SET_COOKIE,
                session::set_cookie(&state.cookies.session, &token, SESSION_MAX_AGE, secure),
            ),
            (
                header::SET_COOKIE,
                session::set_cookie(used, "", Duration::ZERO, secure),
            ),
        ]),
        Redirect::to(safe_next(next)),
    )
        .into_response())
}

/// How long a single sign-on may take at the provider.
const SSO_COOKIE_AGE: Duration = Duration::from_secs(600);

/// `GET /signin/sso`: starts a single sign-on and sends the browser to
/// the provider.
pub async fn sso_start<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    uri: axum::http::Uri,
) -> PageResult {
    let q = query_map(&uri);
    let next = safe_next(q.get("next").map_or("/", String::as_str)).to_string();
    if ctx.me.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    let started = state.node.begin_sso().await.map_err(|e| ctx.fail(e))?;
    // The state (letters, digits, `-` and `_`), then where to go after,
    // hex-encoded so the cookie holds no separators.
    let value = format!("{}.{}", started.state, hex::encode(next.as_bytes()));
    Ok((
        [(
            header::SET_COOKIE,
            session::set_cookie(
                &state.cookies.sso,
                &value,
                SSO_COOKIE_AGE,
                state.options.secure_cookies(),
            ),
        )],
        Redirect::to(&started.url),
    )
        .into_response())
}

/// `GET /signin/sso/callback`: the provider sends the browser back here
/// with `state` and `code` (or `error`).
pub async fn sso_callback<S: NodeApi>(
    State(state): State<Shared<S>>,
    ctx: Ctx,
    parts: Parts,
) -> PageResult {
    let q = query_map(&parts.uri);
    let cookie = session::cookie(&parts.headers, &state.cookies.sso).unwrap_or_default();
    let (bound, next) = cookie.split_once('.').unwrap_or((cookie, ""));
    let next = hex::decode(next)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_else(|| "/".into());
    if let Some(error) = q.get("error") {
        let said = q.get("error_description").unwrap_or(error);
        tracing::info!(
            error,
            "single sign-on: the provider did not sign the person in"
        );
        return Err(ctx.fail(ApiError::Unauthorized(format!(
            "The sign-in provider did not sign you in ({said}). Try again from the sign-in page."
        ))));
    }
    let (Some(returned), Some(code)) = (q.get("state"), q.get("code")) else {
        return Err(ctx.fail(ApiError::Invalid(
            "This address is where the sign-in provider sends you back; it came without a sign-in. Start again from the sign-in page.".into(),
        )));
    };
    if bound.is_empty() || !session::csrf_matches(returned, bound) {
        return Err(ctx.fail(ApiError::Forbidden(
            "This sign-in expired or was started in another browser. Start again from the sign-in page.".into(),
        )));
    }
    let user = state
        .node
        .finish_sso(returned, code)
        .await
        .map_err(|e| ctx.fail(e))?;
    tracing::info!(username = %user.username, "signed in through the single sign-on provider");
    start_session(&state, &ctx, &user, &state.cookies.sso, &next).await
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
