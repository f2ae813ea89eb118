//! When this node first saw each other organisation: the first record,
//! request or connection from it. What "new" means for an organisation
//! (rate limits for requests, the "new" mark on pages) is read from here.
//!
//! A row is written once and never changed (insert-if-absent). The table
//! came after the rest of the store: an organisation that already had
//! records here when it is first noted was seen before the table began,
//! and is written as first seen at 0, "long ago".

use skillmesh_protocol::OrgKey;

use super::{Result, Store, keys};
use crate::storage::Batch;

fn key(org: &OrgKey) -> Vec<u8> {
    keys::join(keys::ORGS_SEEN, &[org.as_bytes()])
}

impl Store {
    /// When `org` was first seen (unix seconds; 0 for before this table
    /// began), if it was.
    pub fn org_first_seen(&self, org: &OrgKey) -> Result<Option<i64>> {
        Ok(self
            .kv
            .get(&key(org))?
            .map(|v| i64::try_from(keys::u64_value(&v)).unwrap_or(i64::MAX)))
    }

    /// Notes that `org` was seen at `now`, unless it was seen before.
    /// Returns when it was first seen. Writes (and flushes) only the
    /// first time.
    pub fn note_org_seen(&self, org: &OrgKey, now: i64) -> Result<i64> {
        if let Some(at) = self.org_first_seen(org)? {
            return Ok(at);
        }
        let _guard = self.lock();
        if let Some(at) = self.org_first_seen(org)? {
            return Ok(at);
        }
        let at = if self.org_record_count(org)? > 0 {
            0
        } else {
            now.max(0)
        };
        let mut b = Batch::new();
        b.put(
            key(org),
            u64::try_from(at).unwrap_or(0).to_be_bytes().to_vec(),
        );
        self.commit(b)?;
        Ok(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_sighting_is_kept_and_later_ones_change_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("store");
        let org = OrgKey::from_bytes([7; 32]);
        assert_eq!(store.org_first_seen(&org).expect("read"), None);
        assert_eq!(store.note_org_seen(&org, 1000).expect("note"), 1000);
        assert_eq!(store.note_org_seen(&org, 5000).expect("again"), 1000);
        assert_eq!(store.org_first_seen(&org).expect("read"), Some(1000));
        drop(store);
        let store = Store::open(dir.path()).expect("reopen");
        assert_eq!(store.org_first_seen(&org).expect("kept"), Some(1000));
    }
}
