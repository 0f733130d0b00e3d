//! Search: ranked items with highlights and facet counts (DESIGN section 7).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use application::Store;
use application::queries::search_items::SearchItems;
use domain::item::{ItemKind, ItemStatus};
use search::hybrid::Mode;

use crate::AppState;
use crate::auth::{Authorized, perm};
use crate::error::ApiError;
use crate::extract::Query;
use crate::pagination::{decode_offset, encode_offset, limit};

/// The longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 1_000;
/// Hits reachable by paging: ranking deeper than this is noise.
pub const MAX_OFFSET: usize = 1_000;

/// How to rank.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SearchMode {
    /// Both rankings fused (a weighted sum of their scores, each scaled between its ranking's
    /// 100th and best); full text alone while semantic search is starting or off.
    #[default]
    Hybrid,
    /// BM25 over titles and bodies, with typo tolerance and prefix matching.
    Fulltext,
    /// Nearest passages by meaning (all-MiniLM-L6-v2 embeddings); 503 while unavailable.
    Semantic,
}

impl From<SearchMode> for Mode {
    fn from(mode: SearchMode) -> Self {
        match mode {
            SearchMode::Hybrid => Mode::Hybrid,
            SearchMode::Fulltext => Mode::Fulltext,
            SearchMode::Semantic => Mode::Semantic,
        }
    }
}

