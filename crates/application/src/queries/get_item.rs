//! One knowledge item of the caller's organization.

use store::read_model::ItemView;

use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Item `id`'s current version, or not found (also when it belongs to another organization).
    pub async fn get_item(&self, ctx: &TenantContext, id: &str) -> Result<ItemView, AppError> {
        self.store.item(ctx.org.as_str(), id).await?.ok_or_else(|| AppError::NotFound(format!("item {id} not found")))
    }
}
