//! Records from other organisations coming in: verify (on every core for
//! a large batch), admit (inbound policy, quota, the `seq` rule), store in
//! one durable batch, index, and audit every outcome.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::metrics::Via;

use super::*;

impl Service {
    /// Takes an envelope from another organisation. See [`Service::ingest_many`].
    pub fn ingest(&self, bytes: &[u8], from: &Actor) -> Result<Result<Ingested, Rejection>> {
        let mut out = self.ingest_many(&[bytes], from)?;
        out.pop()
            .ok_or_else(|| ServiceError::Invalid("no ingest outcome".into()))
    }

    /// Takes envelopes from another organisation. See
    /// [`Service::ingest_many_via`]; the way they came is read from `from`
    /// ([`Via::of_actor`]: [`Actor::Sync`] for sync, else gossip).
    pub fn ingest_many(
        &self,
        envelopes: &[&[u8]],
        from: &Actor,
    ) -> Result<Vec<Result<Ingested, Rejection>>> {
        self.ingest_many_via(envelopes, from, Via::of_actor(from))
    }

    /// Takes envelopes from another organisation: verifies each, applies
    /// inbound policy, the quota and the `seq` rule, stores the survivors in
    /// one durable batch, and writes every outcome to the audit log. The
    /// outer error is a local failure (storage); the inner one per envelope
    /// says why that envelope was refused. Each outcome is counted in the
    /// metrics, under `via`.
    pub fn ingest_many_via(
        &self,
        envelopes: &[&[u8]],
        from: &Actor,
        via: Via,
    ) -> Result<Vec<Result<Ingested, Rejection>>> {
        let results = self.ingest_batch(envelopes, from)?;
        let metrics = &self.inner.metrics;
        for result in &results {
            match result {
                Ok(ingested) => metrics.ingested(ingested.outcome(), via),
                Err(rejection) => metrics.rejected(rejection),
            }
        }
        Ok(results)
    }

    /// In steps: verify every envelope (in parallel with other ingests),
    /// then, one ingest at a time, admit each, store the admitted with
    /// every audit line in one durable batch, and index what changed.
    fn ingest_batch(
        &self,
        envelopes: &[&[u8]],
        from: &Actor,
    ) -> Result<Vec<Result<Ingested, Rejection>>> {
        let now = clock::now();
        let mut batch = Admitting::new(from, now, envelopes.len());
        batch.note_sender(self)?;
        let opened = open_all(envelopes, now);
        // Policy, quota and storing run one ingest at a time, so two
        // batches cannot both take an organisation's last quota place.
        let _serial = self
            .inner
            .ingest_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (i, (bytes, opened)) in envelopes.iter().zip(opened).enumerate() {
            batch.admit(self, i, bytes, opened)?;
        }
        let outcomes = self.store_admitted(&batch)?;
        self.inner.search.apply(
            (batch.accepted.iter())
                .zip(&outcomes)
                .filter(|(_, outcome)| outcome.changed())
                .map(|((_, record, _), _)| record),
        );
        for (org, record_id) in std::mem::take(&mut batch.over_quota) {
            self.refused_for_quota(org, &record_id)?;
        }
        Ok(batch.results(outcomes))
    }

    /// Stores what `batch` admitted, with every audit line about the batch
    /// (its refusals, and a line per record that changed something), in
    /// one atomic, durable write.
    fn store_admitted(&self, batch: &Admitting<'_>) -> Result<Vec<PutOutcome>> {
        let items: Vec<(&Record, &Envelope)> =
            batch.accepted.iter().map(|(_, r, e)| (r, e)).collect();
        let outcomes = self.inner.store.put_records_audited(
            &items,
            batch.now,
            &batch.audit,
            &batch.refused,
            |record, outcome| batch.stored_line(record, &outcome),
        )?;
        Ok(outcomes)
    }
}

/// One ingest's state while its envelopes are admitted: what each came to
/// so far, what goes into the store, and the audit lines to write with it.
struct Admitting<'a> {
    from: &'a Actor,
    now: i64,
    /// How many envelopes the batch holds (a quota within that many of
    /// its end is checked record by record).
    len: usize,
    /// The organisation of the peer that sent these, when `from` names
    /// one ([`Actor::Peer`] or [`Actor::Sync`]): the one a rejection is
    /// filed under.
    sender: Option<OrgKey>,
    results: Vec<Option<Result<Ingested, Rejection>>>,
    /// (position in the batch, record, envelope) of what goes to the store.
    accepted: Vec<(usize, Record, Envelope)>,
    audit: Vec<AuditEntry>,
    /// Every record refused by policy, for the console's panel.
    refused: Vec<(OrgKey, &'static str)>,
    /// Per organisation over its quota: one record refused for it.
    over_quota: BTreeMap<OrgKey, String>,
    /// Policy, read once per organisation per batch.
    admissions: HashMap<OrgKey, Admission>,
    /// Quota room left per organisation.
    room: HashMap<OrgKey, u64>,
    /// Rows held per organisation, read once, for retractions.
    tombstone_rows: HashMap<OrgKey, u64>,
    /// Organisations already noted as seen in this batch.
    seen: HashSet<OrgKey>,
}

