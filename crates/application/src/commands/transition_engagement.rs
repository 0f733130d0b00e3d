//! Moves an engagement to another phase; the domain decides what is allowed for the caller's role.

use domain::Aggregate;
use domain::engagement::{Engagement, EngagementCommand, EngagementPhase};

use super::Changed;
use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Moves engagement `id` to phase `to`.
    pub async fn transition_engagement(
        &self,
        ctx: &TenantContext,
        id: &str,
        to: EngagementPhase,
    ) -> Result<Changed, AppError> {
        let done = self
            .execute::<Engagement>(id, Some(&ctx.org), None, ctx.metadata(), |engagement| {
                engagement.decide(EngagementCommand::Transition { to, by_role: ctx.role })
            })
            .await?;
        Ok(Changed { id: id.to_owned(), version: done.version })
    }
}

#[cfg(test)]
mod tests {
    use domain::DomainError;
    use domain::role::Role;

    use super::*;
    use crate::testing::{app, tenant};

    #[tokio::test]
    async fn phases_follow_the_domain_rules_and_reach_the_read_model() {
        let (app, _dir) = app().await;
        let ctx = tenant(&app, Role::Consultant).await;
        let created = app
            .create_engagement(
                &ctx,
                crate::commands::create_engagement::EngagementDetails {
                    name: "Pricing review".into(),
                    client: "Globex".into(),
                    description: String::new(),
                    nda_required: true,
                },
            )
            .await
            .expect("create");
        let illegal = app.transition_engagement(&ctx, &created.id, EngagementPhase::Closed).await;
        assert!(matches!(illegal, Err(AppError::Domain(DomainError::IllegalTransition { .. }))));
        app.transition_engagement(&ctx, &created.id, EngagementPhase::Proposal).await.expect("to proposal");
        let view = app.get_engagement(&ctx, &created.id).await.expect("query");
        assert_eq!(view.phase, "proposal");
        assert_eq!(view.members, vec![ctx.actor.to_string()]);
    }
}
