//! Captures a knowledge item as a draft.

use std::collections::BTreeSet;

use domain::Aggregate;
use domain::category::CategoryTree;
use domain::engagement::Engagement;
use domain::ids::{CategoryId, EngagementId, ItemId, OrgId};
use domain::item::{ItemCommand, ItemContent, ItemEvent, ItemKind, ItemStatus, KnowledgeItem, Metadata};
use store::read_model::ItemView;
use time::OffsetDateTime;

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

/// The item a `Created` event makes, as the projections write it; the stream version and the
/// times come from the commit.
fn created_view(event: &ItemEvent) -> Option<ItemView> {
    let ItemEvent::Created { id, org: _, author, kind, engagement, content, supersedes } = event else { return None };
    Some(ItemView {
        id: id.to_string(),
        kind: kind.as_str().to_owned(),
        status: ItemStatus::Draft.as_str().to_owned(),
        title: content.title.clone(),
        body: content.body.clone(),
        engagement_id: engagement.as_ref().map(ToString::to_string),
        author_id: author.to_string(),
        categories: content.categories.iter().map(ToString::to_string).collect(),
        tags: content.tags.iter().map(|t| t.as_str().to_owned()).collect(),
        metadata: content.metadata.to_json(),
        version: 1,
        supersedes: supersedes.as_ref().map(ToString::to_string),
        superseded_by: None,
        trashed_at: None,
        stream_version: 0,
        created_at: OffsetDateTime::UNIX_EPOCH,
        updated_at: OffsetDateTime::UNIX_EPOCH,
    })
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
        let item = self.create_item_view(ctx, input).await?;
        Ok(Changed { id: item.id, version: item.stream_version })
    }

    /// Creates a draft and answers it as [`App::get_item`] would, built from the event and
    /// the commit instead of read back: the read after the write cost a create about a tenth
    /// of its CPU time (the read connection reloads the pages the commit changed).
    pub async fn create_item_view(&self, ctx: &TenantContext, input: CreateItem) -> Result<ItemView, AppError> {
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
        let mut view = None;
        let done = self
            .execute_new::<KnowledgeItem>(id.as_str(), ctx.metadata(), |item| {
                let events = item.decide(ItemCommand::Create {
                    id: id.clone(),
                    org: ctx.org.clone(),
                    author: ctx.actor.clone(),
                    kind: input.kind,
                    engagement,
                    content,
                    supersedes,
                })?;
                view = events.first().and_then(created_view);
                Ok(events)
            })
            .await?;
        match (view, done.recorded_at) {
            (Some(view), Some(at)) => {
                Ok(ItemView { stream_version: done.version, created_at: at, updated_at: at, ..view })
            }
            // Not reached: a create decides one `Created` event and commits it.
            _ => self.get_item(ctx, id.as_str()).await,
        }
    }
}
