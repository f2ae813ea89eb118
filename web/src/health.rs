//! `GET /healthz`: a small JSON document for monitors and tests.

use axum::Json;
use axum::extract::State;

use crate::Shared;
use crate::api::Health;
use crate::ports::NodeApi;

pub async fn healthz<S: NodeApi>(State(state): State<Shared<S>>) -> Json<Health> {
    Json(state.node.health().await)
}
