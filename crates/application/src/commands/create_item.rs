//! Captures a knowledge item as a draft.

use std::collections::BTreeSet;

use domain::Aggregate;
use domain::category::CategoryTree;
use domain::engagement::Engagement;
use domain::ids::{CategoryId, EngagementId, ItemId, OrgId};
use domain::item::{ItemCommand, ItemContent, ItemKind, KnowledgeItem, Metadata};

use super::Changed;
use crate::{App, AppError, Store, TenantContext};

/// The editable content of an item, as the caller sends it.
#[derive(Debug, Clone, Default)]
pub struct ItemDraft {
    pub title: String,
    pub body: String,
    pub categories: Vec<String>,
    pub tags: Vec<String>,
    pub metadata: Option<serde_json::Value>,
}

/// Input of [`App::create_item`].
#[derive(Debug, Clone)]
pub struct CreateItem {
    pub kind: ItemKind,
    pub engagement: Option<String>,
    pub draft: ItemDraft,
    /// A deliverable this one replaces once published.
    pub supersedes: Option<String>,
}

impl<S: Store> App<S> {
    /// Validates a draft into content whose categories all exist in the organization.
    pub(crate) async fn item_content(&self, org: &OrgId, draft: &ItemDraft) -> Result<ItemContent, AppError> {
        let categories = draft.categories.iter().map(|c| CategoryId::parse(c)).collect::<Result<BTreeSet<_>, _>>()?;
        if !categories.is_empty() {
            let tree = self.load::<CategoryTree>(org.as_str()).await?;
            if let Some(missing) = categories.iter().find(|c| !tree.state.nodes.contains_key(*c)) {
                return Err(AppError::NotFound(format!("category {missing} not found")));
            }
        }
        let metadata = match &draft.metadata {
            Some(value) => Metadata::parse(value.clone())?,
            None => Metadata::default(),
        };
        Ok(ItemContent::new(&draft.title, draft.body.clone(), categories, &draft.tags, metadata)?)
    }

    /// Creates a draft item and returns its id.
    pub async fn create_item(&self, ctx: &TenantContext, input: CreateItem) -> Result<Changed, AppError> {
        let content = self.item_content(&ctx.org, &input.draft).await?;
        let engagement = match &input.engagement {
            Some(raw) => {
                let id = EngagementId::parse(raw)?;
                self.load_in::<Engagement>(&ctx.org, id.as_str(), "engagement").await?;
                Some(id)
            }
            None => None,
        };
        let supersedes = match &input.supersedes {
            Some(raw) => {
                let id = ItemId::parse(raw)?;
                self.load_in::<KnowledgeItem>(&ctx.org, id.as_str(), "item").await?;
                Some(id)
            }
            None => None,
        };
        let id = ItemId::from_suffix(&self.ids.next_suffix());
        let done = self
            .execute_new::<KnowledgeItem>(id.as_str(), ctx.metadata(), |item| {
                item.decide(ItemCommand::Create {
                    id: id.clone(),
                    org: ctx.org.clone(),
                    author: ctx.actor.clone(),
                    kind: input.kind,
                    engagement: engagement.clone(),
                    content: content.clone(),
                    supersedes: supersedes.clone(),
                })
            })
            .await?;
        Ok(Changed { id: id.to_string(), version: done.version })
    }
}
