//! Tags suggested for an item, preferring the organization's existing ones.

use ai::local::MAX_SUGGESTED_TAGS;
use ai::{Request, Source};
use domain::tag::Tag;

use super::bounded;
use crate::{App, AppError, Store, TenantContext};

/// The organization's most used tags offered to the model to prefer.
const EXISTING_TAGS: usize = 200;

/// Suggested tags and who suggested them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagSuggestions {
    pub tags: Vec<String>,
    pub model: String,
    pub extractive: bool,
}

impl<S: Store> App<S> {
    /// Tags for item `id` (routed as `realtime`), normalized as tags are, without the ones it
    /// already has.
    pub async fn suggest_tags(
        &self,
        ctx: &TenantContext,
        id: &str,
        local_only: bool,
    ) -> Result<TagSuggestions, AppError> {
        let item = self.get_item(ctx, id).await?;
        let mut existing = self.list_tags(ctx).await?;
        existing.sort_by(|a, b| b.item_count.cmp(&a.item_count).then(a.tag.cmp(&b.tag)));
        let existing = existing.into_iter().take(EXISTING_TAGS).map(|t| t.tag).collect();
        let source = Source { item_id: item.id.clone(), title: item.title.clone(), text: bounded(&item.body) };
        let reply = self.assist(ctx, Request::SuggestTags { source, existing }, local_only, None).await?;
        let mut tags: Vec<String> = Vec::new();
        for raw in reply.text.split([',', '\n']) {
            let cleaned = raw.trim().trim_start_matches(['-', '*', '#']).trim().trim_matches(['"', '\'', '.', '`']);
            let Ok(tag) = Tag::parse(cleaned) else { continue };
            let tag = tag.as_str().to_owned();
            if !item.tags.contains(&tag) && !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        tags.truncate(MAX_SUGGESTED_TAGS);
        Ok(TagSuggestions { tags, model: reply.model, extractive: reply.extractive })
    }
}
