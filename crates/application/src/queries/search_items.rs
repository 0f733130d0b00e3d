//! Search over the caller's organization's live items, by words, by meaning, or both fused.
//! A guest finds only the items of the engagements they are a member of; trashed items are
//! in neither index.

use std::sync::Arc;

use domain::role::Role;
use search::hybrid::{self, Mode};
use search::vectors::VectorQuery;
use search::{Filters, SearchPage, SearchQuery};

use crate::{App, AppError, Store, TenantContext};

/// What the caller asks for.
#[derive(Debug, Clone, Default)]
pub struct SearchItems {
    pub text: String,
    pub mode: Mode,
    pub filters: Filters,
    pub limit: usize,
    pub offset: usize,
}

/// A page of hits and how they were ranked.
#[derive(Debug, Clone)]
pub struct SearchOutcome {
    pub page: SearchPage,
    /// The ranking used: a hybrid search falls back to full text while semantic search is
    /// starting or off.
    pub mode: Mode,
    /// Why the ranking asked for was not used, when it was not.
    pub degraded: Option<String>,
}

impl<S: Store> App<S> {
    /// Ranked items matching `input.text`, with highlights and facet counts.
    pub async fn search_items(&self, ctx: &TenantContext, input: SearchItems) -> Result<SearchOutcome, AppError> {
        let Some(index) = &self.search else {
            return Err(AppError::Unavailable("search is not enabled on this server".to_owned()));
        };
        let engagements_visible = match ctx.role {
            Role::Guest => Some(self.guest_engagements(ctx).await?),
            _ => None,
        };
        let query = SearchQuery {
            text: input.text,
            org: ctx.org.as_str().to_owned(),
            engagements_visible,
            filters: input.filters,
            limit: input.limit,
            offset: input.offset,
        };
        let semantic = match input.mode {
            Mode::Fulltext => None,
            Mode::Semantic | Mode::Hybrid => Some(self.semantic.as_ref().map_or_else(
                || Err("semantic search is not enabled on this server".to_owned()),
                |semantic| semantic.get(),
            )),
        };
        let (mode, degraded) = match (input.mode, semantic) {
            (mode, Some(Ok(semantic))) => {
                let page = self.rank_by_meaning(index, &semantic, &query, mode).await?;
                return Ok(SearchOutcome { page, mode, degraded: None });
            }
            (Mode::Hybrid, Some(Err(why))) => (Mode::Fulltext, Some(why)),
            (_, Some(Err(why))) => return Err(AppError::Unavailable(why)),
            (mode, None) => (mode, None),
        };
        let page = index.search(&query).map_err(unavailable)?;
        Ok(SearchOutcome { page, mode, degraded })
    }

    /// A semantic or hybrid page: the query embedded, its nearest items (within what the
    /// caller may see and the filters), fused with the full-text ranking when
    /// hybrid, then filtered and paged by the full-text index.
    async fn rank_by_meaning(
        &self,
        index: &Arc<search::FullTextIndex>,
        semantic: &Arc<search::semantic::Semantic>,
        query: &SearchQuery,
        mode: Mode,
    ) -> Result<SearchPage, AppError> {
        let model = Arc::clone(semantic);
        let text = query.text.clone();
        let vector = tokio::task::spawn_blocking(move || model.embed_query(&text))
            .await
            .map_err(|e| AppError::Unavailable(format!("embedding the query failed: {e}")))?
            .map_err(unavailable)?;
        let depth = (query.offset + query.limit).max(hybrid::DEPTH);
        let items = index.matching_ids(query).map_err(unavailable)?;
        let nearest = semantic.nearest(&VectorQuery {
            org: &query.org,
            vector: &vector,
            engagements_visible: query.engagements_visible.as_deref(),
            engagement: query.filters.engagement.as_deref(),
            items: items.as_ref(),
            limit: depth,
        });
        let candidates = match mode {
            Mode::Hybrid => hybrid::fuse(index.ranked_ids(query, depth).map_err(unavailable)?, nearest),
            Mode::Semantic | Mode::Fulltext => hybrid::semantic(nearest),
        };
        index.page_of(query, &candidates).map_err(unavailable)
    }
}

fn unavailable(error: search::SearchError) -> AppError {
    tracing::error!(%error, "search failed");
    AppError::Unavailable("the search index is unavailable; retry shortly".to_owned())
}
