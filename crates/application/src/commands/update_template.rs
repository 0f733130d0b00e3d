//! Updates a template's definition.

use domain::Aggregate;
use domain::template::{Template, TemplateCommand};

use super::Changed;
use super::create_template::TemplateInput;
use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Replaces template `id`'s definition; `expected` pins the version the caller saw.
    pub async fn update_template(
        &self,
        ctx: &TenantContext,
        id: &str,
        input: TemplateInput,
        expected: Option<u64>,
    ) -> Result<Changed, AppError> {
        let definition = input.parse()?;
        let done = self
            .execute::<Template>(id, Some(&ctx.org), expected, ctx.metadata(), |template| {
                template.decide(TemplateCommand::Update { definition: definition.clone() })
            })
            .await?;
        Ok(Changed { id: id.to_owned(), version: done.version })
    }
}
