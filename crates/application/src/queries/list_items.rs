//! Knowledge items of the caller's organization, filtered, sorted and paged. A guest sees only
//! the items of the engagements they are a member of.

use domain::role::Role;
use store::read_model::{ItemFilter, ItemSummary, Page, PageRequest, RenderedJson};

use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Live items (or the trash, with `filter.trashed`).
    pub async fn list_items(
        &self,
        ctx: &TenantContext,
        filter: ItemFilter,
        page: &PageRequest,
    ) -> Result<Page<ItemSummary>, AppError> {
        let filter = self.visible_items(ctx, filter).await?;
        Ok(self.store.list_items(ctx.org.as_str(), &filter, page).await?)
    }

    /// The page [`App::list_items`] answers, each entry rendered as the API's JSON object.
    pub async fn list_item_entries(
        &self,
        ctx: &TenantContext,
        filter: ItemFilter,
        page: &PageRequest,
    ) -> Result<Page<RenderedJson>, AppError> {
        let filter = self.visible_items(ctx, filter).await?;
        Ok(self.store.list_item_entries(ctx.org.as_str(), &filter, page).await?)
    }

    /// `filter` narrowed to what the caller may see.
    async fn visible_items(&self, ctx: &TenantContext, mut filter: ItemFilter) -> Result<ItemFilter, AppError> {
        if ctx.role == Role::Guest {
            filter.engagements_visible = Some(self.guest_engagements(ctx).await?);
        }
        Ok(filter)
    }

    /// The engagements a guest is a member of.
    pub(crate) async fn guest_engagements(&self, ctx: &TenantContext) -> Result<Vec<String>, AppError> {
        Ok(self.store.engagements_of_member(ctx.org.as_str(), ctx.actor.as_str()).await?)
    }

    /// Whether the caller may see an object of `engagement` (everyone but guests sees all).
    pub(crate) async fn can_see_engagement(
        &self,
        ctx: &TenantContext,
        engagement: Option<&str>,
    ) -> Result<bool, AppError> {
        if ctx.role != Role::Guest {
            return Ok(true);
        }
        let Some(engagement) = engagement else { return Ok(false) };
        Ok(self.guest_engagements(ctx).await?.iter().any(|e| e == engagement))
    }
}
