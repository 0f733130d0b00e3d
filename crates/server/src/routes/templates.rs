//! Templates: bodies with `{{placeholders}}` that instantiate into items.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use application::commands::create_template::TemplateInput;
use application::commands::instantiate_template::InstantiateTemplate;
use application::{Store, TenantContext};
use domain::item::ItemKind;
use store::read_model::TemplateView;

use crate::AppState;
use crate::auth::{Authorized, perm};
use crate::error::ApiError;
use crate::extract::{Body, IfMatch, Path, Query, changed, versioned};
use crate::pagination::{ListResponse, paginate};
use crate::routes::me::SimpleListQuery;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TemplateResponse {
    pub id: String,
    pub name: String,
    pub body: String,
    pub default_kind: String,
    pub default_category_id: Option<String>,
    pub default_tags: Vec<String>,
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<TemplateView> for TemplateResponse {
    fn from(t: TemplateView) -> Self {
        Self {
            id: t.id,
            name: t.name,
            body: t.body,
            default_kind: t.default_kind,
            default_category_id: t.default_category,
            default_tags: t.default_tags,
            version: t.stream_version,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// `GET /templates`: ordered by name.
#[utoipa::path(
    get,
    path = "/api/v1/templates",
    tag = "taxonomy",
    summary = "Templates",
    params(SimpleListQuery),
    responses((status = 200, description = "Templates", body = ListResponse<TemplateResponse>), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn list<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::ReadTaxonomy>,
    Query(query): Query<SimpleListQuery>,
) -> Result<Json<ListResponse<TemplateResponse>>, ApiError> {
    let rows = state.app.list_templates(who.ctx()).await?.into_iter().map(TemplateResponse::from).collect();
    Ok(Json(paginate(rows, query.limit, query.cursor.as_deref(), |t| t.id.clone())?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTemplateRequest {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    name: String,
    body: String,
    #[schema(schema_with = crate::openapi::item_kind)]
    default_kind: ItemKind,
    #[schema(pattern = r"^cat_[0-9A-Za-z]{1,64}$")]
    default_category_id: Option<String>,
    #[serde(default)]
    #[schema(schema_with = crate::openapi::tags)]
    default_tags: Vec<String>,
}

async fn respond_with<S: Store>(
    state: &AppState<S>,
    ctx: &TenantContext,
    id: &str,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let template = state.app.get_template(ctx, id).await?;
    Ok(changed(status, template.stream_version, &TemplateResponse::from(template)))
}

/// `POST /templates`.
#[utoipa::path(
    post,
    path = "/api/v1/templates",
    tag = "taxonomy",
    summary = "Create a template",
    request_body = CreateTemplateRequest,
    params(("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$", description = "Retries with the same key and body get the first response")),
    responses((status = 201, description = "Created", body = TemplateResponse), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn create<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::WriteTaxonomy>,
    Body(input): Body<CreateTemplateRequest>,
) -> Result<Response, ApiError> {
    let created = state
        .app
        .create_template(
            who.ctx(),
            TemplateInput {
                name: input.name,
                body: input.body,
                default_kind: input.default_kind,
                default_category: input.default_category_id,
                default_tags: input.default_tags,
            },
        )
        .await?;
    respond_with(&state, who.ctx(), &created.id, StatusCode::CREATED).await
}

/// `GET /templates/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/templates/{id}",
    tag = "taxonomy",
    summary = "One template",
    params(("id" = String, Path, pattern = r"^tpl_[0-9A-Za-z]{1,64}$"), ("If-None-Match" = Option<String>, Header, nullable = false, description = "An ETag the client has; 304 when it is current")),
    responses((status = 200, description = "The template", body = TemplateResponse), (status = 304, description = "Not modified"), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn get<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::ReadTaxonomy>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let template = state.app.get_template(who.ctx(), &id).await?;
    Ok(versioned(&headers, template.stream_version, &TemplateResponse::from(template)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchTemplateRequest {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    name: Option<String>,
    body: Option<String>,
    #[schema(schema_with = crate::openapi::item_kind)]
    default_kind: Option<ItemKind>,
    #[serde(default, deserialize_with = "crate::extract::nullable")]
    default_category_id: Option<Option<String>>,
    #[schema(schema_with = crate::openapi::nullable_tags)]
    default_tags: Option<Vec<String>>,
}

fn kind(raw: &str) -> Result<ItemKind, application::AppError> {
    serde_json::from_value(serde_json::Value::String(raw.to_owned()))
        .map_err(|_| application::AppError::Internal(format!("unknown item kind {raw:?} in the read model")))
}

/// `PATCH /templates/{id}`: fields left out stay as they are.
#[utoipa::path(
    patch,
    path = "/api/v1/templates/{id}",
    tag = "taxonomy",
    summary = "Change a template",
    request_body = PatchTemplateRequest,
    params(("id" = String, Path, pattern = r"^tpl_[0-9A-Za-z]{1,64}$"), ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|(W/)?"[0-9]+")$"#, description = "The ETag the change is based on; 412 when the object changed since")),
    responses((status = 200, description = "Changed", body = TemplateResponse), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn patch<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::WriteTaxonomy>,
    Path(id): Path<String>,
    IfMatch(if_match): IfMatch,
    Body(input): Body<PatchTemplateRequest>,
) -> Result<Response, ApiError> {
    let (ctx, app, id, input) = (who.ctx(), &state.app, id.as_str(), &input);
    super::retry_merge(if_match, || async move {
        let current = app.get_template(ctx, id).await?;
        let template = TemplateInput {
            name: input.name.clone().unwrap_or(current.name),
            body: input.body.clone().unwrap_or(current.body),
            default_kind: match input.default_kind {
                Some(kind) => kind,
                None => kind(&current.default_kind)?,
            },
            default_category: input.default_category_id.clone().unwrap_or(current.default_category),
            default_tags: input.default_tags.clone().unwrap_or(current.default_tags),
        };
        app.update_template(ctx, id, template, if_match.or(Some(current.stream_version))).await
    })
    .await?;
    respond_with(&state, ctx, id, StatusCode::OK).await
}

/// `DELETE /templates/{id}`.
#[utoipa::path(
    delete,
    path = "/api/v1/templates/{id}",
    tag = "taxonomy",
    summary = "Delete a template",
    params(("id" = String, Path, pattern = r"^tpl_[0-9A-Za-z]{1,64}$"), ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|(W/)?"[0-9]+")$"#, description = "The ETag the change is based on; 412 when the object changed since")),
    responses((status = 204, description = "Deleted"), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn delete<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::WriteTaxonomy>,
    Path(id): Path<String>,
    IfMatch(expected): IfMatch,
) -> Result<StatusCode, ApiError> {
    state.app.get_template(who.ctx(), &id).await?;
    state.app.delete_template(who.ctx(), &id, expected).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstantiateRequest {
    #[schema(
        min_length = 1,
        max_length = 300,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    title: String,
    #[serde(default)]
    values: BTreeMap<String, String>,
    #[schema(pattern = r"^eng_[0-9A-Za-z]{1,64}$")]
    engagement_id: Option<String>,
}

/// `POST /templates/{id}/instantiate`: a new draft item from the template.
#[utoipa::path(
    post,
    path = "/api/v1/templates/{id}/instantiate",
    tag = "taxonomy",
    summary = "Create a draft item from a template",
    request_body = InstantiateRequest,
    params(("id" = String, Path, pattern = r"^tpl_[0-9A-Za-z]{1,64}$"), ("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$", description = "Retries with the same key and body get the first response")),
    responses((status = 201, description = "Created", body = super::items::ItemResponse), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn instantiate<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::WriteItems>,
    Path(id): Path<String>,
    Body(input): Body<InstantiateRequest>,
) -> Result<Response, ApiError> {
    let created = state
        .app
        .instantiate_template(
            who.ctx(),
            InstantiateTemplate {
                template: id,
                title: input.title,
                values: input.values,
                engagement: input.engagement_id,
            },
        )
        .await?;
    let item = state.app.get_item(who.ctx(), &created.id).await?;
    Ok(changed(StatusCode::CREATED, item.stream_version, &super::items::ItemResponse::from(item)))
}
