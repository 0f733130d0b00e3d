//! Purges an item that has been in the trash for 30 days.

use domain::Aggregate;
use domain::item::{ItemCommand, KnowledgeItem};

use super::Changed;
use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Purges item `id` from the read models; refused before its 30 days in the trash are over.
    pub async fn purge_item(&self, ctx: &TenantContext, id: &str) -> Result<Changed, AppError> {
        let now = self.clock.now();
        let done = self
            .execute::<KnowledgeItem>(id, Some(&ctx.org), None, ctx.metadata(), |item| {
                item.decide(ItemCommand::Purge { now })
            })
            .await?;
        Ok(Changed { id: id.to_owned(), version: done.version })
    }
}
