//! Who is signed in: server-side sessions behind an HttpOnly cookie, a CSRF
//! token per session for every state-changing form, API tokens, and a
//! limit on sign-in attempts.
//!
//! Sessions are kept by the node (through [`AccountsApi`]), so a restart
//! signs no one out, and in memory here in front of it, so that a request
//! costs no store read: the node is asked only for a session this process
//! has not seen yet (the first request after a restart), and told of a
//! session's use at most every [`TOUCH_GRAIN`]. The cookie holds a random
//! 256-bit token; only its SHA-256 is kept, in memory and in the store, so
//! neither a memory dump nor a copy of the data directory hands out live
//! sessions.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use sha2::{Digest, Sha256};

use crate::api::{ApiError, KeptSession, User};
use crate::dates::unix_now;
use crate::ports::{AccountsApi, NodeApi};
use crate::{AppState, Shared};

/// The session cookie's name, before the node's instance suffix (see
/// [`CookieNames`]).
pub const SESSION_COOKIE: &str = "skillmesh_session";

/// This node's cookie names. Browsers share cookies between ports of one
/// host, so several nodes on 127.0.0.1 (the demo) would sign each other's
/// users out if the names were the same; each node adds its own suffix.
#[derive(Debug, Clone)]
pub struct CookieNames {
    pub session: String,
    /// Carries the sign-in form's CSRF token before a session exists
    /// (double submit).
    pub signin: String,
    /// Binds a single sign-on under way to the browser that started it.
    pub sso: String,
}

impl CookieNames {
    pub fn new(instance: &str) -> CookieNames {
        let suffix: String = instance
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(16)
            .collect();
        let sep = if suffix.is_empty() { "" } else { "_" };
        CookieNames {
            session: format!("{SESSION_COOKIE}{sep}{suffix}"),
            signin: format!("skillmesh_signin{sep}{suffix}"),
            sso: format!("skillmesh_sso{sep}{suffix}"),
        }
    }
}
/// The header a script sends the CSRF token in when it calls the JSON API
/// with the session cookie (API tokens need none).
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A session ends after this long without a request...
const IDLE: Duration = Duration::from_secs(8 * 3600);
/// ...and after this long in any case.
const ABSOLUTE: Duration = Duration::from_secs(7 * 24 * 3600);
/// A session's use is written to the node at most this often: its idle
/// end may come up to this much early after a restart, and a busy session
/// costs one write per this, not one per request.
const TOUCH_GRAIN: i64 = 300;
/// Sessions held in memory at most; the least recently used goes first
/// (from memory only: the node still has it).
const MAX_SESSIONS: usize = 50_000;

#[derive(Clone)]
struct Session {
    username: String,
    csrf: String,
    created: i64,
    last_seen: i64,
    /// `last_seen` as the node last kept it.
    kept_seen: i64,
}

impl Session {
    fn live(&self, now: i64) -> bool {
        now < self.expires_at()
    }

    fn expires_at(&self) -> i64 {
        let secs = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        (self.last_seen.saturating_add(secs(IDLE))).min(self.created.saturating_add(secs(ABSOLUTE)))
    }

    fn kept(&self, id: &str) -> KeptSession {
        KeptSession {
            id: id.to_string(),
            username: self.username.clone(),
            csrf: self.csrf.clone(),
            created_at: self.created,
            last_seen: self.last_seen,
            expires_at: self.expires_at(),
        }
    }
}

#[derive(Default)]
pub struct Sessions {
    by_id: Mutex<HashMap<String, Session>>,
}

/// 32 random bytes as hex.
pub fn random_token() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|_| ApiError::Unavailable("no randomness available; try again".into()))?;
    Ok(hex::encode(bytes))
}

