//! Deletes a template; items made from it are unaffected.

use domain::Aggregate;
use domain::template::{Template, TemplateCommand};

use super::Changed;
use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Deletes template `id`.
    pub async fn delete_template(
        &self,
        ctx: &TenantContext,
        id: &str,
        expected: Option<u64>,
    ) -> Result<Changed, AppError> {
        let done = self
            .execute::<Template>(id, Some(&ctx.org), expected, ctx.metadata(), |template| {
                template.decide(TemplateCommand::Delete)
            })
            .await?;
        Ok(Changed { id: id.to_owned(), version: done.version })
    }
}
