//! Removes a member from an engagement.

use domain::Aggregate;
use domain::engagement::{Engagement, EngagementCommand};
use domain::ids::UserId;

use super::Changed;
use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Removes `user` from engagement `id`.
    pub async fn remove_engagement_member(
        &self,
        ctx: &TenantContext,
        id: &str,
        user: &str,
    ) -> Result<Changed, AppError> {
        let user = UserId::parse(user)?;
        let done = self
            .execute::<Engagement>(id, Some(&ctx.org), None, ctx.metadata(), |engagement| {
                engagement.decide(EngagementCommand::RemoveMember { user: user.clone() })
            })
            .await?;
        Ok(Changed { id: id.to_owned(), version: done.version })
    }
}
