//! The caller's category tree, flat.

use store::read_model::CategoryView;

use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Every category with its parent, ordered by name.
    pub async fn list_categories(&self, ctx: &TenantContext) -> Result<Vec<CategoryView>, AppError> {
        Ok(self.store.categories(ctx.org.as_str()).await?)
    }
}
