//! A template filled from an engagement's knowledge: a draft to review, not yet an item.

use ai::{Request, Source};
use domain::template::TemplateBody;
use store::read_model::ItemFilter;
use tokio::sync::mpsc::UnboundedSender;

use super::AiAnswer;
use crate::{App, AppError, Store, TenantContext};

/// The engagement's most recently changed items a draft reads at most.
const ENGAGEMENT_ITEMS: u32 = 30;

impl<S: Store> App<S> {
    /// Drafts template `template` for engagement `engagement` (routed as `technical_docs`). The
    /// client's and engagement's names and today's date fill `client`, `engagement` and `date`.
    pub async fn draft_from_template(
        &self,
        ctx: &TenantContext,
        template: &str,
        engagement: &str,
        local_only: bool,
        sink: Option<&UnboundedSender<String>>,
    ) -> Result<AiAnswer, AppError> {
        let view = self.get_template(ctx, template).await?;
        let engagement = self.get_engagement(ctx, engagement).await?;
        let body = TemplateBody::parse(&view.body)?;
        let placeholders: Vec<String> = body.placeholders().iter().cloned().collect();
        let today = self.clock.now().date().to_string();
        let facts = [
            ("client", engagement.client.clone()),
            ("client_name", engagement.client.clone()),
            ("engagement", engagement.name.clone()),
            ("engagement_name", engagement.name.clone()),
            ("project", engagement.name.clone()),
            ("date", today.clone()),
            ("today", today),
        ];
        let known = facts
            .into_iter()
            .filter(|(name, _)| placeholders.iter().any(|p| p == name))
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        let of_engagement = ItemFilter { engagement: Some(engagement.id.clone()), ..ItemFilter::default() };
        let sources: Vec<Source> = self.sources(ctx, of_engagement, ENGAGEMENT_ITEMS).await?;
        let request = Request::DraftTemplate { template: view.body, placeholders, known, sources };
        self.assist(ctx, request, local_only, sink).await
    }
}
