//! Sends the mail the service queued (`app/src/mail.rs`) through the
//! configured SMTP server, and the digests on their interval.
//!
//! lettre rather than hand-written SMTP: it is the maintained Rust mail
//! library, speaks STARTTLS and TLS over rustls, reads the server, port,
//! TLS mode and credentials from one `smtp://` URL, and builds
//! standards-conforming multipart messages (headers encoded, lines
//! folded), which is where hand-written mail goes wrong.
//!
//! A message leaves the queue only once the server accepted it; a
//! failure is logged and the message tried again later (see
//! `Service::mail_failed`), so a server that is down loses nothing.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use skillmesh_config::EmailSettings;

use crate::service::Service;
use crate::store::OutgoingMail;

/// How often the queue is looked at when nothing wakes the mailer.
const POLL: Duration = Duration::from_secs(5);
/// Messages sent per pass.
const BATCH: usize = 50;

#[derive(Debug, thiserror::Error)]
pub enum MailerError {
    #[error("notifications.email.smtp_url: {0}")]
    Url(String),
    #[error("notifications.email.from: {0:?} is not a mailbox lettre accepts: {1}")]
    From(String, String),
}

/// A mailer ready to run: the URL and sender checked.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    digest_every: Duration,
}

impl Mailer {
    /// Reads the settings; a URL lettre cannot use is an error naming the
    /// setting, so a node with bad mail settings does not start.
    pub fn new(settings: &EmailSettings) -> Result<Mailer, MailerError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&settings.smtp_url)
            .map_err(|e| MailerError::Url(e.to_string()))?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let from = settings
            .from
            .parse()
            .map_err(|e: lettre::address::AddressError| {
                MailerError::From(settings.from.clone(), e.to_string())
            })?;
        Ok(Mailer {
            transport,
            from,
            digest_every: Duration::from_secs(settings.digest_interval_secs),
        })
    }

    /// Sends queued mail until the node stops, and the digests on time.
    pub async fn run(self, service: Service) {
        let wake = service.mail_signal();
        let mut digests = tokio::time::interval(self.digest_every);
        digests.tick().await;
        loop {
            self.send_due(&service).await;
            tokio::select! {
                () = wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
                _ = digests.tick() => {
                    let svc = service.clone();
                    match tokio::task::spawn_blocking(move || svc.send_digests()).await {
                        Ok(Ok(0)) => {}
                        Ok(Ok(n)) => tracing::info!(digests = n, "queued mail digests"),
                        Ok(Err(e)) => tracing::warn!(error = %e, "cannot make the mail digests"),
                        Err(e) => tracing::warn!(error = %e, "making the mail digests stopped"),
                    }
                }
            }
        }
    }

    async fn send_due(&self, service: &Service) {
        let svc = service.clone();
        let due = match tokio::task::spawn_blocking(move || svc.due_mail(BATCH)).await {
            Ok(Ok(due)) => due,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot read the mail queue");
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "reading the mail queue stopped");
                return;
            }
        };
        for mail in due {
            // A message that cannot be built fails alone; a server that
            // will not take one is likely down, so the rest waits too.
            let (outcome, server) = match self.message(&mail) {
                Ok(message) => (
                    self.transport
                        .send(message)
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string()),
                    true,
                ),
                Err(e) => (Err(e), false),
            };
            let svc = service.clone();
            let id = mail.id.clone();
            let stored = match outcome {
                Ok(()) => {
                    tracing::debug!(id, "mail sent");
                    tokio::task::spawn_blocking(move || svc.mail_sent(&id).map(|()| None)).await
                }
                Err(error) => {
                    tokio::task::spawn_blocking(move || {
                        svc.mail_failed(mail, &error)
                            .map(|wait| Some((error, wait)))
                    })
                    .await
                }
            };
            match stored {
                Ok(Ok(None)) => {}
                Ok(Ok(Some((error, wait)))) => {
                    tracing::warn!(
                        error,
                        retry_in_secs = wait,
                        "mail not sent; kept to try again"
                    );
                    if server {
                        return;
                    }
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "cannot update the mail queue"),
                Err(e) => tracing::warn!(error = %e, "updating the mail queue stopped"),
            }
        }
    }

    fn message(&self, mail: &OutgoingMail) -> Result<Message, String> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| format!("{:?} is not an address: {e}", mail.to))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))
            .map_err(|e| e.to_string())
    }
}
