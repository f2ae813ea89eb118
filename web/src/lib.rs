//! Skillmesh's web layer: an axum router generic over the narrow service
//! interface it needs ([`NodeApi`]). It knows protocol types, never sled or
//! libp2p; the node crate implements the interface and serves the router.

mod api;
mod health;
mod home;
pub mod html;
mod layers;

use axum::Router;

pub use api::{Health, NodeApi};

/// The whole web application for one node.
pub fn app<S: NodeApi>(state: S) -> Router {
    let router = Router::new()
        .route("/", axum::routing::get(home::home::<S>))
        .route("/healthz", axum::routing::get(health::healthz::<S>))
        .with_state(state);
    layers::apply(router)
}
