//! One engagement of the caller's organization.

use store::read_model::EngagementView;

use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Engagement `id`, or not found (also when it belongs to another organization, or the
    /// caller is a guest who is not one of its members).
    pub async fn get_engagement(&self, ctx: &TenantContext, id: &str) -> Result<EngagementView, AppError> {
        let not_found = || AppError::NotFound(format!("engagement {id} not found"));
        let engagement = self.store.engagement(ctx.org.as_str(), id).await?.ok_or_else(not_found)?;
        if !self.can_see_engagement(ctx, Some(id)).await? {
            return Err(not_found());
        }
        Ok(engagement)
    }
}
