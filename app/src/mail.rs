//! Notifications by mail: which person gets which notification mailed,
//! at once or in a digest, and what the message says (plain text and
//! HTML, with a link to the page). The node's mailer sends what is queued
//! here (`node/src/mailer.rs`); the queue is in the store, so a mail
//! server that is down loses nothing.

use maud::html;

use crate::clock;
use crate::service::{Result, Service};
use crate::store::{MailChoice, Notification, NotificationKind, OutgoingMail};

/// What a kind of notification is called where a person chooses how to
/// be mailed about it.
pub fn kind_label(kind: NotificationKind) -> &'static str {
    match kind {
        NotificationKind::RequestReceived => "Requests for your offers",
        NotificationKind::QuestionReceived => "Questions for you",
        NotificationKind::RequestAnswered => "Answers to your requests",
        NotificationKind::KudosReceived => "Kudos",
        NotificationKind::ApprovalWaiting => "Approvals waiting (admins)",
    }
}

/// Seconds to wait before trying again something the node sends out
/// (mail, the chat webhook's messages) after `attempts` failed tries:
/// 10 s after the first, doubling with each failure, at most 15 minutes.
pub fn retry_wait(attempts: u32) -> i64 {
    (5i64 << attempts.clamp(1, 8)).min(15 * 60)
}

impl Service {
    /// Turns mail on; links in messages point at the node's public
    /// address ([`Service::set_public_url`]).
    pub fn enable_mail(&self) {
        let _ = self.mails_cell().set(());
    }

    /// Whether this node sends mail.
    pub fn mails(&self) -> bool {
        self.mails_cell().get().is_some()
    }

    /// The base of links in mail, when mail is on.
    fn mail_base(&self) -> Option<String> {
        self.mails().then(|| self.link(""))
    }

    /// Resolves when mail was queued.
    pub fn mail_signal(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.mail_queued().clone()
    }

