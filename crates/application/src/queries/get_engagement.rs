//! One engagement of the caller's organization.

use store::read_model::EngagementView;

use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Engagement `id`, or not found (also when it belongs to another organization, or the
    /// caller is a guest who is not one of its members).
    pub async fn get_engagement(&self, ctx: &TenantContext, id: &str) -> Result<EngagementView, AppError> {
        let not_found = || AppError::NotFound(format!("engagement {id} not found"));
        let engagement = self.store.engagement(ctx.org.as_str(), id).await?.ok_or_else(not_found)?;
        if !self.can_see_engagement(ctx, Some(id)).await? {
            return Err(not_found());
        }
        Ok(engagement)
    }
}

impl<S: Store> App<S> {
    /// The phases the caller may move engagement `id` to now: none without the permission to
    /// change engagements, else what the domain allows from its phase for the caller's role.
    pub async fn engagement_transitions(
        &self,
        ctx: &TenantContext,
        id: &str,
    ) -> Result<Vec<domain::engagement::EngagementPhase>, AppError> {
        self.get_engagement(ctx, id).await?;
        if !crate::security::permissions::Permission::WriteEngagements.granted_to(ctx.role) {
            return Ok(Vec::new());
        }
        let engagement = self.load_in::<domain::engagement::Engagement>(&ctx.org, id, "engagement").await?;
        Ok(engagement
            .state
            .phase
            .map(|from| domain::engagement::allowed_transitions(from, engagement.state.held_from, ctx.role))
            .unwrap_or_default())
    }
}
