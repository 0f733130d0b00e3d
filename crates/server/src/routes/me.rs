//! The caller's own profile and sessions.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use time::OffsetDateTime;

use application::{App, Credential, Store};
use store::auth::SessionRecord;

use crate::AppState;
use crate::auth::{Authorized, perm};
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::pagination::{ListResponse, paginate};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserResponse {
    pub id: String,
    pub email: String,
    pub name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MembershipResponse {
    pub organization_id: String,
    pub organization_name: String,
    pub role: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeResponse {
    pub user: UserResponse,
    pub organizations: Vec<MembershipResponse>,
}

/// The profile of user `id`.
pub(crate) async fn me_response<S: Store>(app: &App<S>, id: &str) -> Result<MeResponse, ApiError> {
    let me = app.get_user(id).await?;
    Ok(MeResponse {
        user: UserResponse { id: me.user.id, email: me.user.email, name: me.user.display_name },
        organizations: me
            .memberships
            .into_iter()
            .map(|m| MembershipResponse { organization_id: m.org_id, organization_name: m.org_name, role: m.role })
            .collect(),
    })
}

/// The caller, the organization and role of this request, and how it authenticated.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CallerResponse {
    pub user: UserResponse,
    pub organizations: Vec<MembershipResponse>,
    pub organization_id: String,
    pub role: String,
    /// `session` or `api_key`.
    pub authenticated_with: String,
    pub api_key_id: Option<String>,
}

/// `GET /me`: who is calling, in which organization and role.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "auth",
    summary = "The caller, their organizations and current role",
    responses((status = 200, description = "The caller", body = CallerResponse), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn me<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::Authenticated>,
) -> Result<Json<CallerResponse>, ApiError> {
    let me = me_response(&state.app, who.ctx().actor.as_str()).await?;
    let (via, key_id) = match &who.0.credential {
        Credential::Session { .. } => ("session", None),
        Credential::ApiKey { key_id } => ("api_key", Some(key_id.clone())),
    };
    Ok(Json(CallerResponse {
        user: me.user,
        organizations: me.organizations,
        organization_id: who.ctx().org.to_string(),
        role: who.ctx().role.as_str().to_owned(),
        authenticated_with: via.to_owned(),
        api_key_id: key_id,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionResponse {
    pub id: String,
    pub organization_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_used_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    pub user_agent: Option<String>,
    /// Whether this is the session making the request.
    pub current: bool,
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SimpleListQuery {
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    #[param(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// `GET /sessions`: the caller's sessions, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/sessions",
    tag = "auth",
    summary = "The caller's sessions",
    params(SimpleListQuery),
    responses((status = 200, description = "Sessions, newest first", body = ListResponse<SessionResponse>), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn sessions<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::Authenticated>,
    Query(query): Query<SimpleListQuery>,
) -> Result<Json<ListResponse<SessionResponse>>, ApiError> {
    let current = match &who.0.credential {
        Credential::Session { session_id } => Some(session_id.clone()),
        Credential::ApiKey { .. } => None,
    };
    let rows: Vec<SessionResponse> = state
        .app
        .list_sessions(&who.0)
        .await?
        .into_iter()
        .map(|s: SessionRecord| SessionResponse {
            current: current.as_deref() == Some(s.id.as_str()),
            id: s.id,
            organization_id: s.org_id,
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            expires_at: s.expires_at,
            revoked_at: s.revoked_at,
            user_agent: s.user_agent,
        })
        .collect();
    Ok(Json(paginate(rows, query.limit, query.cursor.as_deref(), |s| s.id.clone())?))
}

/// `DELETE /sessions/{id}`: ends one of the caller's sessions.
#[utoipa::path(
    delete,
    path = "/api/v1/sessions/{id}",
    tag = "auth",
    summary = "End one of the caller's sessions",
    params(("id" = String, Path, pattern = r"^ses_[0-9A-Za-z]{1,64}$")),
    responses((status = 204, description = "Ended"), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn revoke_session<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::Authenticated>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.app.revoke_session(&who.0, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
