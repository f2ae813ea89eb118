//! The node's Prometheus metrics: one [`Metrics`] per node, created in
//! the node's `runtime::start`, kept in the [`Service`] (reach it with
//! [`Service::metrics`]) and served on a listener of its own
//! (`metrics.listen`) by the node's `metrics_http::serve`, never on the
//! web port: the figures name partner organisations and say how much each
//! one sends.
//!
//! Built on `prometheus-client`, the official Rust client of the Prometheus
//! project, which writes the OpenMetrics text format that Prometheus,
//! VictoriaMetrics, Grafana Agent and the OpenTelemetry collector scrape.
//! libp2p is built on it too, so it adds nothing new to the build, and its
//! typed label sets keep label names out of the callers: each family here
//! has a small method taking enums or `&'static str`, so a series cannot
//! be created from text a peer or a client chose.
//!
//! What is measured, all under `skillmesh_`:
//!
//! | metric | type | labels | set by |
//! |---|---|---|---|
//! | `peers_connected` | gauge | | the network ([`Metrics::set_peers`]) |
//! | `records` | gauge | `org` (short key) | read from the store at each scrape |
//! | `records_ingested_total` | counter | `outcome`, `via` | [`Service::ingest_many`] |
//! | `records_rejected_total` | counter | `reason` (a [`Rejection`] code) | [`Service::ingest_many`] |
//! | `queue_depth` | gauge | `queue` | the network ([`Metrics::queue_depth`]) |
//! | `queue_dropped_total` | counter | `queue` | the network ([`Metrics::queue_dropped`]) |
//! | `reconcile_rounds_total` | counter | `result` | the network ([`Metrics::reconcile_round`]) |
//! | `reconcile_records_fetched_total` | counter | | the network ([`Metrics::reconcile_fetched`]) |
//! | `peers_banned_total` | counter | `fault` (`invalid_record`, `sync`) | the network ([`Metrics::peer_banned`]) |
//! | `blocked_connections_total` | counter | `door` (`let_in`, `closed`) | the network ([`Metrics::blocked_connection`]) |
//! | `connections_refused_total` | counter | `reason` (`ceiling`, `limit`) | the network ([`Metrics::connection_refused`]) |
//! | `gossip_verdict_duration_seconds` | histogram | | the network ([`Metrics::gossip_verdict`]) |
//! | `http_request_duration_seconds` | histogram | `method`, `route` | the web layer |
//! | `http_responses_total` | counter | `class` (`2xx`...) | the web layer |
//! | `sign_in_failures_total` | counter | `reason` | the web layer |
//! | `node_info` | info | `org`, `version` | at start |
//!
//! and, on Linux, the standard `process_*` figures (CPU seconds, resident
//! and virtual memory, open and maximum file descriptors, threads, start
//! time; see `metrics/process.rs`).

#[cfg(target_os = "linux")]
mod process;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};
use skillmesh_protocol::{OrgKey, Rejection};

use crate::store::Actor;

use crate::service::Service;

/// How a record reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Via {
    /// Pushed by a peer over gossipsub.
    Gossip,
    /// Fetched by us in a sync (catch-up or reconciliation).
    Sync,
}

impl Via {
    /// Both, in documentation order.
    pub const ALL: [Via; 2] = [Via::Gossip, Via::Sync];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Gossip => "gossip",
            Via::Sync => "sync",
        }
    }

    /// The way in, from the actor the network gives ingest: records it
    /// fetched come from [`Actor::Sync`], gossiped ones from
    /// [`Actor::Peer`]. Anything else counts as gossip.
    pub fn of_actor(from: &Actor) -> Via {
        if matches!(from, Actor::Sync(_)) {
            Via::Sync
        } else {
            Via::Gossip
        }
    }
}

/// What became of a correctly signed record (see
/// [`crate::service::Ingested`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IngestOutcome {
    /// New, or newer than what we held.
    Stored,
    /// We held this version or a newer one.
    Stale,
    /// Policy keeps its organisation out.
    NotAdmitted,
    /// Its organisation is at its quota.
    OverQuota,
}

