//! The service layer: every change to the organisation's data and every
//! record that enters or leaves goes through here, so the rules (opt-in,
//! signing, the `seq` rule, the audit log) hold whoever calls: the web
//! layer, the network task, the CLI or the demo.

mod ingest;
pub mod web_error;

use std::sync::{Arc, RwLock};

use skillmesh_protocol::{Body, Envelope, Header, OrgKey, RECORD_VERSION, Record, Rejection};

use crate::clock;
use crate::identity::OrgIdentity;
use crate::metrics::{IngestOutcome, Metrics};
use crate::outbound::expertise_listing;
use crate::policy::{self, Admission};
use crate::search::{Search, SearchOptions};
use crate::store::Actor;
use crate::store::{
    AuditAction, AuditEntry, ItemState, OrgListing, OwnItem, Person, PutOutcome, Store, StoreError,
};
use skillmesh_config::FederationMode;

/// The reason code under which records refused for an organisation's
/// quota are counted (see [`crate::store::PolicyRefusal`]).
pub const QUOTA_REFUSAL: &str = "over_quota";

/// Most organisations [`Service::note_seen`] remembers in memory.
const SEEN_CACHE: usize = 100_000;

/// How long a published record lives before it must be re-published.
pub const RECORD_LIFETIME_SECS: i64 = 90 * 24 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("record rejected: {0}")]
    Rejected(#[from] Rejection),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    /// The caller may not do this (a member doing what admins do); the
    /// words say who may.
    #[error("{0}")]
    Forbidden(String),
    /// Not among the caller's own things (see `members`): it reads as
    /// not found whether or not someone else holds it, in these words.
    #[error("{0}")]
    NotYours(String),
    /// Work handed to a blocking thread did not finish (it panicked, or
    /// the runtime is shutting down).
    #[error("interrupted: {0}")]
    Interrupted(String),
    /// The search index could not be opened or created.
    #[error(transparent)]
    Index(#[from] crate::search::IndexError),
    /// The operating system gave no randomness for a new id.
    #[error("no randomness for a new id: {0}")]
    Random(String),
}

impl From<crate::search::SearchError> for ServiceError {
    fn from(e: crate::search::SearchError) -> Self {
        match e {
            crate::search::SearchError::Store(e) => ServiceError::Store(e),
            crate::search::SearchError::Index(e) => ServiceError::Index(e),
        }
    }
}

impl ServiceError {
    /// The store's fault, when this error comes from one (see
    /// [`StoreError::fault`]).
    pub fn store_fault(&self) -> Option<&crate::storage::WriteFault> {
        match self {
            ServiceError::Store(e) => e.fault(),
            _ => None,
        }
    }
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// What `/healthz` says while the store cannot save changes.
fn store_fault_message(fault: &crate::storage::WriteFault) -> String {
    let reads = if fault.reads_work {
        "reads still work"
    } else {
        "reads fail too until the node can reopen its store"
    };
    format!(
        "the node cannot save changes since {}: {}; changes are refused with an error and \
         nothing saved before is lost ({reads}). It checks every few seconds and recovers by \
         itself once it can write again: {}",
        skillmesh_web::dates::datetime(fault.since),
        fault,
        fault.cause.remedy(),
    )
}

/// A new id for something this node creates (an offer, a request):
/// `prefix`, a dash and 16 random hex digits. Ids travel in signed
/// records, so they must not collide across nodes; without randomness the
/// call fails rather than fall back to something guessable.
pub fn random_id(prefix: &str) -> Result<String> {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).map_err(|e| ServiceError::Random(e.to_string()))?;
    Ok(format!("{prefix}-{}", hex::encode(b)))
}

/// An id that sorts by the time `at` it was made (16 hex digits), then
/// 6 random bytes: keys of queues and lists read oldest or newest first.
pub fn time_ordered_id(at: i64) -> Result<String> {
    let mut salt = [0u8; 6];
    getrandom::fill(&mut salt).map_err(|e| ServiceError::Random(e.to_string()))?;
    Ok(format!("{:016x}{}", at.max(0), hex::encode(salt)))
}

/// The organisation of the peer an ingest actor names ([`Actor::Peer`]
/// for gossip, [`Actor::Sync`] for sync), if it names one whose peer id is
/// an organisation key.
pub fn sender_org(actor: &Actor) -> Option<OrgKey> {
    crate::peer_identity::org_of(&actor.peer_id()?.parse().ok()?)
}

/// The record id of a person's expertise listing.
pub fn listing_id(person_id: &str) -> String {
    format!("listing-{person_id}")
}

/// The person whose listing has the record id `id`, if it is one.
pub fn listing_person(id: &str) -> Option<&str> {
    id.strip_prefix("listing-")
}

/// The node's services over its store and key.
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    org_name: String,
    identity: OrgIdentity,
    store: Arc<Store>,
    inbound: InboundSettings,
    /// The federation mode in force: the config's, or the one an admin
    /// set at runtime (persisted; it wins over the config from then on).
    /// Read on every admission decision, so a change applies at once.
    mode: RwLock<FederationMode>,
    /// What search runs over (the catalogue and the index); updated
    /// after every store batch that changes, retracts or purges records.
    search: Search,
    rate: crate::request_limits::RequestLimits,
    /// Quota notices to partners: when each was last sent, and where they
    /// go (see [`crate::quota_notice`]).
    quota_notices: crate::quota_notice::Notices,
    /// Organisations already noted as seen (see [`Service::note_seen`]).
    seen: std::sync::Mutex<std::collections::HashSet<OrgKey>>,
    /// Serialises the policy-and-store phase of ingest (see `ingest_many`).
    ingest_lock: std::sync::Mutex<()>,
    /// Serialises answers to requests, so that counting an offer's seats
    /// and taking one is a single step: two people admitting applicants
    /// to the last seat of a cohort at the same moment cannot both win.
    answer_lock: std::sync::Mutex<()>,
    /// Woken when there is something new to deliver directly.
    deliveries: Arc<tokio::sync::Notify>,
    /// Where newly signed records go to be gossiped: the bounded channel
    /// to the network, set when the node is wired together.
    outbound: std::sync::Mutex<Option<tokio::sync::mpsc::Sender<Envelope>>>,
    /// The node's Prometheus metrics (ingest counts them; the network and
    /// the web layer reach them through [`Service::metrics`]).
    metrics: Metrics,
    /// Set when mail is on.
    mails: std::sync::OnceLock<()>,
    /// Woken when mail is queued.
    mail_queued: Arc<tokio::sync::Notify>,
    /// The node's public address: the base of links in mail, chat
    /// webhook messages and password links.
    public_url: std::sync::OnceLock<String>,
    /// Woken when a chat webhook message is queued.
    webhook_queued: Arc<tokio::sync::Notify>,
}

