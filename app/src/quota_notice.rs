//! Quota notices: when this node refuses a partner's record because the
//! partner is over its record quota here, it tells the partner, with a
//! signed `quota_notice` sent directly to the partner's node, at most once
//! per [`NOTICE_EVERY_SECS`] per partner (docs/PROTOCOL.md, "Quota
//! notices"). The partner's node keeps the latest notice from each
//! organisation and shows it to its admins (console and audit log).
//!
//! Sending is best effort: the notice is handed to a small task (the
//! node's `network::quota_notices::run`) that sends it over the direct
//! protocol; if the partner cannot be reached, the next refusal after
//! [`RETRY_AFTER_FAILURE_SECS`] tries again. Nothing is stored for it on the refusing side.

use std::collections::HashMap;
use std::sync::Mutex;

use skillmesh_protocol::kinds::QuotaNotice as NoticeBody;
use skillmesh_protocol::{Body, OrgKey, Rejection};
use tokio::sync::mpsc;

use crate::clock;
use crate::policy::Admission;
use crate::requests::{PeerOutcome, Refusal, open_direct};
use crate::service::{Result, Service, random_id};
use crate::store::Actor;
use crate::store::{AuditAction, AuditEntry, QuotaNotice};

/// At most one notice per partner this often (seconds), and at most one
/// audit line per partner this often on the receiving side.
pub const NOTICE_EVERY_SECS: i64 = 3600;
/// After a notice could not be delivered, the next refusal may try again
/// this much later (seconds).
pub const RETRY_AFTER_FAILURE_SECS: i64 = 60;
/// Notices waiting to be sent; more are dropped (they are informational).
const QUEUE: usize = 64;

/// A signed notice for `to`'s node.
pub type Outgoing = (OrgKey, Vec<u8>);

/// The refusing side's state: when each partner was last sent a notice,
/// and the queue to the sending task (none until the network is wired).
#[derive(Default)]
pub struct Notices {
    last_sent: Mutex<HashMap<OrgKey, i64>>,
    tx: Mutex<Option<mpsc::Sender<Outgoing>>>,
}

impl Notices {
    /// Takes `org`'s turn if one is due at `now`.
    fn take_turn(&self, org: OrgKey, now: i64) -> bool {
        let mut last = self
            .last_sent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.get(&org).is_some_and(|t| now - *t < NOTICE_EVERY_SECS) {
            return false;
        }
        last.insert(org, now);
        true
    }

    /// `org`'s notice did not arrive: the next may go after a short wait.
    fn failed(&self, org: OrgKey, now: i64) {
        let mut last = self
            .last_sent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        last.insert(org, now - NOTICE_EVERY_SECS + RETRY_AFTER_FAILURE_SECS);
    }

    fn sender(&self) -> Option<mpsc::Sender<Outgoing>> {
        self.tx
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// The queue from the service to the sending task.
pub fn channel() -> (mpsc::Sender<Outgoing>, mpsc::Receiver<Outgoing>) {
    mpsc::channel(QUEUE)
}

impl Service {
    /// Queues signed quota notices from now on on `tx` (the network's
    /// sending task takes them from there).
    pub fn set_quota_notices(&self, tx: mpsc::Sender<Outgoing>) {
        *self
            .quota_notices()
            .tx
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(tx);
    }

    /// The notice for `org` could not be delivered: the next refusal may
    /// send another after [`RETRY_AFTER_FAILURE_SECS`].
    pub fn quota_notice_failed(&self, org: OrgKey) {
        self.quota_notices().failed(org, clock::now());
    }

    /// A record `record_id` of `org` was just refused for `org`'s quota:
    /// tells `org`'s node, if its turn is due (one notice per
    /// [`NOTICE_EVERY_SECS`]), with an audit line here.
    pub(crate) fn refused_for_quota(&self, org: OrgKey, record_id: &str) -> Result<()> {
        let Some(tx) = self.quota_notices().sender() else {
            return Ok(());
        };
        let now = clock::now();
        if !self.quota_notices().take_turn(org, now) {
            return Ok(());
        }
        let held = self.store().org_live_count(&org)?;
        let limit = self.inbound().max_records_per_org;
        let body = Body::QuotaNotice(NoticeBody {
            publisher: org,
            record_id: record_id.to_string(),
            held,
            limit,
        });
        let envelope = self.sign_direct(&random_id("quota-notice")?, 1, body)?;
        if tx.try_send((org, envelope)).is_err() {
            self.quota_notices().failed(org, now);
            return Ok(());
        }
        self.audit(
            &Actor::Node,
            AuditAction::QuotaNoticeSent,
            Some(org),
            Some(record_id),
            format!("over quota: {held} of {limit} records"),
        )
    }

    /// Another node tells us it refused one of our records for our quota
    /// there: kept as the latest notice from that organisation (shown in
    /// the admin console), audited at most once per [`NOTICE_EVERY_SECS`]
    /// per organisation. Refused unless it is signed by the sending
    /// organisation, addressed to us, from an organisation admitted here
    /// and about a record we published.
    pub fn receive_quota_notice(&self, bytes: &[u8], sender: OrgKey) -> PeerOutcome<()> {
        let record = match open_direct(bytes, sender) {
            Ok(r) => r,
            Err(r) => return Ok(Err(r)),
        };
        let Body::QuotaNotice(notice) = record.body else {
            return Ok(Err(Refusal::Invalid(Rejection::UnknownKind(
                record.kind().to_string(),
            ))));
        };
        if notice.publisher != self.org() {
            return Ok(Err(Refusal::NotForUs));
        }
        if self.admission(&sender)? != Admission::Accept {
            return Ok(Err(Refusal::NotAdmitted));
        }
        if self
            .store()
            .get_record(&self.org(), &notice.record_id)?
            .is_none()
        {
            return Ok(Err(Refusal::Invalid(Rejection::Malformed(
                "the record is not one this organisation published".into(),
            ))));
        }
        let now = clock::now();
        let previous = self.store().quota_notice(&sender)?;
        let audit = previous
            .as_ref()
            .is_none_or(|p| now - p.received_at >= NOTICE_EVERY_SECS)
            .then(|| AuditEntry {
                at: now,
                actor: Actor::Org(sender).to_string(),
                action: AuditAction::QuotaRefusedByPartner.into(),
                org: Some(sender.to_hex()),
                record_id: Some(notice.record_id.clone()),
                detail: format!(
                    "our record was refused: over quota ({} of {} records)",
                    notice.held, notice.limit
                ),
                claimed_org: None,
                count: 1,
            });
        let kept = QuotaNotice {
            from: sender,
            record_id: notice.record_id,
            held: notice.held,
            limit: notice.limit,
            issued_at: record.header.issued_at,
            received_at: now,
            count: previous.map_or(1, |p| p.count.saturating_add(1)),
        };
        self.store().put_quota_notice(&kept, audit.as_ref())?;
        tracing::info!(org = %sender.short(), record = %kept.record_id, held = kept.held, limit = kept.limit, "a partner refused our record: over its quota");
        Ok(Ok(()))
    }
}
