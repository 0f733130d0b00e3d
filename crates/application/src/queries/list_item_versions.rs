//! The version history of an item.

use store::read_model::ItemVersionView;

use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Every version of item `id`, oldest first.
    pub async fn list_item_versions(&self, ctx: &TenantContext, id: &str) -> Result<Vec<ItemVersionView>, AppError> {
        let versions = self.store.item_versions(ctx.org.as_str(), id).await?;
        if versions.is_empty() {
            return Err(AppError::NotFound(format!("item {id} not found")));
        }
        Ok(versions)
    }
}
