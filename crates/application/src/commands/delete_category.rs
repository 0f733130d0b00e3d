//! Deletes a category. A non-empty one needs a target: its items are re-filed there (a new
//! version of each) and its subcategories move under it, all in one commit.

use domain::Aggregate;
use domain::category::{CategoryCommand, CategoryTree};
use domain::ids::CategoryId;
use domain::item::{ItemCommand, KnowledgeItem};

use super::Changed;
use crate::runner::stage;
use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Deletes category `id`, moving what it holds to `reassign_to`.
    pub async fn delete_category(
        &self,
        ctx: &TenantContext,
        id: &str,
        reassign_to: Option<&str>,
        expected: Option<u64>,
    ) -> Result<Changed, AppError> {
        let id = CategoryId::parse(id)?;
        let target = reassign_to.map(CategoryId::parse).transpose()?;
        self.execute_across(ctx.metadata(), || async {
            let tree = self.load_in::<CategoryTree>(&ctx.org, ctx.org.as_str(), "category").await?;
            if let Some(expected) = expected
                && expected != tree.version
            {
                return Err(AppError::VersionConflict { expected, actual: tree.version });
            }
            let filed = self.store.items_in_category(ctx.org.as_str(), id.as_str()).await?;
            let command =
                CategoryCommand::Delete { id: id.clone(), item_count: filed.len() as u64, reassign_to: target.clone() };
            let deleted = tree.state.decide(command)?;
            let mut appends = Vec::with_capacity(filed.len() + 1);
            if let Some(target) = &target {
                for item_id in &filed {
                    let item = self.load_in::<KnowledgeItem>(&ctx.org, item_id, "item").await?;
                    let Some(mut content) = item.state.content().cloned() else { continue };
                    content.categories.remove(&id);
                    content.categories.insert(target.clone());
                    let refiled = item.state.decide(ItemCommand::Edit { content, author: ctx.actor.clone() })?;
                    if !refiled.is_empty() {
                        appends.push(stage(&item, refiled));
                    }
                }
            }
            appends.push(stage(&tree, deleted));
            Ok((appends, Changed { id: id.to_string(), version: tree.version + 1 }))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use domain::DomainError;
    use domain::item::ItemKind;
    use domain::role::Role;

    use super::*;
    use crate::commands::create_item::{CreateItem, ItemDraft};
    use crate::testing::{app, tenant};

    #[tokio::test]
    async fn a_non_empty_category_moves_its_items_to_the_target() {
        let (app, _dir) = app().await;
        let ctx = tenant(&app, Role::Admin).await;
        let old = app.create_category(&ctx, "Old", None).await.expect("old").id;
        let new = app.create_category(&ctx, "New", None).await.expect("new").id;
        let draft = ItemDraft { title: "Filed".into(), categories: vec![old.clone()], ..ItemDraft::default() };
        let item = app
            .create_item(&ctx, CreateItem { kind: ItemKind::Note, engagement: None, draft, supersedes: None })
            .await
            .expect("item");

        let refused = app.delete_category(&ctx, &old, None, None).await;
        assert!(matches!(refused, Err(AppError::Domain(DomainError::RuleViolation(_)))), "{refused:?}");

        app.delete_category(&ctx, &old, Some(&new), None).await.expect("delete with target");
        let view = app.get_item(&ctx, &item.id).await.expect("item");
        assert_eq!(view.categories, vec![new.clone()]);
        assert_eq!(view.version, 2);
        let names: Vec<String> = app.list_categories(&ctx).await.expect("list").into_iter().map(|c| c.name).collect();
        assert_eq!(names, vec!["New"]);
    }
}
