//! Adds a category to the organization's tree.

use domain::Aggregate;
use domain::category::{CategoryCommand, CategoryTree};
use domain::ids::CategoryId;
use domain::text::Name;

use super::Changed;
use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Creates a category named `name` under `parent` (the root when `None`).
    pub async fn create_category(
        &self,
        ctx: &TenantContext,
        name: &str,
        parent: Option<&str>,
    ) -> Result<Changed, AppError> {
        let name = Name::parse(name)?;
        let parent = parent.map(CategoryId::parse).transpose()?;
        let id = CategoryId::from_suffix(&self.ids.next_suffix());
        let done = self
            .execute::<CategoryTree>(ctx.org.as_str(), Some(&ctx.org), None, ctx.metadata(), |tree| {
                tree.decide(CategoryCommand::Create {
                    org: ctx.org.clone(),
                    id: id.clone(),
                    name: name.clone(),
                    parent: parent.clone(),
                })
            })
            .await?;
        Ok(Changed { id: id.to_string(), version: done.version })
    }
}
