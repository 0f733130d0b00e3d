//! Members of the caller's organization.

use domain::role::Role;
use store::read_model::{MembershipView, UserView};

use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Every member with their role, ordered by user id.
    pub async fn list_members(&self, ctx: &TenantContext) -> Result<Vec<MembershipView>, AppError> {
        Ok(self.store.members(ctx.org.as_str()).await?)
    }

    /// Every member with their user record (when it still exists).
    pub async fn list_members_with_users(
        &self,
        ctx: &TenantContext,
    ) -> Result<Vec<(MembershipView, Option<UserView>)>, AppError> {
        let members = self.list_members(ctx).await?;
        let mut rows = Vec::with_capacity(members.len());
        for member in members {
            let user = self.store.user(&member.user_id).await?;
            rows.push((member, user));
        }
        Ok(rows)
    }

    /// The role `user` holds in the caller's organization, or not found.
    pub async fn member_role(&self, ctx: &TenantContext, user: &str) -> Result<Role, AppError> {
        let members = self.list_members(ctx).await?;
        let member = members
            .iter()
            .find(|m| m.user_id == user)
            .ok_or_else(|| AppError::NotFound(format!("member {user} not found")))?;
        crate::security::stored_role(&member.role)
    }
}
