//! Renames a category; names stay unique among siblings.

use domain::Aggregate;
use domain::category::{CategoryCommand, CategoryTree};
use domain::ids::CategoryId;
use domain::text::Name;

use super::Changed;
use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Renames category `id`.
    /// `expected` pins the version of the organization's category tree.
    pub async fn rename_category(
        &self,
        ctx: &TenantContext,
        id: &str,
        name: &str,
        expected: Option<u64>,
    ) -> Result<Changed, AppError> {
        let id = CategoryId::parse(id)?;
        let name = Name::parse(name)?;
        let done = self
            .execute::<CategoryTree>(ctx.org.as_str(), Some(&ctx.org), expected, ctx.metadata(), |tree| {
                tree.decide(CategoryCommand::Rename { id: id.clone(), name: name.clone() })
            })
            .await?;
        Ok(Changed { id: id.to_string(), version: done.version })
    }
}
