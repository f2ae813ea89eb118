//! Federated records: the latest version of every `(org, id)` this node
//! holds, its own published records included. A higher `seq` replaces a
//! lower one; of two different envelopes with the same `seq` (the
//! organisation signed two versions, "equivocation"), the one whose
//! SHA-256 digest is lower wins on every node, whatever order they arrive
//! in; a retraction is kept as a tombstone until it (or the version
//! it replaced, whichever lives longer) expires, so an
//! older version arriving later (by gossip or sync) cannot resurrect it.

use std::collections::{BTreeMap, HashMap};

use skillmesh_protocol::fingerprint::envelope_digest;
use skillmesh_protocol::{Envelope, Kind, OrgKey, Record};

use super::{Result, Store, StoreError, keys};
use crate::storage::Batch;

/// A record row: bookkeeping plus the envelope exactly as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub org: OrgKey,
    pub id: String,
    pub seq: u64,
    pub expires_at: i64,
    pub received_at: i64,
    pub tombstone: bool,
    pub envelope: Envelope,
}

const ROW_HEADER: usize = 8 + 8 + 8 + 1;

impl StoredRecord {
    fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(ROW_HEADER + self.envelope.len());
        v.extend_from_slice(&self.seq.to_be_bytes());
        v.extend_from_slice(&self.expires_at.to_be_bytes());
        v.extend_from_slice(&self.received_at.to_be_bytes());
        v.push(u8::from(self.tombstone));
        v.extend_from_slice(self.envelope.as_bytes());
        v
    }

    fn decode(key: &[u8], v: &[u8]) -> Result<StoredRecord> {
        let corrupt = |reason: &str| StoreError::Corrupt {
            key: String::from_utf8_lossy(key).into_owned(),
            reason: reason.to_string(),
        };
        let (org, id) = keys::split_rec(key).ok_or_else(|| corrupt("bad record key"))?;
        if v.len() < ROW_HEADER {
            return Err(corrupt("record row too short"));
        }
        let int = |r: std::ops::Range<usize>| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&v[r]);
            b
        };
        Ok(StoredRecord {
            org,
            id,
            seq: u64::from_be_bytes(int(0..8)),
            expires_at: i64::from_be_bytes(int(8..16)),
            received_at: i64::from_be_bytes(int(16..24)),
            tombstone: v[24] != 0,
            envelope: Envelope::from_bytes(v[ROW_HEADER..].to_vec()),
        })
    }

    /// The SHA-256 of the envelope: which version of `seq` this is.
    pub fn digest(&self) -> [u8; 32] {
        envelope_digest(self.envelope.as_bytes())
    }

    /// Parses the stored payload. The envelope was verified when it was
    /// stored, so this only decodes.
    pub fn record(&self) -> Result<Record> {
        let parts = skillmesh_protocol::split(self.envelope.as_bytes()).map_err(|e| {
            StoreError::Corrupt {
                key: format!("rec/{}/{}", self.org, self.id),
                reason: e.to_string(),
            }
        })?;
        Record::from_payload(parts.payload).map_err(|e| StoreError::Corrupt {
            key: format!("rec/{}/{}", self.org, self.id),
            reason: e.to_string(),
        })
    }

    /// Checks the stored envelope's signature again, now, and that it is
    /// `org`'s: only the signature and its signer (a record that expired
    /// a moment ago is still genuinely signed), for pages that say so.
    pub fn signed_by(&self, org: &skillmesh_protocol::OrgKey) -> bool {
        skillmesh_protocol::split(self.envelope.as_bytes())
            .and_then(|parts| {
                skillmesh_protocol::verify_signature(&parts)?;
                Ok(parts.signer == *org)
            })
            .unwrap_or(false)
    }
}

/// What storing a record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// First version of this `(org, id)` held here.
    Inserted,
    /// Replaced the version with this `seq`.
    Replaced { old_seq: u64 },
    /// Ignored: this node already holds this `seq` or a higher one.
    Stale { held_seq: u64 },
    /// Another envelope with the same `seq` was held (the organisation
    /// signed two versions); `won`: this one replaced it (its digest is
    /// lower), otherwise it was ignored.
    Equivocation { seq: u64, won: bool },
}

impl PutOutcome {
    pub fn changed(self) -> bool {
        match self {
            PutOutcome::Stale { .. } => false,
            PutOutcome::Equivocation { won, .. } => won,
            PutOutcome::Inserted | PutOutcome::Replaced { .. } => true,
        }
    }
}

