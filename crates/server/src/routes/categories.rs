//! The category tree and tags. The tree is one aggregate per organization (ADR 0003), so a
//! category's `ETag` is the tree's version: any change to the tree invalidates it.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use application::Store;
use store::read_model::CategoryView;

use crate::AppState;
use crate::auth::{Authorized, perm};
use crate::error::ApiError;
use crate::extract::{Body, IfMatch, Path, Query, changed, versioned};
use crate::pagination::{ListResponse, paginate};
use crate::routes::me::SimpleListQuery;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CategoryNode {
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
    #[schema(no_recursion)]
    pub children: Vec<CategoryNode>,
}

fn tree(categories: &[CategoryView], parent: Option<&str>) -> Vec<CategoryNode> {
    categories
        .iter()
        .filter(|c| c.parent_id.as_deref() == parent)
        .map(|c| CategoryNode {
            id: c.id.clone(),
            name: c.name.clone(),
            parent_id: c.parent_id.clone(),
            children: tree(categories, Some(&c.id)),
        })
        .collect()
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TreeResponse {
    pub data: Vec<CategoryNode>,
    /// The tree's version (also the `ETag`).
    pub version: u64,
}

/// `GET /categories`: the whole tree, roots first, children nested.
#[utoipa::path(
    get,
    path = "/api/v1/categories",
    tag = "taxonomy",
    summary = "The category tree",
    params(("If-None-Match" = Option<String>, Header, nullable = false, description = "An ETag the client has; 304 when it is current")),
    responses((status = 200, description = "The tree", body = TreeResponse), (status = 304, description = "Not modified"), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn list<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::ReadTaxonomy>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (version, categories) = state.app.category_tree(who.ctx()).await?;
    Ok(versioned(&headers, version, &TreeResponse { data: tree(&categories, None), version }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CategoryResponse {
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
}

async fn respond_with<S: Store>(
    state: &AppState<S>,
    ctx: &application::TenantContext,
    id: &str,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let (version, categories) = state.app.category_tree(ctx).await?;
    let category = categories
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| ApiError::not_found(format!("category {id} not found")))?;
    Ok(changed(
        status,
        version,
        &CategoryResponse { id: category.id, name: category.name, parent_id: category.parent_id },
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCategoryRequest {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    name: String,
    #[schema(pattern = r"^cat_[0-9A-Za-z]{1,64}$")]
    parent_id: Option<String>,
}

/// `POST /categories`.
#[utoipa::path(
    post,
    path = "/api/v1/categories",
    tag = "taxonomy",
    summary = "Create a category",
    request_body = CreateCategoryRequest,
    params(("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$", description = "Retries with the same key and body get the first response")),
    responses((status = 201, description = "Created", body = CategoryResponse), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn create<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::WriteTaxonomy>,
    Body(input): Body<CreateCategoryRequest>,
) -> Result<Response, ApiError> {
    let created = state.app.create_category(who.ctx(), &input.name, input.parent_id.as_deref()).await?;
    respond_with(&state, who.ctx(), &created.id, StatusCode::CREATED).await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchCategoryRequest {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    name: Option<String>,
    /// Moves the category: another category's id, or `null` for the root.
    #[serde(default, deserialize_with = "crate::extract::nullable")]
    parent_id: Option<Option<String>>,
}

/// `PATCH /categories/{id}`: rename and/or move.
#[utoipa::path(
    patch,
    path = "/api/v1/categories/{id}",
    tag = "taxonomy",
    summary = "Rename or move a category",
    request_body = PatchCategoryRequest,
    params(("id" = String, Path, pattern = r"^cat_[0-9A-Za-z]{1,64}$"), ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|(W/)?"[0-9]+")$"#, description = "The ETag the change is based on; 412 when the object changed since")),
    responses((status = 200, description = "Changed", body = CategoryResponse), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn patch<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::WriteTaxonomy>,
    Path(id): Path<String>,
    IfMatch(mut expected): IfMatch,
    Body(input): Body<PatchCategoryRequest>,
) -> Result<Response, ApiError> {
    let ctx = who.ctx();
    if let Some(name) = &input.name {
        let done = state.app.rename_category(ctx, &id, name, expected).await?;
        expected = expected.map(|_| done.version);
    }
    if let Some(parent) = &input.parent_id {
        state.app.move_category(ctx, &id, parent.as_deref(), expected).await?;
    }
    respond_with(&state, ctx, &id, StatusCode::OK).await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeleteQuery {
    /// Where the category's items go; required when it has any.
    reassign_to: Option<String>,
}

/// `DELETE /categories/{id}`: only when empty, or with `?reassign_to=` for its items.
#[utoipa::path(
    delete,
    path = "/api/v1/categories/{id}",
    tag = "taxonomy",
    summary = "Delete a category (empty, or reassigning its items)",
    params(("id" = String, Path, pattern = r"^cat_[0-9A-Za-z]{1,64}$"), DeleteQuery, ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|(W/)?"[0-9]+")$"#, description = "The ETag the change is based on; 412 when the object changed since")),
    responses((status = 204, description = "Deleted"), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn delete<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::WriteTaxonomy>,
    Path(id): Path<String>,
    IfMatch(expected): IfMatch,
    Query(query): Query<DeleteQuery>,
) -> Result<StatusCode, ApiError> {
    state.app.delete_category(who.ctx(), &id, query.reassign_to.as_deref(), expected).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TagResponse {
    pub tag: String,
    /// Live (not trashed) items carrying the tag.
    pub count: u64,
}

/// `GET /tags`: every tag with its item count.
#[utoipa::path(
    get,
    path = "/api/v1/tags",
    tag = "taxonomy",
    summary = "Tags with their item counts",
    params(SimpleListQuery),
    responses((status = 200, description = "Tags", body = ListResponse<TagResponse>), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn tags<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::ReadTaxonomy>,
    Query(query): Query<SimpleListQuery>,
) -> Result<Json<ListResponse<TagResponse>>, ApiError> {
    let rows = state
        .app
        .list_tags(who.ctx())
        .await?
        .into_iter()
        .map(|t| TagResponse { tag: t.tag, count: t.item_count })
        .collect();
    Ok(Json(paginate(rows, query.limit, query.cursor.as_deref(), |t| t.tag.clone())?))
}
