//! Cancels a scheduled deletion of the caller's organization.

use domain::Aggregate;
use domain::organization::{Organization, OrganizationCommand};

use super::Changed;
use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Cancels the scheduled deletion.
    pub async fn cancel_organization_deletion(&self, ctx: &TenantContext) -> Result<Changed, AppError> {
        let done = self
            .execute::<Organization>(ctx.org.as_str(), Some(&ctx.org), None, ctx.metadata(), |org| {
                org.decide(OrganizationCommand::CancelDeletion)
            })
            .await?;
        Ok(Changed { id: ctx.org.to_string(), version: done.version })
    }
}
