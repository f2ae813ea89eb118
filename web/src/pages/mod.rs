//! Server-rendered pages. Each handler takes a [`Ctx`] (organisation, who
//! is signed in, the notice to show), checks the role it needs, calls the
//! node, and renders with maud, which escapes every interpolated value.
//! State changes are POSTed forms carrying the session's CSRF token,
//! answered with a redirect (post/redirect/get).

pub mod access;
pub mod account;
pub mod admin;
pub mod assets;
pub mod content;
pub mod events;
pub mod find;
pub mod goals;
pub mod guide;
pub mod home;
pub mod impact;
pub mod listing;
pub mod notifications;
pub mod observations;
pub mod offers;
pub mod profile;
pub mod requests;
pub mod signin;

use std::collections::HashMap;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{Markup, html};

use crate::Shared;
use crate::api::ApiError;
use crate::layout::{self, Chrome};
use crate::ports::NodeApi;
use crate::session::{self, SignedIn};

/// Everything a page handler knows about its request.
pub struct Ctx {
    pub org_name: String,
    pub me: Option<SignedIn>,
    /// The signed-in person's unread notifications, for the navigation.
    pub unread: usize,
    /// Path and query, for coming back after signing in.
    pub here: String,
    pub notice: Option<&'static str>,
}

impl<S: NodeApi> FromRequestParts<Shared<S>> for Ctx {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared<S>) -> Result<Self, PageError> {
        let org_name = state.node.org_name();
        let me = session::from_cookie(state, &parts.headers)
            .await
            .map_err(|e| PageError::page(&org_name, None, e))?;
        // The count is a convenience: a failure to read it does not fail
        // the page.
        let unread = match &me {
            Some(m) => state
                .node
                .unread_notifications(&m.user)
                .await
                .unwrap_or_else(|e| {
                    tracing::debug!(error = %e, "cannot count unread notifications");
                    0
                }),
            None => 0,
        };
        let notice = parts.uri.query().and_then(|q| {
            form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "notice")
                .and_then(|(_, v)| layout::notice_text(&v))
        });
        Ok(Ctx {
            org_name,
            me,
            unread,
            here: parts
                .uri
                .path_and_query()
                .map_or("/".to_string(), |p| p.to_string()),
            notice,
        })
    }
}

impl Ctx {
    /// The signed-in person, or a redirect to the sign-in page.
    pub fn user(&self) -> Result<&SignedIn, PageError> {
        self.me.as_ref().ok_or_else(|| {
            let next: String = form_urlencoded::byte_serialize(self.here.as_bytes()).collect();
            PageError::Redirect(format!("/signin?next={next}"))
        })
    }

    /// The signed-in admin; members get a 403 page.
    pub fn admin(&self) -> Result<&SignedIn, PageError> {
        let me = self.user()?;
        if me.user.is_admin() {
            Ok(me)
        } else {
            Err(self.fail(ApiError::Forbidden(
                "This page is for the organisation's admins.".into(),
            )))
        }
    }

    /// The signed-in person, after checking the form's CSRF token.
    pub fn user_posting(&self, form: &FormData) -> Result<&SignedIn, PageError> {
        let me = self.user()?;
        me.check_csrf(form.get("csrf")).map_err(|e| self.fail(e))?;
        Ok(me)
    }

    /// The signed-in admin, after checking the form's CSRF token.
    pub fn admin_posting(&self, form: &FormData) -> Result<&SignedIn, PageError> {
        let me = self.admin()?;
        me.check_csrf(form.get("csrf")).map_err(|e| self.fail(e))?;
        Ok(me)
    }

    pub fn fail(&self, error: ApiError) -> PageError {
        PageError::page(&self.org_name, self.me.as_ref(), error)
    }

    fn chrome(&self) -> Chrome<'_> {
        Chrome {
            org_name: &self.org_name,
            user: self.me.as_ref().map(|m| &m.user),
            csrf: self.me.as_ref().map(|m| m.csrf.as_str()),
            notice: self.notice,
            unread: self.unread,
        }
    }

    /// A full page.
    pub fn render(&self, title: &str, content: Markup) -> Response {
        Html(layout::page(&self.chrome(), title, content).into_string()).into_response()
    }

    /// The CSRF field for forms on this page (empty when signed out).
    pub fn csrf(&self) -> Markup {
        match &self.me {
            Some(me) => layout::csrf_field(&me.csrf),
            None => html! {},
        }
    }
}

/// A page that could not be shown: a redirect (to sign in) or an error
/// page that says what went wrong in a sentence.
pub enum PageError {
    Redirect(String),
    Page { status: StatusCode, html: String },
}

impl PageError {
    pub fn page(org_name: &str, me: Option<&SignedIn>, error: ApiError) -> PageError {
        let heading = match &error {
            ApiError::NotFound(_) => "Not found",
            ApiError::Forbidden(_) => "Not allowed",
            ApiError::Unauthorized(_) => "Please sign in",
            ApiError::TooManyRequests(_) => "Too many attempts",
            ApiError::Unavailable(_) => "Something went wrong",
            ApiError::Invalid(_) | ApiError::Conflict(_) => "That did not work",
        };
        PageError::Page {
            status: error.status(),
            html: error_page(org_name, me, heading, &error.to_string()),
        }
    }
}

