//! One template of the caller's organization.

use store::read_model::TemplateView;

use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    pub async fn get_template(&self, ctx: &TenantContext, id: &str) -> Result<TemplateView, AppError> {
        self.store
            .template(ctx.org.as_str(), id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("template {id} not found")))
    }
}