/// A session's id: the SHA-256 (hex) of its cookie's token.
fn session_id(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether `token` has the shape [`random_token`] gives (64 hex digits):
/// anything else is refused without asking the node.
fn well_formed(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Compares secrets without an early exit.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// `token` as a page carries it: a fresh random pad, then the token XOR
/// the pad, in hex, so no two pages show the same bytes. Pages are served
/// compressed, and a secret repeated verbatim in compressed responses next
/// to text an attacker can make the page reflect can be guessed byte by
/// byte from the responses' sizes (BREACH); masked, it never repeats.
/// Without randomness the token goes as it is ([`csrf_matches`] takes
/// both).
pub fn mask_csrf(token: &str) -> String {
    let mut pad = vec![0u8; token.len()];
    if getrandom::fill(&mut pad).is_err() {
        return token.to_string();
    }
    let masked: Vec<u8> = pad.iter().zip(token.bytes()).map(|(p, t)| p ^ t).collect();
    format!("{}{}", hex::encode(&pad), hex::encode(masked))
}

/// Whether a form or script sent `expected`, masked by [`mask_csrf`] or as
/// it is.
pub fn csrf_matches(sent: &str, expected: &str) -> bool {
    if expected.is_empty() {
        return false;
    }
    if same_secret(sent, expected) {
        return true;
    }
    let Ok(bytes) = hex::decode(sent) else {
        return false;
    };
    if bytes.len() != 2 * expected.len() {
        return false;
    }
    let (pad, masked) = bytes.split_at(expected.len());
    let unmasked: Vec<u8> = pad.iter().zip(masked).map(|(p, m)| p ^ m).collect();
    unmasked.len() == expected.len()
        && unmasked
            .iter()
            .zip(expected.bytes())
            .fold(0u8, |d, (x, y)| d | (x ^ y))
            == 0
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.by_id
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn remember(&self, id: String, session: Session, now: i64) {
        let mut map = self.lock();
        if map.len() >= MAX_SESSIONS {
            map.retain(|_, s| s.live(now));
        }
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, s)| s.last_seen)
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(id, session);
    }

    /// Starts a session, kept by the node before it is handed out;
    /// returns (cookie token, CSRF token).
    pub async fn start<N: AccountsApi>(
        &self,
        node: &N,
        username: &str,
    ) -> Result<(String, String), ApiError> {
        let token = random_token()?;
        let csrf = random_token()?;
        let now = unix_now();
        let session = Session {
            username: username.to_string(),
            csrf: csrf.clone(),
            created: now,
            last_seen: now,
            kept_seen: now,
        };
        let id = session_id(&token);
        node.keep_session(session.kept(&id)).await?;
        self.remember(id, session, now);
        Ok((token, csrf))
    }

    /// The username and CSRF token of a live session, noting its use.
    async fn touch<N: AccountsApi>(
        &self,
        node: &N,
        token: &str,
    ) -> Result<Option<(String, String)>, ApiError> {
        if !well_formed(token) {
            return Ok(None);
        }
        let id = session_id(token);
        let now = unix_now();
        // The common case, a live session seen lately: answered from
        // memory, in place, with no store read or write.
        {
            let mut map = self.lock();
            if let Some(s) = map.get_mut(&id)
                && s.live(now)
                && now - s.kept_seen < TOUCH_GRAIN
            {
                s.last_seen = now;
                return Ok(Some((s.username.clone(), s.csrf.clone())));
            }
        }
        let cached = self.lock().get(&id).cloned();
        let mut session = match cached {
            Some(s) => s,
            None => match node.kept_session(&id).await? {
                Some(kept) => Session {
                    username: kept.username,
                    csrf: kept.csrf,
                    created: kept.created_at,
                    last_seen: kept.last_seen,
                    kept_seen: kept.last_seen,
                },
                None => return Ok(None),
            },
        };
        if !session.live(now) {
            self.lock().remove(&id);
            node.end_session(&id).await?;
            return Ok(None);
        }
        session.last_seen = now;
        if now - session.kept_seen >= TOUCH_GRAIN {
            match node.keep_session(session.kept(&id)).await {
                Ok(()) => session.kept_seen = now,
                // The request goes on; the next one tries again.
                Err(e) => tracing::debug!(error = %e, "cannot note a session's use"),
            }
        }
        let answer = (session.username.clone(), session.csrf.clone());
        self.remember(id, session, now);
        Ok(Some(answer))
    }

    /// Ends the session of `token` (signing out in one browser).
    pub async fn end<N: AccountsApi>(&self, node: &N, token: &str) -> Result<(), ApiError> {
        let id = session_id(token);
        self.lock().remove(&id);
        node.end_session(&id).await
    }

    /// Ends every session of `user`, in every browser; returns how many.
    pub async fn end_all<N: AccountsApi>(&self, node: &N, user: &User) -> Result<usize, ApiError> {
        let ended = node.end_sessions(user).await?;
        let mut map = self.lock();
        for id in &ended {
            map.remove(id);
        }
        map.retain(|_, s| s.username != user.username);
        Ok(ended.len())
    }
}