/// What putting a version with `seq` and envelope `digest` comes to when
/// `held` (`seq`, digest) is held: the one rule every node applies, so
/// all keep the same version (a higher `seq` wins; of two signed with one
/// `seq`, the lower digest).
fn outcome_over(held: Option<(u64, [u8; 32])>, seq: u64, digest: &[u8; 32]) -> PutOutcome {
    match held {
        None => PutOutcome::Inserted,
        Some((held_seq, _)) if held_seq > seq => PutOutcome::Stale { held_seq },
        Some((held_seq, held_digest)) if held_seq == seq => {
            if held_digest == *digest {
                PutOutcome::Stale { held_seq }
            } else {
                PutOutcome::Equivocation {
                    seq,
                    won: *digest < held_digest,
                }
            }
        }
        Some((old_seq, _)) => PutOutcome::Replaced { old_seq },
    }
}

/// What is held for an `(org, id)` while a batch is put together:
/// `(seq, digest, expires_at, tombstone)`.
type Held = (u64, [u8; 32], i64, bool);

impl Store {
    /// Stores one verified record. See [`Store::put_records`].
    pub fn put_record(&self, record: &Record, envelope: &Envelope, now: i64) -> Result<PutOutcome> {
        let mut out = self.put_records(&[(record, envelope)], now)?;
        out.pop()
            .ok_or_else(|| StoreError::NotFound("outcome".into()))
    }

    /// Stores verified records in one atomic, durable batch, applying the
    /// `seq` rule to each (also between records of the same batch). The
    /// caller must have verified every envelope and checked that `record`
    /// is its content.
    pub fn put_records(&self, items: &[(&Record, &Envelope)], now: i64) -> Result<Vec<PutOutcome>> {
        self.put_records_audited(items, now, &[], &[], |_, _| None)
    }

    /// [`Store::put_records`] that also writes audit entries in the same
    /// atomic batch: `before`, then one per record from `describe` (given
    /// the record and what storing it did), so the log never misses a
    /// stored record, even across a crash. The same batch counts the
    /// records `refused` by policy (see [`Store::policy_refusals`]), so the
    /// console's counts and the audit log never disagree.
    pub fn put_records_audited(
        &self,
        items: &[(&Record, &Envelope)],
        now: i64,
        before: &[super::AuditEntry],
        refused: &[(OrgKey, &str)],
        mut describe: impl FnMut(&Record, PutOutcome) -> Option<super::AuditEntry>,
    ) -> Result<Vec<PutOutcome>> {
        let _guard = self.lock();
        let mut batch = Batch::new();
        // (org, id) -> what is held as of this batch so far.
        let mut pending: HashMap<(OrgKey, String), Held> = HashMap::new();
        let mut count_delta: BTreeMap<OrgKey, u64> = BTreeMap::new();
        // Change in live (not tombstone) rows, per organisation.
        let mut live_delta: BTreeMap<OrgKey, i64> = BTreeMap::new();
        let mut fingerprints = super::fingerprints::Delta::default();
        let mut outcomes = Vec::with_capacity(items.len());
        for (record, envelope) in items {
            let h = &record.header;
            let key = keys::rec(&h.org, &h.id);
            let held = match pending.get(&(h.org, h.id.clone())) {
                Some(p) => Some(*p),
                None => self
                    .kv
                    .get(&key)?
                    .map(|v| {
                        StoredRecord::decode(&key, &v)
                            .map(|r| (r.seq, r.digest(), r.expires_at, r.tombstone))
                    })
                    .transpose()?,
            };
            let digest = envelope_digest(envelope.as_bytes());
            let tombstone = record.kind() == Kind::Retraction;
            // A tombstone must outlive every version it replaced, or an old
            // copy still circulating could come back after it expired.
            let expires_at = match held {
                Some((_, _, old_expires, _)) if tombstone => h.expires_at.max(old_expires),
                _ => h.expires_at,
            };
            let outcome = outcome_over(held.map(|(seq, digest, ..)| (seq, digest)), h.seq, &digest);
            if !outcome.changed() {
                outcomes.push(outcome);
                continue;
            }
            match held {
                Some((old_seq, old_digest, old_expires, old_tombstone)) => {
                    batch.delete(keys::expiry(old_expires, &h.org, &h.id));
                    fingerprints.removed(&h.org, &h.id, old_seq, &old_digest);
                    *live_delta.entry(h.org).or_default() +=
                        i64::from(!tombstone) - i64::from(!old_tombstone);
                }
                None => {
                    *count_delta.entry(h.org).or_default() += 1;
                    *live_delta.entry(h.org).or_default() += i64::from(!tombstone);
                }
            }
            let row = StoredRecord {
                org: h.org,
                id: h.id.clone(),
                seq: h.seq,
                expires_at,
                received_at: now,
                tombstone,
                envelope: (*envelope).clone(),
            };
            batch.put(key, row.encode());
            batch.put(keys::expiry(expires_at, &h.org, &h.id), Vec::new());
            batch.put(keys::seq(&h.org, &h.id), keys::seq_value(h.seq, &digest));
            fingerprints.added(&h.org, &h.id, h.seq, &digest);
            pending.insert(
                (h.org, h.id.clone()),
                (h.seq, digest, expires_at, tombstone),
            );
            outcomes.push(outcome);
        }
        for (org, delta) in count_delta {
            let n = self.org_record_count(&org)? + delta;
            batch.put(keys::org_count(&org), n.to_be_bytes().to_vec());
        }
        for (org, delta) in live_delta {
            if delta != 0 {
                let n = self.org_live_count(&org)?.saturating_add_signed(delta);
                put_or_delete_count(&mut batch, keys::org_live(&org), n);
            }
        }
        fingerprints.write(self.kv.as_ref(), &mut batch)?;
        let audit: Vec<super::AuditEntry> = before
            .iter()
            .cloned()
            .chain(
                items
                    .iter()
                    .zip(&outcomes)
                    .filter_map(|((record, _), outcome)| describe(record, *outcome)),
            )
            .collect();
        self.audit_into(&mut batch, &audit)?;
        self.policy_refusals_into(&mut batch, refused, now)?;
        self.commit(batch)?;
        Ok(outcomes)
    }

