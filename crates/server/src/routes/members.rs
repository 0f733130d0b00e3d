//! Members of the caller's organization and their roles.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use application::Store;
use domain::role::Role;

use crate::AppState;
use crate::auth::{Authorized, perm};
use crate::error::ApiError;
use crate::extract::{Body, Path, Query};
use crate::pagination::{ListResponse, paginate};
use crate::routes::me::SimpleListQuery;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberResponse {
    pub user_id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: String,
}

/// `GET /members`.
#[utoipa::path(
    get,
    path = "/api/v1/members",
    tag = "organization",
    summary = "Members and their roles",
    params(SimpleListQuery),
    responses((status = 200, description = "Members", body = ListResponse<MemberResponse>), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn list<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::ReadMembers>,
    Query(query): Query<SimpleListQuery>,
) -> Result<Json<ListResponse<MemberResponse>>, ApiError> {
    let members = state.app.list_members_with_users(who.ctx()).await?;
    let rows = members
        .into_iter()
        .map(|(m, user)| MemberResponse {
            user_id: m.user_id,
            email: user.as_ref().map(|u| u.email.clone()),
            name: user.map(|u| u.display_name),
            role: m.role,
        })
        .collect();
    Ok(Json(paginate(rows, query.limit, query.cursor.as_deref(), |m| m.user_id.clone())?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMemberRequest {
    /// The email a registered user signed up with.
    #[schema(max_length = 254, pattern = r"^\s*[^@\s\x00-\x1f]{1,64}@[^@\s.\x00-\x1f]+(\.[^@\s.\x00-\x1f]+)+\s*$")]
    email: String,
    #[schema(schema_with = crate::openapi::role)]
    role: Role,
}

/// `POST /members`: adds a registered user with a role.
#[utoipa::path(
    post,
    path = "/api/v1/members",
    tag = "organization",
    summary = "Add a registered user as a member",
    request_body = AddMemberRequest,
    params(("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$", description = "Retries with the same key and body get the first response")),
    responses((status = 201, description = "Added", body = MemberResponse), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn add<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::ManageMembers>,
    Body(input): Body<AddMemberRequest>,
) -> Result<Response, ApiError> {
    let ctx = who.ctx();
    let user = state.app.find_user_by_email(&input.email).await?;
    state.app.add_member(ctx, &user.id, input.role).await?;
    let member = MemberResponse {
        user_id: user.id,
        email: Some(user.email),
        name: Some(user.display_name),
        role: input.role.as_str().to_owned(),
    };
    Ok((StatusCode::CREATED, Json(member)).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRoleRequest {
    #[schema(schema_with = crate::openapi::role)]
    role: Role,
}

/// `PATCH /members/{user_id}`: changes a member's role; it applies to their next request.
#[utoipa::path(
    patch,
    path = "/api/v1/members/{user_id}",
    tag = "organization",
    summary = "Change a member's role",
    request_body = ChangeRoleRequest,
    params(("user_id" = String, Path, pattern = r"^usr_[0-9A-Za-z]{1,64}$")),
    responses((status = 200, description = "Changed", body = MemberResponse), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn change_role<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::ManageMembers>,
    Path(user_id): Path<String>,
    Body(input): Body<ChangeRoleRequest>,
) -> Result<Json<MemberResponse>, ApiError> {
    let ctx = who.ctx();
    state.app.change_member_role(ctx, &user_id, input.role).await?;
    let user = state.app.get_user(&user_id).await.ok().map(|me| me.user);
    Ok(Json(MemberResponse {
        user_id,
        email: user.as_ref().map(|u| u.email.clone()),
        name: user.map(|u| u.display_name),
        role: input.role.as_str().to_owned(),
    }))
}

/// `DELETE /members/{user_id}`: removes a member; their sessions in this organization end.
#[utoipa::path(
    delete,
    path = "/api/v1/members/{user_id}",
    tag = "organization",
    summary = "Remove a member; their sessions here end",
    params(("user_id" = String, Path, pattern = r"^usr_[0-9A-Za-z]{1,64}$")),
    responses((status = 204, description = "Removed"), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn remove<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::ManageMembers>,
    Path(user_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let ctx = who.ctx();
    state.app.remove_member(ctx, &user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