/// The part of the configuration that governs what enters.
#[derive(Debug, Clone, Copy)]
pub struct InboundSettings {
    /// New or changed listings and offers wait for an admin's approval
    /// before they leave (outbound; kept here with the other settings the
    /// service reads from the config).
    pub approval_required: bool,
    /// `federation.mode` from the config. An admin's runtime choice, once
    /// made, is stored and wins over this (see [`Service::set_federation_mode`]).
    pub mode: FederationMode,
    pub max_records_per_org: u64,
    pub requests_per_minute: u32,
    /// Hours an organisation counts as new after it was first seen.
    pub new_org_hours: u32,
    /// Requests a minute from all new organisations together.
    pub new_org_requests_per_minute: u32,
    /// Requests a minute from all organisations together.
    pub node_requests_per_minute: u32,
    /// Unanswered requests one person's inbox holds (new organisations
    /// may fill half).
    pub max_pending_per_person: u32,
    /// `privacy.min_group_size`: a figure aggregated over people is shown
    /// (or published) only when at least this many distinct people stand
    /// behind it (see [`crate::privacy`]).
    pub min_group_size: u32,
}

impl Default for InboundSettings {
    fn default() -> Self {
        InboundSettings {
            approval_required: false,
            mode: FederationMode::Open,
            max_records_per_org: 10_000,
            requests_per_minute: 60,
            new_org_hours: skillmesh_config::DEFAULT_NEW_ORG_HOURS,
            new_org_requests_per_minute: skillmesh_config::DEFAULT_NEW_ORG_REQUESTS_PER_MINUTE,
            node_requests_per_minute: skillmesh_config::DEFAULT_NODE_REQUESTS_PER_MINUTE,
            max_pending_per_person: skillmesh_config::DEFAULT_MAX_PENDING_PER_PERSON,
            min_group_size: skillmesh_config::DEFAULT_MIN_GROUP_SIZE,
        }
    }
}

/// What happened to one incoming, correctly signed record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ingested {
    /// Stored: new, or newer than what we held. `relay`: its times are fit
    /// to forward to other nodes now ([`skillmesh_protocol::fit_to_relay`]):
    /// gossip forwards it only then.
    Stored { outcome: PutOutcome, relay: bool },
    /// We already hold this version or a newer one.
    Stale,
    /// Policy keeps this organisation out.
    NotAdmitted(Admission),
    /// The organisation has reached its quota of stored records.
    OverQuota,
}

/// What the gossip layer is to do with a message, decided once its
/// envelope is verified and admitted, before it is stored (see
/// [`Service::ingest_gossip`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Valid, new here and fit to relay: pass it on.
    Accept,
    /// Not passed on, and not the sender's fault: already held, kept out
    /// by policy or quota, refused by our clock, or a local failure.
    Ignore,
    /// Invalid: not passed on, and counted against the sender.
    Reject,
}

impl Ingested {
    /// The outcome as the metrics count it.
    pub fn outcome(&self) -> IngestOutcome {
        match self {
            Ingested::Stored { .. } => IngestOutcome::Stored,
            Ingested::Stale => IngestOutcome::Stale,
            Ingested::NotAdmitted(_) => IngestOutcome::NotAdmitted,
            Ingested::OverQuota => IngestOutcome::OverQuota,
        }
    }
}

