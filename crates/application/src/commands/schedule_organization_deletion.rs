//! Schedules the deletion of the caller's organization.

use time::OffsetDateTime;

use domain::Aggregate;
use domain::organization::{Organization, OrganizationCommand};

use super::Changed;
use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Schedules deletion at `effective_at` (not in the past).
    pub async fn schedule_organization_deletion(
        &self,
        ctx: &TenantContext,
        effective_at: OffsetDateTime,
    ) -> Result<Changed, AppError> {
        let now = self.clock.now();
        let done = self
            .execute::<Organization>(ctx.org.as_str(), Some(&ctx.org), None, ctx.metadata(), |org| {
                org.decide(OrganizationCommand::ScheduleDeletion { effective_at, now })
            })
            .await?;
        Ok(Changed { id: ctx.org.to_string(), version: done.version })
    }
}
