//! Records from other organisations coming in: verify (on every core for
//! a large batch), admit (inbound policy, quota, the `seq` rule), store in
//! one durable batch, index, and audit every outcome.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::metrics::Via;

use super::*;

/// Told what gossip is to do with each envelope of an ingest, in order,
/// before the ingest stores them.
type Decided<'a> = &'a mut dyn FnMut(&[Verdict]);

impl Service {
    /// Takes an envelope from another organisation. See [`Service::ingest_many`].
    pub fn ingest(&self, bytes: &[u8], from: &Actor) -> Result<Result<Ingested, Rejection>> {
        only(self.ingest_many(&[bytes], from)?)
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
        self.ingest_counted(envelopes, from, via, None)
    }

    /// Takes one gossiped envelope like [`Service::ingest_many_via`], and
    /// calls `decided` with what gossip is to do with it as soon as that
    /// is known: once it is verified, admitted and compared with what is
    /// held, before it is stored and indexed. So forwarding waits for the
    /// checks the next node will make, not for this node's disk; a record
    /// passed on and then lost to a crash or a store fault here comes back
    /// by reconciliation like any missed one. `decided` is not called when
    /// a local failure comes first (the error is returned).
    pub fn ingest_gossip(
        &self,
        envelope: &[u8],
        from: &Actor,
        decided: impl FnOnce(Verdict),
    ) -> Result<Result<Ingested, Rejection>> {
        let mut decided = Some(decided);
        let mut tell = |verdicts: &[Verdict]| {
            if let (Some(d), Some(v)) = (decided.take(), verdicts.first()) {
                d(*v);
            }
        };
        only(self.ingest_counted(&[envelope], from, Via::Gossip, Some(&mut tell))?)
    }