impl Service {
    /// A service over a fresh store in a temp dir, with a new key and
    /// default settings, for unit tests here and in the node (keep the
    /// dir alive as long as the service).
    #[cfg(any(test, feature = "testing"))]
    pub fn for_tests() -> (tempfile::TempDir, Service) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(crate::store::Store::open(dir.path()).expect("store"));
        let identity = OrgIdentity::generate().expect("key");
        let service =
            Service::new("Test".into(), identity, store, Default::default()).expect("service");
        (dir, service)
    }

    /// The service over `store`, searching with an index in memory and
    /// with metrics of its own (see [`Service::with_search`]).
    pub fn new(
        org_name: String,
        identity: OrgIdentity,
        store: Arc<Store>,
        inbound: InboundSettings,
    ) -> Result<Self> {
        let metrics = Metrics::new(identity.org());
        Self::with_search(
            org_name,
            identity,
            store,
            inbound,
            SearchOptions::default(),
            metrics,
        )
    }

    /// The service over `store`: reads the federation mode an admin may
    /// have set (it wins over `inbound.mode`), builds the search catalogue
    /// from the records held and opens the search index as `search` says
    /// (it catches up with the store in the background). What it takes in
    /// is counted in `metrics`.
    pub fn with_search(
        org_name: String,
        identity: OrgIdentity,
        store: Arc<Store>,
        inbound: InboundSettings,
        search: SearchOptions,
        metrics: Metrics,
    ) -> Result<Self> {
        let mode = store.federation_mode()?.unwrap_or(inbound.mode);
        let admitted = policy::Admitted::read(&store, mode, identity.org())?;
        let search = Search::open(identity.org(), store.clone(), search, &|org| {
            admitted.admits(org)
        })?;
        Ok(Service {
            inner: Arc::new(Inner {
                org_name,
                identity,
                store,
                inbound,
                mode: RwLock::new(mode),
                search,
                rate: crate::request_limits::RequestLimits::new(
                    inbound.requests_per_minute,
                    inbound.new_org_requests_per_minute,
                    inbound.node_requests_per_minute,
                ),
                quota_notices: Default::default(),
                seen: Default::default(),
                ingest_lock: std::sync::Mutex::new(()),
                answer_lock: std::sync::Mutex::new(()),
                deliveries: Arc::new(tokio::sync::Notify::new()),
                outbound: std::sync::Mutex::new(None),
                metrics,
                mails: std::sync::OnceLock::new(),
                mail_queued: Arc::new(tokio::sync::Notify::new()),
                public_url: std::sync::OnceLock::new(),
                webhook_queued: Arc::new(tokio::sync::Notify::new()),
            }),
        })
    }

    /// Runs `work` over this service on a blocking thread, off the async
    /// ones: store writes and flushes, argon2, the index. The one way an
    /// async caller (a web request, an admin decision) reaches blocking
    /// work; a task that panicked is [`ServiceError::Interrupted`].
    pub async fn blocking<T, E>(
        &self,
        work: impl FnOnce(&Service) -> std::result::Result<T, E> + Send + 'static,
    ) -> std::result::Result<T, E>
    where
        T: Send + 'static,
        E: From<ServiceError> + Send + 'static,
    {
        let service = self.clone();
        tokio::task::spawn_blocking(move || work(&service))
            .await
            .unwrap_or_else(|e| Err(ServiceError::Interrupted(e.to_string()).into()))
    }

    /// Runs `work` like [`Service::blocking`] once `gate` lets it: no more
    /// than its limit at once, the rest waiting as async tasks. Password
    /// work goes through [`gate::passwords`], searches through
    /// [`gate::searches`].
    ///
    /// [`gate::passwords`]: crate::gate::passwords
    /// [`gate::searches`]: crate::gate::searches
    pub async fn gated<T, E>(
        &self,
        gate: &'static crate::gate::Gate,
        work: impl FnOnce(&Service) -> std::result::Result<T, E> + Send + 'static,
    ) -> std::result::Result<T, E>
    where
        T: Send + 'static,
        E: From<ServiceError> + Send + 'static,
    {
        // The semaphore is never closed, so acquiring only waits.
        let _permit = gate
            .permits
            .acquire()
            .await
            .map_err(|e| E::from(ServiceError::Interrupted(e.to_string())))?;
        self.blocking(move |svc| {
            let _running = gate.running();
            work(svc)
        })
        .await
    }

    /// The node's metrics: the network sets its figures here
    /// (`service.metrics().set_peers(n)` and the like).
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Sends every record this node signs from now on to `tx` (the network;
    /// see `network::outbound_channel`).
    pub fn set_outbound(&self, tx: tokio::sync::mpsc::Sender<Envelope>) {
        let mut slot = self
            .inner
            .outbound
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *slot = Some(tx);
    }

    /// The inbound settings in force (the federation mode as it is now).
    pub fn inbound(&self) -> InboundSettings {
        InboundSettings {
            mode: self.federation_mode(),
            ..self.inner.inbound
        }
    }

    /// The federation mode in force now.
    pub fn federation_mode(&self) -> FederationMode {
        *self
            .inner
            .mode
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// An admin changes the federation mode. It is stored (with its audit
    /// line, in one batch) and from then on wins over `federation.mode` in
    /// the config, across restarts; admission decisions see it at once.
    ///
    /// Switching to allowlist keeps every current partner (see
    /// [`Service::current_partners`]; `connected`: the organisations whose
    /// nodes are connected now) on the allowlist, each with an audit line,
    /// in the same step. Search follows the new mode at once: records of
    /// organisations no longer admitted are hidden, those of organisations
    /// now admitted come back. Returns the current partners that stay
    /// allowed (0 unless switching to allowlist). Callers that let more
    /// organisations in should resync the network.
    pub fn set_federation_mode(
        &self,
        mode: FederationMode,
        actor: &Actor,
        connected: &[OrgKey],
    ) -> Result<usize> {
        // No ingest may interleave: it could admit a record under the old
        // mode and show it after search followed the new one.
        let _serial = self
            .inner
            .ingest_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut held = self
            .inner
            .mode
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let old = *held;
        let store = &self.inner.store;
        let now = clock::now();
        let mut kept = 0;
        if mode == FederationMode::Allowlist && old != FederationMode::Allowlist {
            let partners = self.current_partners(connected)?;
            kept = partners.len();
            for org in partners {
                if store.org_listing(&org)? == Some(OrgListing::Allowed) {
                    continue;
                }
                store.set_org_listing(&org, Some(OrgListing::Allowed), now)?;
                store.remove_join_request(&org)?;
                self.audit(
                    actor,
                    AuditAction::OrgAllowed,
                    Some(org),
                    None,
                    "a current partner, kept when switching to allowlist".into(),
                )?;
            }
        }
        let before = policy::Admitted::read(store, old, self.org())?;
        let after = policy::Admitted::read(store, mode, self.org())?;
        let detail = if mode == FederationMode::Allowlist && old != mode {
            format!("{old} -> {mode}; {kept} current partners stay allowed")
        } else {
            format!("{old} -> {mode}")
        };
        let audit = AuditEntry {
            at: now,
            actor: actor.to_string(),
            action: AuditAction::FederationModeChanged.into(),
            org: None,
            record_id: None,
            detail,
            claimed_org: None,
            count: 1,
        };
        store.set_federation_mode(mode, &audit)?;
        *held = mode;
        drop(held);
        for (org, _) in store.record_counts()? {
            self.follow_admission(&org, before.admission(&org), after.admission(&org))?;
        }
        Ok(kept)
    }

    /// The organisations this node federates with now, which a switch to
    /// allowlist keeps allowed: every organisation, not blocked and not
    /// refused by an admin, of which this node holds live records, or that
    /// is in the peer book (its node's addresses, learnt when it
    /// connected), or whose node is in `connected`. Our own is left out.
    pub fn current_partners(&self, connected: &[OrgKey]) -> Result<Vec<OrgKey>> {
        let store = &self.inner.store;
        let mut orgs: std::collections::BTreeSet<OrgKey> = store
            .live_counts()?
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(o, _)| o)
            .collect();
        orgs.extend(store.peers()?.into_iter().map(|(o, _)| o));
        orgs.extend(connected.iter().copied());
        let own = self.org();
        let mut out = Vec::with_capacity(orgs.len());
        for org in orgs {
            if org == own
                || store.org_listing(&org)? == Some(OrgListing::Blocked)
                || store.join_request(&org)?.is_some_and(|r| r.refused)
            {
                continue;
            }
            out.push(org);
        }
        Ok(out)
    }

    /// Keeps search in step with a change of `org`'s admission: what is
    /// held of an organisation no longer admitted is hidden; what is held
    /// of one admitted again is searchable again.
    fn follow_admission(&self, org: &OrgKey, before: Admission, after: Admission) -> Result<()> {
        match (before == Admission::Accept, after == Admission::Accept) {
            (true, false) => self.inner.search.remove_org(org),
            (false, true) => {
                let records: Vec<Record> = self
                    .inner
                    .store
                    .records_of(org)?
                    .into_iter()
                    .filter(|row| !row.tombstone)
                    .map(|row| row.record())
                    .collect::<std::result::Result<_, _>>()?;
                self.inner.search.apply(&records);
            }
            _ => {}
        }
        Ok(())
    }

    /// The row of `(org, id)` if it is a live record people here may see
    /// and act on: not withdrawn, and of an organisation admitted now. A
    /// record of one that is not (blocked, or not on the allowlist in
    /// allowlist mode) is kept but not shown, as if it were not held.
    pub fn visible_record(
        &self,
        org: &OrgKey,
        id: &str,
    ) -> Result<Option<crate::store::StoredRecord>> {
        let Some(row) = self.held_record(org, id)? else {
            return Ok(None);
        };
        Ok((self.admission(org)? == Admission::Accept).then_some(row))
    }

    /// The record `id` of `org` as held here, whoever sent it, unless it
    /// was withdrawn (what a person signed up for stays theirs to see
    /// even if its organisation is no longer admitted).
    pub fn held_record(
        &self,
        org: &OrgKey,
        id: &str,
    ) -> Result<Option<crate::store::StoredRecord>> {
        Ok(self
            .inner
            .store
            .get_record(org, id)?
            .filter(|r| !r.tombstone))
    }

    /// Runs a search at time `now`.
    pub fn search(
        &self,
        query: &crate::search::SearchQuery,
        now: i64,
    ) -> crate::search::SearchResults {
        self.inner.search.search(query, now)
    }

    /// The catalogue and the search index.
    pub fn search_engine(&self) -> &Search {
        &self.inner.search
    }

    /// What keeps the service from doing all it should (the network
    /// reports its own problems): see [`crate::health`].
    pub fn problems(&self) -> Vec<crate::health::Problem> {
        use crate::health::{Problem, ProblemKind};
        let mut problems = Vec::new();
        if let Some(fault) = self.inner.store.write_fault() {
            problems.push(Problem::new(
                ProblemKind::StoreUnwritable,
                store_fault_message(&fault),
            ));
        }
        let search = &self.inner.search;
        if let Some(stats) = search.index_stats() {
            if stats.gave_up {
                problems.push(Problem::new(
                    ProblemKind::IndexFailed,
                    "the search index failed and more changes came meanwhile than it keeps to \
                     catch up; searches match words by substring only until the node restarts \
                     (which rebuilds it) or `skillmesh reindex` runs",
                ));
            } else if stats.failed {
                problems.push(Problem::new(
                    ProblemKind::IndexFailed,
                    "the search index cannot be written (a full disk?); searches match words by \
                     substring meanwhile. The node retries every few seconds and catches the \
                     index up by itself once it can write again",
                ));
            } else if let Some(why) = search.index_rebuilt()
                && stats.committed < stats.sent
            {
                problems.push(Problem::new(
                    ProblemKind::IndexRebuilding,
                    format!(
                        "the search index is being rebuilt ({why}); results are ranked roughly \
                         until it is done"
                    ),
                ));
            }
        }
        problems
    }

    /// The name other organisations gave themselves on their cards (or
    /// when asking to join), else the first 8 hex digits of the key.
    pub fn org_display_name(&self, org: &OrgKey) -> String {
        if *org == self.org() {
            return self.org_name().to_string();
        }
        if let Some(name) = self.known_org_name(org) {
            return name;
        }
        match self.store().join_request(org) {
            Ok(Some(r)) => r.card.map(|c| c.name),
            _ => None,
        }
        .unwrap_or_else(|| org.short())
    }

    /// The name on `org`'s organisation card, if we hold (or held) one.
    pub fn known_org_name(&self, org: &OrgKey) -> Option<String> {
        self.inner.search.org_name(org)
    }

    /// Drops expired records (and tombstones) from the store and from search.
    pub fn purge_expired(&self) -> Result<usize> {
        let now = clock::now();
        let rows = self.inner.store.purge_expired_rows(now)?;
        if !rows.is_empty() {
            self.inner.search.remove_expired(&rows, now);
        }
        Ok(rows.len())
    }

    pub(crate) fn quota_notices(&self) -> &crate::quota_notice::Notices {
        &self.inner.quota_notices
    }

    pub(crate) fn request_limits(&self) -> &crate::request_limits::RequestLimits {
        &self.inner.rate
    }

    /// When this node first saw `org` (unix seconds; 0 for before it kept
    /// track), if it has.
    pub fn first_seen(&self, org: &OrgKey) -> Result<Option<i64>> {
        Ok(self.inner.store.org_first_seen(org)?)
    }

    /// Notes that something from `org` arrived now (only the first time
    /// is kept). Our own organisation is not noted.
    pub(crate) fn note_seen(&self, org: &OrgKey) -> Result<()> {
        if *org == self.org() {
            return Ok(());
        }
        // Ingest calls this for every message: organisations already
        // noted are remembered here, so the store is read only for the
        // first message of each since the node started.
        let mut noted = self
            .inner
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if noted.contains(org) {
            return Ok(());
        }
        self.inner.store.note_org_seen(org, clock::now())?;
        if noted.len() >= SEEN_CACHE {
            // A flood of fresh keys: start again rather than grow.
            noted.clear();
        }
        noted.insert(*org);
        Ok(())
    }

    /// The organisation whose name `org`'s name looks like (ignoring case
    /// and look-alike characters; see [`crate::lookalike`]), when `org`
    /// should be flagged for it: its name, and its key. Our own name
    /// counts. `org` is flagged unless an admin allowed it as a partner,
    /// and only against a key that is ours, a partner's, or was seen here
    /// no later than `org` was (the newcomer is the suspect).
    pub fn lookalike_of(&self, org: &OrgKey) -> Result<Option<(String, OrgKey)>> {
        use crate::store::OrgListing;
        if *org == self.org() || self.inner.store.org_listing(org)? == Some(OrgListing::Allowed) {
            return Ok(None);
        }
        let Some(name) = self.inner.search.org_name(org) else {
            return Ok(None);
        };
        let seen = |o: &OrgKey| -> Result<i64> { Ok(self.first_seen(o)?.unwrap_or(i64::MAX)) };
        let folded = crate::lookalike::fold(&name);
        if folded.is_empty() {
            return Ok(None);
        }
        let mine = seen(org)?;
        let mut known = self.inner.search.org_names();
        known.push((self.org(), self.org_name().to_string()));
        known.sort_by_key(|k| k.0);
        for (other, other_name) in known {
            if other == *org || crate::lookalike::fold(&other_name) != folded {
                continue;
            }
            if other == self.org()
                || self.inner.store.org_listing(&other)? == Some(OrgListing::Allowed)
                || seen(&other)? <= mine
            {
                return Ok(Some((other_name, other)));
            }
        }
        Ok(None)
    }

    /// Whether `org` is new here: first seen less than
    /// `federation.new_org_hours` ago (or never), and not allowed as a
    /// partner by an admin. Our own organisation never is.
    pub fn is_new_org(&self, org: &OrgKey) -> Result<bool> {
        if *org == self.org() {
            return Ok(false);
        }
        let window = i64::from(self.inner.inbound.new_org_hours) * 3600;
        if window == 0 {
            return Ok(false);
        }
        let recent = match self.first_seen(org)? {
            Some(at) => clock::now() - at < window,
            None => true,
        };
        Ok(recent && self.inner.store.org_listing(org)? != Some(crate::store::OrgListing::Allowed))
    }

    /// Held while a request is answered (see `Inner::answer_lock`).
    pub(crate) fn answer_guard(&self) -> std::sync::MutexGuard<'_, ()> {
        self.inner
            .answer_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Set once mail is on.
    pub(crate) fn mails_cell(&self) -> &std::sync::OnceLock<()> {
        &self.inner.mails
    }

    pub(crate) fn mail_queued(&self) -> &Arc<tokio::sync::Notify> {
        &self.inner.mail_queued
    }

    /// Links point at `base_url`, the node's public address (set at
    /// start). Without it they are paths on the node.
    pub fn set_public_url(&self, base_url: &str) {
        let _ = self
            .inner
            .public_url
            .set(base_url.trim_end_matches('/').to_string());
    }

    /// `path` on the node, under its public address when that is known.
    pub fn link(&self, path: &str) -> String {
        match self.inner.public_url.get() {
            Some(base) => format!("{base}{path}"),
            None => path.to_string(),
        }
    }

    pub(crate) fn webhook_queued(&self) -> &Arc<tokio::sync::Notify> {
        &self.inner.webhook_queued
    }

    pub fn deliveries_changed(&self) {
        self.inner.deliveries.notify_one();
    }

    /// Resolves when something new waits to be delivered.
    pub fn delivery_signal(&self) -> Arc<tokio::sync::Notify> {
        self.inner.deliveries.clone()
    }

    /// Whether `org` is let in now.
    pub fn admission(&self, org: &OrgKey) -> Result<Admission> {
        Ok(policy::admit(
            &self.inner.store,
            self.federation_mode(),
            &self.org(),
            org,
        )?)
    }

    pub fn org_name(&self) -> &str {
        &self.inner.org_name
    }

    pub fn org(&self) -> OrgKey {
        self.inner.identity.org()
    }

    pub fn identity(&self) -> &OrgIdentity {
        &self.inner.identity
    }

    /// The store. Only the application reaches it: everything outside
    /// goes through the service's methods, which hold the rules.
    pub(crate) fn store(&self) -> &Arc<Store> {
        &self.inner.store
    }

    /// The store, for tests and benches that set up or inspect data in
    /// ways no caller may (only with the `testing` feature, which only
    /// dev-dependencies turn on; `cargo build` of the node proves that no
    /// production code uses it).
    #[cfg(feature = "testing")]
    pub fn store_for_tests(&self) -> &Arc<Store> {
        &self.inner.store
    }

    pub(crate) fn audit(
        &self,
        actor: &Actor,
        action: AuditAction,
        org: Option<OrgKey>,
        record_id: Option<&str>,
        detail: String,
    ) -> Result<()> {
        self.inner.store.audit(&[AuditEntry {
            at: clock::now(),
            actor: actor.to_string(),
            action: action.into(),
            org: org.map(|o| o.to_hex()),
            record_id: record_id.map(str::to_string),
            detail,
            claimed_org: None,
            count: 1,
        }])?;
        Ok(())
    }

    /// Signs `body` as the next version of our record `id` and stores it.
    pub(crate) fn publish_record(&self, id: &str, body: Body, actor: &Actor) -> Result<Record> {
        let org = self.org();
        let seq = self
            .inner
            .store
            .get_record(&org, id)?
            .map_or(1, |r| r.seq + 1);
        let now = clock::now();
        let record = Record {
            header: Header {
                version: RECORD_VERSION,
                org,
                id: id.to_string(),
                seq,
                issued_at: now,
                expires_at: now + RECORD_LIFETIME_SECS,
            },
            body,
        };
        let envelope = skillmesh_protocol::seal(&record, self.inner.identity.signing_key())?;
        let action = if record.kind() == skillmesh_protocol::Kind::Retraction {
            AuditAction::RecordRetracted
        } else {
            AuditAction::RecordPublished
        };
        let audit = AuditEntry {
            at: now,
            actor: actor.to_string(),
            action: action.into(),
            org: Some(org.to_hex()),
            record_id: Some(id.to_string()),
            detail: format!("{} seq {seq}", record.kind()),
            claimed_org: None,
            count: 1,
        };
        self.inner.store.put_records_audited(
            &[(&record, &envelope)],
            now,
            &[audit],
            &[],
            |_, _| None,
        )?;
        self.inner.search.apply([&record]);
        if let Some(tx) = self
            .inner
            .outbound
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            && let Err(e) = tx.try_send(envelope)
        {
            // The record is stored; reconciliation carries it to partners.
            tracing::warn!(id, reason = %e, "record not gossiped now: the network is behind");
        }
        Ok(record)
    }

    /// Retracts our record `id` if it is published (not already a tombstone).
    pub(crate) fn retract_record(&self, id: &str, actor: &Actor) -> Result<bool> {
        match self.inner.store.get_record(&self.org(), id)? {
            Some(row) if !row.tombstone => {
                self.publish_record(id, Body::Retraction(Default::default()), actor)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Makes every change applied so far durable (at shutdown; each
    /// change is flushed as it is made anyway).
    pub fn flush(&self) -> Result<()> {
        Ok(self.store().flush()?)
    }

    /// How often the store recovered from a write fault (a full disk)
    /// since it opened: when it changes, what arrived meanwhile may be
    /// missing and the network should reconcile.
    pub fn store_recoveries(&self) -> u64 {
        self.store().recoveries()
    }

    /// Drops audit entries older than `cutoff` (unix seconds); how many.
    pub fn purge_audit_before(&self, cutoff: i64) -> Result<usize> {
        Ok(self.store().purge_audit_before(cutoff)?)
    }

    /// Deletes notifications from before `cutoff` (unix seconds): the
    /// `privacy.notifications_retention_days` housekeeping.
    pub fn purge_notifications_before(&self, cutoff: i64) -> Result<usize> {
        Ok(self.store().purge_notifications_before(cutoff)?)
    }

    /// The people of this organisation (its directory, for colleagues).
    pub fn people(&self) -> Result<Vec<Person>> {
        Ok(self.store().people()?)
    }

    /// The name our person `id` goes by, if they are here.
    pub fn person_display_name(&self, id: &str) -> Result<Option<String>> {
        Ok(self.store().person(id)?.map(|p| p.display_name))
    }

    /// The title of our own item `id`, if it is still here.
    pub fn item_title(&self, id: &str) -> Result<Option<String>> {
        Ok(self.store().item(id)?.map(|i| i.body.title()))
    }

    /// Our own item `id` if it is kept inside the organisation (shown to
    /// colleagues, never published).
    pub fn kept_inside_item(&self, id: &str) -> Result<Option<OwnItem>> {
        Ok(self.store().item(id)?.filter(OwnItem::kept_inside))
    }

    /// Which fields of a profile may leave the organisation.
    pub fn outbound_policy(&self) -> Result<crate::store::OutboundPolicy> {
        Ok(self.store().outbound_policy()?)
    }

    /// The audit log, newest first, as far as `filter` lets through.
    pub fn audit_log(&self, filter: &crate::store::AuditFilter) -> Result<Vec<AuditEntry>> {
        Ok(self.store().audit_log(filter)?)
    }

    pub fn add_person(&self, person: &Person, actor: &Actor) -> Result<()> {
        self.inner.store.add_person(person)?;
        self.audit(
            actor,
            AuditAction::PersonAdded,
            None,
            None,
            person.id.clone(),
        )?;
        self.sync_listing(&person.id, actor)
    }

    pub fn update_person(&self, person: &Person, actor: &Actor) -> Result<()> {
        self.inner.store.update_person(person)?;
        self.sync_listing(&person.id, actor)
    }

    /// Publishes the person's listing as it should now look (or, when
    /// approval is required, queues it for an admin), or retracts it when
    /// nothing of it may leave any more. Retracting never waits.
    pub fn sync_listing(&self, person_id: &str, actor: &Actor) -> Result<()> {
        self.sync_listing_with(person_id, actor, false)
    }

    fn sync_listing_with(&self, person_id: &str, actor: &Actor, approved: bool) -> Result<()> {
        let store = &self.inner.store;
        let mut person = store
            .person(person_id)?
            .ok_or_else(|| ServiceError::NotFound(format!("person {person_id}")))?;
        let id = listing_id(person_id);
        let current = match store.get_record(&self.org(), &id)? {
            Some(row) if !row.tombstone => match row.record()?.body {
                Body::Expertise(l) => Some(l),
                _ => None,
            },
            _ => None,
        };
        let wanted = self.listing_of(&person)?;
        let mut pending = false;
        match wanted {
            Some(listing) if current.as_ref() == Some(&listing) => {}
            Some(_) if self.inner.inbound.approval_required && !approved => {
                pending = true;
                if !person.listing_pending {
                    self.audit(
                        actor,
                        AuditAction::ApprovalRequested,
                        None,
                        Some(&id),
                        String::new(),
                    )?;
                    self.notify_admins(
                        crate::store::NotificationKind::ApprovalWaiting,
                        &format!("{}'s listing waits for your approval", person.display_name),
                        "/admin/approvals",
                    );
                    self.chat_listing_waiting(&person);
                }
            }
            Some(listing) => {
                self.publish_record(&id, Body::Expertise(listing), actor)?;
            }
            None => {
                self.retract_record(&id, actor)?;
            }
        }
        if person.listing_pending != pending {
            person.listing_pending = pending;
            store.update_person(&person)?;
        }
        Ok(())
    }

    /// The listing `person`'s profile makes under the outbound policy now,
    /// with their recognition counted if it goes with it.
    pub fn listing_of(
        &self,
        person: &Person,
    ) -> Result<Option<skillmesh_protocol::kinds::Expertise>> {
        let policy = self.inner.store.outbound_policy()?;
        let credit = if crate::outbound::shares_recognition(person, &policy) {
            Some(self.recognition(&person.id)?)
        } else {
            None
        };
        Ok(expertise_listing(person, &policy, credit.as_ref()))
    }

    /// Publishes again the listing of `person` if it carries their
    /// recognition (which just changed: a request accepted, kudos).
    pub(crate) fn recognition_changed(&self, person: &str) -> Result<()> {
        let Some(p) = self.inner.store.person(person)? else {
            return Ok(());
        };
        if crate::outbound::shares_recognition(&p, &self.inner.store.outbound_policy()?) {
            self.sync_listing(person, &Actor::Node)?;
        }
        Ok(())
    }

    /// An admin approves a person's changed listing: it is published.
    pub fn approve_listing(&self, person_id: &str, actor: &Actor) -> Result<()> {
        self.audit(
            actor,
            AuditAction::Approved,
            None,
            Some(&listing_id(person_id)),
            String::new(),
        )?;
        self.sync_listing_with(person_id, actor, true)
    }

    /// An admin changes which fields may leave; every listing is
    /// re-published at once to match (the admin's change is its approval).
    pub fn set_outbound_policy(
        &self,
        policy: &crate::store::OutboundPolicy,
        actor: &Actor,
    ) -> Result<()> {
        self.inner.store.set_outbound_policy(policy)?;
        self.audit(
            actor,
            AuditAction::PolicyChanged,
            None,
            None,
            format!("outbound fields: {:?}", policy.fields),
        )?;
        for person in self.inner.store.people()? {
            self.sync_listing_with(&person.id, actor, true)?;
        }
        Ok(())
    }

    /// Approves whatever waits under `id`: a person's listing (by its
    /// listing id) or an item.
    pub fn approve_pending(&self, id: &str, actor: &Actor) -> Result<()> {
        let (people, items) = self.pending_approvals()?;
        if let Some(person) = people.iter().find(|p| listing_id(&p.id) == id) {
            return self.approve_listing(&person.id, actor);
        }
        if items.iter().any(|i| i.id == id) {
            self.approve_item(id, actor)?;
            return Ok(());
        }
        Err(ServiceError::NotYours(
            "nothing with this id waits for approval".into(),
        ))
    }

    /// Listings and items waiting for an admin's approval.
    pub fn pending_approvals(&self) -> Result<(Vec<Person>, Vec<OwnItem>)> {
        let store = &self.inner.store;
        let people = store
            .people()?
            .into_iter()
            .filter(|p| p.listing_pending)
            .collect();
        let items = store
            .items()?
            .into_iter()
            .filter(|i| i.state == ItemState::PendingApproval)
            .collect();
        Ok((people, items))
    }

    /// Stores a new offer or content item as a draft.
    pub fn create_item(
        &self,
        id: &str,
        owner: Option<&str>,
        body: Body,
        actor: &Actor,
    ) -> Result<OwnItem> {
        if matches!(
            body,
            Body::Retraction(_)
                | Body::Expertise(_)
                | Body::OrgCard(_)
                | Body::ImpactSummary(_)
                | Body::Request(_)
                | Body::Answer(_)
                | Body::Kudos(_)
                | Body::FollowerCount(_)
                | Body::QuotaNotice(_)
        ) {
            return Err(ServiceError::Invalid(format!(
                "{} is not an offer or content item",
                body.kind()
            )));
        }
        let now = clock::now();
        let item = OwnItem {
            id: id.to_string(),
            owner: owner.map(str::to_string),
            body,
            state: ItemState::Draft,
            published_seq: 0,
            created_at: now,
            updated_at: now,
        };
        skillmesh_protocol::validate::id("id", id)?;
        let audit = AuditEntry {
            at: now,
            actor: actor.to_string(),
            action: AuditAction::ItemCreated.into(),
            org: None,
            record_id: Some(id.to_string()),
            detail: item.body.kind().to_string(),
            claimed_org: None,
            count: 1,
        };
        self.inner.store.add_item_audited(&item, &[audit])?;
        self.inner.search.keep_inside(id)?;
        Ok(item)
    }

    /// Stores a change to our item, and keeps search in step with it.
    pub(crate) fn update_item(&self, item: &OwnItem) -> Result<()> {
        self.inner.store.update_item(item)?;
        self.inner.search.keep_inside(&item.id)?;
        Ok(())
    }

    /// Signs and publishes an item (again, after an edit), or queues it for
    /// an admin's approval when the organisation requires that.
    pub fn publish_item(&self, id: &str, actor: &Actor) -> Result<OwnItem> {
        self.publish_item_with(id, actor, false)
    }

    /// An admin approves an item waiting in the queue: it is published.
    pub fn approve_item(&self, id: &str, actor: &Actor) -> Result<OwnItem> {
        self.audit(actor, AuditAction::Approved, None, Some(id), String::new())?;
        self.publish_item_with(id, actor, true)
    }

    pub(crate) fn publish_item_with(
        &self,
        id: &str,
        actor: &Actor,
        approved: bool,
    ) -> Result<OwnItem> {
        let mut item = self
            .inner
            .store
            .item(id)?
            .ok_or_else(|| ServiceError::NotFound(format!("item {id}")))?;
        if self.inner.inbound.approval_required && !approved {
            if item.state != ItemState::PendingApproval {
                item.state = ItemState::PendingApproval;
                item.updated_at = clock::now();
                self.update_item(&item)?;
                self.audit(
                    actor,
                    AuditAction::ApprovalRequested,
                    None,
                    Some(id),
                    item.body.kind().to_string(),
                )?;
                self.notify_admins(
                    crate::store::NotificationKind::ApprovalWaiting,
                    &format!("\"{}\" waits for your approval", item.body.title()),
                    "/admin/approvals",
                );
                self.chat_item_waiting(&item);
            }
            return Ok(item);
        }
        let record = self.publish_record(id, item.body.clone(), actor)?;
        item.state = ItemState::Published;
        item.published_seq = record.header.seq;
        item.updated_at = clock::now();
        self.update_item(&item)?;
        if record.header.seq == 1 {
            // It leaves for partners for the first time.
            self.chat_published(&item);
        }
        Ok(item)
    }

    /// Sends a retraction for a published item.
    pub fn unpublish_item(&self, id: &str, actor: &Actor) -> Result<OwnItem> {
        let mut item = self
            .inner
            .store
            .item(id)?
            .ok_or_else(|| ServiceError::NotFound(format!("item {id}")))?;
        self.retract_record(id, actor)?;
        item.state = ItemState::Unpublished;
        item.updated_at = clock::now();
        self.update_item(&item)?;
        Ok(item)
    }

    /// Deletes an item of ours; a published one is first retracted, so it
    /// disappears from every partner too.
    pub fn delete_item(&self, id: &str, actor: &Actor) -> Result<()> {
        let item = self
            .inner
            .store
            .item(id)?
            .ok_or_else(|| ServiceError::NotFound(format!("item {id}")))?;
        if item.state == ItemState::Published {
            self.retract_record(id, actor)?;
        }
        self.inner.store.delete_item(id)?;
        self.inner.search.keep_inside(id)?;
        self.audit(
            actor,
            AuditAction::ItemDeleted,
            None,
            Some(id),
            item.body.kind().to_string(),
        )
    }

    /// Publishes the organisation card unless the current one already
    /// carries this name and is more than half its lifetime from expiry.
    pub fn ensure_org_card(&self) -> Result<()> {
        let now = clock::now();
        if let Some(row) = self.inner.store.get_record(&self.org(), "org-card")?
            && !row.tombstone
            && row.expires_at - now > RECORD_LIFETIME_SECS / 2
            && let Body::OrgCard(card) = row.record()?.body
            && card.name == self.inner.org_name
        {
            return Ok(());
        }
        let card = skillmesh_protocol::kinds::OrgCard {
            name: self.inner.org_name.clone(),
            summary: String::new(),
            website: None,
            languages: Vec::new(),
        };
        self.publish_org_card(card, &Actor::Node)
    }

    /// Publishes (or re-publishes) the organisation card.
    pub fn publish_org_card(
        &self,
        card: skillmesh_protocol::kinds::OrgCard,
        actor: &Actor,
    ) -> Result<()> {
        self.publish_record("org-card", Body::OrgCard(card), actor)?;
        Ok(())
    }

    /// Notes that `org` connected while not on the allowlist (and its
    /// card, when it has one), for an admin to accept or refuse.
    pub fn note_join_request(
        &self,
        org: &OrgKey,
        card: Option<skillmesh_protocol::kinds::OrgCard>,
    ) -> Result<()> {
        let now = clock::now();
        let store = &self.inner.store;
        let existing = store.join_request(org)?;
        let is_new = existing.is_none();
        let mut request = existing.unwrap_or(crate::store::JoinRequest {
            org: *org,
            card: None,
            first_seen: now,
            last_seen: now,
            refused: false,
        });
        request.last_seen = now;
        if card.is_some() {
            request.card = card;
        }
        store.put_join_request(&request)?;
        if is_new {
            self.audit(
                &Actor::Node,
                AuditAction::JoinRequested,
                Some(*org),
                None,
                String::new(),
            )?;
        }
        Ok(())
    }

    /// An admin accepts an organisation that wants to join: it goes on the
    /// allowlist (sync then brings its records).
    pub fn accept_join(&self, org: &OrgKey, actor: &Actor) -> Result<()> {
        self.inner.store.remove_join_request(org)?;
        self.set_org_listing(org, Some(OrgListing::Allowed), actor)
    }

    /// An admin refuses an organisation that wants to join.
    pub fn refuse_join(&self, org: &OrgKey, actor: &Actor) -> Result<()> {
        let store = &self.inner.store;
        if let Some(mut request) = store.join_request(org)? {
            request.refused = true;
            store.put_join_request(&request)?;
        }
        self.audit(
            actor,
            AuditAction::JoinRefused,
            Some(*org),
            None,
            String::new(),
        )
    }

    /// Blocks `org`: refuses its records from now on and purges what we hold.
    pub fn block_org(&self, org: &OrgKey, actor: &Actor) -> Result<usize> {
        if *org == self.org() {
            return Err(ServiceError::Invalid(
                "an organisation cannot block itself".into(),
            ));
        }
        // No ingest may interleave (it could store a record of `org` that
        // it admitted just before the block, after the purge).
        let _serial = self
            .inner
            .ingest_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let store = &self.inner.store;
        store.set_org_listing(org, Some(OrgListing::Blocked), clock::now())?;
        let purged = store.purge_org(org)?;
        self.inner.search.remove_org(org);
        self.audit(
            actor,
            AuditAction::OrgBlocked,
            Some(*org),
            None,
            String::new(),
        )?;
        self.audit(
            actor,
            AuditAction::RecordsPurged,
            Some(*org),
            None,
            format!("{purged} records"),
        )?;
        Ok(purged)
    }

    /// Puts `org` on the allowlist (a partner), or clears its listing;
    /// search follows what that does to its admission.
    pub fn set_org_listing(
        &self,
        org: &OrgKey,
        listing: Option<OrgListing>,
        actor: &Actor,
    ) -> Result<()> {
        let _serial = self
            .inner
            .ingest_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let store = &self.inner.store;
        let before = self.admission(org)?;
        store.set_org_listing(org, listing, clock::now())?;
        self.follow_admission(org, before, self.admission(org)?)?;
        let action = match listing {
            Some(OrgListing::Allowed) => AuditAction::OrgAllowed,
            Some(OrgListing::Blocked) => AuditAction::OrgBlocked,
            None => AuditAction::OrgUnlisted,
        };
        self.audit(actor, action, Some(*org), None, String::new())
    }

    /// Rows held from other organisations, and our own.
    pub fn record_counts(&self) -> Result<(u64, u64)> {
        let org = self.org();
        let mut own = 0;
        let mut federated = 0;
        for (o, n) in self.inner.store.record_counts()? {
            if o == org {
                own += n;
            } else {
                federated += n;
            }
        }
        Ok((federated, own))
    }
}
