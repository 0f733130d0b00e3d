//! Consailt's HTTP layer (axum): the REST API under `/api/v1` with authentication, permissions,
//! the one error envelope, request ids, rate limits, idempotent POSTs and conditional requests,
//! plus the operator's probes (`/healthz`, `/readyz`), the web UI at `/`, and graceful shutdown.

pub mod auth;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod limits;
pub mod openapi;
pub mod pagination;
pub mod request_id;
pub mod routes;
pub mod web;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, header};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

use application::security::throttle::{Limit, SharedCounters};
use application::{App, Store};

/// Largest JSON body accepted (413 beyond).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// HTTP settings.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Origins allowed to call the API from a browser (CORS); empty allows none.
    pub cors_origins: Vec<String>,
    /// Requests per client address.
    pub per_ip: Limit,
    /// Requests per authenticated principal.
    pub per_principal: Limit,
    /// Send `Strict-Transport-Security` (serving behind TLS, not on localhost).
    pub hsts: bool,
    /// Counters every instance shares (Redis), so the limits above hold for the cluster;
    /// `None` counts in this process.
    pub shared_counters: Option<Arc<dyn SharedCounters>>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            cors_origins: Vec::new(),
            per_ip: Limit { max: 6_000, window: time::Duration::minutes(1) },
            per_principal: Limit { max: 3_000, window: time::Duration::minutes(1) },
            hsts: false,
            shared_counters: None,
        }
    }
}

/// What handlers share: the application service and the rate limits.
#[derive(Debug, Clone)]
pub struct AppState<S> {
    /// Shared behind one `Arc`: axum clones the state for every extractor of every request.
    pub app: Arc<App<S>>,
    pub limits: Arc<limits::RateLimits>,
}

/// Builds the whole router over `app`.
pub fn router<S: Store>(app: App<S>, settings: &HttpSettings) -> Result<Router, String> {
    let limits = limits::RateLimits::new(settings.per_ip, settings.per_principal, settings.shared_counters.clone());
    let state = AppState { app: Arc::new(app), limits: Arc::new(limits) };
    let mut router = routes::router(state.clone())
        .merge(web::router(state.clone()))
        .fallback(error::unknown_route)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(state.clone(), limits::per_ip::<S>))
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(axum::middleware::from_fn(request_id::propagate));
    for (name, value) in security_headers(settings.hsts) {
        router = router.layer(SetResponseHeaderLayer::if_not_present(name, value));
    }
    if !settings.cors_origins.is_empty() {
        router = router.layer(cors(&settings.cors_origins)?);
    }
    Ok(router.with_state(()))
}

fn security_headers(hsts: bool) -> Vec<(HeaderName, HeaderValue)> {
    let mut headers = vec![
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'")),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ];
    if hsts {
        headers
            .push((header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=63072000; includeSubDomains")));
    }
    headers
}

fn cors(origins: &[String]) -> Result<CorsLayer, String> {
    let origins = origins
        .iter()
        .map(|o| HeaderValue::from_str(o).map_err(|_| format!("CORS origin {o:?} is not a valid header value")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            HeaderName::from_static(idempotency::IDEMPOTENCY_KEY),
        ])
        .expose_headers([header::ETAG, header::RETRY_AFTER, HeaderName::from_static(request_id::REQUEST_ID)]))
}

/// Serves `router` on `listener` until `shutdown` resolves; requests already in flight then
/// finish before this returns. Connections run with `TCP_NODELAY`: a streamed answer is many
/// small writes, and with Nagle's algorithm each one after the first waited for the client's
/// delayed acknowledgement (40 ms for the `done` event of every streamed answer).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|connection| {
        if let Err(error) = connection.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY on a connection");
        }
    });
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
