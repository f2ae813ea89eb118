//! The metrics listener: `GET /metrics` and nothing else, on the address
//! in `metrics.listen`, apart from the web port (as Synapse does), so that
//! whoever can reach the web interface cannot read partners' volumes.

use std::future::Future;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;

use crate::metrics::MetricsError;
use crate::service::Service;

/// The content type of the text [`crate::metrics::Metrics::render`] writes.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Serves `GET /metrics` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    service: Service,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/metrics", get(metrics))
        .with_state(service);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

async fn metrics(State(service): State<Service>) -> Response {
    // Reading the counts is a (short) scan of the store: off the runtime.
    let rendered = tokio::task::spawn_blocking(move || service.render_metrics())
        .await
        .unwrap_or_else(|e| Err(MetricsError::Task(e.to_string())));
    match rendered {
        Ok(text) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response(),
        Err(error) => {
            tracing::warn!(%error, "cannot serve the metrics");
            (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response()
        }
    }
}
