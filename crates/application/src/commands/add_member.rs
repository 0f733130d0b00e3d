//! Adds a registered user to the caller's organization with a role.

use domain::Aggregate;
use domain::ids::UserId;
use domain::organization::{Organization, OrganizationCommand};
use domain::role::Role;
use domain::user::User;

use super::Changed;
use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Adds `user` with `role`; an existing member is a conflict.
    pub async fn add_member(&self, ctx: &TenantContext, user: &str, role: Role) -> Result<Changed, AppError> {
        let user = UserId::parse(user)?;
        if self.load::<User>(user.as_str()).await?.version == 0 {
            return Err(AppError::NotFound(format!("user {user} not found")));
        }
        let done = self
            .execute::<Organization>(ctx.org.as_str(), Some(&ctx.org), None, ctx.metadata(), |org| {
                org.decide(OrganizationCommand::AddMember { user: user.clone(), role })
            })
            .await?;
        Ok(Changed { id: ctx.org.to_string(), version: done.version })
    }
}