impl IngestOutcome {
    /// Every outcome, in documentation order.
    pub const ALL: [IngestOutcome; 4] = [
        IngestOutcome::Stored,
        IngestOutcome::Stale,
        IngestOutcome::NotAdmitted,
        IngestOutcome::OverQuota,
    ];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            IngestOutcome::Stored => "stored",
            IngestOutcome::Stale => "stale",
            IngestOutcome::NotAdmitted => "not_admitted",
            IngestOutcome::OverQuota => "over_quota",
        }
    }
}

/// How one reconciliation round with a peer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReconcileResult {
    /// The digests matched: nothing to fetch.
    InSync,
    /// They differed, and we fetched what we lacked.
    Differed,
    /// The round did not complete (the peer went away, timed out, or sent
    /// something we could not use).
    Failed,
}

impl ReconcileResult {
    /// Every result, in documentation order.
    pub const ALL: [ReconcileResult; 3] = [
        ReconcileResult::InSync,
        ReconcileResult::Differed,
        ReconcileResult::Failed,
    ];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            ReconcileResult::InSync => "in_sync",
            ReconcileResult::Differed => "differed",
            ReconcileResult::Failed => "failed",
        }
    }
}

/// Why the metrics could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("cannot read the record counts from the store: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("cannot encode the metrics as text")]
    Encode(#[from] std::fmt::Error),
    #[error("the metrics task failed: {0}")]
    Task(String),
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OrgLabels {
    org: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct IngestLabels {
    outcome: &'static str,
    via: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DoorLabels {
    door: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FaultLabels {
    fault: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabels {
    queue: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: &'static str,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClassLabels {
    class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InfoLabels {
    org: String,
    version: &'static str,
}

/// Upper bounds of the request-duration buckets, in seconds: Prometheus's
/// usual 5 ms to 10 s, with 1 ms below for the many cheap pages.
const HTTP_BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

fn http_histogram() -> Histogram {
    Histogram::new(HTTP_BUCKETS)
}

type HttpFamily = Family<HttpLabels, Histogram, fn() -> Histogram>;

/// Upper bounds of the gossip-verdict buckets, in seconds: a hop of
/// gossip on a LAN takes about a millisecond, so they start well below.
const VERDICT_BUCKETS: [f64; 10] = [
    0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 1.0,
];

/// One node's metrics. Cheap to clone (an `Arc`); every method takes
/// `&self` and is safe to call from any thread.
#[derive(Clone, Debug)]
pub struct Metrics {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    registry: Registry,
    peers: Gauge,
    records: Family<OrgLabels, Gauge>,
    ingested: Family<IngestLabels, Counter>,
    rejected: Family<ReasonLabels, Counter>,
    queue_depth: Family<QueueLabels, Gauge>,
    queue_dropped: Family<QueueLabels, Counter>,
    reconcile_rounds: Family<ResultLabels, Counter>,
    reconcile_fetched: Counter,
    peers_banned: Family<FaultLabels, Counter>,
    blocked_connections: Family<DoorLabels, Counter>,
    connections_refused: Family<ReasonLabels, Counter>,
    http_duration: HttpFamily,
    gossip_verdict: Histogram,
    http_responses: Family<ClassLabels, Counter>,
    sign_in_failures: Family<ReasonLabels, Counter>,
    /// One scrape at a time: the records family is rebuilt from the
    /// store's counts and then encoded, and two scrapes must not mix.
    scrape: Mutex<()>,
}

impl Metrics {
    /// Fresh metrics for the node of organisation `own`, every counter at
    /// zero. Every label value known in advance (outcomes, rejection
    /// codes, results) is present from the start, so that `rate()` and
    /// alerts see a zero rather than no series.
    pub fn new(own: OrgKey) -> Metrics {
        let mut registry = Registry::default();
        let peers = Gauge::default();
        let records = Family::<OrgLabels, Gauge>::default();
        let ingested = Family::<IngestLabels, Counter>::default();
        let rejected = Family::<ReasonLabels, Counter>::default();
        let queue_depth = Family::<QueueLabels, Gauge>::default();
        let queue_dropped = Family::<QueueLabels, Counter>::default();
        let reconcile_rounds = Family::<ResultLabels, Counter>::default();
        let reconcile_fetched = Counter::default();
        let peers_banned = Family::<FaultLabels, Counter>::default();
        for fault in ["invalid_record", "sync"] {
            let _ = peers_banned.get_or_create(&FaultLabels { fault });
        }
        let blocked_connections = Family::<DoorLabels, Counter>::default();
        for door in ["let_in", "closed"] {
            let _ = blocked_connections.get_or_create(&DoorLabels { door });
        }
        let connections_refused = Family::<ReasonLabels, Counter>::default();
        for reason in ["ceiling", "limit"] {
            let _ = connections_refused.get_or_create(&ReasonLabels { reason });
        }
        let http_duration: HttpFamily = Family::new_with_constructor(http_histogram);
        let gossip_verdict = Histogram::new(VERDICT_BUCKETS);
        let http_responses = Family::<ClassLabels, Counter>::default();
        let sign_in_failures = Family::<ReasonLabels, Counter>::default();

        for outcome in IngestOutcome::ALL {
            for via in Via::ALL {
                let _ = ingested.get_or_create(&IngestLabels {
                    outcome: outcome.as_str(),
                    via: via.as_str(),
                });
            }
        }
        for reason in Rejection::CODES {
            let _ = rejected.get_or_create(&ReasonLabels { reason });
        }
        for result in ReconcileResult::ALL {
            let _ = reconcile_rounds.get_or_create(&ResultLabels {
                result: result.as_str(),
            });
        }
        for reason in skillmesh_web::SignInFailure::ALL {
            let _ = sign_in_failures.get_or_create(&ReasonLabels {
                reason: reason.as_str(),
            });
        }

        let node = registry.sub_registry_with_prefix("skillmesh");
        node.register(
            "node",
            "This node: its organisation's short key and the skillmesh version",
            Info::new(InfoLabels {
                org: own.short(),
                version: env!("CARGO_PKG_VERSION"),
            }),
        );
        node.register("peers_connected", "Peers connected now", peers.clone());
        node.register(
            "records",
            "Records held per organisation (short key), tombstones included",
            records.clone(),
        );
        node.register(
            "records_ingested",
            "Correctly signed records taken in, by what became of them and how they came",
            ingested.clone(),
        );
        node.register(
            "records_rejected",
            "Records refused as invalid, by reason",
            rejected.clone(),
        );
        node.register(
            "queue_depth",
            "Items waiting in a work queue",
            queue_depth.clone(),
        );
        node.register(
            "queue_dropped",
            "Items a full work queue dropped",
            queue_dropped.clone(),
        );
        node.register(
            "reconcile_rounds",
            "Reconciliation rounds with peers, by result",
            reconcile_rounds.clone(),
        );
        node.register(
            "reconcile_records_fetched",
            "Records fetched by reconciliation",
            reconcile_fetched.clone(),
        );
        node.register(
            "peers_banned",
            "Peers disconnected and kept out for misbehaving, by the fault that tipped the score",
            peers_banned.clone(),
        );
        node.register(
            "blocked_connections",
            "Connections from blocked organisations: let in for a moment to hear refusals, or closed at once",
            blocked_connections.clone(),
        );
        node.register(
            "connections_refused",
            "Connections closed as they opened: a new organisation's at the connection ceiling, or any over libp2p's connection limits",
            connections_refused.clone(),
        );
        node.register_with_unit(
            "http_request_duration",
            "Time to answer a web or API request, by method and route pattern",
            Unit::Seconds,
            http_duration.clone(),
        );
        node.register_with_unit(
            "gossip_verdict_duration",
            "Time from a gossip message reaching the node to its verdict (forward, ignore or reject): what each hop adds to propagation",
            Unit::Seconds,
            gossip_verdict.clone(),
        );
        node.register(
            "http_responses",
            "Web and API responses by status class",
            http_responses.clone(),
        );
        node.register(
            "sign_in_failures",
            "Refused sign-ins, by reason",
            sign_in_failures.clone(),
        );
        #[cfg(target_os = "linux")]
        process::register(&mut registry);

        Metrics {
            inner: Arc::new(Inner {
                registry,
                peers,
                records,
                ingested,
                rejected,
                queue_depth,
                queue_dropped,
                reconcile_rounds,
                reconcile_fetched,
                peers_banned,
                blocked_connections,
                connections_refused,
                http_duration,
                gossip_verdict,
                http_responses,
                sign_in_failures,
                scrape: Mutex::new(()),
            }),
        }
    }

    /// `skillmesh_peers_connected`: how many peers are connected now.
    pub fn set_peers(&self, n: usize) {
        self.inner.peers.set(gauge_value(n));
    }

    /// `skillmesh_gossip_verdict_duration_seconds`: a gossip message got
    /// its verdict `elapsed` after it reached the node.
    pub fn gossip_verdict(&self, elapsed: Duration) {
        self.inner.gossip_verdict.observe(elapsed.as_secs_f64());
    }

    /// `skillmesh_queue_depth{queue}`: items waiting in `queue` now.
    pub fn queue_depth(&self, queue: &'static str, n: usize) {
        let _ = self
            .inner
            .queue_depth
            .get_or_create(&QueueLabels { queue })
            .set(gauge_value(n));
    }

    /// `skillmesh_queue_dropped_total{queue}`: one item `queue` dropped.
    pub fn queue_dropped(&self, queue: &'static str) {
        self.inner
            .queue_dropped
            .get_or_create(&QueueLabels { queue })
            .inc();
    }

    /// `skillmesh_reconcile_rounds_total{result}`: a round ended so.
    pub fn reconcile_round(&self, result: ReconcileResult) {
        self.inner
            .reconcile_rounds
            .get_or_create(&ResultLabels {
                result: result.as_str(),
            })
            .inc();
    }

    /// `skillmesh_reconcile_records_fetched_total`: `n` more records
    /// fetched by reconciliation.
    pub fn reconcile_fetched(&self, n: u64) {
        self.inner.reconcile_fetched.inc_by(n);
    }

    /// `skillmesh_peers_banned_total{fault}`: a peer was banned.
    pub fn peer_banned(&self, fault: &'static str) {
        self.inner
            .peers_banned
            .get_or_create(&FaultLabels { fault })
            .inc();
    }

    /// `skillmesh_blocked_connections_total{door}`: a blocked
    /// organisation's node connected.
    pub fn blocked_connection(&self, door: &'static str) {
        self.inner
            .blocked_connections
            .get_or_create(&DoorLabels { door })
            .inc();
    }

    /// `skillmesh_connections_refused_total{reason}`: a connection was
    /// closed as it opened (`ceiling`: a new organisation's, with the node
    /// at its connection ceiling; `limit`: over libp2p's connection limits).
    pub fn connection_refused(&self, reason: &'static str) {
        self.inner
            .connections_refused
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    /// `skillmesh_records_ingested_total{outcome, via}`.
    pub fn ingested(&self, outcome: IngestOutcome, via: Via) {
        self.inner
            .ingested
            .get_or_create(&IngestLabels {
                outcome: outcome.as_str(),
                via: via.as_str(),
            })
            .inc();
    }

    /// `skillmesh_records_rejected_total{reason}`, the reason being the
    /// rejection's stable code.
    pub fn rejected(&self, reason: &Rejection) {
        self.inner
            .rejected
            .get_or_create(&ReasonLabels {
                reason: reason.code(),
            })
            .inc();
    }

    /// Everything, as OpenMetrics text, with `skillmesh_records` set from
    /// `record_counts` (the store's per-organisation counts, read by the
    /// caller just before: the store is the truth, and an organisation no
    /// longer held disappears from the figures).
    pub fn render(&self, record_counts: &[(OrgKey, u64)]) -> Result<String, MetricsError> {
        let _scrape = self
            .inner
            .scrape
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.inner.records.clear();
        for (org, n) in record_counts {
            let _ = self
                .inner
                .records
                .get_or_create(&OrgLabels { org: org.short() })
                .set(i64::try_from(*n).unwrap_or(i64::MAX));
        }
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.inner.registry)?;
        Ok(text)
    }
}

impl Service {
    /// The node's metrics as OpenMetrics text, with the record counts read
    /// from the store now (what the metrics listener serves).
    pub fn render_metrics(&self) -> Result<String, MetricsError> {
        let counts = self.store().record_counts()?;
        self.metrics().render(&counts)
    }
}

impl skillmesh_web::WebMetrics for Metrics {
    fn request_served(&self, method: &'static str, route: &str, status: u16, elapsed: Duration) {
        self.inner
            .http_duration
            .get_or_create(&HttpLabels {
                method,
                route: route.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
        self.inner
            .http_responses
            .get_or_create(&ClassLabels {
                class: status_class(status),
            })
            .inc();
    }

    fn sign_in_failed(&self, reason: skillmesh_web::SignInFailure) {
        self.inner
            .sign_in_failures
            .get_or_create(&ReasonLabels {
                reason: reason.as_str(),
            })
            .inc();
    }
}

fn gauge_value(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        500..=599 => "5xx",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use skillmesh_web::WebMetrics;

    use super::*;

    fn org(byte: u8) -> OrgKey {
        OrgKey::from_bytes([byte; 32])
    }

    fn render(metrics: &Metrics, counts: &[(OrgKey, u64)]) -> String {
        metrics
            .render(counts)
            .unwrap_or_else(|e| panic!("render: {e}"))
    }

    /// The sample lines (`name{labels} value`) of a rendering.
    fn samples(text: &str) -> Vec<&str> {
        text.lines().filter(|l| !l.starts_with('#')).collect()
    }

    #[test]
    fn every_line_is_a_comment_or_a_sample() {
        let metrics = Metrics::new(org(1));
        metrics.set_peers(3);
        metrics.request_served("GET", "/listing/{org}/{id}", 200, Duration::from_millis(7));
        let text = render(&metrics, &[(org(1), 5), (org(2), 7)]);
        assert!(text.ends_with("# EOF\n"), "{text}");
        for line in samples(&text) {
            let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
            assert!(value.parse::<f64>().is_ok(), "{line}");
            let name_end = series.find('{').unwrap_or(series.len());
            assert!(
                series[..name_end]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{line}"
            );
        }
    }

    #[test]
    fn the_figures_callers_set_are_rendered_under_their_names() {
        let metrics = Metrics::new(org(1));
        metrics.set_peers(3);
        metrics.queue_depth("gossip_in", 12);
        metrics.queue_dropped("gossip_in");
        metrics.queue_dropped("gossip_in");
        metrics.reconcile_round(ReconcileResult::Differed);
        metrics.reconcile_fetched(40);
        metrics.ingested(IngestOutcome::Stored, Via::Sync);
        metrics.rejected(&Rejection::BadSignature);
        metrics.request_served("POST", "/signin", 401, Duration::from_millis(30));
        metrics.sign_in_failed(skillmesh_web::SignInFailure::WrongPassword);
        let text = render(&metrics, &[(org(1), 5), (org(2), 7)]);
        let lines = samples(&text);
        for expected in [
            "skillmesh_peers_connected 3",
            "skillmesh_queue_depth{queue=\"gossip_in\"} 12",
            "skillmesh_queue_dropped_total{queue=\"gossip_in\"} 2",
            "skillmesh_reconcile_rounds_total{result=\"differed\"} 1",
            "skillmesh_reconcile_rounds_total{result=\"failed\"} 0",
            "skillmesh_reconcile_records_fetched_total 40",
            "skillmesh_records_ingested_total{outcome=\"stored\",via=\"sync\"} 1",
            "skillmesh_records_ingested_total{outcome=\"over_quota\",via=\"gossip\"} 0",
            "skillmesh_records_rejected_total{reason=\"bad_signature\"} 1",
            "skillmesh_records_rejected_total{reason=\"expired\"} 0",
            "skillmesh_records{org=\"01010101\"} 5",
            "skillmesh_records{org=\"02020202\"} 7",
            "skillmesh_http_request_duration_seconds_count{method=\"POST\",route=\"/signin\"} 1",
            "skillmesh_http_request_duration_seconds_bucket{le=\"0.05\",method=\"POST\",route=\"/signin\"} 1",
            "skillmesh_http_request_duration_seconds_bucket{le=\"0.025\",method=\"POST\",route=\"/signin\"} 0",
            "skillmesh_http_responses_total{class=\"4xx\"} 1",
            "skillmesh_sign_in_failures_total{reason=\"wrong_password\"} 1",
            "skillmesh_sign_in_failures_total{reason=\"rate_limited\"} 0",
            "skillmesh_node_info{org=\"01010101\",version=\"0.1.0\"} 1",
        ] {
            assert!(lines.contains(&expected), "{expected} in\n{text}");
        }
    }

    #[test]
    fn an_organisation_no_longer_held_leaves_the_records_gauge() {
        let metrics = Metrics::new(org(1));
        let text = render(&metrics, &[(org(1), 5), (org(2), 7)]);
        assert!(text.contains("skillmesh_records{org=\"02020202\"} 7"));
        let text = render(&metrics, &[(org(1), 6)]);
        assert!(text.contains("skillmesh_records{org=\"01010101\"} 6"));
        assert!(!text.contains("02020202"), "{text}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn process_figures_are_there_on_linux() {
        let text = render(&Metrics::new(org(1)), &[]);
        for name in [
            "process_cpu_seconds_total ",
            "process_resident_memory_bytes ",
            "process_virtual_memory_bytes ",
            "process_open_fds ",
            "process_max_fds ",
            "process_threads ",
            "process_start_time_seconds ",
        ] {
            assert!(
                samples(&text).iter().any(|l| l.starts_with(name)),
                "{name} in\n{text}"
            );
        }
    }

    #[test]
    fn ingest_counts_each_outcome_and_rejection_under_its_way_in() {
        use ed25519_dalek::SigningKey;
        use skillmesh_protocol::{Header, Kind, RECORD_VERSION, Record};

        use crate::identity::OrgIdentity;
        use crate::service::{InboundSettings, Service};
        use crate::store::Store;

        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = Store::open(&dir.path().join("store")).unwrap_or_else(|e| panic!("{e}"));
        let identity = OrgIdentity::from_signing_key(SigningKey::from_bytes(&[1; 32]));
        let service = Service::new(
            "Northwind".into(),
            identity,
            Arc::new(store),
            InboundSettings::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let partner = SigningKey::from_bytes(&[2; 32]);
        let now = crate::clock::now();
        let card = Record {
            header: Header {
                version: RECORD_VERSION,
                org: OrgKey::from(&partner.verifying_key()),
                id: "org-card".into(),
                seq: 1,
                issued_at: now - 10,
                expires_at: now + 86_400,
            },
            body: skillmesh_protocol::samples::body(Kind::OrgCard),
        };
        let card = skillmesh_protocol::seal(&card, &partner)
            .unwrap_or_else(|e| panic!("{e}"))
            .into_bytes();
        let ingest = |bytes: &[u8], from: Actor| {
            service
                .ingest(bytes, &from)
                .unwrap_or_else(|e| panic!("{e}"))
        };
        assert!(ingest(&card, Actor::Sync("12D3KooWpeer".into())).is_ok());
        assert!(ingest(&card, Actor::Peer("12D3KooWpeer".into())).is_ok());
        assert!(ingest(b"not an envelope", Actor::Peer("12D3KooWpeer".into())).is_err());
        let by_hand = service.ingest_many_via(&[&card], &Actor::person("admin"), Via::Sync);
        assert!(by_hand.is_ok());

        let counts = service
            .store()
            .record_counts()
            .unwrap_or_else(|e| panic!("{e}"));
        let text = render(service.metrics(), &counts);
        let lines = samples(&text);
        let partner_records = format!(
            "skillmesh_records{{org=\"{}\"}} 1",
            OrgKey::from(&partner.verifying_key()).short()
        );
        for expected in [
            "skillmesh_records_ingested_total{outcome=\"stored\",via=\"sync\"} 1",
            "skillmesh_records_ingested_total{outcome=\"stale\",via=\"gossip\"} 1",
            "skillmesh_records_ingested_total{outcome=\"stale\",via=\"sync\"} 1",
            "skillmesh_records_ingested_total{outcome=\"stored\",via=\"gossip\"} 0",
            &partner_records,
        ] {
            assert!(lines.contains(&expected), "{expected} in\n{text}");
        }
        let rejected: f64 = lines
            .iter()
            .filter(|l| l.starts_with("skillmesh_records_rejected_total"))
            .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
            .sum();
        assert_eq!(rejected, 1.0, "{text}");
    }

    #[test]
    fn the_way_in_follows_the_networks_actor_names() {
        assert_eq!(Via::of_actor(&Actor::Sync("12D3KooWabc".into())), Via::Sync);
        assert_eq!(
            Via::of_actor(&Actor::Peer("12D3KooWabc".into())),
            Via::Gossip
        );
        assert_eq!(Via::of_actor(&Actor::person("bench")), Via::Gossip);
    }

    #[test]
    fn status_classes() {
        assert_eq!(status_class(101), "1xx");
        assert_eq!(status_class(204), "2xx");
        assert_eq!(status_class(303), "3xx");
        assert_eq!(status_class(429), "4xx");
        assert_eq!(status_class(503), "5xx");
        assert_eq!(status_class(999), "other");
    }
}
