//! The organisation's chat webhook (issue 22): one incoming-webhook
//! address of a Slack, Microsoft Teams, Mattermost or Rocket.Chat style
//! channel, set by an admin, that hears of our own organisation's new
//! offers (talks, mentoring, cohorts) and events as they first leave for
//! partners, and of what waits for an admin's approval.
//!
//! This module holds the rules: which address is acceptable, what goes
//! to the channel and what each message says (plain text with a link to
//! the page on this node, posted as `{"text": ...}`, the body every one of
//! those chat servers takes). Only our own items and people are ever put
//! into a message: the hooks are where our items are published or wait
//! for approval (`service.rs`), never where other organisations' records
//! arrive. The messages wait in the store (`store/src/webhook.rs`) until
//! the node's webhook task (`node/src/webhook_poster.rs`) posted them, in order,
//! retried with a growing wait ([`crate::mail::retry_wait`]), so a chat
//! server that is down loses nothing.

use skillmesh_protocol::Body;

use crate::clock;
use crate::service::{Result, Service, ServiceError};
use crate::store::{Actor, AuditAction, AuditEntry, OwnItem, Person, WebhookMessage};

/// The longest webhook address taken.
pub const MAX_URL_CHARS: usize = 2000;

/// Where the webhook stands, for the admin console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookStatus {
    /// The address, if one is set (admins only see it).
    pub url: Option<String>,
    /// Messages waiting to be posted.
    pub waiting: usize,
    /// Why the oldest waiting message was not taken, if it was tried.
    pub last_error: Option<String>,
    /// When it is tried next (unix seconds), if it was tried.
    pub next_try_at: Option<i64>,
}

/// Checks an address an admin typed: http or https, a host, at most
/// [`MAX_URL_CHARS`] characters. The error is the sentence to show.
pub fn check_url(url: &str) -> std::result::Result<(), String> {
    if url.chars().count() > MAX_URL_CHARS {
        return Err(format!(
            "The webhook address is too long: at most {MAX_URL_CHARS} characters."
        ));
    }
    let parsed = url::Url::parse(url).map_err(|e| {
        format!(
            "The webhook address is not a web address ({e}): copy the whole address, starting with https://, from the channel's incoming-webhook settings."
        )
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "The webhook address must start with https:// or http://, not {}:.",
            parsed.scheme()
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("The webhook address has no host (such as hooks.slack.com).".into());
    }
    Ok(())
}

/// Scheme and host of `url`, which is all of it the audit log and the
/// node's log show: the path of an incoming webhook is its secret.
pub fn url_host(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!("{}://{}", u.scheme(), u.host_str().unwrap_or_default()),
        Err(_) => "(not a web address)".into(),
    }
}

/// One line of text: what came from a person (a title, a name) never
/// breaks the message's layout, and cannot mention a whole channel or
/// make a link: `&`, `<` and `>` are escaped as Slack's message format
/// asks (`<!channel>` would otherwise notify everyone in it), which the
/// other chat servers show as the characters themselves.
fn line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.trim().chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// What an item is called in a message ("a talk", ...).
fn kind_words(body: &Body) -> &'static str {
    match body {
        Body::TalkOffer(_) => "talk",
        Body::MentoringOffer(_) => "mentoring offer",
        Body::CohortOffer(_) => "cohort",
        Body::Event(_) => "event",
        Body::TalkWanted(_) => "call for a talk",
        Body::Content(_) => "content",
        _ => "item",
    }
}

/// Whether the channel hears of an item's first publication: offers and
/// events (what partners can take part in), not content or calls for a
/// talk.
fn announced(body: &Body) -> bool {
    matches!(
        body,
        Body::TalkOffer(_) | Body::MentoringOffer(_) | Body::CohortOffer(_) | Body::Event(_)
    )
}

impl Service {
    /// Resolves when a webhook message was queued.
    pub fn webhook_signal(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.webhook_queued().clone()
    }

    /// The webhook's address, if one is set.
    pub fn webhook_url(&self) -> Result<Option<String>> {
        Ok(self.store().webhook_url()?)
    }

