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

#[derive(Debug, Serialize)]
pub struct UserResponse {
    pub id: String,
    pub email: String,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct MembershipResponse {
    pub organization_id: String,
    pub organization_name: String,
    pub role: String,
}

#[derive(Debug, Serialize)]
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

/// `GET /me`: who is calling, in which organization and role.
pub async fn me<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::Authenticated>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let me = me_response(&state.app, who.ctx().actor.as_str()).await?;
    let (via, key_id) = match &who.0.credential {
        Credential::Session { .. } => ("session", None),
        Credential::ApiKey { key_id } => ("api_key", Some(key_id.clone())),
    };
    Ok(Json(serde_json::json!({
        "user": me.user,
        "organizations": me.organizations,
        "organization_id": who.ctx().org.as_str(),
        "role": who.ctx().role.as_str(),
        "authenticated_with": via,
        "api_key_id": key_id,
    })))
}

#[derive(Debug, Serialize)]
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

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimpleListQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// `GET /sessions`: the caller's sessions, newest first.
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
pub async fn revoke_session<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::Authenticated>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.app.revoke_session(&who.0, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
