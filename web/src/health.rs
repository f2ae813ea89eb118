//! `GET /healthz`: a small JSON document for monitors and tests.

use axum::Json;
use axum::extract::State;

use crate::api::{Health, NodeApi};

pub async fn healthz<S: NodeApi>(State(state): State<S>) -> Json<Health> {
    Json(state.health().await)
}
