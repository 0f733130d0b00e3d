//! Creates a template with `{{placeholders}}` and defaults for the items made from it.

use domain::Aggregate;
use domain::ids::{CategoryId, TemplateId};
use domain::item::ItemKind;
use domain::tag::parse_tags;
use domain::template::{Template, TemplateBody, TemplateCommand, TemplateDefinition};
use domain::text::Name;

use super::Changed;
use crate::{App, AppError, Store, TenantContext};

/// Input of [`App::create_template`] and [`App::update_template`].
#[derive(Debug, Clone)]
pub struct TemplateInput {
    pub name: String,
    pub body: String,
    pub default_kind: ItemKind,
    pub default_category: Option<String>,
    pub default_tags: Vec<String>,
}

impl TemplateInput {
    pub(crate) fn parse(&self) -> Result<TemplateDefinition, AppError> {
        Ok(TemplateDefinition {
            name: Name::parse(&self.name)?,
            body: TemplateBody::parse(&self.body)?,
            default_kind: self.default_kind,
            default_category: self.default_category.as_deref().map(CategoryId::parse).transpose()?,
            default_tags: parse_tags(&self.default_tags)?,
        })
    }
}

impl<S: Store> App<S> {
    /// Creates a template; its name is unique in the organization.
    pub async fn create_template(&self, ctx: &TenantContext, input: TemplateInput) -> Result<Changed, AppError> {
        let definition = input.parse()?;
        let id = TemplateId::from_suffix(&self.ids.next_suffix());
        let done = self
            .execute_new::<Template>(id.as_str(), ctx.metadata(), |template| {
                template.decide(TemplateCommand::Create {
                    id: id.clone(),
                    org: ctx.org.clone(),
                    definition: definition.clone(),
                })
            })
            .await?;
        Ok(Changed { id: id.to_string(), version: done.version })
    }
}