/// The value of cookie `name`, if the request has it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, path `/`, `Secure` when
/// served over TLS. `max_age` 0 deletes the cookie.
pub fn set_cookie(name: &str, value: &str, max_age: Duration, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        max_age.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// How long a session cookie is kept by the browser.
pub const SESSION_MAX_AGE: Duration = ABSOLUTE;

/// A signed-in person with their session's CSRF token.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: User,
    pub csrf: String,
    pub token: String,
}

impl SignedIn {
    /// Checks the CSRF token a form or script sent.
    pub fn check_csrf(&self, sent: &str) -> Result<(), ApiError> {
        if csrf_matches(sent, &self.csrf) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "This form has expired or did not come from this site. Reload the page and try again."
                    .into(),
            ))
        }
    }
}

/// The session of a request, if it has a live one whose account still
/// exists (its role and name are read afresh on every request).
pub async fn from_cookie<S: NodeApi>(
    state: &AppState<S>,
    headers: &HeaderMap,
) -> Result<Option<SignedIn>, ApiError> {
    let Some(token) = cookie(headers, &state.cookies.session) else {
        return Ok(None);
    };
    let Some((username, csrf)) = state.sessions.touch(&state.node, token).await? else {
        return Ok(None);
    };
    match state.node.user(&username).await? {
        Some(user) => Ok(Some(SignedIn {
            user,
            csrf,
            token: token.to_string(),
        })),
        None => {
            state.sessions.end(&state.node, token).await?;
            Ok(None)
        }
    }
}

/// Whether a request with this method changes state (and so needs CSRF
/// protection when authenticated by cookie).
pub fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The header a reverse proxy names the client in.
const FORWARDED_FOR: &str = "x-forwarded-for";

/// The client's address, when the server recorded it.
///
/// A request from a trusted reverse proxy (`web.trusted_proxies`) counts
/// as coming from the address the proxy forwarded: the right-most entry
/// of `X-Forwarded-For` that is not itself a trusted proxy. Entries
/// further left were written by the client and could say anything, so
/// they are never used; from an untrusted peer the header is ignored
/// altogether. An entry that is not an address (`unknown`, garbage)
/// stops the walk at the last trusted hop, which is still an address the
/// client could not choose. `X-Forwarded-For` rather than RFC 7239
/// `Forwarded`, because it is what nginx, Caddy, HAProxy and Apache send
/// by default.
pub fn client_ip(parts: &Parts, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_canonical())?;
    let is_trusted = |ip: IpAddr| trusted.iter().any(|t| t.to_canonical() == ip);
    if !is_trusted(peer) {
        return Some(peer);
    }
    // A header line that is not text stands as one unusable entry, so
    // the walk stops there rather than skipping to what lies beyond it.
    let forwarded: Vec<Option<&str>> = parts
        .headers
        .get_all(FORWARDED_FOR)
        .iter()
        .flat_map(|v| match v.to_str() {
            Ok(text) => text.split(',').map(Some).collect::<Vec<_>>(),
            Err(_) => vec![None],
        })
        .collect();
    let mut nearest = peer;
    for entry in forwarded.into_iter().rev() {
        let Some(ip) = entry.and_then(forwarded_ip) else {
            tracing::debug!(?entry, "X-Forwarded-For entry is not an address");
            break;
        };
        if !is_trusted(ip) {
            return Some(ip);
        }
        nearest = ip;
    }
    Some(nearest)
}

