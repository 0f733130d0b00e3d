//! Restores an item from the trash.

use domain::Aggregate;
use domain::item::{ItemCommand, KnowledgeItem};

use super::Changed;
use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Takes item `id` out of the trash.
    pub async fn restore_item(&self, ctx: &TenantContext, id: &str) -> Result<Changed, AppError> {
        let done = self
            .execute::<KnowledgeItem>(id, Some(&ctx.org), None, ctx.metadata(), |item| {
                item.decide(ItemCommand::RestoreFromTrash)
            })
            .await?;
        Ok(Changed { id: id.to_owned(), version: done.version })
    }
}
