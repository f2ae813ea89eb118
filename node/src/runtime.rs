//! Starting and stopping one node: take the data directory lock, load the
//! key, open the store and the search index, bind the web port (and the
//! metrics port, when `metrics.listen` is set), serve until told to stop.

use std::net::SocketAddr;
use std::sync::Arc;

use skillmesh_config::Config;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::admin;
use crate::datadir::{DataDirError, DataDirLock, STORE_DIR};
use crate::identity::{KeyError, OrgIdentity};
use crate::metrics::Metrics;
use crate::network::{self, NetworkConfig, NetworkHandle};
use crate::service::{InboundSettings, Service};
use crate::store::Actor;
use crate::store::{Store, StoreError};
use crate::web_api::WebState;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    #[error("cannot open the store: {0}")]
    Store(#[from] StoreError),
    #[error("web.listen {0} is already in use by another program; choose another port")]
    PortInUse(SocketAddr),
    #[error(transparent)]
    Network(#[from] crate::network::NetworkError),
    #[error("cannot start the service (reading the store, publishing the organisation card): {0}")]
    Service(#[from] crate::service::ServiceError),
    #[error("cannot listen on web.listen {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("metrics.listen {0} is already in use by another program; choose another port")]
    MetricsPortInUse(SocketAddr),
    #[error(transparent)]
    Mail(#[from] crate::mailer::MailerError),
    #[error(transparent)]
    Webhook(#[from] crate::webhook_poster::WebhookError),
    #[error(transparent)]
    SingleSignOn(#[from] crate::sso::SsoError),
    #[error("cannot listen on metrics.listen {addr}: {source}")]
    MetricsBind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A node that is serving.
pub struct RunningNode {
    pub web_addr: SocketAddr,
    /// Where `GET /metrics` is served, when `metrics.listen` is set.
    pub metrics_addr: Option<SocketAddr>,
    pub service: Service,
    pub network: NetworkHandle,
    network_tasks: Option<network::NetworkTasks>,
    housekeeping: JoinHandle<()>,
    /// Sends notification mail, when `[notifications.email]` is set.
    mailer: Option<JoinHandle<()>>,
    /// Posts to the chat webhook, when an admin set one.
    webhook: JoinHandle<()>,
    /// Sends quota notices to partners (see [`crate::quota_notice`]).
    quota_notices: JoinHandle<()>,
    shutdown: Option<oneshot::Sender<()>>,
    server: JoinHandle<std::io::Result<()>>,
    metrics_server: Option<MetricsServer>,
    _lock: DataDirLock,
}

/// The metrics listener's task, and how to stop it.
struct MetricsServer {
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningNode {
    /// Stops serving and waits for the server to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match (&mut self.server).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "web server ended with an error"),
            Err(e) => tracing::warn!(error = %e, "web server task failed"),
        }
        self.housekeeping.abort();
        let _ = (&mut self.housekeeping).await;
        if let Some(mailer) = self.mailer.take() {
            mailer.abort();
            let _ = mailer.await;
        }
        self.webhook.abort();
        let _ = (&mut self.webhook).await;
        self.quota_notices.abort();
        let _ = (&mut self.quota_notices).await;
        if let Some(metrics) = self.metrics_server.take() {
            let _ = metrics.shutdown.send(());
            match metrics.task.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "metrics server ended with an error"),
                Err(e) => tracing::warn!(error = %e, "metrics server task failed"),
            }
        }
        if let Some(tasks) = self.network_tasks.take() {
            tasks.shutdown().await;
        }
        // Commits what the indexer holds and releases the index's lock.
        let service = self.service.clone();
        if let Err(e) =
            tokio::task::spawn_blocking(move || service.search_engine().shutdown()).await
        {
            tracing::warn!(error = %e, "search index shutdown failed");
        }
        if let Err(e) = self.service.flush() {
            tracing::warn!(error = %e, "final store flush failed");
        }
    }

    /// Waits until the server ends by itself (it does not, unless it fails).
    pub async fn wait(&mut self) -> std::io::Result<()> {
        match (&mut self.server).await {
            Ok(r) => r,
            Err(e) => Err(std::io::Error::other(e)),
        }
    }
}

impl RunningNode {
    /// Blocks `org`: refuses its records and requests, purges what we hold
    /// of it, and disconnects its peers. See [`admin::block_org`].
    pub async fn block_org(
        &self,
        org: skillmesh_protocol::OrgKey,
        actor: &Actor,
    ) -> Result<usize, crate::service::ServiceError> {
        admin::block_org(&self.service, &self.network, org, actor).await
    }

    /// Lets `org` in again after a block; sync brings its records back.
    pub async fn unblock_org(
        &self,
        org: skillmesh_protocol::OrgKey,
        actor: &Actor,
    ) -> Result<(), crate::service::ServiceError> {
        admin::unblock_org(&self.service, &self.network, org, actor).await
    }

    /// Accepts an organisation from the "wants to join" queue (puts it on
    /// the allowlist). See [`admin::allow_org`].
    pub async fn accept_join(
        &self,
        org: skillmesh_protocol::OrgKey,
        actor: &Actor,
    ) -> Result<(), crate::service::ServiceError> {
        admin::allow_org(&self.service, &self.network, org, actor).await
    }
}

/// What the node accepts from other organisations, as configured.
pub fn inbound_settings(config: &Config) -> InboundSettings {
    InboundSettings {
        approval_required: config.federation.approval_required,
        mode: config.federation.mode,
        max_records_per_org: u64::from(config.federation.max_records_per_org),
        requests_per_minute: config.federation.requests_per_minute,
        new_org_hours: config.federation.new_org_hours,
        new_org_requests_per_minute: config.federation.new_org_requests_per_minute,
        node_requests_per_minute: config.federation.node_requests_per_minute,
        max_pending_per_person: config.federation.max_pending_per_person,
        min_group_size: config.privacy.min_group_size,
    }
}

/// Frees what sled keeps from the start-up scan that built the search
/// catalogue (every record read once): sled holds those pages while its
/// database is open, about 77 MB at 100,000 records, and only closing it
/// frees them, so the store is reopened once here. A node that cannot is
/// no worse off than before; a store that then does not open again is
/// faulted and recovers as after a full disk.
fn release_start_up_pages(store: &Store) {
    let began = std::time::Instant::now();
    match store.release_cache() {
        Ok(true) => tracing::info!(
            ms = began.elapsed().as_millis(),
            "reopened the store to free the pages the start-up scan read"
        ),
        Ok(false) => tracing::debug!("the store kept the pages of the start-up scan"),
        Err(e) => tracing::warn!(error = %e, "reopening the store after the start-up scan failed"),
    }
}

/// Starts a node from its configuration.
pub async fn start(config: &Config) -> Result<RunningNode, StartError> {
    // Bad mail settings stop the start before anything else happens.
    let mailer = config
        .email
        .as_ref()
        .map(crate::mailer::Mailer::new)
        .transpose()?;
    let webhook = crate::webhook_poster::Poster::new()?;
    let sso_settings = config.auth.oidc.as_ref();
    let identity = OrgIdentity::load_file(&config.key_file)?;
    let lock = DataDirLock::acquire(&config.data_dir)?;
    let store = Arc::new(Store::open(&config.data_dir.join(STORE_DIR))?);
    let secret = identity.secret_bytes();
    let inbound = inbound_settings(config);
    // One set of metrics per node (a demo runs several in one process).
    let metrics = Metrics::new(identity.org());
    let service = Service::with_search(
        config.org.name.clone(),
        identity,
        store.clone(),
        inbound,
        crate::search::SearchOptions {
            cached_results: usize::try_from(config.search.cached_results).unwrap_or(usize::MAX),
            ..crate::search::SearchOptions::for_data_dir(&config.data_dir)
        },
        metrics.clone(),
    )?;
    service.ensure_org_card()?;
    release_start_up_pages(&store);
    let network_config = NetworkConfig::from_settings(&config.network)?;
    let (outbound_tx, outbound_rx) = network::outbound_channel();
    service.set_outbound(outbound_tx);
    let (notices_tx, notices_rx) = crate::quota_notice::channel();
    service.set_quota_notices(notices_tx);
    let (network, network_tasks) =
        network::start(network_config, secret, service.clone(), outbound_rx).await?;
    let quota_notices = tokio::spawn(crate::network::quota_notices::run(
        network.clone(),
        service.clone(),
        notices_rx,
    ));
    let housekeeping = tokio::spawn(housekeeping(
        service.clone(),
        network.clone(),
        Retention {
            audit_days: config.log.audit_retention_days,
            requests_days: config.privacy.requests_retention_days,
            notifications_days: config.privacy.notifications_retention_days,
        },
    ));
    let listener = match TcpListener::bind(config.web.listen).await {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            return Err(StartError::PortInUse(config.web.listen));
        }
        Err(source) => {
            return Err(StartError::Bind {
                addr: config.web.listen,
                source,
            });
        }
    };
    let web_addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: config.web.listen,
        source,
    })?;
    let metrics_listener = match config.metrics.listen {
        Some(addr) => Some(bind_metrics(addr).await?),
        None => None,
    };
    let options = skillmesh_web::WebOptions {
        public_url: config.web.public_url.clone(),
        // Demo and test nodes share 127.0.0.1; their cookies must not mix.
        instance: service.org().short(),
        trusted_proxies: config.web.trusted_proxies.clone(),
        metrics: Some(Arc::new(metrics)),
    };
    // The address people reach the node at: links in mail and chat
    // messages, and where the sign-in provider sends browsers back to.
    let base = config
        .web
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{web_addr}"));
    service.set_public_url(&base);
    let sso = sso_settings
        .map(|settings| crate::sso::SingleSignOn::new(settings, &base).map(Arc::new))
        .transpose()?;
    if let Some(sso) = &sso {
        let sso = sso.clone();
        tokio::spawn(async move {
            match sso.check_provider().await {
                Ok(()) => tracing::info!(
                    redirect = sso.redirect_url(),
                    "single sign-on: the provider answers; it must allow this redirect address"
                ),
                Err(e) => tracing::warn!(
                    error = %e,
                    "single sign-on: the provider (auth.oidc.issuer_url) does not answer yet; people are told on the sign-in page until it does"
                ),
            }
        });
    }
    let mailer = mailer.map(|mailer| {
        service.enable_mail();
        tokio::spawn(mailer.run(service.clone()))
    });
    let webhook = tokio::spawn(webhook.run(service.clone()));
    let web_state = WebState::new(service.clone(), network.clone())
        .with_sign_in(sso, config.auth.password_sign_in);
    let app = skillmesh_web::app(web_state, options);
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        // With the client's address, for the sign-in limit per address.
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = rx.await;
        })
        .await
    });
    let (metrics_addr, metrics_server) = match metrics_listener {
        Some((listener, addr)) => {
            let (shutdown, rx) = oneshot::channel::<()>();
            let task = tokio::spawn(crate::metrics_http::serve(
                listener,
                service.clone(),
                async {
                    let _ = rx.await;
                },
            ));
            (Some(addr), Some(MetricsServer { shutdown, task }))
        }
        None => (None, None),
    };
    tracing::info!(
        org = %service.org_name(),
        key = %service.org(),
        web = %format!("http://{web_addr}"),
        metrics = %metrics_addr.map_or_else(|| "off".to_owned(), |a| format!("http://{a}/metrics")),
        "node started"
    );
    Ok(RunningNode {
        web_addr,
        metrics_addr,
        service,
        network,
        network_tasks: Some(network_tasks),
        housekeeping,
        mailer,
        webhook,
        quota_notices,
        shutdown: Some(tx),
        server,
        metrics_server,
        _lock: lock,
    })
}

