//! Liveness and readiness probes.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use application::Store;

use crate::AppState;
use crate::error::{ApiError, ErrorCode};

/// Alive: the process answers.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// Ready: the database answers (migrations ran at start-up) and the inline projections are,
/// by construction, caught up with the log.
pub async fn readyz<S: Store>(State(state): State<AppState<S>>) -> Response {
    match state.app.store().head_position().await {
        Ok(position) => Json(json!({ "status": "ready", "database": "ok", "log_position": position })).into_response(),
        Err(error) => {
            tracing::warn!(error = %error, "readiness check failed");
            ApiError::new(ErrorCode::Unavailable, "the database is not reachable").into_response()
        }
    }
}
