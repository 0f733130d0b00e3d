//! Moves an item through review. Publishing a deliverable that supersedes another marks the
//! other `superseded` in the same commit, so a supersession chain never has two current items.

use domain::Aggregate;
use domain::item::{ItemCommand, ItemStatus, KnowledgeItem};

use super::Changed;
use crate::runner::stage;
use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Moves item `id` to status `to`.
    pub async fn transition_item(&self, ctx: &TenantContext, id: &str, to: ItemStatus) -> Result<Changed, AppError> {
        self.execute_across(ctx.metadata(), || async {
            let item = self.load_in::<KnowledgeItem>(&ctx.org, id, "item").await?;
            let events = item.state.decide(ItemCommand::Transition { to })?;
            let changed = Changed { id: id.to_owned(), version: item.version + events.len() as u64 };
            let mut appends = vec![stage(&item, events)];
            if let (ItemStatus::Published, Some(previous)) = (to, &item.state.supersedes) {
                let other = self.load_in::<KnowledgeItem>(&ctx.org, previous.as_str(), "item").await?;
                let item_id =
                    item.state.id.clone().ok_or_else(|| AppError::NotFound(format!("item {id} not found")))?;
                appends.push(stage(&other, other.state.decide(ItemCommand::MarkSuperseded { by: item_id })?));
            }
            Ok((appends, changed))
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

    async fn deliverable(app: &crate::testing::TestApp, ctx: &TenantContext, supersedes: Option<String>) -> String {
        let draft = ItemDraft { title: "Report".into(), ..ItemDraft::default() };
        app.create_item(ctx, CreateItem { kind: ItemKind::Deliverable, engagement: None, draft, supersedes })
            .await
            .expect("create")
            .id
    }

    async fn publish(app: &crate::testing::TestApp, ctx: &TenantContext, id: &str) -> Result<Changed, AppError> {
        app.transition_item(ctx, id, ItemStatus::InReview).await?;
        app.transition_item(ctx, id, ItemStatus::Published).await
    }

    #[tokio::test]
    async fn publishing_a_successor_supersedes_the_current_deliverable() {
        let (app, _dir) = app().await;
        let ctx = tenant(&app, Role::Consultant).await;
        let first = deliverable(&app, &ctx, None).await;
        publish(&app, &ctx, &first).await.expect("publish first");
        let second = deliverable(&app, &ctx, Some(first.clone())).await;
        publish(&app, &ctx, &second).await.expect("publish second");
        let first_view = app.get_item(&ctx, &first).await.expect("first");
        assert_eq!(first_view.status, "superseded");
        assert_eq!(first_view.superseded_by.as_deref(), Some(second.as_str()));
        assert_eq!(app.get_item(&ctx, &second).await.expect("second").status, "published");

        // A rival successor of the same, already superseded deliverable cannot publish.
        let rival = deliverable(&app, &ctx, Some(first.clone())).await;
        let outcome = publish(&app, &ctx, &rival).await;
        assert!(matches!(outcome, Err(AppError::Domain(DomainError::Conflict(_)))), "{outcome:?}");
        assert_eq!(app.get_item(&ctx, &rival).await.expect("rival").status, "in_review", "nothing half-written");
    }
}
