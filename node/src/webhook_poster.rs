//! Posts the chat webhook's messages (queued by the service, see
//! `app/src/webhook.rs`) to the address an admin set, as
//! `{"text": "..."}`: the body Slack's incoming webhooks take, and
//! Microsoft Teams', Mattermost's and Rocket.Chat's.
//!
//! Through the node's HTTP client (`http_client`: hyper over rustls
//! with ring, no redirects followed, bounded answers), as the single
//! sign-on is.
//!
//! What counts as delivered: a 2xx answer within 10 s. Anything else, a
//! timeout, a refused connection, a redirect (not followed) or any other
//! status, keeps the message in the queue to be tried again after
//! [`crate::mail::retry_wait`], as mail is; the messages after it wait
//! behind it, so the channel gets them in the order they happened.
//! A 4xx other than 429 usually means the address is wrong (a webhook
//! removed from the channel, a typo): it is logged as an error that says
//! so, and the message is still kept and retried rather than dropped.
//! Nothing is lost by guessing wrong about a status; the admin sees the
//! error on the webhook page and fixes the address, or clears it, which
//! drops what waits.

use std::time::Duration;

use crate::http_client::{HttpClient, error_chain};

use crate::service::Service;
use crate::store::WebhookMessage;
use crate::webhook::url_host;

/// How often the queue is looked at when nothing wakes the task (a
/// retry's time coming, say).
const POLL: Duration = Duration::from_secs(5);
/// Messages posted per look at the queue.
const BATCH: usize = 20;
/// The longest a chat server may take to answer one message.
pub const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("cannot set up the HTTP client of the chat webhook: {0}")]
    Client(String),
}

/// Why a message was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The server answered, but not with a 2xx.
    Status(u16, String),
    /// No answer: no connection, TLS failed, or too slow.
    NoAnswer(String),
}

impl Refused {
    /// A status that says the address itself is wrong (a 4xx other than
    /// 429 Too Many Requests), rather than the server being down or busy.
    pub fn address_wrong(&self) -> bool {
        matches!(self, Refused::Status(s, _) if (400..500).contains(s) && *s != 429)
    }
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Status(code, reason) if reason.is_empty() => write!(f, "HTTP {code}"),
            Refused::Status(code, reason) => write!(f, "HTTP {code} {reason}"),
            Refused::NoAnswer(why) => write!(f, "no answer: {why}"),
        }
    }
}

/// The HTTP client that posts to the chat webhook. Cheap to clone.
#[derive(Clone)]
pub struct Poster {
    client: HttpClient,
}

impl Poster {
    /// The client: a 10 s deadline, no redirects followed.
    pub fn new() -> Result<Poster, WebhookError> {
        let client = HttpClient::new(TIMEOUT).map_err(|e| WebhookError::Client(e.to_string()))?;
        Ok(Poster { client })
    }

    /// Posts `text` to `url` as `{"text": text}`; `Ok` for a 2xx.
    pub async fn post(&self, url: &str, text: &str) -> Result<(), Refused> {
        let body = serde_json::json!({ "text": text }).to_string().into_bytes();
        let request = http::Request::post(url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body)
            .map_err(|e| Refused::NoAnswer(format!("not a usable address: {e}")))?;
        match self.client.send(request).await {
            Ok(res) if res.status().is_success() => Ok(()),
            Ok(res) => Err(Refused::Status(
                res.status().as_u16(),
                res.status().canonical_reason().unwrap_or_default().into(),
            )),
            Err(e) => Err(Refused::NoAnswer(error_chain(&e))),
        }
    }

    /// Posts what waits until the node stops: woken when a message is
    /// queued, and every few seconds for retries.
    pub async fn run(self, service: Service) {
        let wake = service.webhook_signal();
        loop {
            while self.send_due(&service).await {}
            tokio::select! {
                () = wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// Posts the messages due now, in order, until one is not taken.
    /// True when a full batch went out (more may be due).
    async fn send_due(&self, service: &Service) -> bool {
        let svc = service.clone();
        let (url, due) = match tokio::task::spawn_blocking(move || svc.due_webhooks(BATCH)).await {
            Ok(Ok(Some(due))) => due,
            Ok(Ok(None)) => return false,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot read the chat webhook's queue");
                return false;
            }
            Err(e) => {
                tracing::warn!(error = %e, "reading the chat webhook's queue stopped");
                return false;
            }
        };
        let full = due.len() == BATCH;
        for message in due {
            if !self.send_one(service, &url, message).await {
                return false;
            }
        }
        full
    }

    /// Posts one message and records the outcome; true when it was taken.
    async fn send_one(&self, service: &Service, url: &str, message: WebhookMessage) -> bool {
        let outcome = self.post(url, &message.text).await;
        let svc = service.clone();
        let id = message.id.clone();
        let taken = outcome.is_ok();
        let stored = match outcome {
            Ok(()) => {
                tracing::debug!(id, "chat webhook message posted");
                tokio::task::spawn_blocking(move || svc.webhook_sent(&id).map(|()| None)).await
            }
            Err(refused) => {
                tokio::task::spawn_blocking(move || {
                    svc.webhook_failed(message, &refused.to_string())
                        .map(|wait| Some((refused, wait)))
                })
                .await
            }
        };
        match stored {
            Ok(Ok(None)) => {}
            Ok(Ok(Some((refused, wait)))) => {
                let host = url_host(url);
                if refused.address_wrong() {
                    tracing::error!(
                        %host,
                        error = %refused,
                        retry_in_secs = wait,
                        "the chat server refuses the webhook's messages: is the address on the admin page still right? Kept and tried again"
                    );
                } else {
                    tracing::warn!(
                        %host,
                        error = %refused,
                        retry_in_secs = wait,
                        "chat webhook message not taken; kept to try again"
                    );
                }
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot update the chat webhook's queue"),
            Err(e) => tracing::warn!(error = %e, "updating the chat webhook's queue stopped"),
        }
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_4xx_other_than_429_says_the_address_is_wrong() {
        assert!(Refused::Status(404, "Not Found".into()).address_wrong());
        assert!(Refused::Status(403, String::new()).address_wrong());
        assert!(!Refused::Status(429, String::new()).address_wrong());
        assert!(!Refused::Status(500, String::new()).address_wrong());
        assert!(!Refused::NoAnswer("refused".into()).address_wrong());
        assert_eq!(
            Refused::Status(404, "Not Found".into()).to_string(),
            "HTTP 404 Not Found"
        );
    }

    #[tokio::test]
    async fn a_refused_connection_says_so_without_the_secret_path() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        let poster = Poster::new().expect("client");
        let err = poster
            .post(&format!("http://127.0.0.1:{port}/hooks/s3cret"), "hi")
            .await
            .expect_err("nobody listens");
        let text = err.to_string();
        assert!(text.starts_with("no answer: "), "{text}");
        assert!(!text.contains("s3cret"), "{text}");
    }
}
