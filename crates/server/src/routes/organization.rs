//! The caller's organization, and creating another one.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use application::commands::create_organization::CreateOrganization;
use application::{Caller, Store};
use domain::organization::OrganizationSettings;
use store::read_model::OrganizationView;

use crate::AppState;
use crate::auth::{Authorized, perm};
use crate::error::ApiError;
use crate::extract::{Body, IfMatch};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrganizationResponse {
    pub id: String,
    pub name: String,
    pub ai_monthly_budget_cents: Option<u64>,
    pub retention_days: Option<u32>,
    /// Whether the prompts and answers of AI calls are kept (off by default: only the
    /// accounting record of each call is).
    pub ai_store_transcripts: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub deletion_scheduled_for: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<OrganizationView> for OrganizationResponse {
    fn from(o: OrganizationView) -> Self {
        Self {
            id: o.id,
            name: o.name,
            ai_monthly_budget_cents: o.ai_monthly_budget_cents,
            retention_days: o.retention_days,
            ai_store_transcripts: o.ai_store_transcripts,
            deletion_scheduled_for: o.deletion_scheduled_for,
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

/// `GET /organization`.
#[utoipa::path(
    get,
    path = "/api/v1/organization",
    tag = "organization",
    summary = "The caller's organization",
    responses((status = 200, description = "The organization", body = OrganizationResponse), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn get<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::ReadOrganization>,
) -> Result<Json<OrganizationResponse>, ApiError> {
    Ok(Json(state.app.get_organization(who.ctx()).await?.into()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchOrganization {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    name: Option<String>,
    #[serde(default, deserialize_with = "crate::extract::nullable")]
    ai_monthly_budget_cents: Option<Option<u64>>,
    #[serde(default, deserialize_with = "crate::extract::nullable")]
    #[schema(minimum = 1, maximum = 3650)]
    retention_days: Option<Option<u32>>,
    /// Keep the prompts and answers of AI calls.
    ai_store_transcripts: Option<bool>,
}

/// `PATCH /organization`: rename and change settings (fields left out stay as they are).
#[utoipa::path(
    patch,
    path = "/api/v1/organization",
    tag = "organization",
    summary = "Rename the organization or change its settings",
    request_body = PatchOrganization,
    params(("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|(W/)?"[0-9]+")$"#, description = "The ETag the change is based on; 412 when the object changed since")),
    responses((status = 200, description = "Changed", body = OrganizationResponse), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn patch<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::ManageOrganization>,
    IfMatch(expected): IfMatch,
    Body(input): Body<PatchOrganization>,
) -> Result<Json<OrganizationResponse>, ApiError> {
    let ctx = who.ctx();
    let mut expected = expected;
    if let Some(name) = &input.name {
        let done = state.app.rename_organization(ctx, name, expected).await?;
        expected = expected.map(|_| done.version);
    }
    if input.ai_monthly_budget_cents.is_some() || input.retention_days.is_some() || input.ai_store_transcripts.is_some()
    {
        let current = state.app.get_organization(ctx).await?;
        let settings = OrganizationSettings {
            ai_monthly_budget_cents: input.ai_monthly_budget_cents.unwrap_or(current.ai_monthly_budget_cents),
            retention_days: input.retention_days.unwrap_or(current.retention_days),
            ai_store_transcripts: input.ai_store_transcripts.unwrap_or(current.ai_store_transcripts),
        };
        state.app.change_organization_settings(ctx, settings, expected).await?;
    }
    Ok(Json(state.app.get_organization(ctx).await?.into()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrganizationRequest {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    name: String,
}

/// `POST /organizations`: another organization, owned by the caller; switch into it by
/// refreshing with its `organization_id` or at login.
#[utoipa::path(
    post,
    path = "/api/v1/organizations",
    tag = "organization",
    summary = "Create another organization owned by the caller",
    request_body = CreateOrganizationRequest,
    params(("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$", description = "Retries with the same key and body get the first response")),
    responses((status = 201, description = "Created", body = OrganizationResponse), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn create<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::Authenticated>,
    Body(input): Body<CreateOrganizationRequest>,
) -> Result<Response, ApiError> {
    let ctx = who.ctx();
    let caller = Caller { actor: Some(ctx.actor.clone()), request_id: ctx.request_id.clone() };
    let created = state
        .app
        .create_organization(&caller, CreateOrganization { name: input.name, owner: ctx.actor.to_string() })
        .await?;
    let org = state.app.get_organization_for_member(ctx.actor.as_str(), &created.id).await?;
    Ok((StatusCode::CREATED, Json(OrganizationResponse::from(org))).into_response())
}
