//! Single sign-on: the node as an OpenID Connect relying party of the
//! organisation's provider (`[auth.oidc]`), with the authorization code
//! flow and PKCE.
//!
//! The `openidconnect` crate does the protocol: discovery, the
//! authorization address, the code exchange, and the ID token's checks
//! (signature against the provider's published keys, issuer, audience,
//! expiry, nonce). It is the maintained, widely used Rust client, and
//! these checks are where hand-written OpenID Connect goes wrong. It is
//! given the node's own HTTP client (`http_client`), which follows no
//! redirects and bounds what it reads.
//!
//! A sign-in is two requests: [`SingleSignOn::begin`] makes the state, the
//! nonce and the PKCE verifier, keeps them here for
//! [`PENDING_TTL`] (at most [`MAX_PENDING`] at once), and gives the
//! address to send the browser to; [`SingleSignOn::finish`] takes the
//! state and code the provider sent back, exchanges the code, verifies the
//! ID token, reads the claims (the ID token's, then the userinfo answer's
//! where the provider has one), and checks the email domain. The web
//! layer binds the state to the browser with a cookie, so a sign-in
//! started in one browser cannot be finished in another.
//!
//! The provider's discovery document is fetched when first needed and
//! kept for [`DISCOVERY_TTL`]; a provider that cannot be reached is told
//! to the person on the page (and logged at start), and the node runs on.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AdditionalClaims, AsyncHttpClient, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    HttpRequest, HttpResponse, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, UserInfoClaims,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use skillmesh_app::single_sign_on::SsoIdentity;
use skillmesh_config::{OidcSettings, SecretSource};

use crate::http_client::{HttpClient, HttpClientError, error_chain};

/// How long a started sign-in may take to come back.
pub const PENDING_TTL: Duration = Duration::from_secs(600);
/// Sign-ins waiting to come back at once; more are refused until some
/// come back or expire.
pub const MAX_PENDING: usize = 10_000;
/// How long the provider's discovery document (and so its keys) is kept.
pub const DISCOVERY_TTL: Duration = Duration::from_secs(3600);
/// Each request to the provider.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Where the provider sends the browser back to, under the node's address.
pub const CALLBACK_PATH: &str = "/signin/sso/callback";

#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    #[error("auth.oidc.client_secret_file: cannot read {path}: {error}")]
    SecretFile { path: String, error: String },
    #[error("auth.oidc.client_secret_file: {0} is empty")]
    EmptySecret(String),
    #[error("auth.oidc: {0}")]
    Setting(String),
    #[error(
        "The sign-in provider at {issuer} cannot be reached: {detail}. Try again later, or ask an admin of this organisation."
    )]
    Unreachable { issuer: String, detail: String },
    #[error("Too many sign-ins are under way; try again in a minute.")]
    Busy,
    #[error("This sign-in expired or was started in another browser. Start again.")]
    UnknownState,
    #[error("The sign-in provider did not sign you in: {0}")]
    Provider(String),
    #[error("The sign-in provider's answer could not be verified: {0}")]
    Invalid(String),
    #[error("The sign-in provider gave no email address for you, or says it is not verified.")]
    NoEmail,
    #[error("Sign-in with {email} is not allowed here: only addresses at {domains} may sign in.")]
    DomainNotAllowed { email: String, domains: String },
    #[error(transparent)]
    Http(#[from] HttpClientError),
}

/// A started sign-in, waiting for the provider to send the browser back.
struct Pending {
    verifier: PkceCodeVerifier,
    nonce: Nonce,
    started: Instant,
}

/// Where to send the browser, and the state to bind to it.
#[derive(Debug, Clone)]
pub struct Started {
    pub url: String,
    pub state: String,
}

/// The relying party of one node.
pub struct SingleSignOn {
    settings: OidcSettings,
    secret: ClientSecret,
    issuer: IssuerUrl,
    redirect: RedirectUrl,
    http: HttpClient,
    provider: tokio::sync::Mutex<Option<(CoreProviderMetadata, Instant)>>,
    pending: Mutex<HashMap<String, Pending>>,
}

