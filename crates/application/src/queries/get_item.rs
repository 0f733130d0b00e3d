//! One knowledge item of the caller's organization.

use store::read_model::ItemView;

use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Item `id`'s current version, or not found (also when it belongs to another organization,
    /// or the caller is a guest outside its engagement).
    pub async fn get_item(&self, ctx: &TenantContext, id: &str) -> Result<ItemView, AppError> {
        let not_found = || AppError::NotFound(format!("item {id} not found"));
        let item = self.store.item(ctx.org.as_str(), id).await?.ok_or_else(not_found)?;
        if !self.can_see_engagement(ctx, item.engagement_id.as_deref()).await? {
            return Err(not_found());
        }
        Ok(item)
    }
}
