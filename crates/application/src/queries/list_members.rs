//! Members of the caller's organization.

use store::read_model::MembershipView;

use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Every member with their role, ordered by user id.
    pub async fn list_members(&self, ctx: &TenantContext) -> Result<Vec<MembershipView>, AppError> {
        Ok(self.store.members(ctx.org.as_str()).await?)
    }
}
