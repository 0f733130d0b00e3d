//! Templates of the caller's organization.

use store::read_model::TemplateView;

use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Every template, ordered by name.
    pub async fn list_templates(&self, ctx: &TenantContext) -> Result<Vec<TemplateView>, AppError> {
        Ok(self.store.templates(ctx.org.as_str()).await?)
    }
}