    /// An admin sets the webhook's address (checked by [`check_url`]), or
    /// clears it with `None` or an empty one, which drops the messages
    /// waiting. Audited, with only the address's host; saving the address
    /// already set changes nothing.
    pub fn set_webhook_url(&self, url: Option<&str>, actor: &Actor) -> Result<WebhookStatus> {
        let url = url.map(str::trim).filter(|u| !u.is_empty());
        if let Some(u) = url {
            check_url(u).map_err(ServiceError::Invalid)?;
        }
        if self.store().webhook_url()?.as_deref() == url {
            return self.webhook_status();
        }
        let dropped = self.store().set_webhook_url(url, |dropped| AuditEntry {
            at: clock::now(),
            actor: actor.to_string(),
            action: AuditAction::WebhookChanged.into(),
            org: None,
            record_id: None,
            detail: match url {
                Some(u) => format!("set to {}/…", url_host(u)),
                None if dropped > 0 => {
                    format!("cleared; {dropped} messages that waited were dropped")
                }
                None => "cleared".into(),
            },
            claimed_org: None,
            count: 1,
        })?;
        match url {
            Some(u) => {
                tracing::info!(host = %url_host(u), "chat webhook set");
                // Messages kept for an earlier address go to this one now,
                // without waiting out the retries of the old one.
                self.store().webhooks_due_now(clock::now())?;
                self.webhook_queued().notify_one();
            }
            None => tracing::info!(dropped, "chat webhook cleared"),
        }
        self.webhook_status()
    }

    /// Where the webhook stands: its address, what waits and why.
    pub fn webhook_status(&self) -> Result<WebhookStatus> {
        let url = self.store().webhook_url()?;
        let queued = self.store().queued_webhooks()?;
        let head = queued.first().filter(|m| m.attempts > 0);
        Ok(WebhookStatus {
            url,
            waiting: queued.len(),
            last_error: head.map(|m| m.last_error.clone()),
            next_try_at: head.map(|m| m.next_at),
        })
    }

    /// An admin asks for a test message: it is queued like the others
    /// (behind any that wait, which are tried again at once), so it shows
    /// the way they go.
    pub fn test_webhook(&self, actor: &Actor) -> Result<WebhookStatus> {
        if self.store().webhook_url()?.is_none() {
            return Err(ServiceError::Invalid(
                "Set the webhook's address first.".into(),
            ));
        }
        let text = format!(
            "Test message from Skillmesh at {}, sent by {actor}: this channel hears of the organisation's new offers and events and of what waits for approval.\n{}",
            line(self.org_name()),
            self.link("/admin/webhook")
        );
        self.store().webhooks_due_now(clock::now())?;
        self.tell_chat(text);
        self.webhook_status()
    }

    /// Our item `item` was just published for the first time: the channel
    /// hears of it if it is an offer or an event.
    pub(crate) fn chat_published(&self, item: &OwnItem) {
        if !announced(&item.body) {
            return;
        }
        let what = kind_words(&item.body);
        let mut text = format!(
            "New {what} from {}: \"{}\"",
            line(self.org_name()),
            line(&item.body.title())
        );
        if !matches!(item.body, Body::Event(_))
            && let Some(name) = self.owner_name(item)
        {
            text.push_str(&format!(" by {name}"));
        }
        text.push('\n');
        text.push_str(&self.link(&format!("/listing/{}/{}", self.org().to_hex(), item.id)));
        self.tell_chat(text);
    }

    /// Our item `item` now waits for an admin's approval.
    pub(crate) fn chat_item_waiting(&self, item: &OwnItem) {
        let mut text = format!(
            "Waiting for approval at {}: the {} \"{}\"",
            line(self.org_name()),
            kind_words(&item.body),
            line(&item.body.title())
        );
        if let Some(name) = self.owner_name(item) {
            text.push_str(&format!(" by {name}"));
        }
        text.push('\n');
        text.push_str(&self.link("/admin/approvals"));
        self.tell_chat(text);
    }

    /// Our person's changed listing now waits for an admin's approval.
    pub(crate) fn chat_listing_waiting(&self, person: &Person) {
        let text = format!(
            "Waiting for approval at {}: {}'s expertise listing\n{}",
            line(self.org_name()),
            line(&person.display_name),
            self.link("/admin/approvals")
        );
        self.tell_chat(text);
    }

