//! Knowledge items: list, create, read, edit, versions, transitions, trash and restore.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use application::commands::create_item::{CreateItem, ItemDraft};
use application::{Store, TenantContext};
use domain::item::{ItemKind, ItemStatus};
use store::read_model::{ItemFilter, ItemVersionContent, ItemVersionView, ItemView};

use crate::AppState;
use crate::auth::{Authorized, perm};
use crate::error::ApiError;
use crate::extract::{Body, IfMatch, Path, Query, changed, versioned};
use crate::pagination::{ListResponse, RenderedListResponse, encode_keyset, page_request, paginate};

fn metadata_json(raw: &str) -> serde_json::Value {
    serde_json::from_str(raw).unwrap_or_else(|_| serde_json::json!({}))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ItemResponse {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub title: String,
    pub body: String,
    pub engagement_id: Option<String>,
    pub author_id: String,
    pub categories: Vec<String>,
    pub tags: Vec<String>,
    pub metadata: serde_json::Value,
    /// The content version (1 = as created; every edit adds one).
    pub version: u32,
    pub supersedes: Option<String>,
    pub superseded_by: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub trashed_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<ItemView> for ItemResponse {
    fn from(i: ItemView) -> Self {
        Self {
            metadata: metadata_json(&i.metadata),
            id: i.id,
            kind: i.kind,
            status: i.status,
            title: i.title,
            body: i.body,
            engagement_id: i.engagement_id,
            author_id: i.author_id,
            categories: i.categories,
            tags: i.tags,
            version: i.version,
            supersedes: i.supersedes,
            superseded_by: i.superseded_by,
            trashed_at: i.trashed_at,
            created_at: i.created_at,
            updated_at: i.updated_at,
        }
    }
}

// The schema of an entry of `GET /items` and `GET /trash` only: the entries themselves are
// rendered by the read model as the JSON of `store::read_model::ItemSummary`, and the test
// `item_list_entries_have_the_documented_fields` holds the two to the same fields.
#[derive(Debug, utoipa::ToSchema)]
pub struct ItemListEntry {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub title: String,
    pub engagement_id: Option<String>,
    pub author_id: String,
    pub categories: Vec<String>,
    pub tags: Vec<String>,
    pub version: u32,
    pub trashed_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ItemListQuery {
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    #[param(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    cursor: Option<String>,
    #[param(schema_with = crate::openapi::sort_keys)]
    sort: Option<String>,
    engagement: Option<String>,
    category: Option<String>,
    tag: Option<String>,
    #[param(schema_with = crate::openapi::item_status)]
    status: Option<ItemStatus>,
    #[param(schema_with = crate::openapi::item_kind)]
    kind: Option<ItemKind>,
}

async fn list_page<S: Store>(
    state: &AppState<S>,
    ctx: &TenantContext,
    query: ItemListQuery,
    trashed: bool,
) -> Result<RenderedListResponse, ApiError> {
    let page = page_request(query.limit, query.cursor.as_deref(), query.sort.as_deref())?;
    let filter = ItemFilter {
        engagement: query.engagement,
        category: query.category,
        tag: query.tag.map(|t| t.trim().to_lowercase()),
        status: query.status.map(|s| s.as_str().to_owned()),
        kind: query.kind.map(|k| k.as_str().to_owned()),
        trashed,
        engagements_visible: None,
    };
    let result = state.app.list_item_entries(ctx, filter, &page).await?;
    Ok(RenderedListResponse {
        data: result.rows,
        next_cursor: result.next.map(|k| encode_keyset(&k, &page)),
        total: result.total,
    })
}

/// `GET /items`: live items, filtered and sorted, with the exact total.
#[utoipa::path(
    get,
    path = "/api/v1/items",
    tag = "items",
    summary = "Live items, filtered and sorted, with the exact total",
    params(ItemListQuery),
    responses((status = 200, description = "A page of items", body = ListResponse<ItemListEntry>), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn list<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::ReadItems>,
    Query(query): Query<ItemListQuery>,
) -> Result<RenderedListResponse, ApiError> {
    list_page(&state, who.ctx(), query, false).await
}

/// `GET /trash`: trashed items (purged 30 days after trashing).
#[utoipa::path(
    get,
    path = "/api/v1/trash",
    tag = "items",
    summary = "Items in the trash",
    params(ItemListQuery),
    responses((status = 200, description = "A page of trashed items", body = ListResponse<ItemListEntry>), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn trash<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::ReadItems>,
    Query(query): Query<ItemListQuery>,
) -> Result<RenderedListResponse, ApiError> {
    list_page(&state, who.ctx(), query, true).await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateItemRequest {
    #[schema(schema_with = crate::openapi::item_kind)]
    kind: ItemKind,
    #[schema(
        min_length = 1,
        max_length = 300,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    title: String,
    #[serde(default)]
    body: String,
    #[schema(pattern = r"^eng_[0-9A-Za-z]{1,64}$")]
    engagement_id: Option<String>,
    #[serde(default)]
    #[schema(schema_with = crate::openapi::category_ids)]
    categories: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = crate::openapi::tags)]
    tags: Vec<String>,
    metadata: Option<serde_json::Map<String, serde_json::Value>>,
    /// A deliverable this one replaces once published.
    #[schema(pattern = r"^itm_[0-9A-Za-z]{1,64}$")]
    supersedes: Option<String>,
}

/// Lists in a request are bounded before they reach the domain.
const MAX_LIST_ENTRIES: usize = 100;

fn bounded(field: &str, list: &[String]) -> Result<(), ApiError> {
    if list.len() > MAX_LIST_ENTRIES {
        return Err(ApiError::field(field, format!("at most {MAX_LIST_ENTRIES} entries, got {}", list.len())));
    }
    Ok(())
}

/// `POST /items`: a new draft.
#[utoipa::path(
    post,
    path = "/api/v1/items",
    tag = "items",
    summary = "Create a draft item",
    request_body = CreateItemRequest,
    params(("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$", description = "Retries with the same key and body get the first response")),
    responses((status = 201, description = "Created", body = ItemResponse), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn create<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::WriteItems>,
    Body(input): Body<CreateItemRequest>,
) -> Result<Response, ApiError> {
    bounded("categories", &input.categories)?;
    bounded("tags", &input.tags)?;
    let draft = ItemDraft {
        title: input.title,
        body: input.body,
        categories: input.categories,
        tags: input.tags,
        metadata: input.metadata.map(serde_json::Value::Object),
    };
    let item = state
        .app
        .create_item_view(
            who.ctx(),
            CreateItem { kind: input.kind, engagement: input.engagement_id, draft, supersedes: input.supersedes },
        )
        .await?;
    Ok(changed(StatusCode::CREATED, item.stream_version, &ItemResponse::from(item)))
}

async fn respond_with<S: Store>(
    state: &AppState<S>,
    ctx: &TenantContext,
    id: &str,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let item = state.app.get_item(ctx, id).await?;
    Ok(changed(status, item.stream_version, &ItemResponse::from(item)))
}

/// `GET /items/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/items/{id}",
    tag = "items",
    summary = "One item, its current version",
    params(("id" = String, Path, pattern = r"^itm_[0-9A-Za-z]{1,64}$"), ("If-None-Match" = Option<String>, Header, nullable = false, description = "An ETag the client has; 304 when it is current")),
    responses((status = 200, description = "The item", body = ItemResponse), (status = 304, description = "Not modified"), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn get<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::ReadItems>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let item = state.app.get_item(who.ctx(), &id).await?;
    Ok(versioned(&headers, item.stream_version, &ItemResponse::from(item)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchItemRequest {
    #[schema(
        min_length = 1,
        max_length = 300,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    title: Option<String>,
    body: Option<String>,
    #[schema(schema_with = crate::openapi::nullable_category_ids)]
    categories: Option<Vec<String>>,
    #[schema(schema_with = crate::openapi::nullable_tags)]
    tags: Option<Vec<String>>,
    metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

/// `PATCH /items/{id}`: a new version with the fields given (the rest as they are).
#[utoipa::path(
    patch,
    path = "/api/v1/items/{id}",
    tag = "items",
    summary = "Edit an item (a new version)",
    request_body = PatchItemRequest,
    params(("id" = String, Path, pattern = r"^itm_[0-9A-Za-z]{1,64}$"), ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|(W/)?"[0-9]+")$"#, description = "The ETag the change is based on; 412 when the object changed since")),
    responses((status = 200, description = "Edited", body = ItemResponse), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn patch<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::WriteItems>,
    Path(id): Path<String>,
    IfMatch(if_match): IfMatch,
    Body(input): Body<PatchItemRequest>,
) -> Result<Response, ApiError> {
    bounded("categories", input.categories.as_deref().unwrap_or_default())?;
    bounded("tags", input.tags.as_deref().unwrap_or_default())?;
    let (ctx, app, id, input) = (who.ctx(), &state.app, id.as_str(), &input);
    super::retry_merge(if_match, || async move {
        let current = app.get_item(ctx, id).await?;
        let draft = ItemDraft {
            title: input.title.clone().unwrap_or(current.title),
            body: input.body.clone().unwrap_or(current.body),
            categories: input.categories.clone().unwrap_or(current.categories),
            tags: input.tags.clone().unwrap_or(current.tags),
            metadata: Some(
                input.metadata.clone().map_or_else(|| metadata_json(&current.metadata), serde_json::Value::Object),
            ),
        };
        app.edit_item(ctx, id, draft, if_match.or(Some(current.stream_version))).await
    })
    .await?;
    respond_with(&state, ctx, id, StatusCode::OK).await
}

/// `DELETE /items/{id}`: moves the item to the trash.
#[utoipa::path(
    delete,
    path = "/api/v1/items/{id}",
    tag = "items",
    summary = "Move an item to the trash",
    params(("id" = String, Path, pattern = r"^itm_[0-9A-Za-z]{1,64}$"), ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|(W/)?"[0-9]+")$"#, description = "The ETag the change is based on; 412 when the object changed since")),
    responses((status = 204, description = "Trashed"), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn delete<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::WriteItems>,
    Path(id): Path<String>,
    IfMatch(expected): IfMatch,
) -> Result<StatusCode, ApiError> {
    state.app.get_item(who.ctx(), &id).await?;
    state.app.trash_item(who.ctx(), &id, expected).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /items/{id}/restore`: takes the item back out of the trash.
#[utoipa::path(
    post,
    path = "/api/v1/items/{id}/restore",
    tag = "items",
    summary = "Restore an item from the trash",
    params(("id" = String, Path, pattern = r"^itm_[0-9A-Za-z]{1,64}$"), ("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$", description = "Retries with the same key and body get the first response")),
    responses((status = 200, description = "Restored", body = ItemResponse), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn restore<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::WriteItems>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.app.restore_item(who.ctx(), &id).await?;
    respond_with(&state, who.ctx(), &id, StatusCode::OK).await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemTransitionRequest {
    #[schema(schema_with = crate::openapi::item_status)]
    to: ItemStatus,
}

/// `POST /items/{id}/transitions`: moves the item to another status.
#[utoipa::path(
    post,
    path = "/api/v1/items/{id}/transitions",
    tag = "items",
    summary = "Move an item to another status",
    request_body = ItemTransitionRequest,
    params(("id" = String, Path, pattern = r"^itm_[0-9A-Za-z]{1,64}$"), ("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$", description = "Retries with the same key and body get the first response")),
    responses((status = 200, description = "Moved", body = ItemResponse), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn transition<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::WriteItems>,
    Path(id): Path<String>,
    Body(input): Body<ItemTransitionRequest>,
) -> Result<Response, ApiError> {
    state.app.get_item(who.ctx(), &id).await?;
    state.app.transition_item(who.ctx(), &id, input.to).await?;
    respond_with(&state, who.ctx(), &id, StatusCode::OK).await
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VersionEntry {
    pub version: u32,
    pub title: String,
    pub author_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<ItemVersionView> for VersionEntry {
    fn from(v: ItemVersionView) -> Self {
        Self { version: v.version, title: v.title, author_id: v.author_id, created_at: v.created_at }
    }
}

/// `GET /items/{id}/versions`: the history, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/items/{id}/versions",
    tag = "items",
    summary = "An item's version history",
    params(("id" = String, Path, pattern = r"^itm_[0-9A-Za-z]{1,64}$"), super::me::SimpleListQuery),
    responses((status = 200, description = "Versions, oldest first", body = ListResponse<VersionEntry>), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn versions<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::ReadItems>,
    Path(id): Path<String>,
    Query(query): Query<super::me::SimpleListQuery>,
) -> Result<Json<ListResponse<VersionEntry>>, ApiError> {
    state.app.get_item(who.ctx(), &id).await?;
    let rows: Vec<VersionEntry> =
        state.app.list_item_versions(who.ctx(), &id).await?.into_iter().map(Into::into).collect();
    Ok(Json(paginate(rows, query.limit, query.cursor.as_deref(), |v| v.version.to_string())?))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VersionResponse {
    pub version: u32,
    pub title: String,
    pub body: String,
    pub categories: Vec<String>,
    pub tags: Vec<String>,
    pub metadata: serde_json::Value,
    pub author_id: String,
    pub restored_from: Option<u32>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<ItemVersionContent> for VersionResponse {
    fn from(v: ItemVersionContent) -> Self {
        Self {
            metadata: metadata_json(&v.metadata),
            version: v.version,
            title: v.title,
            body: v.body,
            categories: v.categories,
            tags: v.tags,
            author_id: v.author_id,
            restored_from: v.restored_from,
            created_at: v.created_at,
        }
    }
}

/// `GET /items/{id}/versions/{n}`: one version in full.
#[utoipa::path(
    get,
    path = "/api/v1/items/{id}/versions/{n}",
    tag = "items",
    summary = "One version of an item in full",
    params(("id" = String, Path, pattern = r"^itm_[0-9A-Za-z]{1,64}$"), ("n" = u32, Path)),
    responses((status = 200, description = "The version", body = VersionResponse), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn version<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::ReadItems>,
    Path((id, n)): Path<(String, u32)>,
) -> Result<Json<VersionResponse>, ApiError> {
    Ok(Json(state.app.get_item_version(who.ctx(), &id, n).await?.into()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestoreVersionRequest {
    #[schema(minimum = 1)]
    version: u32,
}

/// `POST /items/{id}/restore-version`: a new version with an old version's content.
#[utoipa::path(
    post,
    path = "/api/v1/items/{id}/restore-version",
    tag = "items",
    summary = "Make a new version with an old version's content",
    request_body = RestoreVersionRequest,
    params(("id" = String, Path, pattern = r"^itm_[0-9A-Za-z]{1,64}$"), ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|(W/)?"[0-9]+")$"#, description = "The ETag the change is based on; 412 when the object changed since"), ("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$", description = "Retries with the same key and body get the first response")),
    responses((status = 200, description = "Restored", body = ItemResponse), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn restore_version<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::WriteItems>,
    Path(id): Path<String>,
    IfMatch(expected): IfMatch,
    Body(input): Body<RestoreVersionRequest>,
) -> Result<Response, ApiError> {
    state.app.get_item(who.ctx(), &id).await?;
    state.app.restore_item_version(who.ctx(), &id, input.version, expected).await?;
    respond_with(&state, who.ctx(), &id, StatusCode::OK).await
}
