//! Moves an item to the trash (soft delete).

use domain::Aggregate;
use domain::item::{ItemCommand, KnowledgeItem};

use super::Changed;
use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Trashes item `id`; it can be restored for 30 days, then purged.
    pub async fn trash_item(&self, ctx: &TenantContext, id: &str, expected: Option<u64>) -> Result<Changed, AppError> {
        let at = self.clock.now();
        let done = self
            .execute::<KnowledgeItem>(id, Some(&ctx.org), expected, ctx.metadata(), |item| {
                item.decide(ItemCommand::Trash { at })
            })
            .await?;
        Ok(Changed { id: id.to_owned(), version: done.version })
    }
}
