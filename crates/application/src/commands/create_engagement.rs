//! Opens a client engagement in discovery.

use domain::Aggregate;
use domain::engagement::{Engagement, EngagementCommand};
use domain::ids::EngagementId;
use domain::text::Name;

use super::Changed;
use crate::{App, AppError, Store, TenantContext};

/// Input of [`App::create_engagement`] and [`App::update_engagement`].
#[derive(Debug, Clone)]
pub struct EngagementDetails {
    pub name: String,
    pub client: String,
    pub description: String,
    pub nda_required: bool,
}

impl EngagementDetails {
    pub(crate) fn parse(&self) -> Result<(Name, Name), AppError> {
        Ok((Name::parse(&self.name)?, Name::parse(&self.client)?))
    }
}

impl<S: Store> App<S> {
    /// Creates an engagement; the creator becomes its first member.
    pub async fn create_engagement(&self, ctx: &TenantContext, input: EngagementDetails) -> Result<Changed, AppError> {
        let (name, client) = input.parse()?;
        let id = EngagementId::from_suffix(&self.ids.next_suffix());
        let done = self
            .execute_new::<Engagement>(id.as_str(), ctx.metadata(), |engagement| {
                let mut events = engagement.decide(EngagementCommand::Create {
                    id: id.clone(),
                    org: ctx.org.clone(),
                    name: name.clone(),
                    client: client.clone(),
                    description: input.description.clone(),
                    nda_required: input.nda_required,
                })?;
                events.push(domain::engagement::EngagementEvent::MemberAdded { user: ctx.actor.clone() });
                Ok(events)
            })
            .await?;
        Ok(Changed { id: id.to_string(), version: done.version })
    }
}
