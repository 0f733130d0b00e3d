//! Tags in use in the caller's organization, with counts.

use store::read_model::TagCount;

use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Every tag carried by at least one live item, with how many.
    pub async fn list_tags(&self, ctx: &TenantContext) -> Result<Vec<TagCount>, AppError> {
        Ok(self.store.tags(ctx.org.as_str()).await?)
    }
}
