//! Changes a member's role; the last owner cannot be demoted.

use domain::Aggregate;
use domain::ids::UserId;
use domain::organization::{Organization, OrganizationCommand};
use domain::role::Role;

use super::Changed;
use super::add_member::only_owners_touch_owners;
use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Gives `user` the role `role`.
    pub async fn change_member_role(&self, ctx: &TenantContext, user: &str, role: Role) -> Result<Changed, AppError> {
        let user = UserId::parse(user)?;
        let done = self
            .execute::<Organization>(ctx.org.as_str(), Some(&ctx.org), None, ctx.metadata(), |org| {
                only_owners_touch_owners(ctx.role, [Some(role), org.members.get(&user).copied()])?;
                org.decide(OrganizationCommand::ChangeMemberRole { user: user.clone(), role })
            })
            .await?;
        self.access_changed();
        Ok(Changed { id: ctx.org.to_string(), version: done.version })
    }
}
