//! `skillmesh reindex`: deletes the node's search index and builds it again
//! from the store. The node rebuilds it by itself when it is missing,
//! damaged or from an older version; this is for when an admin wants it
//! done now (after restoring a backup of the store, say), with the node
//! stopped: the node holds the data directory while it runs, and this
//! refuses then.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use skillmesh_config::Config;
use skillmesh_node::datadir::{DataDirLock, STORE_DIR};
use skillmesh_node::identity::OrgIdentity;
use skillmesh_node::search;
use skillmesh_node::store::Store;

/// Longest the rebuild may take before giving up.
const TIMEOUT: Duration = Duration::from_secs(3600);

pub fn reindex(config_path: &Path) -> anyhow::Result<()> {
    let config = Config::load(config_path)?;
    super::init_logging("warn", config.log.format);
    let _lock = DataDirLock::acquire(&config.data_dir)?;
    let own = OrgIdentity::load_file(&config.key_file)?.org();
    let store = Arc::new(Store::open(&config.data_dir.join(STORE_DIR))?);
    let started = Instant::now();
    let (docs, stats) = search::rebuild(&config.data_dir, own, store, TIMEOUT)?;
    println!(
        "Reindexed {docs} records into {} ({:.1} MB) in {:.1} s",
        config.data_dir.join(search::INDEX_DIR).display(),
        stats.bytes_on_disk as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
