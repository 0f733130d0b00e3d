//! Removes a member; the last owner cannot be removed.

use domain::Aggregate;
use domain::ids::UserId;
use domain::organization::{Organization, OrganizationCommand};

use super::Changed;
use super::add_member::only_owners_touch_owners;
use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Removes `user` from the organization and ends their sessions in it (their access
    /// tokens already stop working: authentication reads the membership).
    pub async fn remove_member(&self, ctx: &TenantContext, user: &str) -> Result<Changed, AppError> {
        let user = UserId::parse(user)?;
        let done = self
            .execute::<Organization>(ctx.org.as_str(), Some(&ctx.org), None, ctx.metadata(), |org| {
                only_owners_touch_owners(ctx.role, [org.members.get(&user).copied()])?;
                org.decide(OrganizationCommand::RemoveMember { user: user.clone() })
            })
            .await?;
        self.store.revoke_sessions_in_org(ctx.org.as_str(), user.as_str(), self.clock.now()).await?;
        self.access_changed();
        Ok(Changed { id: ctx.org.to_string(), version: done.version })
    }
}
