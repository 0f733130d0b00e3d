//! Edits an item's content, making a new version.

use domain::Aggregate;
use domain::item::{ItemCommand, KnowledgeItem};

use super::Changed;
use super::create_item::ItemDraft;
use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Replaces the content of item `id`; `expected` pins the version the caller saw, so two
    /// concurrent edits never silently overwrite each other.
    pub async fn edit_item(
        &self,
        ctx: &TenantContext,
        id: &str,
        draft: ItemDraft,
        expected: Option<u64>,
    ) -> Result<Changed, AppError> {
        let content = self.item_content(&ctx.org, &draft).await?;
        let done = self
            .execute::<KnowledgeItem>(id, Some(&ctx.org), expected, ctx.metadata(), |item| {
                item.decide(ItemCommand::Edit { content: content.clone(), author: ctx.actor.clone() })
            })
            .await?;
        Ok(Changed { id: id.to_owned(), version: done.version })
    }
}

#[cfg(test)]
mod tests {
    use domain::item::ItemKind;
    use domain::role::Role;

    use super::*;
    use crate::commands::create_item::CreateItem;
    use crate::testing::{app, tenant};

    fn draft(title: &str, tags: &[&str]) -> ItemDraft {
        ItemDraft {
            title: title.into(),
            body: "body".into(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            ..ItemDraft::default()
        }
    }

    #[tokio::test]
    async fn edits_make_versions_and_stale_versions_conflict() {
        let (app, _dir) = app().await;
        let ctx = tenant(&app, Role::Consultant).await;
        let item = app
            .create_item(
                &ctx,
                CreateItem { kind: ItemKind::Note, engagement: None, draft: draft("v1", &["a"]), supersedes: None },
            )
            .await
            .expect("create");
        let edited = app.edit_item(&ctx, &item.id, draft("v2", &["b"]), Some(item.version)).await.expect("edit");
        let stale = app.edit_item(&ctx, &item.id, draft("v3", &["c"]), Some(item.version)).await;
        assert!(matches!(stale, Err(AppError::VersionConflict { expected: 1, actual: 2 })), "{stale:?}");
        assert_eq!(edited.version, 2);
        let versions = app.list_item_versions(&ctx, &item.id).await.expect("versions");
        assert_eq!(versions.iter().map(|v| v.title.as_str()).collect::<Vec<_>>(), vec!["v1", "v2"]);
        let tags = app.list_tags(&ctx).await.expect("tags");
        assert_eq!(tags.iter().map(|t| (t.tag.as_str(), t.item_count)).collect::<Vec<_>>(), vec![("b", 1)]);
    }

    #[tokio::test]
    async fn concurrent_unpinned_edits_are_retried_not_lost() {
        let (app, _dir) = app().await;
        let ctx = tenant(&app, Role::Consultant).await;
        let item = app
            .create_item(
                &ctx,
                CreateItem { kind: ItemKind::Note, engagement: None, draft: draft("v1", &[]), supersedes: None },
            )
            .await
            .expect("create");
        let edits: Vec<_> = (0..8)
            .map(|n| {
                let (app, ctx, id) = (app.clone(), ctx.clone(), item.id.clone());
                tokio::spawn(async move { app.edit_item(&ctx, &id, draft(&format!("edit {n}"), &[]), None).await })
            })
            .collect();
        for edit in edits {
            edit.await.expect("task").expect("edit retried until it applied");
        }
        let versions = app.list_item_versions(&ctx, &item.id).await.expect("versions");
        assert_eq!(versions.len(), 9);
    }

    #[tokio::test]
    async fn another_organizations_item_is_not_found() {
        let (app, _dir) = app().await;
        let ours = tenant(&app, Role::Owner).await;
        let theirs = tenant(&app, Role::Owner).await;
        let item = app
            .create_item(
                &ours,
                CreateItem { kind: ItemKind::Note, engagement: None, draft: draft("secret", &[]), supersedes: None },
            )
            .await
            .expect("create");
        let edit = app.edit_item(&theirs, &item.id, draft("stolen", &[]), None).await;
        assert!(matches!(edit, Err(AppError::NotFound(_))), "{edit:?}");
        assert!(matches!(app.get_item(&theirs, &item.id).await, Err(AppError::NotFound(_))));
    }
}