impl From<Mode> for SearchMode {
    fn from(mode: Mode) -> Self {
        match mode {
            Mode::Hybrid => SearchMode::Hybrid,
            Mode::Fulltext => SearchMode::Fulltext,
            Mode::Semantic => SearchMode::Semantic,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// What to look for: words, `"a phrase"`, `+required`, `-excluded`.
    #[param(min_length = 1, max_length = 1000)]
    q: String,
    mode: Option<SearchMode>,
    engagement: Option<String>,
    category: Option<String>,
    tag: Option<String>,
    #[param(schema_with = crate::openapi::item_kind)]
    kind: Option<ItemKind>,
    #[param(schema_with = crate::openapi::item_status)]
    status: Option<ItemStatus>,
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    #[param(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    cursor: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchHit {
    pub id: String,
    pub title: String,
    /// The title as HTML with the matched words in `<b>`.
    pub title_highlighted: String,
    /// A passage of the body as HTML with the matched words in `<b>`; empty when none matched.
    pub snippet: String,
    pub score: f32,
    /// What matched: `fulltext` (the words), `semantic` (the meaning), or both.
    pub signals: Vec<String>,
    pub engagement_id: Option<String>,
    pub kind: String,
    pub status: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FacetValue {
    pub value: String,
    pub count: u64,
}

/// Counts over every match, not only this page; at most 20 values each, most frequent first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchFacets {
    pub engagement: Vec<FacetValue>,
    pub category: Vec<FacetValue>,
    pub tag: Vec<FacetValue>,
    pub kind: Vec<FacetValue>,
    pub status: Vec<FacetValue>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchResponse {
    pub data: Vec<SearchHit>,
    pub total: u64,
    pub facets: SearchFacets,
    /// The ranking used: `fulltext` for a hybrid search while semantic search is unavailable.
    pub mode: SearchMode,
    /// Why the ranking asked for was not used, when it was not.
    pub degraded: Option<String>,
    pub next_cursor: Option<String>,
}

fn facet_values(values: Vec<search::FacetCount>) -> Vec<FacetValue> {
    values.into_iter().map(|f| FacetValue { value: f.value, count: f.count }).collect()
}

/// `GET /search`.
#[utoipa::path(
    get,
    path = "/api/v1/search",
    tag = "search",
    summary = "Search the knowledge base",
    description = "Ranked live items of the caller's organization (a guest: of its engagements) with highlighted snippets and facet counts, ranked by words (`fulltext`), meaning (`semantic`) or both fused (`hybrid`, the default). Semantic facets count the nearest 100 items.",
    params(SearchQuery),
    responses((status = 200, description = "Hits", body = SearchResponse), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn search<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::ReadItems>,
    Query(query): Query<SearchQuery>,
) -> Result<Json<SearchResponse>, ApiError> {
    let text = query.q.trim();
    if text.is_empty() {
        return Err(ApiError::field("q", "must contain something to look for"));
    }
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::field("q", format!("must be at most {MAX_QUERY_CHARS} characters")));
    }
    let limit = limit(query.limit)? as usize;
    let offset = decode_offset(query.cursor.as_deref())?;
    if offset > MAX_OFFSET {
        return Err(ApiError::field("cursor", format!("pages reach at most the first {MAX_OFFSET} hits")));
    }
    let input = SearchItems {
        text: text.to_owned(),
        mode: query.mode.unwrap_or_default().into(),
        filters: search::Filters {
            engagement: query.engagement,
            category: query.category,
            tag: query.tag.map(|t| t.trim().to_lowercase()),
            kind: query.kind.map(|k| k.as_str().to_owned()),
            status: query.status.map(|s| s.as_str().to_owned()),
        },
        limit,
        offset,
    };
    let outcome = state.app.search_items(who.ctx(), input).await?;
    let page = outcome.page;
    if offset == 0 {
        remember_in_background(&state.app, &who.0, text);
    }
    let reached = offset + page.hits.len();
    let next_cursor = (reached < page.total as usize && reached <= MAX_OFFSET && !page.hits.is_empty())
        .then(|| encode_offset(reached));
    let facets = page.facets;
    Ok(Json(SearchResponse {
        data: page
            .hits
            .into_iter()
            .map(|hit| SearchHit {
                id: hit.id,
                title: hit.title,
                title_highlighted: hit.title_highlighted,
                snippet: hit.snippet,
                score: hit.score,
                signals: [(hit.signals.fulltext, "fulltext"), (hit.signals.semantic, "semantic")]
                    .into_iter()
                    .filter(|(matched, _)| *matched)
                    .map(|(_, name)| name.to_owned())
                    .collect(),
                engagement_id: hit.engagement,
                kind: hit.kind,
                status: hit.status,
            })
            .collect(),
        total: page.total,
        facets: SearchFacets {
            engagement: facet_values(facets.engagement),
            category: facet_values(facets.category),
            tag: facet_values(facets.tag),
            kind: facet_values(facets.kind),
            status: facet_values(facets.status),
        },
        mode: outcome.mode.into(),
        degraded: outcome.degraded,
        next_cursor,
    }))
}

/// Adds `text` to the caller's search history off the request path: a search answers from the
/// index, it does not wait for a write.
pub(crate) fn remember_in_background<S: Store>(
    app: &application::App<S>,
    principal: &std::sync::Arc<application::Principal>,
    text: &str,
) {
    let (app, principal, text) = (app.clone(), std::sync::Arc::clone(principal), text.to_owned());
    tokio::spawn(async move {
        if let Err(error) = app.remember_search(&principal, &text).await {
            tracing::warn!(%error, "could not remember a search");
        }
    });
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchHistoryEntry {
    pub query: String,
    #[serde(with = "time::serde::rfc3339")]
    pub searched_at: OffsetDateTime,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchHistoryResponse {
    /// At most 50 queries, most recent first.
    pub data: Vec<SearchHistoryEntry>,
}

/// `GET /search/history`.
#[utoipa::path(
    get,
    path = "/api/v1/search/history",
    tag = "search",
    summary = "The caller's recent searches",
    description = "The queries the caller searched in this organization (first pages only, not through API keys), most recent first, at most 50. A query that refines the previous one within 30 seconds replaces it, so typing into a search box leaves one entry.",
    responses((status = 200, description = "Recent searches", body = SearchHistoryResponse), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn history<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::ReadItems>,
) -> Result<Json<SearchHistoryResponse>, ApiError> {
    let records = state.app.search_history(&who.0).await?;
    let data = records.into_iter().map(|r| SearchHistoryEntry { query: r.query, searched_at: r.searched_at }).collect();
    Ok(Json(SearchHistoryResponse { data }))
}

/// `DELETE /search/history`.
#[utoipa::path(
    delete,
    path = "/api/v1/search/history",
    tag = "search",
    summary = "Forget the caller's recent searches",
    responses((status = 204, description = "Forgotten"), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn clear_history<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::ReadItems>,
) -> Result<StatusCode, ApiError> {
    state.app.clear_search_history(&who.0).await?;
    Ok(StatusCode::NO_CONTENT)
}