    /// What putting `record` (verified, in `envelope`) would come to now,
    /// read from the sync index alone (one key, not the envelope). The put
    /// itself decides: another may come first. Gossip uses this to pass a
    /// record on before it is on disk.
    pub fn foresee_put(&self, record: &Record, envelope: &Envelope) -> Result<PutOutcome> {
        let h = &record.header;
        let held = self
            .kv
            .get(&keys::seq(&h.org, &h.id))?
            .and_then(|v| keys::split_seq_value(&v));
        Ok(outcome_over(
            held,
            h.seq,
            &envelope_digest(envelope.as_bytes()),
        ))
    }

    /// The row for `(org, id)`, tombstones included.
    pub fn get_record(&self, org: &OrgKey, id: &str) -> Result<Option<StoredRecord>> {
        let key = keys::rec(org, id);
        self.kv
            .get(&key)?
            .map(|v| StoredRecord::decode(&key, &v))
            .transpose()
    }

    /// Every row of one organisation, in id order.
    pub fn records_of(&self, org: &OrgKey) -> Result<Vec<StoredRecord>> {
        self.kv
            .scan_prefix(&keys::rec_org_prefix(org))
            .map(|r| {
                let (k, v) = r?;
                StoredRecord::decode(&k, &v)
            })
            .collect()
    }

    /// Every row held, in (org, id) order.
    pub fn all_records(&self) -> Result<Vec<StoredRecord>> {
        self.kv
            .scan_prefix(keys::REC)
            .map(|r| {
                let (k, v) = r?;
                StoredRecord::decode(&k, &v)
            })
            .collect()
    }

    /// Calls `f` with every row held, in (org, id) order, one at a time
    /// (unlike [`Store::all_records`], without holding them all in memory).
    pub fn scan_records(&self, mut f: impl FnMut(StoredRecord) -> Result<()>) -> Result<()> {
        for r in self.kv.scan_prefix(keys::REC) {
            let (k, v) = r?;
            f(StoredRecord::decode(&k, &v)?)?;
        }
        Ok(())
    }

    /// `(id, seq)` of `org`'s rows with ids after `after`, in id order, at
    /// most `limit`: the sync index, read without touching the envelopes.
    pub fn seqs_of(
        &self,
        org: &OrgKey,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, u64)>> {
        let prefix = keys::seq_org_prefix(org);
        let start = match after {
            Some(id) => {
                let mut k = keys::seq(org, id);
                k.push(0);
                k
            }
            None => prefix.clone(),
        };
        let end = keys::prefix_end(&prefix);
        self.kv
            .range(&start, &end)
            .take(limit)
            .map(|r| {
                let (k, v) = r?;
                let id = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
                Ok((id, keys::u64_value(&v[..v.len().min(8)])))
            })
            .collect()
    }

