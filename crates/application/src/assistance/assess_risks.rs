//! A risk checklist for one engagement, from its items and the organization's lessons learned.

use ai::Request;
use store::read_model::ItemFilter;
use tokio::sync::mpsc::UnboundedSender;

use super::AiAnswer;
use crate::{App, AppError, Store, TenantContext};

/// The engagement's most recently changed items a checklist reads at most.
const ENGAGEMENT_ITEMS: u32 = 30;
/// Lessons learned it reads at most.
const LESSONS: u32 = 20;

impl<S: Store> App<S> {
    /// Assesses engagement `id`'s risks (routed as `risk_assessment`).
    pub async fn assess_risks(
        &self,
        ctx: &TenantContext,
        id: &str,
        local_only: bool,
        sink: Option<&UnboundedSender<String>>,
    ) -> Result<AiAnswer, AppError> {
        let engagement = self.get_engagement(ctx, id).await?;
        let of_engagement = ItemFilter { engagement: Some(id.to_owned()), ..ItemFilter::default() };
        let sources = self.sources(ctx, of_engagement, ENGAGEMENT_ITEMS).await?;
        let lessons_filter = ItemFilter { kind: Some("lesson_learned".to_owned()), ..ItemFilter::default() };
        let lessons = self.sources(ctx, lessons_filter, LESSONS).await?;
        let name = format!("{} ({}, phase {})", engagement.name, engagement.client, engagement.phase);
        self.assist(ctx, Request::AssessRisks { engagement: name, sources, lessons }, local_only, sink).await
    }
}