impl SingleSignOn {
    /// Reads the client secret and checks the addresses; `base_url` is the
    /// node's address as browsers reach it.
    pub fn new(settings: &OidcSettings, base_url: &str) -> Result<SingleSignOn, SsoError> {
        let secret = match &settings.client_secret {
            SecretSource::Env(secret) => secret.clone(),
            SecretSource::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| SsoError::SecretFile {
                    path: path.display().to_string(),
                    error: e.to_string(),
                })?;
                let secret = text.trim().to_string();
                if secret.is_empty() {
                    return Err(SsoError::EmptySecret(path.display().to_string()));
                }
                secret
            }
        };
        let issuer = IssuerUrl::new(settings.issuer_url.clone())
            .map_err(|e| SsoError::Setting(format!("issuer_url: {e}")))?;
        let redirect =
            RedirectUrl::new(format!("{}{CALLBACK_PATH}", base_url.trim_end_matches('/')))
                .map_err(|e| SsoError::Setting(format!("the redirect address: {e}")))?;
        Ok(SingleSignOn {
            settings: settings.clone(),
            secret: ClientSecret::new(secret),
            issuer,
            redirect,
            http: HttpClient::new(TIMEOUT)?,
            provider: tokio::sync::Mutex::new(None),
            pending: Mutex::new(HashMap::new()),
        })
    }

    /// What the sign-in button calls the provider.
    pub fn name(&self) -> &str {
        &self.settings.name
    }

    /// The address the provider must allow to send browsers back to.
    pub fn redirect_url(&self) -> &str {
        self.redirect.as_str()
    }

    /// Fetches the provider's discovery document now (at start), so a
    /// wrong issuer is in the log before anyone tries to sign in.
    pub async fn check_provider(&self) -> Result<(), SsoError> {
        self.metadata().await.map(|_| ())
    }

    /// Starts a sign-in: where to send the browser.
    pub async fn begin(&self) -> Result<Started, SsoError> {
        let client = self.client(self.metadata().await?);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge);
        for scope in &self.settings.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        let mut pending = self.lock_pending();
        let now = Instant::now();
        pending.retain(|_, p| now.duration_since(p.started) < PENDING_TTL);
        if pending.len() >= MAX_PENDING {
            return Err(SsoError::Busy);
        }
        pending.insert(
            state.secret().clone(),
            Pending {
                verifier,
                nonce,
                started: now,
            },
        );
        Ok(Started {
            url: url.to_string(),
            state: state.secret().clone(),
        })
    }

    /// Finishes the sign-in `state` with the provider's `code`: who signed in.
    pub async fn finish(&self, state: &str, code: &str) -> Result<SsoIdentity, SsoError> {
        let pending = self
            .lock_pending()
            .remove(state)
            .filter(|p| p.started.elapsed() < PENDING_TTL)
            .ok_or(SsoError::UnknownState)?;
        let metadata = self.metadata().await?;
        let client = self.client(metadata.clone());
        let http = Http(&self.http);
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| SsoError::Provider(e.to_string()))?
            .set_pkce_verifier(pending.verifier)
            .request_async(&http)
            .await
            .map_err(|e| SsoError::Provider(error_chain(&e)))?;
        let id_token = tokens
            .id_token()
            .ok_or_else(|| SsoError::Invalid("no ID token".into()))?;
        let verified = id_token
            .claims(&client.id_token_verifier(), &pending.nonce)
            .map_err(|e| SsoError::Invalid(error_chain(&e)))?;
        let subject = verified.subject().to_string();
        // The verified token's own claims, the ones openidconnect has no
        // field for (an admin group, say) among them.
        let mut claims = token_claims(&id_token.to_string())?;
        if metadata.userinfo_endpoint().is_some() {
            let info: UserInfoClaims<OtherClaims, openidconnect::core::CoreGenderClaim> = client
                .user_info(
                    tokens.access_token().clone(),
                    Some(verified.subject().clone()),
                )
                .map_err(|e| SsoError::Invalid(e.to_string()))?
                .request_async(&http)
                .await
                .map_err(|e| SsoError::Provider(error_chain(&e)))?;
            let info = serde_json::to_value(&info)
                .map_err(|e| SsoError::Invalid(format!("the userinfo answer: {e}")))?;
            if let Value::Object(info) = info {
                claims.extend(info);
            }
        }
        self.identity(&subject, &claims)
    }

    /// Who `claims` name, if their address is verified and allowed here.
    fn identity(&self, sub: &str, claims: &Map<String, Value>) -> Result<SsoIdentity, SsoError> {
        let email = claims
            .get("email")
            .and_then(Value::as_str)
            .map(|e| e.trim().to_ascii_lowercase())
            .filter(|e| e.contains('@') && e.len() <= 200)
            .ok_or(SsoError::NoEmail)?;
        // A provider that does not say is believed; one that says no is not.
        let verified = match claims.get("email_verified") {
            Some(Value::Bool(v)) => *v,
            Some(Value::String(s)) => s == "true",
            _ => true,
        };
        if !verified {
            return Err(SsoError::NoEmail);
        }
        let domain = email.rsplit('@').next().unwrap_or_default();
        let allowed = &self.settings.allowed_email_domains;
        if !allowed.is_empty() && !allowed.iter().any(|d| d == domain) {
            return Err(SsoError::DomainNotAllowed {
                email,
                domains: allowed.join(", "),
            });
        }
        let admin = self.settings.admin_claim.as_ref().map(|claim| {
            let value = claims.get(claim);
            match (&self.settings.admin_claim_value, value) {
                (None, Some(Value::Bool(b))) => *b,
                (None, Some(Value::String(s))) => s == "true",
                (Some(want), Some(Value::String(s))) => s == want,
                (Some(want), Some(Value::Array(items))) => {
                    items.iter().any(|i| i.as_str() == Some(want.as_str()))
                }
                _ => false,
            }
        });
        let name = claims
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string);
        Ok(SsoIdentity {
            subject: format!("{} {sub}", self.issuer.as_str()),
            email,
            name,
            admin,
        })
    }

    fn client(
        &self,
        metadata: CoreProviderMetadata,
    ) -> openidconnect::core::CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    > {
        CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            Some(self.secret.clone()),
        )
        .set_redirect_uri(self.redirect.clone())
    }

    /// The provider's discovery document, fetched again after
    /// [`DISCOVERY_TTL`] (so rotated keys are picked up).
    async fn metadata(&self) -> Result<CoreProviderMetadata, SsoError> {
        let mut held = self.provider.lock().await;
        if let Some((metadata, at)) = held.as_ref()
            && at.elapsed() < DISCOVERY_TTL
        {
            return Ok(metadata.clone());
        }
        let metadata = CoreProviderMetadata::discover_async(self.issuer.clone(), &Http(&self.http))
            .await
            .map_err(|e| SsoError::Unreachable {
                issuer: self.issuer.to_string(),
                detail: error_chain(&e),
            })?;
        *held = Some((metadata.clone(), Instant::now()));
        Ok(metadata)
    }

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The claims of an ID token whose signature was already verified: the
/// middle part of the compact JWS.
fn token_claims(compact: &str) -> Result<Map<String, Value>, SsoError> {
    let payload = compact
        .split('.')
        .nth(1)
        .ok_or_else(|| SsoError::Invalid("the ID token is not a JWS".into()))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| SsoError::Invalid(format!("the ID token: {e}")))?;
    serde_json::from_slice(&bytes).map_err(|e| SsoError::Invalid(format!("the ID token: {e}")))
}

