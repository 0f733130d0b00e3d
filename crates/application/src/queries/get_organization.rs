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

    /// Organization `org` if `user` is one of its members, else not found.
    pub async fn get_organization_for_member(&self, user: &str, org: &str) -> Result<OrganizationView, AppError> {
        let not_found = || AppError::NotFound(format!("organization {org} not found"));
        if !self.store.memberships_of_user(user).await?.iter().any(|m| m.org_id == org) {
            return Err(not_found());
        }
        self.store.organization(org).await?.ok_or_else(not_found)
    }
}
