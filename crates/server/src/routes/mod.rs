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

/// Every route of the service.
pub fn router<S: Store>(state: AppState<S>) -> Router {
    let public = Router::new()
        .route("/auth/signup", post(auth::sign_up::<S>))
        .route("/auth/login", post(auth::log_in::<S>))
        .route("/auth/refresh", post(auth::refresh::<S>))
        .route("/openapi.json", get(crate::openapi::openapi_json));
    let protected = Router::new()
        .route("/auth/logout", post(auth::log_out::<S>))
        .route("/auth/password", post(auth::change_password::<S>))
        .route("/me", get(me::me::<S>))
        .route("/sessions", get(me::sessions::<S>))
        .route("/sessions/{id}", delete(me::revoke_session::<S>))
        .route("/organization", get(organization::get::<S>).patch(organization::patch::<S>))
        .route("/organizations", post(organization::create::<S>))
        .route("/members", get(members::list::<S>).post(members::add::<S>))
        .route("/members/{user_id}", axum::routing::patch(members::change_role::<S>).delete(members::remove::<S>))
        .route("/engagements", get(engagements::list::<S>).post(engagements::create::<S>))
        .route(
            "/engagements/{id}",
            get(engagements::get::<S>).patch(engagements::patch::<S>).delete(engagements::delete::<S>),
        )
        .route("/engagements/{id}/transitions", post(engagements::transition::<S>))
        .route("/engagements/{id}/members", get(engagements::members::<S>).post(engagements::add_member::<S>))
        .route("/engagements/{id}/members/{user_id}", delete(engagements::remove_member::<S>))
        .route("/items", get(items::list::<S>).post(items::create::<S>))
        .route("/items/{id}", get(items::get::<S>).patch(items::patch::<S>).delete(items::delete::<S>))
        .route("/items/{id}/versions", get(items::versions::<S>))
        .route("/items/{id}/versions/{n}", get(items::version::<S>))
        .route("/items/{id}/restore-version", post(items::restore_version::<S>))
        .route("/items/{id}/transitions", post(items::transition::<S>))
        .route("/items/{id}/restore", post(items::restore::<S>))
        .route("/trash", get(items::trash::<S>))
        .route("/search", get(search::search::<S>))
        .route("/search/history", get(search::history::<S>).delete(search::clear_history::<S>))
        .route("/categories", get(categories::list::<S>).post(categories::create::<S>))
        .route("/categories/{id}", axum::routing::patch(categories::patch::<S>).delete(categories::delete::<S>))
        .route("/tags", get(categories::tags::<S>))
        .route("/templates", get(templates::list::<S>).post(templates::create::<S>))
        .route("/templates/{id}", get(templates::get::<S>).patch(templates::patch::<S>).delete(templates::delete::<S>))
        .route("/templates/{id}/instantiate", post(templates::instantiate::<S>))
        .route("/api-keys", get(api_keys::list::<S>).post(api_keys::create::<S>))
        .route("/api-keys/{id}", delete(api_keys::revoke::<S>))
        .route("/events", get(events::list::<S>))
        .route("/items/{id}/summary", post(ai::summary::<S>))
        .route("/ask", post(ai::ask::<S>))
        .route("/templates/{id}/draft", post(ai::draft::<S>))
        .route("/items/{id}/tag-suggestions", post(ai::tag_suggestions::<S>))
        .route("/engagements/{id}/risk-assessment", post(ai::risk_assessment::<S>))
        .route("/ai/usage", get(ai::usage::<S>))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::idempotency::idempotency::<S>))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::auth::authenticate::<S>));
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz::<S>))
        .route("/api/docs", get(crate::openapi::docs))
        .nest("/api/v1", public.merge(protected))
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
