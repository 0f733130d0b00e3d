//! Adds a member of the organization to an engagement.

use domain::Aggregate;
use domain::engagement::{Engagement, EngagementCommand};
use domain::ids::UserId;
use domain::organization::Organization;

use super::Changed;
use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Adds `user`, who must belong to the organization, to engagement `id`.
    pub async fn add_engagement_member(&self, ctx: &TenantContext, id: &str, user: &str) -> Result<Changed, AppError> {
        let user = UserId::parse(user)?;
        let org = self.load_in::<Organization>(&ctx.org, ctx.org.as_str(), "organization").await?;
        if !org.state.members.contains_key(&user) {
            return Err(AppError::NotFound(format!("user {user} is not a member of this organization")));
        }
        let done = self
            .execute::<Engagement>(id, Some(&ctx.org), None, ctx.metadata(), |engagement| {
                engagement.decide(EngagementCommand::AddMember { user: user.clone() })
            })
            .await?;
        Ok(Changed { id: id.to_owned(), version: done.version })
    }
}