/// Claims besides the standard ones, whatever their names.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct OtherClaims {
    #[serde(flatten)]
    claims: Map<String, Value>,
}

impl AdditionalClaims for OtherClaims {}

/// openidconnect's HTTP client: the node's.
struct Http<'a>(&'a HttpClient);

impl<'c> AsyncHttpClient<'c> for Http<'_> {
    type Error = HttpClientError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpClientError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.0.send(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sso(domains: &[&str], admin_claim: Option<&str>, value: Option<&str>) -> SingleSignOn {
        let settings = OidcSettings {
            issuer_url: "https://login.example".into(),
            client_id: "skillmesh".into(),
            client_secret: SecretSource::Env("secret".into()),
            allowed_email_domains: domains.iter().map(|d| d.to_string()).collect(),
            admin_claim: admin_claim.map(str::to_string),
            admin_claim_value: value.map(str::to_string),
            scopes: Vec::new(),
            name: "Contoso".into(),
        };
        SingleSignOn::new(&settings, "http://127.0.0.1:7100/").expect("settings")
    }

    fn claims(json: Value) -> Map<String, Value> {
        match json {
            Value::Object(m) => m,
            _ => panic!("an object"),
        }
    }

    #[test]
    fn the_address_must_be_verified_and_at_an_allowed_domain() {
        let rp = sso(&["contoso.example"], None, None);
        assert_eq!(
            rp.redirect_url(),
            "http://127.0.0.1:7100/signin/sso/callback"
        );
        let who = rp
            .identity(
                "mia",
                &claims(serde_json::json!({"email": "Mia@Contoso.example", "name": "Mia"})),
            )
            .expect("allowed");
        assert_eq!(who.email, "mia@contoso.example");
        assert_eq!(who.subject, "https://login.example mia");
        assert_eq!(who.admin, None);
        let refused = rp
            .identity(
                "eve",
                &claims(serde_json::json!({"email": "eve@evil.example"})),
            )
            .expect_err("refused");
        assert!(
            refused
                .to_string()
                .contains("only addresses at contoso.example"),
            "{refused}"
        );
        assert!(matches!(
            rp.identity(
                "x",
                &claims(serde_json::json!({"email": "x@contoso.example", "email_verified": false}))
            ),
            Err(SsoError::NoEmail)
        ));
        assert!(matches!(
            rp.identity("y", &claims(serde_json::json!({"name": "No Mail"}))),
            Err(SsoError::NoEmail)
        ));
    }

    #[test]
    fn the_admin_claim_is_a_value_in_a_list_a_string_or_true() {
        let groups = sso(&[], Some("groups"), Some("skillmesh-admins"));
        let admin = |rp: &SingleSignOn, extra: Value| {
            let mut c = claims(serde_json::json!({"email": "a@b.example"}));
            c.extend(claims(extra));
            rp.identity("a", &c).expect("allowed").admin
        };
        assert_eq!(
            admin(
                &groups,
                serde_json::json!({"groups": ["staff", "skillmesh-admins"]})
            ),
            Some(true)
        );
        assert_eq!(
            admin(&groups, serde_json::json!({"groups": ["staff"]})),
            Some(false)
        );
        assert_eq!(admin(&groups, serde_json::json!({})), Some(false));
        let flag = sso(&[], Some("skillmesh_admin"), None);
        assert_eq!(
            admin(&flag, serde_json::json!({"skillmesh_admin": true})),
            Some(true)
        );
        assert_eq!(
            admin(&flag, serde_json::json!({"skillmesh_admin": "no"})),
            Some(false)
        );
    }

    #[test]
    fn a_missing_secret_file_is_named() {
        let settings = OidcSettings {
            issuer_url: "https://login.example".into(),
            client_id: "skillmesh".into(),
            client_secret: SecretSource::File("/nonexistent/oidc-secret".into()),
            allowed_email_domains: Vec::new(),
            admin_claim: None,
            admin_claim_value: None,
            scopes: Vec::new(),
            name: "Contoso".into(),
        };
        let err = SingleSignOn::new(&settings, "http://127.0.0.1:7100")
            .err()
            .expect("refused");
        assert!(
            err.to_string()
                .starts_with("auth.oidc.client_secret_file: cannot read /nonexistent/oidc-secret"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn an_unreachable_provider_is_said_so_and_an_unknown_state_refused() {
        // A port nobody listens on: bound, then closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let settings = OidcSettings {
            issuer_url: format!("http://127.0.0.1:{port}"),
            client_id: "skillmesh".into(),
            client_secret: SecretSource::Env("secret".into()),
            allowed_email_domains: Vec::new(),
            admin_claim: None,
            admin_claim_value: None,
            scopes: Vec::new(),
            name: "Contoso".into(),
        };
        let rp = SingleSignOn::new(&settings, "http://127.0.0.1:7100").expect("settings");
        let err = rp.begin().await.expect_err("unreachable");
        assert!(
            err.to_string().starts_with(&format!(
                "The sign-in provider at http://127.0.0.1:{port} cannot be reached"
            )),
            "{err}"
        );
        assert!(matches!(
            rp.finish("made-up", "code").await,
            Err(SsoError::UnknownState)
        ));
    }
}
