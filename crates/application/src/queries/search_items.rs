//! Full-text search over the caller's organization's live items. A guest finds only the items
//! of the engagements they are a member of; trashed items are never in the index.

use domain::role::Role;
use search::{Filters, FullTextPage, FullTextQuery};

use crate::{App, AppError, Store, TenantContext};

/// What the caller asks for.
#[derive(Debug, Clone, Default)]
pub struct SearchItems {
    pub text: String,
    pub filters: Filters,
    pub limit: usize,
    pub offset: usize,
}

impl<S: Store> App<S> {
    /// Ranked items matching `input.text`, with highlights and facet counts.
    pub async fn search_items(&self, ctx: &TenantContext, input: SearchItems) -> Result<FullTextPage, AppError> {
        let Some(index) = &self.search else {
            return Err(AppError::Unavailable("search is not enabled on this server".to_owned()));
        };
        let engagements_visible = match ctx.role {
            Role::Guest => Some(self.guest_engagements(ctx).await?),
            _ => None,
        };
        let query = FullTextQuery {
            text: input.text,
            org: ctx.org.as_str().to_owned(),
            engagements_visible,
            filters: input.filters,
            limit: input.limit,
            offset: input.offset,
        };
        index.search(&query).map_err(|error| {
            tracing::error!(%error, "full-text search failed");
            AppError::Unavailable("the search index is unavailable; retry shortly".to_owned())
        })
    }
}
