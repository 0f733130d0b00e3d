//! Updates an engagement's name, client, description and NDA requirement.

use domain::Aggregate;
use domain::engagement::{Engagement, EngagementCommand};

use super::Changed;
use super::create_engagement::EngagementDetails;
use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Replaces the engagement's details; `expected` pins the version the caller saw.
    pub async fn update_engagement(
        &self,
        ctx: &TenantContext,
        id: &str,
        input: EngagementDetails,
        expected: Option<u64>,
    ) -> Result<Changed, AppError> {
        let (name, client) = input.parse()?;
        let done = self
            .execute::<Engagement>(id, Some(&ctx.org), expected, ctx.metadata(), |engagement| {
                engagement.decide(EngagementCommand::UpdateDetails {
                    name: name.clone(),
                    client: client.clone(),
                    description: input.description.clone(),
                    nda_required: input.nda_required,
                })
            })
            .await?;
        Ok(Changed { id: id.to_owned(), version: done.version })
    }
}
