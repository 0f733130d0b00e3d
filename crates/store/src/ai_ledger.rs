//! The AI cost ledger port: one row per model call (task, model, tokens, cost, latency,
//! status, fallback, cache hit, actor), never the prompt or the answer; and, only for an
//! organization that opted in, the transcripts of its requests. Like search history it
//! lives beside the event log (ADR 0004): it is high-volume accounting, not business state.

use std::future::Future;

use time::OffsetDateTime;

use crate::StoreError;

/// One model call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AiInteraction {
    pub org_id: String,
    pub user_id: String,
    pub task: String,
    pub model: String,
    pub provider: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Millionths of a cent.
    pub cost_microcents: u64,
    pub latency_ms: u64,
    pub status: String,
    pub fallback: bool,
    pub cache_hit: bool,
    pub at: OffsetDateTime,
}

/// The prompt and answer of one AI request, kept only when the organization opts in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AiTranscript {
    pub org_id: String,
    pub user_id: String,
    pub task: String,
    pub model: String,
    pub prompt: String,
    pub answer: String,
    pub at: OffsetDateTime,
}

/// Calls grouped by day (UTC), task, model and user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AiUsageRow {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub task: String,
    pub model: String,
    pub user_id: String,
    pub calls: u64,
    pub failures: u64,
    pub cache_hits: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_microcents: u64,
}

/// Where the ledger lives. Every read is scoped to one organization.
pub trait AiLedger: Send + Sync + 'static {
    /// Records `calls` together.
    fn record_ai_calls(&self, calls: &[AiInteraction]) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Keeps a transcript (the caller checked the organization's opt-in).
    fn record_ai_transcript(&self, transcript: &AiTranscript) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The organization's `limit` most recent transcripts, newest first.
    fn ai_transcripts(
        &self,
        org_id: &str,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<AiTranscript>, StoreError>> + Send;

    /// What the organization's calls since `since` cost, in millionths of a cent.
    fn ai_spent_since(
        &self,
        org_id: &str,
        since: OffsetDateTime,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// The organization's calls in `[since, until)`, grouped, newest day first.
    fn ai_usage(
        &self,
        org_id: &str,
        since: OffsetDateTime,
        until: OffsetDateTime,
    ) -> impl Future<Output = Result<Vec<AiUsageRow>, StoreError>> + Send;
}
