//! API keys of the organization: the secret is shown once, at creation.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use application::Store;
use application::commands::create_api_key::CreateApiKey;
use domain::role::Role;
use store::auth::ApiKeyRecord;

use crate::AppState;
use crate::auth::{Authorized, perm};
use crate::error::ApiError;
use crate::extract::{Body, Path, Query};
use crate::pagination::{ListResponse, paginate};
use crate::routes::me::SimpleListQuery;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApiKeyResponse {
    pub id: String,
    pub name: String,
    pub role: String,
    /// The key's first characters, to tell keys apart.
    pub prefix: String,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

impl From<ApiKeyRecord> for ApiKeyResponse {
    fn from(k: ApiKeyRecord) -> Self {
        Self {
            id: k.id,
            name: k.name,
            role: k.role,
            prefix: k.prefix,
            created_by: k.created_by,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// `GET /api-keys`.
#[utoipa::path(
    get,
    path = "/api/v1/api-keys",
    tag = "admin",
    summary = "The organization's API keys",
    params(SimpleListQuery),
    responses((status = 200, description = "Keys", body = ListResponse<ApiKeyResponse>), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn list<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::ManageApiKeys>,
    Query(query): Query<SimpleListQuery>,
) -> Result<Json<ListResponse<ApiKeyResponse>>, ApiError> {
    let rows = state.app.list_api_keys(&who.0).await?.into_iter().map(ApiKeyResponse::from).collect();
    Ok(Json(paginate(rows, query.limit, query.cursor.as_deref(), |k| k.id.clone())?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKeyRequest {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    name: String,
    #[schema(schema_with = crate::openapi::role)]
    role: Role,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedApiKeyResponse {
    #[serde(flatten)]
    pub key: ApiKeyResponse,
    /// The key itself. It is not stored and never shown again.
    pub secret: String,
}

/// `POST /api-keys`.
#[utoipa::path(
    post,
    path = "/api/v1/api-keys",
    tag = "admin",
    summary = "Create an API key (its secret is shown once)",
    request_body = CreateApiKeyRequest,
    params(("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$", description = "Retries with the same key and body get the first response")),
    responses((status = 201, description = "Created", body = CreatedApiKeyResponse), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn create<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::ManageApiKeys>,
    Body(input): Body<CreateApiKeyRequest>,
) -> Result<Response, ApiError> {
    let created = state.app.create_api_key(&who.0, CreateApiKey { name: input.name, role: input.role }).await?;
    let shown = crate::idempotency::ShowsSecretOnce { created: format!("API key {}", created.key.id) };
    let body = CreatedApiKeyResponse { key: created.key.into(), secret: created.secret };
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    response.extensions_mut().insert(shown);
    Ok(response)
}

/// `DELETE /api-keys/{id}`: the key stops working at once.
#[utoipa::path(
    delete,
    path = "/api/v1/api-keys/{id}",
    tag = "admin",
    summary = "Revoke an API key",
    params(("id" = String, Path, pattern = r"^key_[0-9A-Za-z]{1,64}$")),
    responses((status = 204, description = "Revoked"), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn revoke<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::ManageApiKeys>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.app.revoke_api_key(&who.0, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