    /// Rows held for `org`, tombstones included (see
    /// [`Store::org_live_count`] for what the quota counts).
    pub fn org_record_count(&self, org: &OrgKey) -> Result<u64> {
        Ok(self
            .kv
            .get(&keys::org_count(org))?
            .map(|v| keys::u64_value(&v))
            .unwrap_or(0))
    }

    /// Live records held for `org`: rows that are not tombstones. What its
    /// quota counts (a withdrawn record takes no room).
    pub fn org_live_count(&self, org: &OrgKey) -> Result<u64> {
        Ok(self
            .kv
            .get(&keys::org_live(org))?
            .map(|v| keys::u64_value(&v))
            .unwrap_or(0))
    }

    /// Live records held per organisation (organisations with none left out).
    pub fn live_counts(&self) -> Result<Vec<(OrgKey, u64)>> {
        counts_under(self, keys::ORG_LIVE)
    }

    /// Rows held per organisation.
    pub fn record_counts(&self) -> Result<Vec<(OrgKey, u64)>> {
        counts_under(self, keys::ORG_COUNT)
    }

    /// Total rows held, tombstones included.
    pub fn record_count(&self) -> Result<u64> {
        Ok(self.record_counts()?.iter().map(|(_, n)| n).sum())
    }

    /// Drops every row (records and tombstones) whose `expires_at` is at or
    /// before `now`. Returns how many were dropped.
    pub fn purge_expired(&self, now: i64) -> Result<usize> {
        Ok(self.purge_expired_rows(now)?.len())
    }

    /// [`Store::purge_expired`], returning the `(org, id)` of every row dropped.
    pub fn purge_expired_rows(&self, now: i64) -> Result<Vec<(OrgKey, String)>> {
        let _guard = self.lock();
        let end = keys::expiry_upto(now.saturating_add(1));
        let expired: Vec<(OrgKey, String)> = self
            .kv
            .range(keys::EXPIRY, &end)
            .filter_map(|r| match r {
                Ok((k, _)) => keys::split_expiry(&k).map(|(_, org, id)| Ok((org, id))),
                Err(e) => Some(Err(e)),
            })
            .collect::<std::result::Result<_, _>>()?;
        self.delete_rows(&expired)?;
        Ok(expired)
    }

    /// Drops every row of `org` (used when an organisation is blocked).
    pub fn purge_org(&self, org: &OrgKey) -> Result<usize> {
        let _guard = self.lock();
        let ids: Vec<(OrgKey, String)> = self
            .records_of(org)?
            .into_iter()
            .map(|r| (r.org, r.id))
            .collect();
        self.delete_rows(&ids)?;
        Ok(ids.len())
    }

    /// Deletes rows with their index entries and counters. Caller holds the lock.
    fn delete_rows(&self, rows: &[(OrgKey, String)]) -> Result<()> {
        let mut batch = Batch::new();
        let mut removed: BTreeMap<OrgKey, u64> = BTreeMap::new();
        let mut live_removed: BTreeMap<OrgKey, u64> = BTreeMap::new();
        let mut fingerprints = super::fingerprints::Delta::default();
        for (org, id) in rows {
            if let Some(row) = self.get_record(org, id)? {
                batch.delete(keys::rec(org, id));
                batch.delete(keys::expiry(row.expires_at, org, id));
                batch.delete(keys::seq(org, id));
                fingerprints.removed(org, id, row.seq, &row.digest());
                *removed.entry(*org).or_default() += 1;
                if !row.tombstone {
                    *live_removed.entry(*org).or_default() += 1;
                }
            }
        }
        fingerprints.write(self.kv.as_ref(), &mut batch)?;
        for (org, n) in live_removed {
            let left = self.org_live_count(&org)?.saturating_sub(n);
            put_or_delete_count(&mut batch, keys::org_live(&org), left);
        }
        for (org, n) in removed {
            let left = self.org_record_count(&org)?.saturating_sub(n);
            if left == 0 {
                batch.delete(keys::org_count(&org));
            } else {
                batch.put(keys::org_count(&org), left.to_be_bytes().to_vec());
            }
        }
        self.commit(batch)
    }
}

