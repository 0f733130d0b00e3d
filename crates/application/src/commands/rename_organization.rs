//! Renames the caller's organization.

use domain::Aggregate;
use domain::organization::{Organization, OrganizationCommand};
use domain::text::Name;

use super::Changed;
use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Renames the organization; `expected` pins the version the caller saw.
    pub async fn rename_organization(
        &self,
        ctx: &TenantContext,
        name: &str,
        expected: Option<u64>,
    ) -> Result<Changed, AppError> {
        let name = Name::parse(name)?;
        let done = self
            .execute::<Organization>(ctx.org.as_str(), Some(&ctx.org), expected, ctx.metadata(), |org| {
                org.decide(OrganizationCommand::Rename { name: name.clone() })
            })
            .await?;
        Ok(Changed { id: ctx.org.to_string(), version: done.version })
    }
}
