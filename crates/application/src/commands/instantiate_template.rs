//! Creates an item from a template: the body with every placeholder filled, and the
//! template's default kind, category and tags.

use std::collections::BTreeMap;

use domain::template::Template;

use super::Changed;
use super::create_item::{CreateItem, ItemDraft};
use crate::{App, AppError, Store, TenantContext};

/// Input of [`App::instantiate_template`].
#[derive(Debug, Clone)]
pub struct InstantiateTemplate {
    pub template: String,
    pub title: String,
    pub values: BTreeMap<String, String>,
    pub engagement: Option<String>,
}

impl<S: Store> App<S> {
    /// Renders the template with `values` (all placeholders, no unknown ones) into a new draft item.
    pub async fn instantiate_template(
        &self,
        ctx: &TenantContext,
        input: InstantiateTemplate,
    ) -> Result<Changed, AppError> {
        let template = self.load_in::<Template>(&ctx.org, &input.template, "template").await?;
        let body = template.state.instantiate(&input.values)?;
        let definition = template
            .state
            .definition
            .ok_or_else(|| AppError::NotFound(format!("template {} not found", input.template)))?;
        let draft = ItemDraft {
            title: input.title,
            body,
            categories: definition.default_category.iter().map(ToString::to_string).collect(),
            tags: definition.default_tags.iter().map(|t| t.as_str().to_owned()).collect(),
            metadata: Some(serde_json::json!({ "template_id": input.template })),
        };
        self.create_item(
            ctx,
            CreateItem { kind: definition.default_kind, engagement: input.engagement, draft, supersedes: None },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use domain::DomainError;
    use domain::item::ItemKind;
    use domain::role::Role;

    use super::*;
    use crate::commands::create_template::TemplateInput;
    use crate::testing::{app, tenant};

    #[tokio::test]
    async fn instantiation_fills_placeholders_and_refuses_missing_ones() {
        let (app, _dir) = app().await;
        let ctx = tenant(&app, Role::Consultant).await;
        let template = app
            .create_template(
                &ctx,
                TemplateInput {
                    name: "Kick-off".into(),
                    body: "Kick-off with {{client}}".into(),
                    default_kind: ItemKind::MeetingNotes,
                    default_category: None,
                    default_tags: vec!["Kick-off".into()],
                },
            )
            .await
            .expect("template");
        let values = BTreeMap::from([("client".to_owned(), "Globex".to_owned())]);
        let input = InstantiateTemplate {
            template: template.id.clone(),
            title: "Globex kick-off".into(),
            values,
            engagement: None,
        };
        let item = app.instantiate_template(&ctx, input.clone()).await.expect("instantiate");
        let view = app.get_item(&ctx, &item.id).await.expect("item");
        assert_eq!((view.body.as_str(), view.kind.as_str()), ("Kick-off with Globex", "meeting_notes"));
        assert_eq!(view.tags, vec!["kick-off"]);

        let missing = app.instantiate_template(&ctx, InstantiateTemplate { values: BTreeMap::new(), ..input }).await;
        assert!(matches!(missing, Err(AppError::Domain(DomainError::Validation { .. }))), "{missing:?}");
        let duplicate = app
            .create_template(
                &ctx,
                TemplateInput {
                    name: "kick-off".into(),
                    body: String::new(),
                    default_kind: ItemKind::Note,
                    default_category: None,
                    default_tags: vec![],
                },
            )
            .await;
        assert!(matches!(duplicate, Err(AppError::Rejected(_))), "{duplicate:?}");
    }
}
