//! Engagements of the caller's organization, filtered by phase, sorted and paged. A guest sees
//! only the engagements they are a member of.

use domain::role::Role;
use store::read_model::{EngagementFilter, EngagementSummary, Page, PageRequest};

use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    pub async fn list_engagements(
        &self,
        ctx: &TenantContext,
        mut filter: EngagementFilter,
        page: &PageRequest,
    ) -> Result<Page<EngagementSummary>, AppError> {
        if ctx.role == Role::Guest {
            filter.only = Some(self.guest_engagements(ctx).await?);
        }
        Ok(self.store.list_engagements(ctx.org.as_str(), &filter, page).await?)
    }
}
