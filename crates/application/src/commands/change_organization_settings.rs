//! Changes the AI monthly budget and retention of the caller's organization.

use domain::Aggregate;
use domain::organization::{Organization, OrganizationCommand, OrganizationSettings};

use super::Changed;
use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Replaces the organization's settings.
    pub async fn change_organization_settings(
        &self,
        ctx: &TenantContext,
        settings: OrganizationSettings,
        expected: Option<u64>,
    ) -> Result<Changed, AppError> {
        let done = self
            .execute::<Organization>(ctx.org.as_str(), Some(&ctx.org), expected, ctx.metadata(), |org| {
                org.decide(OrganizationCommand::ChangeSettings { settings: settings.clone() })
            })
            .await?;
        Ok(Changed { id: ctx.org.to_string(), version: done.version })
    }
}
