//! One version of an item, with its full content.

use store::read_model::ItemVersionContent;

use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    pub async fn get_item_version(
        &self,
        ctx: &TenantContext,
        id: &str,
        version: u32,
    ) -> Result<ItemVersionContent, AppError> {
        self.get_item(ctx, id).await?;
        self.store
            .item_version(ctx.org.as_str(), id, version)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("item {id} has no version {version}")))
    }
}
