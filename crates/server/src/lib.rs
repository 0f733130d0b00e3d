//! Consailt's HTTP layer (axum). This first cut serves the probes an operator needs
//! (`/healthz`, `/readyz`), the JSON error envelope for unknown routes, request ids, and
//! graceful shutdown; the REST API mounts here under `/api/v1`.

pub mod error;
pub mod request_id;
pub mod routes;

use std::future::Future;

use axum::Router;
use tokio::net::TcpListener;

use application::{App, Store};

/// What handlers share: the application service.
#[derive(Debug, Clone)]
pub struct AppState<S> {
    pub app: App<S>,
}

/// Builds the whole router over `app`.
pub fn router<S: Store>(app: App<S>) -> Router {
    routes::router()
        .fallback(error::unknown_route)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(axum::middleware::from_fn(request_id::propagate))
        .with_state(AppState { app })
}

/// Serves `router` on `listener` until `shutdown` resolves; requests already in flight then
/// finish before this returns.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router).with_graceful_shutdown(shutdown).await
}