/// Once a minute: drops expired records (and tombstones) from the store
/// and search (once an hour: audit entries past retention and expired web
/// sessions), and after the store recovered from a fault (a full disk),
/// reconciles with every peer afresh, to fetch what was gossiped while it
/// could not be stored.
/// How long the housekeeping keeps what it deletes, in days.
#[derive(Debug, Clone, Copy)]
struct Retention {
    /// `log.audit_retention_days`.
    audit_days: u32,
    /// `privacy.requests_retention_days`: finished requests.
    requests_days: u32,
    /// `privacy.notifications_retention_days`.
    notifications_days: u32,
}

/// Unix seconds `days` days before now.
fn days_ago(days: u32) -> i64 {
    crate::clock::now() - i64::from(days) * 86_400
}

async fn housekeeping(service: Service, network: NetworkHandle, retention: Retention) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
    let mut minutes: u64 = 0;
    let mut recoveries = service.store_recoveries();
    loop {
        every.tick().await;
        let now = service.store_recoveries();
        if now != recoveries {
            recoveries = now;
            tracing::info!("the store recovered; reconciling with every peer");
            if let Err(e) = network.resync_all().await {
                tracing::debug!(error = %e, "cannot ask for reconciliation");
            }
        }
        let svc = service.clone();
        match tokio::task::spawn_blocking(move || svc.purge_expired()).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(records = n, "dropped expired records"),
            Ok(Err(e)) if e.store_fault().is_some() => {
                tracing::debug!(error = %e, "purging expired records failed");
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "purging expired records failed"),
            Err(e) => tracing::warn!(error = %e, "purging expired records stopped"),
        }
        // Audit retention: once an hour (and at start).
        if minutes.is_multiple_of(60) {
            let svc = service.clone();
            let cutoff = days_ago(retention.audit_days);
            match tokio::task::spawn_blocking(move || svc.purge_audit_before(cutoff)).await {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => tracing::info!(entries = n, "dropped audit entries past retention"),
                Ok(Err(e)) => tracing::warn!(error = %e, "dropping old audit entries failed"),
                Err(e) => tracing::warn!(error = %e, "dropping old audit entries stopped"),
            }
            let svc = service.clone();
            match tokio::task::spawn_blocking(move || svc.purge_expired_sessions()).await {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => tracing::info!(sessions = n, "dropped expired web sessions"),
                Ok(Err(e)) => tracing::warn!(error = %e, "dropping expired web sessions failed"),
                Err(e) => tracing::warn!(error = %e, "dropping expired web sessions stopped"),
            }
            let svc = service.clone();
            match tokio::task::spawn_blocking(move || svc.purge_expired_access_links()).await {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => tracing::info!(links = n, "dropped expired password links"),
                Ok(Err(e)) => tracing::warn!(error = %e, "dropping expired password links failed"),
                Err(e) => tracing::warn!(error = %e, "dropping expired password links stopped"),
            }
            // Retention of what was said and asked (`[privacy]`).
            let svc = service.clone();
            let cutoff = days_ago(retention.requests_days);
            match tokio::task::spawn_blocking(move || svc.purge_finished_requests_before(cutoff))
                .await
            {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => {
                    tracing::info!(requests = n, "dropped finished requests past retention")
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "dropping old finished requests failed"),
                Err(e) => tracing::warn!(error = %e, "dropping old finished requests stopped"),
            }
            let svc = service.clone();
            let cutoff = days_ago(retention.notifications_days);
            match tokio::task::spawn_blocking(move || svc.purge_notifications_before(cutoff)).await
            {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => {
                    tracing::info!(notifications = n, "dropped notifications past retention")
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "dropping old notifications failed"),
                Err(e) => tracing::warn!(error = %e, "dropping old notifications stopped"),
            }
        }
        minutes += 1;
    }
}

/// Binds `metrics.listen`; a port in use is an error naming the setting.
async fn bind_metrics(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), StartError> {
    let listener = match TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            return Err(StartError::MetricsPortInUse(addr));
        }
        Err(source) => return Err(StartError::MetricsBind { addr, source }),
    };
    let bound = listener
        .local_addr()
        .map_err(|source| StartError::MetricsBind { addr, source })?;
    Ok((listener, bound))
}
