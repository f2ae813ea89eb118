//! `skillmesh sample-data`: fills a stopped node with records from
//! synthetic partner organisations ([`skillmesh_protocol::synthetic`]),
//! each signed by its own key and taken in exactly as received ones are:
//! verified, admitted by the node's inbound policy and quota, stored with
//! their audit lines and indexed. For trying Skillmesh at size, and so
//! that every measurement at size starts from the same data (the same
//! seed gives the same records).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use skillmesh_config::Config;
use skillmesh_node::datadir::{DataDirLock, STORE_DIR};
use skillmesh_node::identity::OrgIdentity;
use skillmesh_node::metrics::Metrics;
use skillmesh_node::search::SearchOptions;
use skillmesh_node::service::{Ingested, Service};
use skillmesh_node::store::{Actor, Store};
use skillmesh_protocol::seal;
use skillmesh_protocol::synthetic::SyntheticNetwork;

/// Records signed and taken in per batch: one durable write each.
const BATCH: u64 = 1_000;
/// Most records one call may add (ten thousand organisations of a hundred).
const MAX_RECORDS: u64 = 1_000_000;
/// Longest the index may take to catch up at the end.
const INDEX_TIMEOUT: Duration = Duration::from_secs(3600);

#[derive(Args)]
pub struct SampleDataArgs {
    /// How many records to add, each organisation's card included
    /// (1 to 1,000,000).
    #[arg(long)]
    records: u64,
    /// How many organisations they come from (default: one per hundred
    /// records, at least one).
    #[arg(long)]
    orgs: Option<u32>,
    /// Seed of the synthetic network: the same seed gives the same
    /// organisations and records.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[command(flatten)]
    config: super::ConfigArg,
}

/// What the records came to.
#[derive(Debug, Default)]
struct Tally {
    stored: u64,
    stale: u64,
    not_admitted: u64,
    over_quota: u64,
    rejected: u64,
    /// The first reason a record was not admitted or was rejected.
    first_refusal: Option<String>,
}

pub fn sample_data(args: SampleDataArgs) -> anyhow::Result<()> {
    if !(1..=MAX_RECORDS).contains(&args.records) {
        bail!("--records must be 1 to {MAX_RECORDS}, not {}", args.records);
    }
    let orgs = match args.orgs {
        Some(0) => bail!("--orgs must be at least 1"),
        Some(n) => n,
        None => u32::try_from(args.records.div_ceil(100)).unwrap_or(u32::MAX),
    };
    if u64::from(orgs) > args.records {
        bail!(
            "--orgs ({orgs}) is more than --records ({}): each organisation's first record is its card",
            args.records
        );
    }
    let config = Config::load(&args.config.config)?;
    super::init_logging("warn", config.log.format);
    let _lock = DataDirLock::acquire(&config.data_dir)?;
    let identity = OrgIdentity::load_file(&config.key_file)?;
    let store = Arc::new(Store::open(&config.data_dir.join(STORE_DIR))?);
    let metrics = Metrics::new(identity.org());
    let service = Service::with_search(
        config.org.name.clone(),
        identity,
        store,
        skillmesh_node::runtime::inbound_settings(&config),
        SearchOptions::for_data_dir(&config.data_dir),
        metrics,
    )?;

    let network = SyntheticNetwork::new(args.seed, orgs);
    let now = skillmesh_node::clock::now();
    let started = Instant::now();
    let bar = ProgressBar::new(args.records).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} records, {per_sec}, {eta} left")
            .context("progress bar template")?,
    );
    let mut tally = Tally::default();
    let mut first = 0;
    while first < args.records {
        let last = (first + BATCH).min(args.records);
        let envelopes = (first..last)
            .map(|i| {
                let (org_n, record) = network.record(i, now);
                seal(&record, &network.key(org_n))
                    .with_context(|| format!("cannot sign synthetic record {i}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let bytes: Vec<&[u8]> = envelopes.iter().map(|e| e.as_bytes()).collect();
        for result in service.ingest_many(&bytes, &Actor::Cli)? {
            tally.add(result);
        }
        bar.set_position(last);
        first = last;
    }
    bar.finish_and_clear();
    let search = service.search_engine();
    let indexed = search.wait_indexed(INDEX_TIMEOUT);
    search.shutdown();
    service.flush()?;

    println!(
        "Added {} records from {orgs} synthetic organisations (seed {}) in {:.1} s.",
        tally.stored,
        args.seed,
        started.elapsed().as_secs_f64()
    );
    if tally.stale > 0 {
        println!(
            "{} were already here (the same seed was loaded before).",
            tally.stale
        );
    }
    let refused = tally.not_admitted + tally.over_quota + tally.rejected;
    if refused > 0 {
        println!(
            "{refused} were refused: {} by the inbound policy, {} over the per-organisation quota, {} invalid. First reason: {}",
            tally.not_admitted,
            tally.over_quota,
            tally.rejected,
            tally.first_refusal.as_deref().unwrap_or("none")
        );
    }
    if !indexed {
        println!(
            "The search index did not catch up; the node rebuilds it when it starts, or run `skillmesh reindex`."
        );
    }
    if tally.stored == 0 && refused > 0 {
        bail!("no record was added: see the reasons above");
    }
    Ok(())
}

impl Tally {
    fn add(&mut self, result: Result<Ingested, skillmesh_protocol::Rejection>) {
        match result {
            Ok(Ingested::Stored { .. }) => self.stored += 1,
            Ok(Ingested::Stale) => self.stale += 1,
            Ok(Ingested::NotAdmitted(admission)) => {
                self.not_admitted += 1;
                self.first_refusal
                    .get_or_insert_with(|| format!("not admitted ({admission:?})"));
            }
            Ok(Ingested::OverQuota) => self.over_quota += 1,
            Err(rejection) => {
                self.rejected += 1;
                self.first_refusal
                    .get_or_insert_with(|| rejection.to_string());
            }
        }
    }
}
