//! The caller's category tree, flat.

use store::read_model::CategoryView;

use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Every category with its parent, ordered by name.
    pub async fn list_categories(&self, ctx: &TenantContext) -> Result<Vec<CategoryView>, AppError> {
        Ok(self.store.categories(ctx.org.as_str()).await?)
    }

    /// The category tree's version (its stream version: the categories' `ETag`) and its
    /// categories.
    pub async fn category_tree(&self, ctx: &TenantContext) -> Result<(u64, Vec<CategoryView>), AppError> {
        let tree = self.load::<domain::category::CategoryTree>(ctx.org.as_str()).await?;
        Ok((tree.version, self.store.categories(ctx.org.as_str()).await?))
    }
}
