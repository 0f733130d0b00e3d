//! Routes, one module per resource.

pub mod health;

use axum::Router;
use axum::routing::get;

use application::Store;

use crate::AppState;

/// Every route of the service.
pub fn router<S: Store>() -> Router<AppState<S>> {
    Router::new().route("/healthz", get(health::healthz)).route("/readyz", get(health::readyz::<S>))
}