    /// [`Service::ingest_batch`], each outcome counted in the metrics.
    fn ingest_counted(
        &self,
        envelopes: &[&[u8]],
        from: &Actor,
        via: Via,
        decided: Option<Decided<'_>>,
    ) -> Result<Vec<Result<Ingested, Rejection>>> {
        let results = self.ingest_batch(envelopes, from, decided)?;
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
    /// then, one ingest at a time, admit each, tell `decided` what gossip
    /// is to do with each, store the admitted with every audit line in one
    /// durable batch, and index what changed.
    fn ingest_batch(
        &self,
        envelopes: &[&[u8]],
        from: &Actor,
        decided: Option<Decided<'_>>,
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
        if let Some(decided) = decided {
            decided(&batch.verdicts(self));
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

    /// A peer `from` lists `n` records of `org` (the first `record_id`)
    /// that this node did not fetch, because `org` is at its record quota
    /// here. Audited as refused, under the same reason as a record refused
    /// on arrival (so repeats within a minute are one line with a count),
    /// and `org` is told as for any refusal for its quota: whether its
    /// records came by gossip or were found by reconciliation, an
    /// organisation over its quota shows up here and hears of it.
    pub fn refuse_unfetched_for_quota(
        &self,
        from: &Actor,
        org: OrgKey,
        record_id: &str,
        n: u64,
    ) -> Result<()> {
        if n == 0 {
            return Ok(());
        }
        let max = self.inner.inbound.max_records_per_org;
        self.inner.store.audit(&[AuditEntry {
            at: clock::now(),
            actor: from.to_string(),
            action: AuditAction::RecordRefused.into(),
            org: Some(org.to_hex()),
            record_id: Some(record_id.to_string()),
            detail: over_quota_reason(max),
            claimed_org: None,
            count: n,
        }])?;
        self.refused_for_quota(org, record_id)
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
                    over_quota_reason(max),
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

    /// What gossip is to do with each envelope, in order, once all are
    /// admitted: see [`Verdict`]. An admitted record is passed on when it
    /// is fit to relay and would change what the store holds (read, not
    /// yet written; a failed read passes nothing on).
    fn verdicts(&self, svc: &Service) -> Vec<Verdict> {
        let mut verdicts: Vec<Verdict> = (self.results.iter())
            .map(|r| match r {
                Some(Err(r)) if r.is_clock_dependent() => Verdict::Ignore,
                Some(Err(_)) => Verdict::Reject,
                Some(Ok(_)) | None => Verdict::Ignore,
            })
            .collect();
        for (i, record, envelope) in &self.accepted {
            let relay = skillmesh_protocol::fit_to_relay(&record.header, self.now)
                && match svc.store().foresee_put(record, envelope) {
                    Ok(outcome) => outcome.changed(),
                    Err(e) => {
                        tracing::debug!(error = %e, "cannot compare a gossiped record with the one held");
                        false
                    }
                };
            if relay {
                verdicts[*i] = Verdict::Accept;
            }
        }
        verdicts
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

/// The outcome of an ingest of one envelope.
fn only(mut outcomes: Vec<Result<Ingested, Rejection>>) -> Result<Result<Ingested, Rejection>> {
    outcomes
        .pop()
        .ok_or_else(|| ServiceError::Invalid("no ingest outcome".into()))
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
    if envelopes.len() < PARALLEL_FROM {
        return open(envelopes);
    }
    // Read only for large batches: it reads the cgroup's CPU quota files.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 {
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

/// Why a record of an organisation over its quota `max` was refused.
fn over_quota_reason(max: u64) -> String {
    format!("organisation is over its record quota ({max} records)")
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;
    use skillmesh_protocol::fingerprint::envelope_digest;
    use skillmesh_protocol::{Header, Kind, samples, seal};

    use super::*;

    fn envelope(key: &SigningKey, seq: u64, title: &str) -> Vec<u8> {
        let org = OrgKey::from(&key.verifying_key());
        let now = clock::now();
        let mut record = Record {
            header: Header {
                issued_at: now - 10,
                expires_at: now + 86_400,
                ..samples::header(org, "talk-1", seq)
            },
            body: samples::body(Kind::TalkOffer),
        };
        if let Body::TalkOffer(t) = &mut record.body {
            t.title = title.into();
        }
        seal(&record, key).expect("seal").into_bytes()
    }

    /// Ingests `bytes` as gossip; returns the verdict and whether the
    /// store held the record when the verdict was given.
    fn gossip(svc: &Service, bytes: &[u8]) -> (Verdict, bool) {
        let org = skillmesh_protocol::split(bytes).map(|p| p.signer).ok();
        let mut seen = None;
        svc.ingest_gossip(bytes, &Actor::Peer("peer".into()), |v| {
            let held = org.and_then(|o| {
                svc.store()
                    .get_record(&o, "talk-1")
                    .expect("read")
                    .map(|r| r.seq)
            });
            seen = Some((v, held));
        })
        .expect("ingest")
        .ok();
        let (verdict, held) = seen.expect("a verdict");
        (verdict, held.is_some())
    }

    #[test]
    fn gossip_is_told_its_verdict_before_the_record_is_written() {
        let (_dir, svc) = Service::for_tests();
        let key = SigningKey::from_bytes(&[7; 32]);
        let org = OrgKey::from(&key.verifying_key());
        let first = envelope(&key, 1, "First");

        let (verdict, held) = gossip(&svc, &first);
        assert_eq!(verdict, Verdict::Accept);
        assert!(!held, "decided before the write");
        let row = svc.store().get_record(&org, "talk-1").expect("read");
        assert_eq!(row.map(|r| r.seq), Some(1), "and written after it");

        // The same version again, and an older one: held, not passed on.
        // Three versions signed with `seq` 2, in the order of their
        // digests: the middle one is taken in first.
        let mut versions: Vec<Vec<u8>> = ["Second", "Rival", "Other rival"]
            .iter()
            .map(|title| envelope(&key, 2, title))
            .collect();
        versions.sort_by_key(|v| envelope_digest(v));
        let [low, newer, high] = &versions[..] else {
            panic!("three versions");
        };
        assert_eq!(gossip(&svc, newer).0, Verdict::Accept);
        assert_eq!(gossip(&svc, &first).0, Verdict::Ignore);

        // Another version with the held `seq`: one with a higher digest
        // than the held one is not passed on, one with a lower digest is
        // (every node keeps the lowest).
        assert_eq!(gossip(&svc, high).0, Verdict::Ignore);
        assert_eq!(gossip(&svc, low).0, Verdict::Accept);

        // Tampered: rejected, and nothing is written.
        let mut bad = envelope(&key, 3, "Third");
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(gossip(&svc, &bad), (Verdict::Reject, true));
        let row = svc.store().get_record(&org, "talk-1").expect("read");
        assert_eq!(row.map(|r| r.seq), Some(2));
    }

    #[test]
    fn records_left_unfetched_for_the_quota_are_audited_with_their_count() {
        let (_dir, svc) = Service::for_tests();
        let org = OrgKey::from(&SigningKey::from_bytes(&[8; 32]).verifying_key());
        let from = Actor::Sync("12D3KooWpeer".into());
        svc.refuse_unfetched_for_quota(&from, org, "talk-9", 0)
            .expect("nothing");
        svc.refuse_unfetched_for_quota(&from, org, "talk-4", 2)
            .expect("audit");
        svc.refuse_unfetched_for_quota(&from, org, "talk-4", 3)
            .expect("audit");
        let lines = svc
            .audit_log(&crate::store::AuditFilter {
                action: Some("record_refused".into()),
                org: Some(org.to_hex()),
                ..Default::default()
            })
            .expect("log");
        // One line for the minute, counting both rounds; none for zero.
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0].count, 5);
        assert_eq!(lines[0].actor, "sync:12D3KooWpeer");
        assert!(
            lines[0].detail.contains("record quota"),
            "{}",
            lines[0].detail
        );
    }
}
