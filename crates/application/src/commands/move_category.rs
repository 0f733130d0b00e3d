//! Moves a category under another parent; cycles are refused.

use domain::Aggregate;
use domain::category::{CategoryCommand, CategoryTree};
use domain::ids::CategoryId;

use super::Changed;
use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Moves category `id` under `parent` (the root when `None`).
    pub async fn move_category(
        &self,
        ctx: &TenantContext,
        id: &str,
        parent: Option<&str>,
        expected: Option<u64>,
    ) -> Result<Changed, AppError> {
        let id = CategoryId::parse(id)?;
        let parent = parent.map(CategoryId::parse).transpose()?;
        let done = self
            .execute::<CategoryTree>(ctx.org.as_str(), Some(&ctx.org), expected, ctx.metadata(), |tree| {
                tree.decide(CategoryCommand::Move { id: id.clone(), parent: parent.clone() })
            })
            .await?;
        Ok(Changed { id: id.to_string(), version: done.version })
    }
}
