//! AI help over the knowledge base: summaries, cited answers, risk checklists, template
//! drafts, tag suggestions, and the usage ledger. Each use case gathers what the caller may
//! read, hands it to the [`ai::Assistant`] with the organization's sensitive names and budget,
//! and records every model call it made. A prompt and its answer are kept only when the
//! organization opted in (`ai_store_transcripts`).

mod ai_usage;
mod ask;
mod assess_risks;
mod draft_from_template;
mod suggest_tags;
mod summarize_item;

use ai::{Budget, Call, Reply, Request, SensitiveName, Source};
use store::ai_ledger::{AiInteraction, AiTranscript};
use store::read_model::{EngagementFilter, ItemFilter, OrganizationView, PageRequest, SortKey};
use time::{Date, OffsetDateTime, Time};
use tokio::sync::mpsc::UnboundedSender;

pub use ai_usage::AiUsage;
pub use ask::Ask;
pub use suggest_tags::TagSuggestions;

use crate::{App, AppError, Store, TenantContext};

/// Characters of one item a prompt quotes at most: enough for its substance, bounded so that a
/// handful of long documents cannot make a prompt (and its cost) unbounded.
const SOURCE_CHARS: usize = 4_000;

/// An answer as the caller sees it.
pub type AiAnswer = Reply;

impl<S: Store> App<S> {
    /// Runs `request` for the caller and records each model call. `local_only` asks for the
    /// built-in extractive provider; `sink` receives the answer's pieces as they come.
    pub(crate) async fn assist(
        &self,
        ctx: &TenantContext,
        request: Request,
        local_only: bool,
        sink: Option<&UnboundedSender<String>>,
    ) -> Result<AiAnswer, AppError> {
        let sensitive = if self.assistant.may_leave_process(request.task(), local_only) {
            self.sensitive_names(ctx).await?
        } else {
            Vec::new()
        };
        let org = self.store.organization(ctx.org.as_str()).await?;
        let budget = self.ai_budget(ctx, org.as_ref()).await?;
        let keep_transcript = org.is_some_and(|o| o.ai_store_transcripts);
        let call = Call { scope: ctx.org.as_str(), request: &request, sensitive: &sensitive, budget, local_only };
        let outcome = self.assistant.run(call, sink).await;
        let at = self.clock.now();
        let calls: Vec<AiInteraction> = outcome
            .attempts
            .iter()
            .map(|a| AiInteraction {
                org_id: ctx.org.to_string(),
                user_id: ctx.actor.to_string(),
                task: a.task.as_str().to_owned(),
                model: a.model.clone(),
                provider: a.provider.to_owned(),
                input_tokens: a.input_tokens,
                output_tokens: a.output_tokens,
                cost_microcents: a.cost_microcents,
                latency_ms: a.latency_ms,
                status: a.status.as_str().to_owned(),
                fallback: a.fallback,
                cache_hit: a.cache_hit,
                at,
            })
            .collect();
        if let Err(error) = self.store.record_ai_calls(&calls).await {
            // The answer exists and was paid for; refusing it now would not unspend anything.
            tracing::error!(%error, calls = calls.len(), "recording AI calls in the ledger failed");
        }
        if keep_transcript && let Ok(reply) = &outcome.result {
            let prompt = ai::prompt::messages(&request)
                .into_iter()
                .map(|m| format!("{}: {}", m.role, m.content))
                .collect::<Vec<_>>()
                .join("\n\n");
            let transcript = AiTranscript {
                org_id: ctx.org.to_string(),
                user_id: ctx.actor.to_string(),
                task: request.task().as_str().to_owned(),
                model: reply.model.clone(),
                prompt,
                answer: reply.text.clone(),
                at,
            };
            if let Err(error) = self.store.record_ai_transcript(&transcript).await {
                tracing::error!(%error, "keeping the AI transcript failed");
            }
        }
        outcome.result.map_err(|error| match error {
            ai::assistant::AiError::BudgetExceeded => AppError::BudgetExceeded(error.to_string()),
            ai::assistant::AiError::Unavailable(why) => AppError::Unavailable(why),
        })
    }

    /// The text of the first `limit` items of `filter` the caller may read, newest first.
    pub(crate) async fn sources(
        &self,
        ctx: &TenantContext,
        filter: ItemFilter,
        limit: u32,
    ) -> Result<Vec<Source>, AppError> {
        let page = PageRequest { sort: SortKey::UpdatedAt, descending: true, limit, after: None };
        let listed = self.list_items(ctx, filter, &page).await?;
        let mut sources = Vec::with_capacity(listed.rows.len());
        for summary in listed.rows {
            if let Some(item) = self.store.item(ctx.org.as_str(), &summary.id).await? {
                sources.push(Source { item_id: item.id, title: item.title, text: bounded(&item.body) });
            }
        }
        Ok(sources)
    }

    /// The names to pseudonymize for this organization: its engagements' clients and its
    /// members' names.
    async fn sensitive_names(&self, ctx: &TenantContext) -> Result<Vec<SensitiveName>, AppError> {
        let org = ctx.org.as_str();
        let mut names = Vec::new();
        let mut page = PageRequest { sort: SortKey::CreatedAt, descending: false, limit: 500, after: None };
        loop {
            let engagements = self.store.list_engagements(org, &EngagementFilter::default(), &page).await?;
            names.extend(engagements.rows.into_iter().map(|e| SensitiveName::client(e.client)));
            match engagements.next {
                Some(next) => page.after = Some(next),
                None => break,
            }
        }
        for member in self.store.members(org).await? {
            if let Some(user) = self.store.user(&member.user_id).await? {
                names.push(SensitiveName::person(user.display_name));
            }
        }
        Ok(names)
    }

    /// The organization's monthly budget and what it spent since the month began (UTC).
    async fn ai_budget(&self, ctx: &TenantContext, org: Option<&OrganizationView>) -> Result<Budget, AppError> {
        let monthly_cents = org.and_then(|o| o.ai_monthly_budget_cents);
        if monthly_cents.is_none() {
            return Ok(Budget::default());
        }
        let spent_microcents = self.store.ai_spent_since(ctx.org.as_str(), month_start(self.clock.now())).await?;
        Ok(Budget { monthly_cents, spent_microcents })
    }
}

/// Midnight UTC on the first of `now`'s month.
pub(crate) fn month_start(now: OffsetDateTime) -> OffsetDateTime {
    let now = now.to_offset(time::UtcOffset::UTC);
    let first = Date::from_calendar_date(now.year(), now.month(), 1).unwrap_or(now.date());
    first.with_time(Time::MIDNIGHT).assume_utc()
}

/// The start of `text`, at most [`SOURCE_CHARS`] characters, cut at a character boundary.
fn bounded(text: &str) -> String {
    match text.char_indices().nth(SOURCE_CHARS) {
        Some((end, _)) => text[..end].to_owned(),
        None => text.to_owned(),
    }
}
