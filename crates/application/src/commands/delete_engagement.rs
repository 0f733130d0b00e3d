//! Deletes an engagement that no item (live or in the trash) refers to.

use domain::Aggregate;
use domain::engagement::{Engagement, EngagementCommand};
use store::read_model::{ItemFilter, PageRequest};

use super::Changed;
use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    pub async fn delete_engagement(
        &self,
        ctx: &TenantContext,
        id: &str,
        expected: Option<u64>,
    ) -> Result<Changed, AppError> {
        let page = PageRequest { sort: Default::default(), descending: true, limit: 1, after: None };
        for trashed in [false, true] {
            let filter = ItemFilter { engagement: Some(id.to_owned()), trashed, ..ItemFilter::default() };
            let items = self.store.list_items(ctx.org.as_str(), &filter, &page).await?;
            if items.total > 0 {
                return Err(AppError::Rejected(format!(
                    "engagement {id} still has {} item(s){}; move or purge them first",
                    items.total,
                    if trashed { " in the trash" } else { "" }
                )));
            }
        }
        let done = self
            .execute::<Engagement>(id, Some(&ctx.org), expected, ctx.metadata(), |engagement| {
                engagement.decide(EngagementCommand::Delete)
            })
            .await?;
        Ok(Changed { id: id.to_owned(), version: done.version })
    }
}
