//! Telling people what happened: a notification for our person when a
//! request or a question reaches them, when an answer to theirs comes
//! back, when kudos arrive, and for every admin when something waits
//! for approval. Kept in the store (see `store::notifications`); the web
//! layer shows the unread count on every page and lists them.
//!
//! A notification is written after the thing it is about, in a commit of
//! its own: if that write fails, the thing stays done and the failure is
//! logged, since a missing notice must not undo a request or an answer.

use crate::clock;
use crate::service::{Result, Service};
use crate::store::{Notification, NotificationKind, Role};

/// Notifications a person sees at once (the store keeps at most 200).
pub const SHOWN: usize = 100;

impl Service {
    /// Tells our person `person` of `text` (about the page at `link`).
    pub(crate) fn notify(&self, person: &str, kind: NotificationKind, text: &str, link: &str) {
        self.notify_all(&[person.to_string()], kind, text, link);
    }

    /// Tells every admin with a profile here.
    pub(crate) fn notify_admins(&self, kind: NotificationKind, text: &str, link: &str) {
        let admins = match self.store().accounts() {
            Ok(accounts) => accounts
                .into_iter()
                .filter(|a| a.role == Role::Admin)
                .filter_map(|a| a.person_id)
                .collect::<Vec<_>>(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot list the admins to notify");
                return;
            }
        };
        self.notify_all(&admins, kind, text, link);
    }

    fn notify_all(&self, people: &[String], kind: NotificationKind, text: &str, link: &str) {
        let at = clock::now();
        let mut new = Vec::with_capacity(people.len());
        for person in people {
            let id = match crate::service::time_ordered_id(at) {
                Ok(id) => id,
                Err(e) => {
                    tracing::warn!(error = %e, "no id for a notification");
                    return;
                }
            };
            new.push(Notification {
                id,
                person: person.clone(),
                kind,
                text: text.to_string(),
                link: link.to_string(),
                at,
                read: false,
                in_digest: false,
            });
        }
        self.route_to_mail(&mut new);
        if let Err(e) = self.store().add_notifications(&new) {
            tracing::warn!(error = %e, ?kind, "cannot store a notification");
        }
    }

    /// Our person's notifications, newest first.
    pub fn notifications(&self, person: &str) -> Result<Vec<Notification>> {
        Ok(self.store().notifications_of(person, SHOWN)?)
    }

    /// How many of our person's notifications are unread.
    pub fn unread_notifications(&self, person: &str) -> Result<usize> {
        Ok(self.store().unread_notifications(person)?)
    }

    /// Marks our person's notifications `ids` read, or all of them.
    pub fn mark_notifications_read(&self, person: &str, ids: Option<&[String]>) -> Result<usize> {
        Ok(self.store().mark_notifications_read(person, ids)?)
    }
}
