//! Client engagements: list, create, read, update, delete, phase transitions, members.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use application::Store;
use application::commands::create_engagement::EngagementDetails;
use domain::engagement::EngagementPhase;
use store::read_model::{EngagementFilter, EngagementSummary, EngagementView};

use crate::AppState;
use crate::auth::{Authorized, perm};
use crate::error::ApiError;
use crate::extract::{Body, IfMatch, Path, Query, changed, versioned};
use crate::pagination::{ListResponse, encode_keyset, page_request};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EngagementResponse {
    pub id: String,
    pub name: String,
    pub client: String,
    pub description: String,
    pub nda_required: bool,
    pub phase: String,
    pub members: Vec<String>,
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<EngagementView> for EngagementResponse {
    fn from(e: EngagementView) -> Self {
        Self {
            id: e.id,
            name: e.name,
            client: e.client,
            description: e.description,
            nda_required: e.nda_required,
            phase: e.phase,
            members: e.members,
            version: e.stream_version,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EngagementListEntry {
    pub id: String,
    pub name: String,
    pub client: String,
    pub phase: String,
    pub nda_required: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<EngagementSummary> for EngagementListEntry {
    fn from(e: EngagementSummary) -> Self {
        Self {
            id: e.id,
            name: e.name,
            client: e.client,
            phase: e.phase,
            nda_required: e.nda_required,
            updated_at: e.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EngagementListQuery {
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    #[param(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    cursor: Option<String>,
    /// `updated_at`, `created_at` or `title` (the name), `-` for descending.
    #[param(schema_with = crate::openapi::sort_keys)]
    sort: Option<String>,
    #[param(schema_with = crate::openapi::engagement_phase)]
    phase: Option<EngagementPhase>,
}

/// `GET /engagements`.
#[utoipa::path(
    get,
    path = "/api/v1/engagements",
    tag = "engagements",
    summary = "Engagements, filtered and sorted",
    params(EngagementListQuery),
    responses((status = 200, description = "A page of engagements", body = ListResponse<EngagementListEntry>), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn list<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::ReadEngagements>,
    Query(query): Query<EngagementListQuery>,
) -> Result<Json<ListResponse<EngagementListEntry>>, ApiError> {
    let page = page_request(query.limit, query.cursor.as_deref(), query.sort.as_deref())?;
    let filter = EngagementFilter { phase: query.phase.map(|p| p.as_str().to_owned()), only: None };
    let result = state.app.list_engagements(who.ctx(), filter, &page).await?;
    Ok(Json(ListResponse {
        data: result.rows.into_iter().map(Into::into).collect(),
        next_cursor: result.next.map(|k| encode_keyset(&k, &page)),
        total: Some(result.total),
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEngagementRequest {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    name: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    client: String,
    #[serde(default)]
    #[schema(max_length = 10000)]
    description: String,
    #[serde(default)]
    nda_required: bool,
}

/// `POST /engagements`.
#[utoipa::path(
    post,
    path = "/api/v1/engagements",
    tag = "engagements",
    summary = "Create an engagement",
    request_body = CreateEngagementRequest,
    params(("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$", description = "Retries with the same key and body get the first response")),
    responses((status = 201, description = "Created", body = EngagementResponse), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn create<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::WriteEngagements>,
    Body(input): Body<CreateEngagementRequest>,
) -> Result<Response, ApiError> {
    let details = EngagementDetails {
        name: input.name,
        client: input.client,
        description: input.description,
        nda_required: input.nda_required,
    };
    let created = state.app.create_engagement(who.ctx(), details).await?;
    respond_with(&state, who.ctx(), &created.id, StatusCode::CREATED).await
}

async fn respond_with<S: Store>(
    state: &AppState<S>,
    ctx: &application::TenantContext,
    id: &str,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let engagement = state.app.get_engagement(ctx, id).await?;
    Ok(changed(status, engagement.stream_version, &EngagementResponse::from(engagement)))
}

/// `GET /engagements/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/engagements/{id}",
    tag = "engagements",
    summary = "One engagement",
    params(("id" = String, Path, pattern = r"^eng_[0-9A-Za-z]{1,64}$"), ("If-None-Match" = Option<String>, Header, nullable = false, description = "An ETag the client has; 304 when it is current")),
    responses((status = 200, description = "The engagement", body = EngagementResponse), (status = 304, description = "Not modified"), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn get<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::ReadEngagements>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let engagement = state.app.get_engagement(who.ctx(), &id).await?;
    Ok(versioned(&headers, engagement.stream_version, &EngagementResponse::from(engagement)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchEngagementRequest {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    name: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    client: Option<String>,
    #[schema(max_length = 10000)]
    description: Option<String>,
    nda_required: Option<bool>,
}

/// `PATCH /engagements/{id}`: fields left out stay as they are.
#[utoipa::path(
    patch,
    path = "/api/v1/engagements/{id}",
    tag = "engagements",
    summary = "Change an engagement's details",
    request_body = PatchEngagementRequest,
    params(("id" = String, Path, pattern = r"^eng_[0-9A-Za-z]{1,64}$"), ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|(W/)?"[0-9]+")$"#, description = "The ETag the change is based on; 412 when the object changed since")),
    responses((status = 200, description = "Changed", body = EngagementResponse), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn patch<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::WriteEngagements>,
    Path(id): Path<String>,
    IfMatch(if_match): IfMatch,
    Body(input): Body<PatchEngagementRequest>,
) -> Result<Response, ApiError> {
    let (ctx, app, id, input) = (who.ctx(), &state.app, id.as_str(), &input);
    super::retry_merge(if_match, || async move {
        let current = app.get_engagement(ctx, id).await?;
        let details = EngagementDetails {
            name: input.name.clone().unwrap_or(current.name),
            client: input.client.clone().unwrap_or(current.client),
            description: input.description.clone().unwrap_or(current.description),
            nda_required: input.nda_required.unwrap_or(current.nda_required),
        };
        let expected = if_match.or(Some(current.stream_version));
        app.update_engagement(ctx, id, details, expected).await
    })
    .await?;
    respond_with(&state, ctx, id, StatusCode::OK).await
}

/// `DELETE /engagements/{id}`: only an engagement no item refers to.
#[utoipa::path(
    delete,
    path = "/api/v1/engagements/{id}",
    tag = "engagements",
    summary = "Delete an engagement no item refers to",
    params(("id" = String, Path, pattern = r"^eng_[0-9A-Za-z]{1,64}$"), ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|(W/)?"[0-9]+")$"#, description = "The ETag the change is based on; 412 when the object changed since")),
    responses((status = 204, description = "Deleted"), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn delete<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::WriteEngagements>,
    Path(id): Path<String>,
    IfMatch(expected): IfMatch,
) -> Result<StatusCode, ApiError> {
    state.app.get_engagement(who.ctx(), &id).await?;
    state.app.delete_engagement(who.ctx(), &id, expected).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EngagementTransitionRequest {
    #[schema(schema_with = crate::openapi::engagement_phase)]
    to: EngagementPhase,
}

/// `POST /engagements/{id}/transitions`: moves the engagement to another phase.
#[utoipa::path(
    post,
    path = "/api/v1/engagements/{id}/transitions",
    tag = "engagements",
    summary = "Move an engagement to another phase",
    request_body = EngagementTransitionRequest,
    params(("id" = String, Path, pattern = r"^eng_[0-9A-Za-z]{1,64}$"), ("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$", description = "Retries with the same key and body get the first response")),
    responses((status = 200, description = "Moved", body = EngagementResponse), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn transition<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::WriteEngagements>,
    Path(id): Path<String>,
    Body(input): Body<EngagementTransitionRequest>,
) -> Result<Response, ApiError> {
    state.app.transition_engagement(who.ctx(), &id, input.to).await?;
    respond_with(&state, who.ctx(), &id, StatusCode::OK).await
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EngagementMember {
    pub user_id: String,
}

/// `GET /engagements/{id}/members`.
#[utoipa::path(
    get,
    path = "/api/v1/engagements/{id}/members",
    tag = "engagements",
    summary = "An engagement's members",
    params(("id" = String, Path, pattern = r"^eng_[0-9A-Za-z]{1,64}$"), super::me::SimpleListQuery),
    responses((status = 200, description = "Members", body = ListResponse<EngagementMember>), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn members<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::ReadEngagements>,
    Path(id): Path<String>,
    Query(query): Query<super::me::SimpleListQuery>,
) -> Result<Json<ListResponse<EngagementMember>>, ApiError> {
    let engagement = state.app.get_engagement(who.ctx(), &id).await?;
    let rows = engagement.members.into_iter().map(|user_id| EngagementMember { user_id }).collect();
    Ok(Json(crate::pagination::paginate(rows, query.limit, query.cursor.as_deref(), |m| m.user_id.clone())?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddEngagementMemberRequest {
    #[schema(pattern = r"^usr_[0-9A-Za-z]{1,64}$")]
    user_id: String,
}

/// `POST /engagements/{id}/members`: adds a member of the organization to the engagement.
#[utoipa::path(
    post,
    path = "/api/v1/engagements/{id}/members",
    tag = "engagements",
    summary = "Add a member of the organization to an engagement",
    request_body = AddEngagementMemberRequest,
    params(("id" = String, Path, pattern = r"^eng_[0-9A-Za-z]{1,64}$"), ("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$", description = "Retries with the same key and body get the first response")),
    responses((status = 201, description = "Added", body = EngagementResponse), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn add_member<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::WriteEngagements>,
    Path(id): Path<String>,
    Body(input): Body<AddEngagementMemberRequest>,
) -> Result<Response, ApiError> {
    state.app.member_role(who.ctx(), &input.user_id).await?;
    state.app.add_engagement_member(who.ctx(), &id, &input.user_id).await?;
    respond_with(&state, who.ctx(), &id, StatusCode::CREATED).await
}

/// `DELETE /engagements/{id}/members/{user_id}`.
#[utoipa::path(
    delete,
    path = "/api/v1/engagements/{id}/members/{user_id}",
    tag = "engagements",
    summary = "Remove a member from an engagement",
    params(("id" = String, Path, pattern = r"^eng_[0-9A-Za-z]{1,64}$"), ("user_id" = String, Path, pattern = r"^usr_[0-9A-Za-z]{1,64}$")),
    responses((status = 204, description = "Removed"), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn remove_member<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::WriteEngagements>,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.app.remove_engagement_member(who.ctx(), &id, &user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
