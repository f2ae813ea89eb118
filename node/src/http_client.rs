//! The node's one HTTP client for services outside the peer-to-peer
//! network (the organisation's OpenID provider, chat webhooks).
//!
//! reqwest, the maintained async client of the tokio ecosystem, over
//! rustls with the ring provider: the TLS stack lettre already brings
//! (no OpenSSL, no second crypto library). Certificates are checked
//! against the system's trust store (rustls-platform-verifier), so a
//! company provider signed by an internal CA trusted on the host works.
//! Redirects are never followed (a redirect to an internal address would
//! let a remote server steer the node), and every answer is read up to a
//! bound.

use std::time::Duration;

/// The largest answer read from an outside service.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum HttpClientError {
    #[error("cannot set up the HTTP client: {0}")]
    Build(String),
    #[error("{0}")]
    Request(String),
    #[error("the answer from {0} is larger than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge(String),
}

/// A client with `timeout` for each whole request.
pub fn client(timeout: Duration) -> Result<reqwest::Client, HttpClientError> {
    // The process-wide provider reqwest's rustls uses; installing it a
    // second time (another client) is refused harmlessly.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .user_agent(concat!("skillmesh/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| HttpClientError::Build(error_chain(&e)))
}

/// Reads `response`'s body, refusing one over [`MAX_RESPONSE_BYTES`].
pub async fn body(mut response: reqwest::Response) -> Result<Vec<u8>, HttpClientError> {
    let url = response.url().to_string();
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| HttpClientError::Request(error_chain(&e)))?
    {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(HttpClientError::TooLarge(url));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// An error with its causes, `: `-separated (reqwest's own message says
/// only "error sending request").
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