impl<'a> Admitting<'a> {
    fn new(from: &'a Actor, now: i64, len: usize) -> Self {
        Admitting {
            from,
            now,
            len,
            sender: sender_org(from),
            results: vec![None; len],
            accepted: Vec::new(),
            audit: Vec::new(),
            refused: Vec::new(),
            over_quota: BTreeMap::new(),
            admissions: HashMap::new(),
            room: HashMap::new(),
            tombstone_rows: HashMap::new(),
            seen: HashSet::new(),
        }
    }

    /// The sending peer's organisation was seen now.
    fn note_sender(&mut self, svc: &Service) -> Result<()> {
        if let Some(s) = self.sender {
            self.seen.insert(s);
            svc.note_seen(&s)?;
        }
        Ok(())
    }

    fn entry(
        &self,
        action: AuditAction,
        org: Option<OrgKey>,
        id: Option<&str>,
        detail: String,
    ) -> AuditEntry {
        AuditEntry {
            at: self.now,
            actor: self.from.to_string(),
            action: action.into(),
            org: org.map(|o| o.to_hex()),
            record_id: id.map(str::to_string),
            detail,
            claimed_org: None,
            count: 1,
        }
    }

    /// Envelope `i` is refused: `line` says why in the audit log.
    fn refuse(&mut self, i: usize, line: AuditEntry, outcome: Result<Ingested, Rejection>) {
        self.audit.push(line);
        self.results[i] = Some(outcome);
    }

    /// Decides what envelope `i` (`bytes`, verified as `opened`) comes
    /// to: rejected, refused by policy or quota, or on to the store.
    fn admit(
        &mut self,
        svc: &Service,
        i: usize,
        bytes: &[u8],
        opened: std::result::Result<Record, Rejection>,
    ) -> Result<()> {
        let record = match opened {
            Ok(r) => r,
            Err(reason) => {
                // Filed under the peer that sent it; the organisation it
                // names is only claimed (its signature failed).
                let signer = skillmesh_protocol::split(bytes).ok().map(|p| p.signer);
                let line = AuditEntry {
                    claimed_org: signer.map(|o| o.to_hex()),
                    ..self.entry(
                        AuditAction::RecordRejected,
                        self.sender,
                        None,
                        format!("{}: {reason}", reason.code()),
                    )
                };
                self.refuse(i, line, Err(reason));
                return Ok(());
            }
        };
        if !record.kind().is_federated() {
            let reason = Rejection::Malformed(format!(
                "{} records are sent directly, never published",
                record.kind()
            ));
            let line = self.entry(
                AuditAction::RecordRejected,
                Some(record.header.org),
                Some(&record.header.id),
                format!("{}: {reason}", reason.code()),
            );
            self.refuse(i, line, Err(reason));
            return Ok(());
        }
        let org = record.header.org;
        if self.seen.insert(org) {
            svc.note_seen(&org)?;
        }
        let admission = match self.admissions.get(&org) {
            Some(a) => *a,
            None => {
                let a = svc.admission(&org)?;
                self.admissions.insert(org, a);
                a
            }
        };
        if admission == Admission::NotAllowed
            && let Body::OrgCard(card) = &record.body
        {
            svc.note_join_request(&org, Some(card.clone()))?;
        }
        let admitted = if admission == Admission::Accept {
            org == svc.org() || self.within_quota(svc, i, &record)?
        } else {
            self.honours_withdrawal(svc, i, &record, admission)?
        };
        if admitted {
            self.accepted
                .push((i, record, Envelope::from_bytes(bytes.to_vec())));
        }
        Ok(())
    }

    /// Whether `record` from an organisation policy does not accept goes
    /// in all the same: a withdrawal is always honoured, so a retraction
    /// of a record held here goes in whoever sent it (it is verified like
    /// any record, and takes no quota room). Nothing else does.
    fn honours_withdrawal(
        &mut self,
        svc: &Service,
        i: usize,
        record: &Record,
        admission: Admission,
    ) -> Result<bool> {
        let (org, id) = (record.header.org, record.header.id.as_str());
        let withdraws_held = record.kind() == skillmesh_protocol::Kind::Retraction
            && svc
                .store()
                .get_record(&org, id)?
                .is_some_and(|row| !row.tombstone && row.seq < record.header.seq);
        if !withdraws_held {
            let line = self.entry(
                AuditAction::RecordRefused,
                Some(org),
                Some(id),
                admission.reason().into(),
            );
            self.refuse(i, line, Ok(Ingested::NotAdmitted(admission)));
            self.refused.push((org, admission.code()));
        }
        Ok(withdraws_held)
    }