    /// The name of our person who owns `item`, if any.
    fn owner_name(&self, item: &OwnItem) -> Option<String> {
        let owner = item.owner.as_deref()?;
        match self.store().person(owner) {
            Ok(p) => p.map(|p| line(&p.display_name)).filter(|n| !n.is_empty()),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read a person for the chat webhook");
                None
            }
        }
    }

    /// Queues `text` for the channel (nothing while no address is set).
    /// Like a notification, a message that cannot be queued is logged and
    /// does not undo what it is about.
    fn tell_chat(&self, text: String) {
        match self.store().queue_webhooks(&[text], clock::now()) {
            Ok(queued) if queued.is_empty() => {}
            Ok(_) => self.webhook_queued().notify_one(),
            Err(e) => tracing::warn!(error = %e, "cannot queue a chat webhook message"),
        }
    }

    /// The webhook's address and up to `limit` messages to post now, in
    /// order; none without an address.
    pub fn due_webhooks(&self, limit: usize) -> Result<Option<(String, Vec<WebhookMessage>)>> {
        let Some(url) = self.store().webhook_url()? else {
            return Ok(None);
        };
        Ok(Some((url, self.store().due_webhooks(clock::now(), limit)?)))
    }

    /// The chat server took message `id`.
    pub fn webhook_sent(&self, id: &str) -> Result<()> {
        Ok(self.store().webhook_sent(id)?)
    }

    /// Posting `message` failed with `error`: tried again after
    /// [`crate::mail::retry_wait`] (the messages after it wait too, to
    /// keep the order). Nothing is dropped. Returns the wait in seconds.
    pub fn webhook_failed(&self, mut message: WebhookMessage, error: &str) -> Result<i64> {
        message.attempts = message.attempts.saturating_add(1);
        let wait = crate::mail::retry_wait(message.attempts);
        message.next_at = clock::now() + wait;
        message.last_error = error.chars().take(500).collect();
        self.store().webhook_failed(&message)?;
        Ok(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Person;
    use skillmesh_protocol::kinds::{
        Audience, Delivery, OfferStatus, SessionFormat, TalkOffer, TalkSession,
    };

    fn talk(title: &str) -> Body {
        Body::TalkOffer(TalkOffer {
            person: "tomas".into(),
            speaker_name: Some("Tomás Ferreira".into()),
            title: title.into(),
            summary: String::new(),
            session: TalkSession {
                topics: vec!["On-call".into()],
                format: SessionFormat::Talk,
                audience: Audience::Everyone,
                duration_minutes: 45,
                languages: vec!["en".into()],
                delivery: Delivery::Remote,
            },
            status: OfferStatus::Open,
        })
    }

    fn texts(svc: &Service) -> Vec<String> {
        svc.store()
            .queued_webhooks()
            .expect("queue")
            .into_iter()
            .map(|m| m.text)
            .collect()
    }

    #[test]
    fn a_title_cannot_mention_the_channel_or_break_the_message() {
        assert_eq!(
            line(" <!channel> Q&A\nnight <https://x|click> "),
            "&lt;!channel&gt; Q&amp;A night &lt;https://x|click&gt;"
        );
    }

    #[test]
    fn addresses_are_http_or_https_with_a_host_and_not_too_long() {
        for ok in [
            "https://hooks.slack.com/services/T000/B000/XXXX",
            "http://127.0.0.1:8065/hooks/abc",
            "https://contoso.webhook.office.com/webhookb2/x@y/IncomingWebhook/z",
        ] {
            assert_eq!(check_url(ok), Ok(()), "{ok}");
        }
        for (bad, says) in [
            ("hooks.slack.com/services/x", "not a web address"),
            (
                "ftp://files.example/hook",
                "must start with https:// or http://",
            ),
            ("javascript:alert(1)", "must start with https:// or http://"),
            ("https://", "not a web address"),
            (
                "mailto:ops@x.example",
                "must start with https:// or http://",
            ),
        ] {
            let e = check_url(bad).expect_err(bad);
            assert!(e.contains(says), "{bad}: {e}");
        }
        let long = format!("https://chat.example/{}", "a".repeat(MAX_URL_CHARS));
        assert!(check_url(&long).expect_err("long").contains("too long"));
        let just = format!("https://c.example/{}", "a".repeat(MAX_URL_CHARS - 18));
        assert_eq!(just.chars().count(), MAX_URL_CHARS);
        assert_eq!(check_url(&just), Ok(()));
        assert_eq!(
            url_host("https://hooks.slack.com/services/T/B/secret"),
            "https://hooks.slack.com"
        );
    }

    #[test]
    fn first_publications_of_offers_and_waiting_approvals_are_told_and_nothing_without_an_address()
    {
        let (_dir, svc) = Service::for_tests();
        svc.set_public_url("https://skills.northwind.example/");
        let admin = Actor::person("admin@northwind.example");
        svc.store()
            .add_person(&Person::new("tomas", "Tomás Ferreira", "t@x.example", 0))
            .expect("person");

        // Without an address, nothing waits for the channel.
        svc.create_item("talk-0", Some("tomas"), talk("Before"), &admin)
            .expect("create");
        svc.publish_item("talk-0", &admin).expect("publish");
        assert!(texts(&svc).is_empty());

        let bad = svc.set_webhook_url(Some("ftp://x.example/h"), &admin);
        assert!(
            matches!(&bad, Err(ServiceError::Invalid(m)) if m.contains("https://")),
            "{bad:?}"
        );
        svc.set_webhook_url(Some(" https://chat.example/hooks/secret "), &admin)
            .expect("set");
        assert_eq!(
            svc.webhook_url().expect("url").as_deref(),
            Some("https://chat.example/hooks/secret")
        );
        svc.create_item(
            "talk-1",
            Some("tomas"),
            talk("On-call without burnout"),
            &admin,
        )
        .expect("create");
        svc.publish_item("talk-1", &admin).expect("publish");
        // Published again (an edit): not told again.
        svc.publish_item("talk-1", &admin).expect("republish");
        let org = svc.org().to_hex();
        assert_eq!(
            texts(&svc),
            [format!(
                "New talk from Test: \"On-call without burnout\" by Tomás Ferreira\nhttps://skills.northwind.example/listing/{org}/talk-1"
            )]
        );
        let audit = svc
            .audit_log(&crate::store::AuditFilter {
                action: Some("webhook_changed".into()),
                ..Default::default()
            })
            .expect("audit");
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].detail, "set to https://chat.example/…");
        assert!(!audit[0].detail.contains("secret"));

        // A status shows what waits and why.
        let head = svc.store().queued_webhooks().expect("queue").remove(0);
        let wait = svc.webhook_failed(head, "HTTP 503").expect("failed");
        assert_eq!(wait, 10);
        let status = svc.webhook_status().expect("status");
        assert_eq!(status.waiting, 1);
        assert_eq!(status.last_error.as_deref(), Some("HTTP 503"));
        assert!(
            svc.due_webhooks(10)
                .expect("due")
                .is_some_and(|(_, d)| d.is_empty())
        );
        // A new address: what waits goes at once, and there.
        let status = svc
            .set_webhook_url(Some("https://chat.example/hooks/fixed"), &admin)
            .expect("set");
        assert_eq!(status.waiting, 1);
        let (url, due) = svc.due_webhooks(10).expect("due").expect("an address");
        assert_eq!(url, "https://chat.example/hooks/fixed");
        assert_eq!(due.len(), 1);

        // Clearing drops what waits, and is audited with the count.
        let cleared = svc.set_webhook_url(Some(""), &admin).expect("clear");
        assert_eq!((cleared.url, cleared.waiting), (None, 0));
        let audit = svc
            .audit_log(&crate::store::AuditFilter {
                action: Some("webhook_changed".into()),
                ..Default::default()
            })
            .expect("audit");
        assert_eq!(
            audit[0].detail,
            "cleared; 1 messages that waited were dropped"
        );
        assert!(matches!(
            svc.test_webhook(&admin),
            Err(ServiceError::Invalid(_))
        ));
        svc.set_webhook_url(Some("https://chat.example/hooks/secret"), &admin)
            .expect("set");
        let status = svc.test_webhook(&admin).expect("test");
        assert_eq!(status.waiting, 1);
        assert!(texts(&svc)[0].starts_with("Test message from Skillmesh at Test"));
        assert!(texts(&svc)[0].ends_with("https://skills.northwind.example/admin/webhook"));
    }

    #[test]
    fn what_waits_for_approval_is_told_once_and_published_after_approval() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = std::sync::Arc::new(crate::store::Store::open(dir.path()).expect("store"));
        let svc = Service::new(
            "Northwind".into(),
            crate::identity::OrgIdentity::generate().expect("key"),
            store,
            crate::service::InboundSettings {
                approval_required: true,
                ..Default::default()
            },
        )
        .expect("service");
        let admin = Actor::person("admin@northwind.example");
        svc.set_webhook_url(Some("https://chat.example/h"), &admin)
            .expect("set");
        svc.store()
            .add_person(&Person::new("tomas", "Tomás Ferreira", "t@x.example", 0))
            .expect("person");
        svc.create_item("talk-1", Some("tomas"), talk("Incident reviews"), &admin)
            .expect("create");
        svc.publish_item("talk-1", &admin).expect("ask");
        // Asking again while it waits says nothing new.
        svc.publish_item("talk-1", &admin).expect("ask again");
        svc.approve_item("talk-1", &admin).expect("approve");
        let org = svc.org().to_hex();
        assert_eq!(
            texts(&svc),
            [
                "Waiting for approval at Northwind: the talk \"Incident reviews\" by Tomás Ferreira\n/admin/approvals".to_string(),
                format!("New talk from Northwind: \"Incident reviews\" by Tomás Ferreira\n/listing/{org}/talk-1"),
            ]
        );
    }
}
