//! The organization's audit trail.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use application::Store;
use application::queries::list_events::MAX_EVENTS_PAGE;

use crate::AppState;
use crate::auth::{Authorized, perm};
use crate::error::ApiError;
use crate::extract::Query;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Entries after this position (the `next_cursor` of the previous page).
    #[param(minimum = 0)]
    after: Option<i64>,
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntryResponse {
    pub position: u64,
    pub event_type: String,
    pub object: String,
    pub actor: Option<String>,
    pub request_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventsResponse {
    pub data: Vec<AuditEntryResponse>,
    /// The `after` of the next page; null at the end of the log.
    pub next_cursor: Option<String>,
}

/// `GET /events?after=&limit=`: in log order.
#[utoipa::path(
    get,
    path = "/api/v1/events",
    tag = "admin",
    summary = "The organization's audit trail",
    params(EventsQuery),
    responses((status = 200, description = "Entries in log order", body = EventsResponse), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn list<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::ReadAuditTrail>,
    Query(query): Query<EventsQuery>,
) -> Result<Json<EventsResponse>, ApiError> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=MAX_EVENTS_PAGE).contains(&limit) {
        return Err(ApiError::field("limit", format!("must be between 1 and {MAX_EVENTS_PAGE}, got {limit}")));
    }
    let after =
        u64::try_from(query.after.unwrap_or(0)).map_err(|_| ApiError::field("after", "must not be negative"))?;
    let entries = state.app.list_events(who.ctx(), after, limit).await?;
    let next_cursor =
        (entries.len() == limit as usize).then(|| entries.last().map(|e| e.position.to_string())).flatten();
    let data = entries
        .into_iter()
        .map(|e| AuditEntryResponse {
            position: e.position,
            event_type: e.event_type,
            object: e.object,
            actor: e.actor,
            request_id: e.request_id,
            recorded_at: e.recorded_at,
        })
        .collect();
    Ok(Json(EventsResponse { data, next_cursor }))
}
