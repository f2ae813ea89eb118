//! The node's one HTTP client for services outside the peer-to-peer
//! network (the organisation's OpenID provider, chat webhooks).
//!
//! hyper's client (hyper-util) with hyper-rustls, over rustls with the
//! ring provider: the TLS stack lettre already brings (no OpenSSL, no
//! second crypto library), and the HTTP stack axum already is. Not
//! reqwest: its rustls build panics at any client's construction unless a
//! process-wide crypto provider was installed first, and cargo unifies
//! features, so every plain-http reqwest client of the tests and benches
//! would have had to install one. Certificates are checked against the
//! system's trust store (rustls-native-certs), so a company provider
//! signed by an internal CA trusted on the host works. Redirects are never
//! followed (hyper does not; a redirect to an internal address would let a
//! remote server steer the node), each request has a deadline, and every
//! answer is read up to a bound.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// The largest answer read from an outside service.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum HttpClientError {
    #[error("cannot set up the HTTP client: {0}")]
    Build(String),
    #[error("{0}")]
    Request(String),
    #[error("no answer from {0} within {1:?}")]
    Timeout(String, Duration),
    #[error("the answer from {0} is larger than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge(String),
}

/// An HTTP and HTTPS client with a deadline for each whole request.
#[derive(Clone)]
pub struct HttpClient {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

impl HttpClient {
    pub fn new(timeout: Duration) -> Result<HttpClient, HttpClientError> {
        let provider = rustls::crypto::ring::default_provider();
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)
            .map_err(|e| HttpClientError::Build(e.to_string()))?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(HttpClient {
            client: Client::builder(TokioExecutor::new()).build(https),
            timeout,
        })
    }

    /// Sends `request` and reads the whole answer (at most
    /// [`MAX_RESPONSE_BYTES`]), within the deadline.
    pub async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, HttpClientError> {
        // Errors name the server, never the path: an incoming webhook's
        // path is its secret.
        let target = format!(
            "{}://{}",
            request.uri().scheme_str().unwrap_or("http"),
            request.uri().authority().map_or("", |a| a.as_str())
        );
        let (mut parts, body) = request.into_parts();
        if !parts.headers.contains_key(http::header::USER_AGENT) {
            parts.headers.insert(
                http::header::USER_AGENT,
                http::HeaderValue::from_static(concat!("skillmesh/", env!("CARGO_PKG_VERSION"))),
            );
        }
        let request = http::Request::from_parts(parts, Full::new(Bytes::from(body)));
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| HttpClientError::Request(error_chain(&e)))?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_RESPONSE_BYTES)
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<http_body_util::LengthLimitError>() {
                        HttpClientError::TooLarge(target.clone())
                    } else {
                        HttpClientError::Request(e.to_string())
                    }
                })?
                .to_bytes();
            Ok(http::Response::from_parts(parts, body.to_vec()))
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| HttpClientError::Timeout(target.clone(), self.timeout))?
    }
}

/// An error with its causes, `: `-separated (a client's own message often
/// says only "error sending request").
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_answer_over_the_bound_is_refused_and_a_silent_server_times_out() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            // First connection: a huge answer; second: never answers.
            let (mut big, _) = listener.accept().await.expect("accept");
            let mut buf = [0u8; 1024];
            let _ = big.read(&mut buf).await;
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n",
                MAX_RESPONSE_BYTES + 1
            );
            let _ = big.write_all(head.as_bytes()).await;
            let _ = big.write_all(&vec![b'x'; MAX_RESPONSE_BYTES + 1]).await;
            let (_silent, _) = listener.accept().await.expect("accept");
            tokio::time::sleep(Duration::from_secs(30)).await;
        });
        let client = HttpClient::new(Duration::from_millis(500)).expect("client");
        let get = || {
            http::Request::get(format!("http://{addr}/"))
                .body(Vec::new())
                .expect("request")
        };
        assert!(matches!(
            client.send(get()).await,
            Err(HttpClientError::TooLarge(_))
        ));
        assert!(matches!(
            client.send(get()).await,
            Err(HttpClientError::Timeout(..))
        ));
    }
}
