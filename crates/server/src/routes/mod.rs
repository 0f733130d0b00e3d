//! Routes, one module per resource. [`router`] is the route table of the whole service: the
//! probes, the public authentication routes, and the protected API.

pub mod ai;
pub mod api_keys;
pub mod auth;
pub mod categories;
pub mod engagements;
pub mod events;
pub mod health;
pub mod items;
pub mod me;
pub mod members;
pub mod organization;
pub mod search;
pub mod templates;

use std::future::Future;

use axum::Router;
use axum::routing::{delete, get, post};

use application::commands::Changed;
use application::{AppError, Store};

use crate::AppState;
use crate::error::{ApiError, ErrorCode};

/// Every route of the service. The API's routes carry their `/api/v1` prefix themselves rather
/// than sit in a nested router: nesting rewrote every request's URI (2% of a list request).
pub fn router<S: Store>(state: AppState<S>) -> Router {
    let public = Router::new()
        .route("/api/v1/auth/signup", post(auth::sign_up::<S>))
        .route("/api/v1/auth/login", post(auth::log_in::<S>))
        .route("/api/v1/auth/refresh", post(auth::refresh::<S>))
        .route("/api/v1/openapi.json", get(crate::openapi::openapi_json));
    let protected = Router::new()
        .route("/api/v1/auth/logout", post(auth::log_out::<S>))
        .route("/api/v1/auth/password", post(auth::change_password::<S>))
        .route("/api/v1/me", get(me::me::<S>))
        .route("/api/v1/sessions", get(me::sessions::<S>))
        .route("/api/v1/sessions/{id}", delete(me::revoke_session::<S>))
        .route("/api/v1/organization", get(organization::get::<S>).patch(organization::patch::<S>))
        .route("/api/v1/organizations", post(organization::create::<S>))
        .route("/api/v1/members", get(members::list::<S>).post(members::add::<S>))
        .route(
            "/api/v1/members/{user_id}",
            axum::routing::patch(members::change_role::<S>).delete(members::remove::<S>),
        )
        .route("/api/v1/engagements", get(engagements::list::<S>).post(engagements::create::<S>))
        .route(
            "/api/v1/engagements/{id}",
            get(engagements::get::<S>).patch(engagements::patch::<S>).delete(engagements::delete::<S>),
        )
        .route("/api/v1/engagements/{id}/transitions", post(engagements::transition::<S>))
        .route("/api/v1/engagements/{id}/members", get(engagements::members::<S>).post(engagements::add_member::<S>))
        .route("/api/v1/engagements/{id}/members/{user_id}", delete(engagements::remove_member::<S>))
        .route("/api/v1/items", get(items::list::<S>).post(items::create::<S>))
        .route("/api/v1/items/{id}", get(items::get::<S>).patch(items::patch::<S>).delete(items::delete::<S>))
        .route("/api/v1/items/{id}/versions", get(items::versions::<S>))
        .route("/api/v1/items/{id}/versions/{n}", get(items::version::<S>))
        .route("/api/v1/items/{id}/restore-version", post(items::restore_version::<S>))
        .route("/api/v1/items/{id}/transitions", post(items::transition::<S>))
        .route("/api/v1/items/{id}/restore", post(items::restore::<S>))
        .route("/api/v1/trash", get(items::trash::<S>))
        .route("/api/v1/search", get(search::search::<S>))
        .route("/api/v1/search/history", get(search::history::<S>).delete(search::clear_history::<S>))
        .route("/api/v1/categories", get(categories::list::<S>).post(categories::create::<S>))
        .route("/api/v1/categories/{id}", axum::routing::patch(categories::patch::<S>).delete(categories::delete::<S>))
        .route("/api/v1/tags", get(categories::tags::<S>))
        .route("/api/v1/templates", get(templates::list::<S>).post(templates::create::<S>))
        .route(
            "/api/v1/templates/{id}",
            get(templates::get::<S>).patch(templates::patch::<S>).delete(templates::delete::<S>),
        )
        .route("/api/v1/templates/{id}/instantiate", post(templates::instantiate::<S>))
        .route("/api/v1/api-keys", get(api_keys::list::<S>).post(api_keys::create::<S>))
        .route("/api/v1/api-keys/{id}", delete(api_keys::revoke::<S>))
        .route("/api/v1/events", get(events::list::<S>))
        .route("/api/v1/items/{id}/summary", post(ai::summary::<S>))
        .route("/api/v1/ask", post(ai::ask::<S>))
        .route("/api/v1/templates/{id}/draft", post(ai::draft::<S>))
        .route("/api/v1/items/{id}/tag-suggestions", post(ai::tag_suggestions::<S>))
        .route("/api/v1/engagements/{id}/risk-assessment", post(ai::risk_assessment::<S>))
        .route("/api/v1/ai/usage", get(ai::usage::<S>))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::idempotency::idempotency::<S>))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::auth::authenticate::<S>));
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz::<S>))
        .route("/api/docs", get(crate::openapi::docs))
        .merge(public)
        .merge(protected)
        .with_state(state)
}

/// Runs a read-merge-write update (a `PATCH` of some fields). Without `If-Match` a concurrent
/// change between the read and the write is merged again rather than overwritten; with it, the
/// conflict is the client's to resolve (412).
pub(crate) async fn retry_merge<F, Fut>(if_match: Option<u64>, mut attempt: F) -> Result<Changed, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Changed, AppError>>,
{
    const ATTEMPTS: usize = 8;
    for _ in 0..ATTEMPTS {
        match attempt().await {
            Err(AppError::VersionConflict { .. }) if if_match.is_none() => continue,
            other => return other.map_err(ApiError::from),
        }
    }
    Err(ApiError::new(ErrorCode::Conflict, "the object is being changed by others right now; retry"))
}
