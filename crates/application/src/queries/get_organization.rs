//! The caller's organization.

use store::read_model::OrganizationView;

use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// The caller's organization as projected.
    pub async fn get_organization(&self, ctx: &TenantContext) -> Result<OrganizationView, AppError> {
        self.store
            .organization(ctx.org.as_str())
            .await?
            .ok_or_else(|| AppError::NotFound(format!("organization {} not found", ctx.org)))
    }
}
