//! Who is signed in: server-side sessions behind an HttpOnly cookie, a CSRF
//! token per session for every state-changing form, API tokens, and a
//! limit on sign-in attempts.
//!
//! Sessions live in memory: a restart signs everyone out, which is the
//! safe failure and costs a person one sign-in. The cookie holds a random
//! 256-bit token; the server keeps only its SHA-256, so a memory dump does
//! not hand out live sessions.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use sha2::{Digest, Sha256};

use crate::api::{ApiError, User};
use crate::ports::NodeApi;
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
/// Sessions held at most; the least recently used goes first.
const MAX_SESSIONS: usize = 50_000;

struct Session {
    username: String,
    csrf: String,
    created: Instant,
    last_seen: Instant,
}

#[derive(Default)]
pub struct Sessions {
    by_hash: Mutex<HashMap<[u8; 32], Session>>,
}

/// 32 random bytes as hex.
pub fn random_token() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|_| ApiError::Unavailable("no randomness available; try again".into()))?;
    Ok(hex::encode(bytes))
}

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
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
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Session>> {
        self.by_hash
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts a session; returns (cookie token, CSRF token).
    pub fn start(&self, username: &str) -> Result<(String, String), ApiError> {
        let token = random_token()?;
        let csrf = random_token()?;
        let now = Instant::now();
        let mut map = self.lock();
        map.retain(|_, s| live(s, now));
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map.iter().min_by_key(|(_, s)| s.last_seen).map(|(k, _)| *k)
        {
            map.remove(&oldest);
        }
        map.insert(
            hash(&token),
            Session {
                username: username.to_string(),
                csrf: csrf.clone(),
                created: now,
                last_seen: now,
            },
        );
        Ok((token, csrf))
    }

    /// The username and CSRF token of a live session.
    fn touch(&self, token: &str) -> Option<(String, String)> {
        let now = Instant::now();
        let mut map = self.lock();
        let key = hash(token);
        match map.get_mut(&key) {
            Some(s) if live(s, now) => {
                s.last_seen = now;
                Some((s.username.clone(), s.csrf.clone()))
            }
            Some(_) => {
                map.remove(&key);
                None
            }
            None => None,
        }
    }

    pub fn end(&self, token: &str) {
        self.lock().remove(&hash(token));
    }
}

fn live(s: &Session, now: Instant) -> bool {
    now.duration_since(s.last_seen) < IDLE && now.duration_since(s.created) < ABSOLUTE
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
    let Some((username, csrf)) = state.sessions.touch(token) else {
        return Ok(None);
    };
    match state.node.user(&username).await? {
        Some(user) => Ok(Some(SignedIn {
            user,
            csrf,
            token: token.to_string(),
        })),
        None => {
            state.sessions.end(token);
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
            signed_in.check_csrf(sent)?;
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

    #[test]
    fn sessions_start_touch_and_end() {
        let s = Sessions::default();
        let (token, csrf) = s.start("a@x.example").expect("start");
        assert_eq!(
            s.touch(&token),
            Some(("a@x.example".to_string(), csrf.clone()))
        );
        assert_eq!(s.touch("not-a-token"), None);
        s.end(&token);
        assert_eq!(s.touch(&token), None);
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
