//! The schema version recorded in the store, and the hook that migrates an
//! older layout to the current one when a node opens it.

use super::{Result, StoreError, keys};
use crate::storage::{Batch, Kv};

/// The layout this build writes. Bump it, and add a step to [`MIGRATIONS`],
/// whenever the meaning of stored keys or values changes.
pub const CURRENT_SCHEMA: u32 = 8;

/// `MIGRATIONS[n]` turns schema `n + 1` into `n + 2`. Each step runs in its
/// own durable batch followed by the new version number, so an interrupted
/// migration resumes at the step that did not finish.
type Migration = fn(&dyn Kv) -> Result<Batch>;
const MIGRATIONS: &[Migration] = &[
    // 1 → 2: the audit log gets an index by action.
    super::audit::index_by_action,
    // 2 → 3: reconciliation fingerprints of the records held.
    super::fingerprints::compute_all,
    // 3 → 4: live (not withdrawn) records per organisation, for the quota.
    super::records::count_live,
    // 4 → 5: fingerprint items and the sync index name the envelope's
    // digest (equivocation is seen and resolved).
    super::fingerprints::compute_all,
    // 5 → 6: inbox, outbox and items by their owner.
    super::owners::index_all,
    // 6 → 7: the inbox by the offer asked for.
    super::owners::index_inbox_by_offer,
    // 7 → 8: several named API tokens per person.
    super::api_tokens::name_the_single_tokens,
];

pub fn read_version(kv: &dyn Kv) -> Result<Option<u32>> {
    match kv.get(keys::META_SCHEMA)? {
        None => Ok(None),
        Some(v) => {
            let bytes: [u8; 4] = v.as_slice().try_into().map_err(|_| StoreError::Corrupt {
                key: "meta/schema".into(),
                reason: format!("{} bytes, expected 4", v.len()),
            })?;
            Ok(Some(u32::from_be_bytes(bytes)))
        }
    }
}

fn write_version(kv: &dyn Kv, mut batch: Batch, version: u32) -> Result<()> {
    batch.put(keys::META_SCHEMA, version.to_be_bytes().to_vec());
    kv.commit(batch)?;
    Ok(())
}

pub fn check_and_migrate(kv: &dyn Kv) -> Result<()> {
    check_and_migrate_with(kv, CURRENT_SCHEMA, MIGRATIONS)
}

fn check_and_migrate_with(kv: &dyn Kv, current: u32, migrations: &[Migration]) -> Result<()> {
    let found = match read_version(kv)? {
        Some(v) => v,
        None => {
            if kv.scan_prefix(b"").next().is_some() {
                return Err(StoreError::NoSchema);
            }
            return write_version(kv, Batch::new(), current);
        }
    };
    if found > current {
        return Err(StoreError::NewerSchema {
            found,
            supported: current,
        });
    }
    for version in found..current {
        let step = usize::try_from(version - 1)
            .ok()
            .and_then(|i| migrations.get(i))
            .ok_or(StoreError::NewerSchema {
                found: version,
                supported: current,
            })?;
        tracing::info!(from = version, to = version + 1, "migrating store schema");
        let batch = step(kv)?;
        write_version(kv, batch, version + 1)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{self, Recovering, SledOpener};

    fn kv() -> (tempfile::TempDir, Recovering<SledOpener>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let kv = storage::open(dir.path()).expect("open");
        (dir, kv)
    }

    #[test]
    fn fresh_store_gets_current_version() {
        let (_d, kv) = kv();
        check_and_migrate(&kv).expect("fresh");
        assert_eq!(read_version(&kv).expect("read"), Some(CURRENT_SCHEMA));
    }

    #[test]
    fn newer_schema_is_refused() {
        let (_d, kv) = kv();
        write_version(&kv, Batch::new(), CURRENT_SCHEMA + 1).expect("write");
        let err = check_and_migrate(&kv).expect_err("newer");
        assert!(matches!(err, StoreError::NewerSchema { .. }), "{err}");
    }

    #[test]
    fn data_without_version_is_refused() {
        let (_d, kv) = kv();
        let mut b = Batch::new();
        b.put(b"something".to_vec(), b"x".to_vec());
        kv.commit(b).expect("commit");
        assert!(matches!(check_and_migrate(&kv), Err(StoreError::NoSchema)));
    }

    #[test]
    fn migrations_run_in_order_from_the_stored_version() {
        fn step1(_: &dyn Kv) -> Result<Batch> {
            let mut b = Batch::new();
            b.put(b"step1".to_vec(), b"done".to_vec());
            Ok(b)
        }
        fn step2(kv: &dyn Kv) -> Result<Batch> {
            assert!(kv.get(b"step1").expect("get").is_some(), "step 1 ran first");
            let mut b = Batch::new();
            b.put(b"step2".to_vec(), b"done".to_vec());
            Ok(b)
        }
        let (_d, kv) = kv();
        write_version(&kv, Batch::new(), 1).expect("v1");
        check_and_migrate_with(&kv, 3, &[step1, step2]).expect("migrate");
        assert_eq!(read_version(&kv).expect("read"), Some(3));
        assert!(kv.get(b"step2").expect("get").is_some());
        // Running again is a no-op.
        check_and_migrate_with(&kv, 3, &[step1, step2]).expect("again");
    }
}
