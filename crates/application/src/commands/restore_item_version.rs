//! Restores a past version of an item as a new version.

use domain::Aggregate;
use domain::item::{ItemCommand, KnowledgeItem};

use super::Changed;
use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Makes a new version of item `id` with the content of `version`.
    pub async fn restore_item_version(
        &self,
        ctx: &TenantContext,
        id: &str,
        version: u32,
        expected: Option<u64>,
    ) -> Result<Changed, AppError> {
        let done = self
            .execute::<KnowledgeItem>(id, Some(&ctx.org), expected, ctx.metadata(), |item| {
                item.decide(ItemCommand::RestoreVersion { version, author: ctx.actor.clone() })
            })
            .await?;
        Ok(Changed { id: id.to_owned(), version: done.version })
    }
}
