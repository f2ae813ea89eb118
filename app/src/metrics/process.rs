//! The standard `process_*` metrics every Prometheus client library
//! exports (CPU time, memory, file descriptors, threads, start time), read
//! from `/proc/self` at each scrape.
//!
//! prometheus-client ships no process collector, and the one written for
//! it (kubert-prometheus-process) is built against an older
//! prometheus-client whose registry ours cannot take. So the collector is
//! the few lines below, and the reading and parsing of `/proc` is left to
//! the `procfs` crate (maintained, used by the `prometheus` crate's own
//! collector), rather than to a hand-written parser of `/proc/self/stat`.

use procfs::process::{LimitValue, Process};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::{Registry, Unit};

/// Adds the process collector to `registry` (at its top level: the names
/// are the standard ones, without the `skillmesh_` prefix).
pub(super) fn register(registry: &mut Registry) {
    registry.register_collector(Box::new(ProcessCollector));
}

#[derive(Debug)]
struct ProcessCollector;

/// One reading of `/proc/self`.
struct Sample {
    cpu_seconds: f64,
    resident_bytes: u64,
    virtual_bytes: u64,
    start_time_seconds: f64,
    threads: i64,
    open_fds: Option<u64>,
    max_fds: Option<u64>,
}

impl Sample {
    fn read() -> procfs::ProcResult<Sample> {
        let me = Process::myself()?;
        let stat = me.stat()?;
        let ticks = procfs::ticks_per_second().max(1) as f64;
        let boot = procfs::boot_time_secs()? as f64;
        let max_fds = me
            .limits()
            .ok()
            .and_then(|limits| match limits.max_open_files.soft_limit {
                LimitValue::Value(n) => Some(n),
                LimitValue::Unlimited => None,
            });
        Ok(Sample {
            cpu_seconds: (stat.utime + stat.stime) as f64 / ticks,
            resident_bytes: stat.rss.saturating_mul(procfs::page_size()),
            virtual_bytes: stat.vsize,
            start_time_seconds: boot + stat.starttime as f64 / ticks,
            threads: stat.num_threads,
            open_fds: me.fd_count().ok().map(|n| n as u64),
            max_fds,
        })
    }
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let sample = match Sample::read() {
            Ok(sample) => sample,
            Err(error) => {
                // The rest of the scrape is still worth having.
                tracing::debug!(%error, "cannot read /proc/self for the process metrics");
                return Ok(());
            }
        };
        let cpu = ConstCounter::new(sample.cpu_seconds);
        cpu.encode(encoder.encode_descriptor(
            "process_cpu",
            "Total user and system CPU time spent in seconds",
            Some(&Unit::Seconds),
            cpu.metric_type(),
        )?)?;
        let gauges: [(&str, &str, Option<Unit>, Option<f64>); 6] = [
            (
                "process_resident_memory",
                "Resident memory size in bytes",
                Some(Unit::Bytes),
                Some(sample.resident_bytes as f64),
            ),
            (
                "process_virtual_memory",
                "Virtual memory size in bytes",
                Some(Unit::Bytes),
                Some(sample.virtual_bytes as f64),
            ),
            (
                "process_start_time",
                "Start time of the process since the Unix epoch in seconds",
                Some(Unit::Seconds),
                Some(sample.start_time_seconds),
            ),
            (
                "process_threads",
                "Number of OS threads in the process",
                None,
                Some(sample.threads as f64),
            ),
            (
                "process_open_fds",
                "Number of open file descriptors",
                None,
                sample.open_fds.map(|n| n as f64),
            ),
            (
                "process_max_fds",
                "Maximum number of open file descriptors",
                None,
                sample.max_fds.map(|n| n as f64),
            ),
        ];
        for (name, help, unit, value) in gauges {
            let Some(value) = value else { continue };
            let gauge = ConstGauge::new(value);
            gauge.encode(encoder.encode_descriptor(
                name,
                help,
                unit.as_ref(),
                gauge.metric_type(),
            )?)?;
        }
        Ok(())
    }
}
