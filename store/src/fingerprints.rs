//! Reconciliation fingerprints of the records held: one accumulator per
//! organisation (`fp/<org>`) and one over every row (`meta/fp-all`), kept
//! in the same atomic batch as the rows they summarise, so they are right
//! after any crash. Sub-ranges of an organisation's ids are summarised on
//! demand from the `seq/` index. See `skillmesh_protocol::fingerprint` and
//! docs/PROTOCOL.md, "Reconciliation".

use std::collections::BTreeMap;

use skillmesh_protocol::OrgKey;
use skillmesh_protocol::fingerprint::Accumulator;

use super::{Result, Store, StoreError, keys};
use crate::storage::{Batch, Kv};

/// Changes to the accumulators that one batch of row changes makes.
#[derive(Debug, Default)]
pub(super) struct Delta {
    per_org: BTreeMap<OrgKey, (Accumulator, Accumulator)>,
}

impl Delta {
    pub(super) fn added(&mut self, org: &OrgKey, id: &str, seq: u64, digest: &[u8; 32]) {
        self.per_org
            .entry(*org)
            .or_default()
            .0
            .add(org, id, seq, digest);
    }

    pub(super) fn removed(&mut self, org: &OrgKey, id: &str, seq: u64, digest: &[u8; 32]) {
        self.per_org
            .entry(*org)
            .or_default()
            .1
            .add(org, id, seq, digest);
    }

    /// Writes the new accumulators into `batch`. The caller holds the
    /// store's write lock, so nothing changes them between read and write.
    pub(super) fn write(self, kv: &dyn Kv, batch: &mut Batch) -> Result<()> {
        if self.per_org.is_empty() {
            return Ok(());
        }
        let mut all = read(kv, keys::META_FINGERPRINT_ALL)?;
        for (org, (plus, minus)) in self.per_org {
            let key = keys::fingerprint(&org);
            let mut acc = read(kv, &key)?;
            acc.merge(&plus);
            acc.unmerge(&minus);
            all.merge(&plus);
            all.unmerge(&minus);
            if acc.is_empty() {
                batch.delete(key);
            } else {
                batch.put(key, acc.to_bytes().to_vec());
            }
        }
        batch.put(keys::META_FINGERPRINT_ALL, all.to_bytes().to_vec());
        Ok(())
    }
}

fn read(kv: &dyn Kv, key: &[u8]) -> Result<Accumulator> {
    match kv.get(key)? {
        None => Ok(Accumulator::new()),
        Some(v) => Accumulator::from_bytes(&v).ok_or_else(|| StoreError::Corrupt {
            key: String::from_utf8_lossy(key).into_owned(),
            reason: format!("{} bytes, not a fingerprint accumulator", v.len()),
        }),
    }
}

/// Schema 2 → 3 (the accumulators) and 4 → 5 (items name the envelope's
/// digest, and so does the `seq/` index): both rebuild the index values
/// and the accumulators from the record rows.
pub(super) fn compute_all(kv: &dyn Kv) -> Result<Batch> {
    let mut per_org: BTreeMap<OrgKey, Accumulator> = BTreeMap::new();
    let mut batch = Batch::new();
    for entry in kv.scan_prefix(keys::REC) {
        let (k, v) = entry?;
        let row = super::records::decode_row(&k, &v)?;
        let digest = row.digest();
        batch.put(
            keys::seq(&row.org, &row.id),
            keys::seq_value(row.seq, &digest),
        );
        per_org
            .entry(row.org)
            .or_default()
            .add(&row.org, &row.id, row.seq, &digest);
    }
    let mut all = Accumulator::new();
    for (org, acc) in per_org {
        all.merge(&acc);
        batch.put(keys::fingerprint(&org), acc.to_bytes().to_vec());
    }
    batch.put(keys::META_FINGERPRINT_ALL, all.to_bytes().to_vec());
    Ok(batch)
}

impl Store {
    /// The accumulator of every record row held.
    pub fn fingerprint_all(&self) -> Result<Accumulator> {
        read(self.kv.as_ref(), keys::META_FINGERPRINT_ALL)
    }

    /// The accumulator of `org`'s rows (empty if none are held).
    pub fn fingerprint_of(&self, org: &OrgKey) -> Result<Accumulator> {
        read(self.kv.as_ref(), &keys::fingerprint(org))
    }

    /// Every organisation with rows held, with its accumulator, in key order.
    pub fn fingerprints(&self) -> Result<Vec<(OrgKey, Accumulator)>> {
        self.kv
            .scan_prefix(keys::FINGERPRINT)
            .map(|r| {
                let (k, v) = r?;
                let corrupt = |reason: &str| StoreError::Corrupt {
                    key: String::from_utf8_lossy(&k).into_owned(),
                    reason: reason.into(),
                };
                let org: [u8; 32] = k[keys::FINGERPRINT.len()..]
                    .try_into()
                    .map_err(|_| corrupt("bad fingerprint key"))?;
                let acc = Accumulator::from_bytes(&v).ok_or_else(|| corrupt("bad accumulator"))?;
                Ok((OrgKey::from_bytes(org), acc))
            })
            .collect()
    }

    /// Calls `f` with the `(id, seq, digest)` of every row of `org` whose
    /// id is in `[lower, upper)` (no upper bound when `upper` is `None`),
    /// in id order, until `f` returns false.
    pub fn scan_seqs(
        &self,
        org: &OrgKey,
        lower: &str,
        upper: Option<&str>,
        mut f: impl FnMut(&str, u64, &[u8; 32]) -> bool,
    ) -> Result<()> {
        let prefix = keys::seq_org_prefix(org);
        let start = keys::seq(org, lower);
        let end = match upper {
            Some(id) => keys::seq(org, id),
            None => keys::prefix_end(&prefix),
        };
        if start >= end {
            return Ok(());
        }
        for entry in self.kv.range(&start, &end) {
            let (k, v) = entry?;
            let id = std::str::from_utf8(&k[prefix.len()..]).map_err(|_| StoreError::Corrupt {
                key: String::from_utf8_lossy(&k).into_owned(),
                reason: "record id is not UTF-8".into(),
            })?;
            let (seq, digest) = keys::split_seq_value(&v).ok_or_else(|| StoreError::Corrupt {
                key: String::from_utf8_lossy(&k).into_owned(),
                reason: "bad sync index value".into(),
            })?;
            if !f(id, seq, &digest) {
                break;
            }
        }
        Ok(())
    }
}

pub(super) fn check(store: &Store, problems: &mut Vec<String>) -> Result<()> {
    let mut counted: BTreeMap<OrgKey, Accumulator> = BTreeMap::new();
    let mut all = Accumulator::new();
    for row in store.all_records()? {
        let digest = row.digest();
        counted
            .entry(row.org)
            .or_default()
            .add(&row.org, &row.id, row.seq, &digest);
        all.add(&row.org, &row.id, row.seq, &digest);
    }
    let stored: BTreeMap<OrgKey, Accumulator> = store.fingerprints()?.into_iter().collect();
    if stored != counted {
        problems.push("per-organisation fingerprints do not match the rows".into());
    }
    if store.fingerprint_all()? != all {
        problems.push("the fingerprint of all rows does not match the rows".into());
    }
    Ok(())
}