    /// Whether `record`, from another organisation policy accepts, fits
    /// its quota (taking the room it needs when it does).
    fn within_quota(&mut self, svc: &Service, i: usize, record: &Record) -> Result<bool> {
        let store = svc.store();
        let (org, id) = (record.header.org, record.header.id.as_str());
        let max = svc.inner.inbound.max_records_per_org;
        if record.kind() == skillmesh_protocol::Kind::Retraction {
            // A retraction takes no quota room. One of an id not held is
            // kept (as a tombstone, so an older copy cannot come back)
            // only while the organisation's rows, live or withdrawn, stay
            // within twice its quota.
            let rows = match self.tombstone_rows.get(&org) {
                Some(n) => *n,
                None => store.org_record_count(&org)?,
            };
            self.tombstone_rows.insert(org, rows);
            if rows >= max.saturating_mul(2) && store.get_record(&org, id)?.is_none() {
                let line = self.entry(
                    AuditAction::RecordRefused,
                    Some(org),
                    Some(id),
                    "organisation holds too many withdrawn records; nothing to withdraw here"
                        .into(),
                );
                self.refuse(i, line, Ok(Ingested::OverQuota));
                self.refused.push((org, QUOTA_REFUSAL));
                return Ok(false);
            }
            return Ok(true);
        }
        let left = match self.room.get(&org) {
            Some(n) => *n,
            None => max.saturating_sub(store.org_live_count(&org)?),
        };
        self.room.entry(org).or_insert(left);
        // Only when the organisation is within one batch of its quota does
        // it matter whether a record is new (updates of a live record take
        // no room; a record replacing a withdrawn one does).
        let near_quota = left <= self.len as u64;
        if near_quota && store.get_record(&org, id)?.is_none_or(|row| row.tombstone) {
            if left == 0 {
                let line = self.entry(
                    AuditAction::RecordRefused,
                    Some(org),
                    Some(id),
                    format!("organisation is over its record quota ({max} records)"),
                );
                self.refuse(i, line, Ok(Ingested::OverQuota));
                self.refused.push((org, QUOTA_REFUSAL));
                self.over_quota.entry(org).or_insert_with(|| id.to_string());
                return Ok(false);
            }
            self.room.insert(org, left - 1);
        }
        Ok(true)
    }

    /// The audit line for a record the store took, if it changed
    /// anything (or was signed twice with one `seq`).
    fn stored_line(&self, record: &Record, outcome: &PutOutcome) -> Option<AuditEntry> {
        if let PutOutcome::Equivocation { seq, won } = outcome {
            // The organisation signed two different versions with this
            // `seq`; every node keeps the same one.
            return Some(self.entry(
                AuditAction::Equivocation,
                Some(record.header.org),
                Some(&record.header.id),
                format!(
                    "two different versions of seq {seq} signed; kept {} (lower digest wins)",
                    if *won {
                        "the one just received"
                    } else {
                        "the one held"
                    }
                ),
            ));
        }
        outcome.changed().then(|| {
            let action = if record.kind() == skillmesh_protocol::Kind::Retraction {
                AuditAction::RetractionReceived
            } else {
                AuditAction::RecordReceived
            };
            let mut detail = format!("{} seq {}", record.kind(), record.header.seq);
            if let Some(a) = self
                .admissions
                .get(&record.header.org)
                .filter(|a| **a != Admission::Accept)
            {
                detail.push_str(&format!(" (honoured although the {})", a.reason()));
            }
            self.entry(
                action,
                Some(record.header.org),
                Some(&record.header.id),
                detail,
            )
        })
    }

    /// Every envelope's outcome, in order, given what the store made of
    /// the admitted ones.
    fn results(self, outcomes: Vec<PutOutcome>) -> Vec<Result<Ingested, Rejection>> {
        let mut results = self.results;
        for ((i, record, _), outcome) in self.accepted.iter().zip(outcomes) {
            results[*i] = Some(Ok(if outcome.changed() {
                Ingested::Stored {
                    outcome,
                    relay: skillmesh_protocol::fit_to_relay(&record.header, self.now),
                }
            } else {
                Ingested::Stale
            }));
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or(Ok(Ingested::Stale)))
            .collect()
    }
}

/// Verifies and decodes envelopes, on every core for large batches (sync
/// pages): verification is most of the cost of taking records in.
fn open_all(envelopes: &[&[u8]], now: i64) -> Vec<std::result::Result<Record, Rejection>> {
    const PARALLEL_FROM: usize = 64;
    let open = |chunk: &[&[u8]]| -> Vec<_> {
        chunk
            .iter()
            .map(|b| skillmesh_protocol::open(b, now))
            .collect()
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if envelopes.len() < PARALLEL_FROM || threads < 2 {
        return open(envelopes);
    }
    let chunk = envelopes.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = envelopes
            .chunks(chunk)
            .map(|c| (c.len(), scope.spawn(move || open(c))))
            .collect();
        // One result per envelope, in order, even if a thread panicked:
        // callers pair results with envelopes by position.
        handles
            .into_iter()
            .flat_map(|(n, h)| {
                h.join().unwrap_or_else(|_| {
                    (0..n)
                        .map(|_| Err(Rejection::Malformed("verification thread failed".into())))
                        .collect()
                })
            })
            .collect()
    })
}