/// One `X-Forwarded-For` entry as an address: `192.0.2.7`, `2001:db8::1`,
/// or with a port (`192.0.2.7:51234`, `[2001:db8::1]:51234`).
fn forwarded_ip(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// Failed sign-ins per account and per client address in a sliding
/// window; over the limit, further attempts are refused (even correct
/// ones) until the window has passed.
#[derive(Default)]
pub struct SignInLimiter {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

const WINDOW: Duration = Duration::from_secs(15 * 60);
const PER_ACCOUNT: usize = 5;
const PER_ADDRESS: usize = 20;

impl SignInLimiter {
    fn keys(username: &str, ip: Option<IpAddr>) -> [(String, usize); 2] {
        [
            (format!("u:{}", username.to_lowercase()), PER_ACCOUNT),
            (
                format!("ip:{}", ip.map(|i| i.to_string()).unwrap_or_default()),
                PER_ADDRESS,
            ),
        ]
    }

    /// Refuses when too many recent attempts failed.
    pub fn check(&self, username: &str, ip: Option<IpAddr>) -> Result<(), ApiError> {
        let now = Instant::now();
        let mut map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (key, limit) in Self::keys(username, ip) {
            if let Some(times) = map.get_mut(&key) {
                times.retain(|t| now.duration_since(*t) < WINDOW);
                if times.len() >= limit {
                    return Err(ApiError::TooManyRequests(
                        "Too many failed sign-in attempts. Wait 15 minutes and try again.".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn failed(&self, username: &str, ip: Option<IpAddr>) {
        let now = Instant::now();
        let mut map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() > 100_000 {
            map.retain(|_, t| t.iter().any(|t| now.duration_since(*t) < WINDOW));
        }
        for (key, _) in Self::keys(username, ip) {
            map.entry(key).or_default().push(now);
        }
    }
}

/// The caller of a JSON API operation: a bearer token, or the session
/// cookie plus the CSRF header for calls that change state.
pub struct ApiCaller(pub User);

impl<S: NodeApi> FromRequestParts<Shared<S>> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared<S>) -> Result<Self, ApiError> {
        if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
            let token = auth
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .ok_or_else(|| {
                    ApiError::Unauthorized("Authorization must be `Bearer <API token>`.".into())
                })?;
            return match state.node.user_for_token(token.trim()).await? {
                Some(user) => Ok(ApiCaller(user)),
                None => Err(ApiError::Unauthorized(
                    "Unknown or revoked API token.".into(),
                )),
            };
        }
        let signed_in = from_cookie(state, &parts.headers).await?.ok_or_else(|| {
            ApiError::Unauthorized(
                "Sign in, or send an API token as `Authorization: Bearer <token>`.".into(),
            )
        })?;
        if is_unsafe(&parts.method) {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !csrf_matches(sent, &signed_in.csrf) {
                return Err(ApiError::Forbidden(
                    "A call that changes something, signed in by the session cookie, needs the \
                     X-CSRF-Token header with the token of a page of this signed-in session; \
                     a script should send an API token as `Authorization: Bearer <token>` \
                     instead."
                        .into(),
                ));
            }
        }
        Ok(ApiCaller(signed_in.user))
    }
}

/// An admin calling the JSON API.
pub struct ApiAdmin(pub User);

impl<S: NodeApi> FromRequestParts<Shared<S>> for ApiAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared<S>) -> Result<Self, ApiError> {
        let ApiCaller(user) = ApiCaller::from_request_parts(parts, state).await?;
        if user.is_admin() {
            Ok(ApiAdmin(user))
        } else {
            Err(ApiError::Forbidden("Only admins may do this.".into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sessions_outlive_the_process_that_started_them() {
        let node = crate::fake::Fake::default();
        let s = Sessions::default();
        let (token, csrf) = s.start(&node, "a@x.example").await.expect("start");
        let signed_in = Some(("a@x.example".to_string(), csrf.clone()));
        assert_eq!(s.touch(&node, &token).await.expect("touch"), signed_in);
        assert_eq!(s.touch(&node, "not-a-token").await.expect("touch"), None);
        // A restart: nothing in memory, the node still has it.
        let after_restart = Sessions::default();
        assert_eq!(
            after_restart.touch(&node, &token).await.expect("touch"),
            signed_in
        );
        after_restart.end(&node, &token).await.expect("end");
        assert_eq!(
            after_restart.touch(&node, &token).await.expect("touch"),
            None,
            "signed out"
        );
        assert_eq!(
            Sessions::default()
                .touch(&node, &token)
                .await
                .expect("touch"),
            None
        );
    }

    #[tokio::test]
    async fn an_expired_session_is_refused_and_forgotten() {
        let node = crate::fake::Fake::default();
        let old = unix_now() - 9 * 3600;
        let token = random_token().expect("token");
        let id = session_id(&token);
        let stale = Session {
            username: "a@x.example".into(),
            csrf: "c".into(),
            created: old,
            last_seen: old,
            kept_seen: old,
        };
        node.keep_session(stale.kept(&id)).await.expect("keep");
        let s = Sessions::default();
        assert_eq!(s.touch(&node, &token).await.expect("touch"), None);
        assert!(node.kept_session(&id).await.expect("read").is_none());
    }

    #[tokio::test]
    async fn signing_out_everywhere_ends_every_session_of_that_person_only() {
        let node = crate::fake::Fake::default();
        let s = Sessions::default();
        let (a1, _) = s.start(&node, crate::fake::MEMBER.0).await.expect("start");
        let (a2, _) = s.start(&node, crate::fake::MEMBER.0).await.expect("start");
        let (b, _) = s.start(&node, crate::fake::ADMIN.0).await.expect("start");
        let member = node
            .user(crate::fake::MEMBER.0)
            .await
            .expect("user")
            .expect("member");
        assert_eq!(s.end_all(&node, &member).await.expect("end all"), 2);
        for token in [&a1, &a2] {
            assert_eq!(s.touch(&node, token).await.expect("touch"), None);
        }
        assert!(s.touch(&node, &b).await.expect("touch").is_some());
    }

    fn request(peer: &str, forwarded: &[&str]) -> Parts {
        let mut req = axum::http::Request::builder().uri("/signin");
        for value in forwarded {
            req = req.header(FORWARDED_FOR, *value);
        }
        let (mut parts, ()) = req.body(()).expect("request").into_parts();
        let peer: SocketAddr = peer.parse().expect("peer");
        parts.extensions.insert(ConnectInfo(peer));
        parts
    }

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|s| s.parse().expect("ip")).collect()
    }

    #[test]
    fn the_client_address_comes_from_a_trusted_proxy_only() {
        let ip = |s: &str| s.parse::<IpAddr>().ok();
        let proxy = ips(&["127.0.0.1"]);
        // No proxy configured: the header is the client's word, ignored.
        let spoofed = request("198.51.100.9:4000", &["203.0.113.5"]);
        assert_eq!(client_ip(&spoofed, &[]), ip("198.51.100.9"));
        assert_eq!(client_ip(&spoofed, &proxy), ip("198.51.100.9"));
        // From the proxy: the address it appended, not what the client
        // put in front of it.
        let via = request("127.0.0.1:4000", &["10.9.9.9, 203.0.113.5"]);
        assert_eq!(client_ip(&via, &proxy), ip("203.0.113.5"));
        // Two proxies in a chain, the header split over two lines, ports
        // and an IPv4-mapped peer address.
        let chain = ips(&["127.0.0.1", "192.0.2.1"]);
        let two = request(
            "[::ffff:127.0.0.1]:4000",
            &["[2001:db8::5]:51234", "192.0.2.1"],
        );
        assert_eq!(client_ip(&two, &chain), ip("2001:db8::5"));
        // Nothing forwarded, or nothing usable: the nearest trusted hop.
        assert_eq!(
            client_ip(&request("127.0.0.1:4000", &[]), &proxy),
            ip("127.0.0.1")
        );
        let garbage = request("127.0.0.1:4000", &["203.0.113.5, unknown"]);
        assert_eq!(client_ip(&garbage, &proxy), ip("127.0.0.1"));
        // A line that is not text is not skipped over to the client's own.
        let mut binary = request("127.0.0.1:4000", &["203.0.113.5"]);
        binary.headers.append(
            FORWARDED_FOR,
            axum::http::HeaderValue::from_bytes(b"198.51.100.7\xff").expect("opaque bytes"),
        );
        assert_eq!(client_ip(&binary, &proxy), ip("127.0.0.1"));
        // Without a recorded peer there is no address at all.
        let (bare, ()) = axum::http::Request::builder()
            .body(())
            .expect("request")
            .into_parts();
        assert_eq!(client_ip(&bare, &proxy), None);
    }

    #[test]
    fn limiter_locks_an_account_after_five_failures() {
        let l = SignInLimiter::default();
        for _ in 0..PER_ACCOUNT {
            l.check("A@x.example", None).expect("allowed");
            l.failed("a@x.example", None);
        }
        assert!(matches!(
            l.check("a@X.example", None),
            Err(ApiError::TooManyRequests(_))
        ));
        l.check("b@x.example", "10.0.0.1".parse().ok())
            .expect("another account from another address is not affected");
    }

    #[test]
    fn cookies_are_parsed_and_flagged() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; skillmesh_session=abc; b=2".parse().expect("value"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "zzz"), None);
        let c = set_cookie(SESSION_COOKIE, "t", SESSION_MAX_AGE, true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Secure"));
        assert!(!set_cookie(SESSION_COOKIE, "t", SESSION_MAX_AGE, false).contains("Secure"));
        assert_eq!(
            CookieNames::new("ab12/;=").session,
            "skillmesh_session_ab12"
        );
        assert_eq!(CookieNames::new("").signin, "skillmesh_signin");
    }
}
