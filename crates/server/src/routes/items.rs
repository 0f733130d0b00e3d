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
use store::read_model::{ItemFilter, ItemSummary, ItemVersionContent, ItemVersionView, ItemView};

use crate::AppState;
use crate::auth::{Authorized, perm};
use crate::error::ApiError;
use crate::extract::{Body, IfMatch, Path, Query, changed, versioned};
use crate::pagination::{ListResponse, encode_keyset, page_request, paginate};

fn metadata_json(raw: &str) -> serde_json::Value {
    serde_json::from_str(raw).unwrap_or_else(|_| serde_json::json!({}))
}

#[derive(Debug, Serialize)]
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

#[derive(Debug, Serialize)]
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
    #[serde(with = "time::serde::rfc3339::option")]
    pub trashed_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<ItemSummary> for ItemListEntry {
    fn from(i: ItemSummary) -> Self {
        Self {
            id: i.id,
            kind: i.kind,
            status: i.status,
            title: i.title,
            engagement_id: i.engagement_id,
            author_id: i.author_id,
            categories: i.categories,
            tags: i.tags,
            version: i.version,
            trashed_at: i.trashed_at,
            created_at: i.created_at,
            updated_at: i.updated_at,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    limit: Option<u32>,
    cursor: Option<String>,
    sort: Option<String>,
    engagement: Option<String>,
    category: Option<String>,
    tag: Option<String>,
    status: Option<ItemStatus>,
    kind: Option<ItemKind>,
}

async fn list_page<S: Store>(
    state: &AppState<S>,
    ctx: &TenantContext,
    query: ListQuery,
    trashed: bool,
) -> Result<Json<ListResponse<ItemListEntry>>, ApiError> {
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
    let result = state.app.list_items(ctx, filter, &page).await?;
    Ok(Json(ListResponse {
        data: result.rows.into_iter().map(Into::into).collect(),
        next_cursor: result.next.map(|k| encode_keyset(&k, &page)),
        total: Some(result.total),
    }))
}

/// `GET /items`: live items, filtered and sorted, with the exact total.
pub async fn list<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::ReadItems>,
    Query(query): Query<ListQuery>,
) -> Result<Json<ListResponse<ItemListEntry>>, ApiError> {
    list_page(&state, who.ctx(), query, false).await
}

/// `GET /trash`: trashed items (purged 30 days after trashing).
pub async fn trash<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::ReadItems>,
    Query(query): Query<ListQuery>,
) -> Result<Json<ListResponse<ItemListEntry>>, ApiError> {
    list_page(&state, who.ctx(), query, true).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    kind: ItemKind,
    title: String,
    #[serde(default)]
    body: String,
    engagement_id: Option<String>,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    metadata: Option<serde_json::Value>,
    /// A deliverable this one replaces once published.
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
pub async fn create<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::WriteItems>,
    Body(input): Body<CreateRequest>,
) -> Result<Response, ApiError> {
    bounded("categories", &input.categories)?;
    bounded("tags", &input.tags)?;
    let draft = ItemDraft {
        title: input.title,
        body: input.body,
        categories: input.categories,
        tags: input.tags,
        metadata: input.metadata,
    };
    let created = state
        .app
        .create_item(
            who.ctx(),
            CreateItem { kind: input.kind, engagement: input.engagement_id, draft, supersedes: input.supersedes },
        )
        .await?;
    respond_with(&state, who.ctx(), &created.id, StatusCode::CREATED).await
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
pub async fn get<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::ReadItems>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let item = state.app.get_item(who.ctx(), &id).await?;
    Ok(versioned(&headers, item.stream_version, &ItemResponse::from(item)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchRequest {
    title: Option<String>,
    body: Option<String>,
    categories: Option<Vec<String>>,
    tags: Option<Vec<String>>,
    metadata: Option<serde_json::Value>,
}

/// `PATCH /items/{id}`: a new version with the fields given (the rest as they are).
pub async fn patch<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::WriteItems>,
    Path(id): Path<String>,
    IfMatch(if_match): IfMatch,
    Body(input): Body<PatchRequest>,
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
            metadata: Some(input.metadata.clone().unwrap_or_else(|| metadata_json(&current.metadata))),
        };
        app.edit_item(ctx, id, draft, if_match.or(Some(current.stream_version))).await
    })
    .await?;
    respond_with(&state, ctx, id, StatusCode::OK).await
}

/// `DELETE /items/{id}`: moves the item to the trash.
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
pub async fn restore<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::WriteItems>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.app.restore_item(who.ctx(), &id).await?;
    respond_with(&state, who.ctx(), &id, StatusCode::OK).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    to: ItemStatus,
}

/// `POST /items/{id}/transitions`: moves the item to another status.
pub async fn transition<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::WriteItems>,
    Path(id): Path<String>,
    Body(input): Body<TransitionRequest>,
) -> Result<Response, ApiError> {
    state.app.get_item(who.ctx(), &id).await?;
    state.app.transition_item(who.ctx(), &id, input.to).await?;
    respond_with(&state, who.ctx(), &id, StatusCode::OK).await
}

#[derive(Debug, Serialize)]
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

#[derive(Debug, Serialize)]
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
pub async fn version<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::ReadItems>,
    Path((id, n)): Path<(String, u32)>,
) -> Result<Json<VersionResponse>, ApiError> {
    Ok(Json(state.app.get_item_version(who.ctx(), &id, n).await?.into()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreVersionRequest {
    version: u32,
}

/// `POST /items/{id}/restore-version`: a new version with an old version's content.
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
