//! One engagement of the caller's organization.

use store::read_model::EngagementView;

use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Engagement `id`, or not found (also when it belongs to another organization).
    pub async fn get_engagement(&self, ctx: &TenantContext, id: &str) -> Result<EngagementView, AppError> {
        self.store
            .engagement(ctx.org.as_str(), id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("engagement {id} not found")))
    }
}
