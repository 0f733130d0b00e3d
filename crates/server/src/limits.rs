//! Request rate limits: per client address on every route, per principal on authenticated
//! ones (see [`crate::auth`]). With shared counters (Redis) a limit holds for the whole
//! cluster; without them, or while they are unreachable, each instance enforces its own.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use application::Store;
use application::security::throttle::{Limit, RateLimiter, SharedCounters};

use crate::AppState;
use crate::error::{ApiError, ErrorCode};

/// The request limits of one instance.
#[derive(Debug)]
pub struct RateLimits {
    pub per_ip: RateLimiter,
    pub per_principal: RateLimiter,
}

impl RateLimits {
    pub fn new(per_ip: Limit, per_principal: Limit, shared: Option<Arc<dyn SharedCounters>>) -> Self {
        Self {
            per_ip: RateLimiter::new("http-ip", per_ip, shared.clone()),
            per_principal: RateLimiter::new("http-principal", per_principal, shared),
        }
    }
}

/// The client's address, when the server was started with connection info.
pub fn client_ip(request: &Request) -> Option<String> {
    request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip().to_string())
}

/// Middleware: the per-address limit.
pub async fn per_ip<S: Store>(State(state): State<AppState<S>>, request: Request, next: Next) -> Response {
    let ip = client_ip(&request).unwrap_or_default();
    if let Err(wait) = state.limits.per_ip.acquire(&ip, state.app.now()).await {
        return ApiError {
            retry_after: Some(wait.seconds()),
            ..ApiError::new(ErrorCode::RateLimited, "rate limit of this address exceeded")
        }
        .into_response();
    }
    next.run(request).await
}

/// The client's address, if known (an extractor).
#[derive(Debug, Clone)]
pub struct ClientIp(pub Option<String>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip().to_string())))
    }
}
