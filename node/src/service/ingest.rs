//! Records from other organisations coming in: verify (on every core for
//! a large batch), admit (inbound policy, quota, the `seq` rule), store in
//! one durable batch, index, and audit every outcome.

use crate::metrics::Via;

use super::*;

impl Service {
    /// Takes an envelope from another organisation. See [`Service::ingest_many`].
    pub fn ingest(&self, bytes: &[u8], from: &str) -> Result<Result<Ingested, Rejection>> {
        let mut out = self.ingest_many(&[bytes], from)?;
        out.pop()
            .ok_or_else(|| ServiceError::Invalid("no ingest outcome".into()))
    }

    /// Takes envelopes from another organisation. See
    /// [`Service::ingest_many_via`]; the way they came is read from `from`
    /// ([`Via::of_actor`]: `sync:<peer>` for sync, else gossip).
    pub fn ingest_many(
        &self,
        envelopes: &[&[u8]],
        from: &str,
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
        from: &str,
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

    fn ingest_batch(
        &self,
        envelopes: &[&[u8]],
        from: &str,
    ) -> Result<Vec<Result<Ingested, Rejection>>> {
        let now = clock::now();
        let mut results: Vec<Option<Result<Ingested, Rejection>>> = vec![None; envelopes.len()];
        let mut accepted: Vec<(usize, Record, Envelope)> = Vec::new();
        let mut audit = Vec::new();
        let mut room: std::collections::HashMap<OrgKey, u64> = std::collections::HashMap::new();
        let mut admissions: std::collections::HashMap<OrgKey, Admission> =
            std::collections::HashMap::new();
        // Rows held per organisation, read once, for retractions.
        let mut tombstone_rows: std::collections::HashMap<OrgKey, u64> =
            std::collections::HashMap::new();
        // Every record refused by policy, for the console's panel.
        let mut refused: Vec<(OrgKey, &'static str)> = Vec::new();
        // Per organisation over its quota: one record refused for it.
        let mut over_quota: std::collections::BTreeMap<OrgKey, String> = Default::default();
        let entry = |action: AuditAction, org: Option<OrgKey>, id: Option<&str>, detail: String| {
            AuditEntry {
                at: now,
                actor: from.to_string(),
                action: action.into(),
                org: org.map(|o| o.to_hex()),
                record_id: id.map(str::to_string),
                detail,
                claimed_org: None,
                count: 1,
            }
        };
        // The organisation of the peer that sent these, when `from` names
        // one (`peer:<id>` or `sync:<id>`): it is the one a rejection is
        // filed under, and it was seen now.
        let sender = sender_org(from);
        let mut seen: std::collections::HashSet<OrgKey> = std::collections::HashSet::new();
        if let Some(s) = sender {
            seen.insert(s);
            self.note_seen(&s)?;
        }
        // Verification (the expensive part) runs in parallel with other
        // ingests; policy, quota and storing run one ingest at a time, so
        // two batches cannot both take an organisation's last quota place.
        let opened = open_all(envelopes, now);
        let _serial = self
            .inner
            .ingest_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (i, (bytes, opened)) in envelopes.iter().zip(opened).enumerate() {
            let record = match opened {
                Ok(r) => r,
                Err(reason) => {
                    // Filed under the peer that sent it; the organisation
                    // it names is only claimed (its signature failed).
                    let signer = skillmesh_protocol::split(bytes).ok().map(|p| p.signer);
                    audit.push(AuditEntry {
                        claimed_org: signer.map(|o| o.to_hex()),
                        ..entry(
                            AuditAction::RecordRejected,
                            sender,
                            None,
                            format!("{}: {reason}", reason.code()),
                        )
                    });
                    results[i] = Some(Err(reason));
                    continue;
                }
            };
            if !record.kind().is_federated() {
                let reason = Rejection::Malformed(format!(
                    "{} records are sent directly, never published",
                    record.kind()
                ));
                audit.push(entry(
                    AuditAction::RecordRejected,
                    Some(record.header.org),
                    Some(&record.header.id),
                    format!("{}: {reason}", reason.code()),
                ));
                results[i] = Some(Err(reason));
                continue;
            }
            let org = record.header.org;
            if seen.insert(org) {
                self.note_seen(&org)?;
            }
            let id = record.header.id.as_str();
            let retraction = record.kind() == skillmesh_protocol::Kind::Retraction;
            let store = &self.inner.store;
            // Policy is read once per organisation per batch.
            let admission = match admissions.get(&org) {
                Some(a) => *a,
                None => {
                    let a = self.admission(&org)?;
                    admissions.insert(org, a);
                    a
                }
            };
            if admission == Admission::NotAllowed
                && let Body::OrgCard(card) = &record.body
            {
                self.note_join_request(&org, Some(card.clone()))?;
            }
            if admission != Admission::Accept {
                // A withdrawal is always honoured: a retraction of a record
                // held here goes in whoever sent it (it is verified like any
                // record, and takes no quota room). Nothing else does.
                let withdraws_held = retraction
                    && store
                        .get_record(&org, id)?
                        .is_some_and(|row| !row.tombstone && row.seq < record.header.seq);
                if !withdraws_held {
                    audit.push(entry(
                        AuditAction::RecordRefused,
                        Some(org),
                        Some(id),
                        admission.reason().into(),
                    ));
                    refused.push((org, admission.code()));
                    results[i] = Some(Ok(Ingested::NotAdmitted(admission)));
                    continue;
                }
                accepted.push((i, record, Envelope::from_bytes(bytes.to_vec())));
                continue;
            }
            if org != self.org() {
                let max = self.inner.inbound.max_records_per_org;
                if retraction {
                    // A retraction takes no quota room. One of an id not
                    // held is kept (as a tombstone, so an older copy cannot
                    // come back) only while the organisation's rows, live
                    // or withdrawn, stay within twice its quota.
                    let rows = match tombstone_rows.get(&org) {
                        Some(n) => *n,
                        None => store.org_record_count(&org)?,
                    };
                    tombstone_rows.insert(org, rows);
                    if rows >= max.saturating_mul(2) && store.get_record(&org, id)?.is_none() {
                        audit.push(entry(
                            AuditAction::RecordRefused,
                            Some(org),
                            Some(id),
                            "organisation holds too many withdrawn records; nothing to withdraw here"
                                .into(),
                        ));
                        refused.push((org, QUOTA_REFUSAL));
                        results[i] = Some(Ok(Ingested::OverQuota));
                        continue;
                    }
                } else {
                    let left = match room.get(&org) {
                        Some(n) => *n,
                        None => max.saturating_sub(store.org_live_count(&org)?),
                    };
                    room.entry(org).or_insert(left);
                    // Only when the organisation is within one batch of its
                    // quota does it matter whether a record is new (updates
                    // of a live record take no room; a record replacing a
                    // withdrawn one does).
                    let near_quota = left <= envelopes.len() as u64;
                    if near_quota && store.get_record(&org, id)?.is_none_or(|row| row.tombstone) {
                        if left == 0 {
                            audit.push(entry(
                                AuditAction::RecordRefused,
                                Some(org),
                                Some(id),
                                format!("organisation is over its record quota ({max} records)"),
                            ));
                            refused.push((org, QUOTA_REFUSAL));
                            over_quota.entry(org).or_insert_with(|| id.to_string());
                            results[i] = Some(Ok(Ingested::OverQuota));
                            continue;
                        }
                        room.insert(org, left - 1);
                    }
                }
            }
            accepted.push((i, record, Envelope::from_bytes(bytes.to_vec())));
        }
        let items: Vec<(&Record, &Envelope)> = accepted.iter().map(|(_, r, e)| (r, e)).collect();
        // The records and every audit line about this batch are written in
        // one atomic, durable batch.
        let outcomes =
            self.inner
                .store
                .put_records_audited(&items, now, &audit, &refused, |record, outcome| {
                    if let crate::store::PutOutcome::Equivocation { seq, won } = outcome {
                        // The organisation signed two different versions
                        // with this `seq`; every node keeps the same one.
                        return Some(entry(
                            AuditAction::Equivocation,
                            Some(record.header.org),
                            Some(&record.header.id),
                            format!(
                                "two different versions of seq {seq} signed; kept {} (lower digest wins)",
                                if won { "the one just received" } else { "the one held" }
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
                        if let Some(a) = admissions
                            .get(&record.header.org)
                            .filter(|a| **a != Admission::Accept)
                        {
                            detail.push_str(&format!(" (honoured although the {})", a.reason()));
                        }
                        entry(
                            action,
                            Some(record.header.org),
                            Some(&record.header.id),
                            detail,
                        )
                    })
                })?;
        self.inner.search.apply(
            accepted
                .iter()
                .zip(&outcomes)
                .filter(|(_, outcome)| outcome.changed())
                .map(|((_, record, _), _)| record),
        );
        for ((i, record, _), outcome) in accepted.iter().zip(outcomes) {
            results[*i] = Some(Ok(if outcome.changed() {
                Ingested::Stored {
                    outcome,
                    relay: skillmesh_protocol::fit_to_relay(&record.header, now),
                }
            } else {
                Ingested::Stale
            }));
        }
        for (org, record_id) in over_quota {
            self.refused_for_quota(org, &record_id)?;
        }
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or(Ok(Ingested::Stale)))
            .collect())
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