/// Decodes a `rec/` row (for migrations, which read the store raw).
pub(super) fn decode_row(key: &[u8], value: &[u8]) -> Result<StoredRecord> {
    StoredRecord::decode(key, value)
}

/// Writes a per-organisation counter, or deletes it at 0 (so only
/// organisations with something counted are listed).
fn put_or_delete_count(batch: &mut Batch, key: Vec<u8>, n: u64) {
    if n == 0 {
        batch.delete(key);
    } else {
        batch.put(key, n.to_be_bytes().to_vec());
    }
}

/// The per-organisation counters under `prefix` (`orgn/` or `orglive/`).
fn counts_under(store: &Store, prefix: &[u8]) -> Result<Vec<(OrgKey, u64)>> {
    store
        .kv
        .scan_prefix(prefix)
        .map(|r| {
            let (k, v) = r?;
            let rest = k.strip_prefix(prefix).unwrap_or_default();
            let org: [u8; 32] = rest.try_into().map_err(|_| StoreError::Corrupt {
                key: String::from_utf8_lossy(&k).into_owned(),
                reason: "bad counter key".into(),
            })?;
            Ok((OrgKey::from_bytes(org), keys::u64_value(&v)))
        })
        .collect()
}

/// Schema 3 → 4: counts every organisation's live records (rows that are
/// not tombstones), which its quota counts from now on.
pub(super) fn count_live(kv: &dyn crate::storage::Kv) -> Result<Batch> {
    let mut live: BTreeMap<OrgKey, u64> = BTreeMap::new();
    for entry in kv.scan_prefix(keys::REC) {
        let (k, v) = entry?;
        let row = StoredRecord::decode(&k, &v)?;
        if !row.tombstone {
            *live.entry(row.org).or_default() += 1;
        }
    }
    let mut batch = Batch::new();
    for (org, n) in live {
        put_or_delete_count(&mut batch, keys::org_live(&org), n);
    }
    Ok(batch)
}

pub(super) fn check_consistency(store: &Store) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let mut counted: BTreeMap<OrgKey, u64> = BTreeMap::new();
    let mut live: BTreeMap<OrgKey, u64> = BTreeMap::new();
    for row in store.all_records()? {
        *counted.entry(row.org).or_default() += 1;
        if !row.tombstone {
            *live.entry(row.org).or_default() += 1;
        }
        match row.record() {
            Ok(r)
                if r.header.seq != row.seq || r.header.org != row.org || r.header.id != row.id =>
            {
                problems.push(format!(
                    "{}/{}: row and envelope disagree",
                    row.org.short(),
                    row.id
                ));
            }
            Ok(_) => {}
            Err(e) => problems.push(format!("{}/{}: {e}", row.org.short(), row.id)),
        }
        if store
            .kv
            .get(&keys::seq(&row.org, &row.id))?
            .and_then(|v| keys::split_seq_value(&v))
            != Some((row.seq, row.digest()))
        {
            problems.push(format!(
                "{}/{}: sync index disagrees",
                row.org.short(),
                row.id
            ));
        }
        if store
            .kv
            .get(&keys::expiry(row.expires_at, &row.org, &row.id))?
            .is_none()
        {
            problems.push(format!(
                "{}/{}: missing expiry entry",
                row.org.short(),
                row.id
            ));
        }
    }
    for entry in store.kv.scan_prefix(keys::EXPIRY) {
        let (k, _) = entry?;
        match keys::split_expiry(&k) {
            Some((at, org, id)) => match store.get_record(&org, &id)? {
                Some(row) if row.expires_at == at => {}
                _ => problems.push(format!("{}/{id}: dangling expiry entry", org.short())),
            },
            None => problems.push("unparseable expiry key".into()),
        }
    }
    super::fingerprints::check(store, &mut problems)?;
    let stored: BTreeMap<OrgKey, u64> = store.record_counts()?.into_iter().collect();
    if stored != counted {
        problems.push(format!(
            "per-organisation counters {stored:?} do not match rows {counted:?}"
        ));
    }
    let stored_live: BTreeMap<OrgKey, u64> = store.live_counts()?.into_iter().collect();
    if stored_live != live {
        problems.push(format!(
            "per-organisation live counters {stored_live:?} do not match live rows {live:?}"
        ));
    }
    Ok(problems)
}