    /// What becomes of freshly made notifications when mail is on: those
    /// their person wants at once are queued as mail, those they want in
    /// a digest are marked for it (returned so, before they are stored).
    pub(crate) fn route_to_mail(&self, notes: &mut [Notification]) {
        let Some(base) = self.mail_base() else {
            return;
        };
        let mut mail = Vec::new();
        for n in notes.iter_mut() {
            let person = match self.store().person(&n.person) {
                Ok(Some(p)) => p,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read a person to mail");
                    continue;
                }
            };
            if person.email.is_empty() {
                continue;
            }
            match person.mail.get(&n.kind).copied().unwrap_or_default() {
                MailChoice::Never => {}
                MailChoice::Digest => n.in_digest = true,
                MailChoice::Immediately => {
                    let link = format!("{base}{}", n.link);
                    let text = format!(
                        "{}\n\nOpen it: {link}\n\n-- \n{} on Skillmesh. Choose which mail you get on {base}/account\n",
                        n.text,
                        self.org_name()
                    );
                    let html = html! {
                        p { (n.text) }
                        p { a href=(link) { "Open it" } }
                        p style="color:#5b6575" { (self.org_name()) " on Skillmesh · " a href={ (base) "/account" } { "choose which mail you get" } }
                    }
                    .into_string();
                    if let Some(m) = self.mail_to(&person.email, &n.text, text, html) {
                        mail.push(m);
                    }
                }
            }
        }
        self.queue(&mail);
    }

    /// One digest per person of everything waiting for one.
    pub fn send_digests(&self) -> Result<usize> {
        let Some(base) = self.mail_base() else {
            return Ok(0);
        };
        let waiting = self.store().waiting_for_digest()?;
        let mut people: Vec<&str> = waiting.iter().map(|n| n.person.as_str()).collect();
        people.sort_unstable();
        people.dedup();
        let mut mail = Vec::new();
        for person_id in &people {
            let Some(person) = self.store().person(person_id)? else {
                continue;
            };
            let mut notes: Vec<&Notification> =
                waiting.iter().filter(|n| n.person == *person_id).collect();
            notes.sort_by(|a, b| a.id.cmp(&b.id));
            let subject = format!("{} things happened on Skillmesh", notes.len());
            let mut text = String::new();
            for n in &notes {
                text.push_str(&format!("* {} ({base}{})\n", n.text, n.link));
            }
            text.push_str(&format!(
                "\n-- \n{} on Skillmesh. Choose which mail you get on {base}/account\n",
                self.org_name()
            ));
            let html = html! {
                ul { @for n in &notes { li { a href={ (base) (n.link) } { (n.text) } } } }
                p style="color:#5b6575" { (self.org_name()) " on Skillmesh · " a href={ (base) "/account" } { "choose which mail you get" } }
            }
            .into_string();
            if let Some(m) = self.mail_to(&person.email, &subject, text, html) {
                mail.push(m);
            }
        }
        let sent = waiting
            .iter()
            .filter(|n| people.contains(&n.person.as_str()))
            .cloned()
            .collect::<Vec<_>>();
        self.store().digest_queued(&sent, &mail)?;
        if !mail.is_empty() {
            self.mail_queued().notify_one();
        }
        Ok(mail.len())
    }

    pub(crate) fn mail_to(
        &self,
        to: &str,
        subject: &str,
        text: String,
        html: String,
    ) -> Option<OutgoingMail> {
        let now = clock::now();
        let id = match crate::service::time_ordered_id(now) {
            Ok(id) => id,
            Err(e) => {
                tracing::warn!(error = %e, "no id for a mail");
                return None;
            }
        };
        // One line, at most 200 characters: the subject is a header.
        let subject: String = subject
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(200)
            .collect();
        Some(OutgoingMail {
            id,
            to: to.to_string(),
            subject,
            text,
            html,
            created_at: now,
            attempts: 0,
            next_at: now,
            last_error: String::new(),
        })
    }

    pub(crate) fn queue(&self, mail: &[OutgoingMail]) {
        if mail.is_empty() {
            return;
        }
        match self.store().queue_mail(mail) {
            Ok(()) => self.mail_queued().notify_one(),
            Err(e) => tracing::warn!(error = %e, "cannot queue mail"),
        }
    }

    /// Up to `limit` messages due now.
    pub fn due_mail(&self, limit: usize) -> Result<Vec<OutgoingMail>> {
        Ok(self.store().due_mail(clock::now(), limit)?)
    }

    /// The server took `id`.
    pub fn mail_sent(&self, id: &str) -> Result<()> {
        Ok(self.store().mail_sent(id)?)
    }

    /// Sending `mail` failed with `error`: tried again after
    /// [`retry_wait`]. Nothing is dropped.
    pub fn mail_failed(&self, mut mail: OutgoingMail, error: &str) -> Result<i64> {
        mail.attempts = mail.attempts.saturating_add(1);
        let wait = retry_wait(mail.attempts);
        mail.next_at = clock::now() + wait;
        mail.last_error = error.chars().take(500).collect();
        self.store().mail_failed(&mail)?;
        Ok(wait)
    }

    /// How our person wants each kind of notification mailed.
    pub fn mail_choices(&self, person: &str) -> Result<Vec<(NotificationKind, MailChoice)>> {
        let person = self
            .store()
            .person(person)?
            .ok_or_else(|| crate::service::ServiceError::NotFound(format!("person {person}")))?;
        Ok(NotificationKind::ALL
            .iter()
            .map(|k| (*k, person.mail.get(k).copied().unwrap_or_default()))
            .collect())
    }

    /// Sets how our person wants each kind mailed.
    pub fn set_mail_choices(
        &self,
        person: &str,
        choices: &[(NotificationKind, MailChoice)],
    ) -> Result<()> {
        let mut p = self
            .store()
            .person(person)?
            .ok_or_else(|| crate::service::ServiceError::NotFound(format!("person {person}")))?;
        p.mail = choices.iter().copied().collect();
        self.store().update_person(&p)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_wait_doubles_from_ten_seconds_to_a_quarter_of_an_hour() {
        let waits: Vec<i64> = (1..=10).map(super::retry_wait).collect();
        assert_eq!(waits, [10, 20, 40, 80, 160, 320, 640, 900, 900, 900]);
        assert_eq!(super::retry_wait(u32::MAX), 900);
    }
}