/// An error page: a heading, what went wrong in a sentence, and the way
/// back. Also for the errors no handler shaped (see `layers.rs`).
pub fn error_page(org_name: &str, me: Option<&SignedIn>, heading: &str, message: &str) -> String {
    let chrome = Chrome {
        org_name,
        user: me.map(|m| &m.user),
        csrf: me.map(|m| m.csrf.as_str()),
        notice: None,
        unread: 0,
    };
    let content = html! {
        h1 { (heading) }
        p.error role="alert" { (message) }
        p { a href="/" { "Go to the start page" } }
    };
    layout::page(&chrome, heading, content).into_string()
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::Redirect(to) => Redirect::to(&to).into_response(),
            PageError::Page { status, html } => (status, Html(html)).into_response(),
        }
    }
}

pub type PageResult = Result<Response, PageError>;

/// Redirect after a successful POST, with a notice code.
pub fn done(path: &str, notice: &str) -> PageResult {
    let sep = if path.contains('?') { '&' } else { '?' };
    Ok(Redirect::to(&format!("{path}{sep}notice={notice}")).into_response())
}

/// A submitted `application/x-www-form-urlencoded` form. Repeated fields
/// (checkboxes) are kept in order.
pub struct FormData {
    pairs: Vec<(String, String)>,
}

impl FormData {
    /// Browsers send a textarea's line breaks as CR LF (HTML's form
    /// encoding); they are kept as LF, since records allow no CR.
    pub fn parse(body: &[u8]) -> FormData {
        FormData {
            pairs: form_urlencoded::parse(body)
                .map(|(k, v)| {
                    let v = if v.contains('\r') {
                        v.replace("\r\n", "\n").replace('\r', "\n")
                    } else {
                        v.into_owned()
                    };
                    (k.into_owned(), v)
                })
                .collect(),
        }
    }

    /// The first value of `name`, trimmed; empty when absent.
    pub fn get(&self, name: &str) -> &str {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.trim())
    }

    /// The first value of `name` exactly as sent (passwords).
    pub fn raw(&self, name: &str) -> &str {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .collect()
    }

    pub fn has(&self, name: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == name)
    }

    /// A number field; `what` names it in the error.
    pub fn number<T: std::str::FromStr>(&self, name: &str, what: &str) -> Result<T, ApiError> {
        self.get(name)
            .parse()
            .map_err(|_| ApiError::Invalid(format!("{what} must be a whole number.")))
    }

    /// A comma-separated list field, without empty entries.
    pub fn list(&self, name: &str) -> Vec<String> {
        split_list(self.get(name))
    }
}

/// `"a, b,,c"` → `["a", "b", "c"]`.
pub fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Another organisation's key fingerprint, shown after its name wherever a
/// page names it: anyone can take a name, only the key tells two
/// organisations apart (docs/PROTOCOL.md §Keys and identity).
pub fn fingerprint(fp: &str) -> Markup {
    html! { " " code.fingerprint title="The organisation's key fingerprint" { (fp) } }
}

/// "← Previous · Page n of m · Next →" for a list shown `page` (from 1)
/// of `pages` at a time; `href` gives a page's address. Nothing when it
/// all fits on one page.
pub fn pager(page: usize, pages: usize, href: impl Fn(usize) -> String) -> Markup {
    html! {
        @if pages > 1 {
            nav.pager aria-label="Pages" {
                @if page > 1 {
                    a href=(href(page - 1)) rel="prev" { "← Previous" }
                }
                span { "Page " (page) " of " (pages) }
                @if page < pages {
                    a href=(href(page + 1)) rel="next" { "Next →" }
                }
            }
        }
    }
}

/// Query parameters as a map (for pages with optional filters).
pub fn query_map(uri: &Uri) -> HashMap<String, String> {
    uri.query()
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// A required choice from 1 to 5, for the forms that ask how something
/// went (feedback, observation).
pub fn scale(name: &str, label: &str) -> Markup {
    html! {
        label { (label)
            select name=(name) required {
                option value="" { "—" }
                @for n in 1..=5u8 { option value=(n) { (n) } }
            }
        }
    }
}

/// Parses an organisation key from a path segment.
pub fn org_key(ctx: &Ctx, hex: &str) -> Result<skillmesh_protocol::OrgKey, PageError> {
    hex.parse()
        .map_err(|_| ctx.fail(ApiError::NotFound("There is no such organisation.".into())))
}

/// Any path no route matches.
pub async fn not_found<S: NodeApi>(State(state): State<Shared<S>>, ctx: Ctx) -> Response {
    let _ = state;
    if ctx.here.starts_with("/api/") {
        return ApiError::NotFound("There is no such API operation.".into()).into_response();
    }
    ctx.fail(ApiError::NotFound(
        "There is no page at this address.".into(),
    ))
    .into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn line_breaks_from_a_textarea_arrive_as_lf() {
        let form = super::FormData::parse(b"summary=Goal%3A%20x%0D%0A%0D%0AAgenda%0Dend");
        assert_eq!(form.get("summary"), "Goal: x\n\nAgenda\nend");
    }
}
