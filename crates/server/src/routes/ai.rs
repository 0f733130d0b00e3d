//! AI help (DESIGN section 8): item summaries, cited answers, engagement risk checklists,
//! template drafts, tag suggestions and the usage ledger. Each answer comes as JSON, or, with `"stream": true`, as Server-Sent
//! Events: `delta` events carry the text as it arrives (`{"text": "..."}`), then one `done`
//! event carries the whole answer with its citations, or one `error` event the error envelope.
//! An error found before the first piece (not found, budget spent) is a plain error response.

use std::convert::Infallible;
use std::future::Future;

use axum::Json;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime, Time};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::sync::oneshot;

use application::assistance::{AiAnswer, Ask};
use application::{App, AppError, Store, TenantContext};

use crate::AppState;
use crate::auth::{Authorized, perm};
use crate::error::{ApiError, ErrorEnvelope};
use crate::extract::{Body, Path, Query};

/// How an answer is wanted.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssistOptions {
    /// Stream the answer as Server-Sent Events.
    #[serde(default)]
    pub stream: bool,
    /// Answer with the built-in extractive provider only (free, offline; the fallback when the
    /// monthly budget is spent).
    #[serde(default)]
    pub local: bool,
}

/// `POST /ask`'s body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AskRequest {
    #[schema(min_length = 1, max_length = 2000)]
    pub question: String,
    /// Draw only on this engagement's items.
    #[schema(pattern = r"^eng_[0-9A-Za-z]{1,64}$")]
    pub engagement_id: Option<String>,
    #[serde(default)]
    pub stream: bool,
    #[serde(default)]
    pub local: bool,
}

/// A cited passage.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CitationBody {
    pub item_id: String,
    pub title: String,
    /// The words quoted from the item.
    pub passage: String,
}

/// An answer, its citations and who answered.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AnswerResponse {
    pub answer: String,
    pub citations: Vec<CitationBody>,
    /// The model that answered (`local` for the built-in extractive provider).
    pub model: String,
    /// Whether the answer is extractive (quoted, not generated).
    pub extractive: bool,
}

impl From<AiAnswer> for AnswerResponse {
    fn from(answer: AiAnswer) -> Self {
        Self {
            answer: answer.text,
            citations: answer
                .citations
                .into_iter()
                .map(|c| CitationBody { item_id: c.item_id, title: c.title, passage: c.passage })
                .collect(),
            model: answer.model,
            extractive: answer.extractive,
        }
    }
}

/// One Server-Sent Event of a streamed answer (documentation only: the stream is written by
/// [`stream_answer`]).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[allow(dead_code, reason = "describes the stream's events in the OpenAPI document")]
pub struct AnswerEvent {
    /// `delta` (a piece of the answer), `done` (the whole answer) or `error`.
    #[schema(pattern = "^(delta|done|error)$")]
    event: String,
    /// JSON text: `{"text": "..."}` for `delta`, an `AnswerResponse` for `done`, the error
    /// envelope for `error`.
    data: String,
}

/// `POST /items/{id}/summary`.
#[utoipa::path(
    post,
    path = "/api/v1/items/{id}/summary",
    tag = "ai",
    summary = "Summarize an item",
    description = "Routed as `quick_summary`. Client data is pseudonymized before a prompt leaves the server; the built-in `local` provider answers extractively.",
    params(("id" = String, Path, pattern = r"^itm_[0-9A-Za-z]{1,64}$")),
    request_body = AssistOptions,
    responses(
        (status = 200, description = "The summary (JSON), or its Server-Sent Events with `stream`", content((AnswerResponse = "application/json"), (AnswerEvent = "text/event-stream"))),
        (status = "default", description = "An error, in the envelope", body = ErrorEnvelope)
    )
)]
pub async fn summary<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::UseAi>,
    Path(id): Path<String>,
    Body(options): Body<AssistOptions>,
) -> Result<Response, ApiError> {
    let local = options.local;
    respond(&state.app, who.ctx(), options.stream, move |app, ctx, sink| async move {
        app.summarize_item(&ctx, &id, local, sink.as_ref()).await
    })
    .await
}

/// `POST /ask`.
#[utoipa::path(
    post,
    path = "/api/v1/ask",
    tag = "ai",
    summary = "Ask the knowledge base",
    description = "Routed as `knowledge_qa`: the best items of a hybrid search over what the caller may read are the sources, and the answer cites them.",
    request_body = AskRequest,
    responses(
        (status = 200, description = "The answer (JSON), or its Server-Sent Events with `stream`", content((AnswerResponse = "application/json"), (AnswerEvent = "text/event-stream"))),
        (status = "default", description = "An error, in the envelope", body = ErrorEnvelope)
    )
)]
pub async fn ask<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::UseAi>,
    Body(input): Body<AskRequest>,
) -> Result<Response, ApiError> {
    let ask = Ask { question: input.question, engagement: input.engagement_id, local_only: input.local };
    respond(&state.app, who.ctx(), input.stream, move |app, ctx, sink| async move {
        app.ask(&ctx, ask, sink.as_ref()).await
    })
    .await
}

/// `POST /engagements/{id}/risk-assessment`.
#[utoipa::path(
    post,
    path = "/api/v1/engagements/{id}/risk-assessment",
    tag = "ai",
    summary = "Assess an engagement's risks",
    description = "Routed as `risk_assessment`: a checklist drawn from the engagement's items and the organization's lessons learned, citing them.",
    params(("id" = String, Path, pattern = r"^eng_[0-9A-Za-z]{1,64}$")),
    request_body = AssistOptions,
    responses(
        (status = 200, description = "The checklist (JSON), or its Server-Sent Events with `stream`", content((AnswerResponse = "application/json"), (AnswerEvent = "text/event-stream"))),
        (status = "default", description = "An error, in the envelope", body = ErrorEnvelope)
    )
)]
pub async fn risk_assessment<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::UseAi>,
    Path(id): Path<String>,
    Body(options): Body<AssistOptions>,
) -> Result<Response, ApiError> {
    let local = options.local;
    respond(&state.app, who.ctx(), options.stream, move |app, ctx, sink| async move {
        app.assess_risks(&ctx, &id, local, sink.as_ref()).await
    })
    .await
}

/// `POST /templates/{id}/draft`'s body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftRequest {
    /// The engagement whose knowledge fills the template.
    #[schema(pattern = r"^eng_[0-9A-Za-z]{1,64}$")]
    pub engagement_id: String,
    #[serde(default)]
    pub stream: bool,
    #[serde(default)]
    pub local: bool,
}

/// `POST /templates/{id}/draft`.
#[utoipa::path(
    post,
    path = "/api/v1/templates/{id}/draft",
    tag = "ai",
    summary = "Draft a document from a template and an engagement's knowledge",
    description = "Routed as `technical_docs`: `client`, `engagement` and `date` placeholders take the engagement's values, the others are filled from its items (cited). The draft is returned, not saved; instantiate the template to keep it.",
    params(("id" = String, Path, pattern = r"^tpl_[0-9A-Za-z]{1,64}$")),
    request_body = DraftRequest,
    responses(
        (status = 200, description = "The draft (JSON), or its Server-Sent Events with `stream`", content((AnswerResponse = "application/json"), (AnswerEvent = "text/event-stream"))),
        (status = "default", description = "An error, in the envelope", body = ErrorEnvelope)
    )
)]
pub async fn draft<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::UseAi>,
    Path(id): Path<String>,
    Body(input): Body<DraftRequest>,
) -> Result<Response, ApiError> {
    let (engagement, local) = (input.engagement_id, input.local);
    respond(&state.app, who.ctx(), input.stream, move |app, ctx, sink| async move {
        app.draft_from_template(&ctx, &id, &engagement, local, sink.as_ref()).await
    })
    .await
}

/// `POST /items/{id}/tag-suggestions`'s body.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagSuggestionRequest {
    /// Suggest with the built-in extractive provider only.
    #[serde(default)]
    pub local: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TagSuggestionResponse {
    /// At most five, normalized as tags are, none the item already has.
    pub tags: Vec<String>,
    pub model: String,
    /// Whether the tags were picked extractively (existing tags and recurring words).
    pub extractive: bool,
}

/// `POST /items/{id}/tag-suggestions`.
#[utoipa::path(
    post,
    path = "/api/v1/items/{id}/tag-suggestions",
    tag = "ai",
    summary = "Suggest tags for an item",
    description = "Routed as `realtime`; the organization's existing tags are preferred. Nothing is changed: add the tags you keep with `PATCH /items/{id}`.",
    params(("id" = String, Path, pattern = r"^itm_[0-9A-Za-z]{1,64}$")),
    request_body = TagSuggestionRequest,
    responses((status = 200, description = "Suggestions", body = TagSuggestionResponse), (status = "default", description = "An error, in the envelope", body = ErrorEnvelope))
)]
pub async fn tag_suggestions<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::UseAi>,
    Path(id): Path<String>,
    Body(input): Body<TagSuggestionRequest>,
) -> Result<Json<TagSuggestionResponse>, ApiError> {
    let found = state.app.suggest_tags(who.ctx(), &id, input.local).await?;
    Ok(Json(TagSuggestionResponse { tags: found.tags, model: found.model, extractive: found.extractive }))
}

/// What the answering task hands to the response.
enum Piece {
    Text(String),
    Done(Result<AiAnswer, AppError>),
}

/// Runs `work` and answers with JSON, or streams it as Server-Sent Events.
async fn respond<S, F, Fut>(app: &App<S>, ctx: &TenantContext, stream: bool, work: F) -> Result<Response, ApiError>
where
    S: Store,
    F: FnOnce(App<S>, TenantContext, Option<UnboundedSender<String>>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<AiAnswer, AppError>> + Send + 'static,
{
    if !stream {
        let answer = work(app.clone(), ctx.clone(), None).await?;
        return Ok(Json(AnswerResponse::from(answer)).into_response());
    }
    stream_answer(app, ctx, work).await
}

/// Streams `work`'s answer as Server-Sent Events (the API's and the web UI's). The call runs in
/// its own task, so a client that goes away does not cut a paid call short of its record.
pub(crate) async fn stream_answer<S, F, Fut>(app: &App<S>, ctx: &TenantContext, work: F) -> Result<Response, ApiError>
where
    S: Store,
    F: FnOnce(App<S>, TenantContext, Option<UnboundedSender<String>>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<AiAnswer, AppError>> + Send + 'static,
{
    let (sink, mut pieces) = unbounded_channel();
    let (finished, outcome) = oneshot::channel();
    let answering = work(app.clone(), ctx.clone(), Some(sink));
    tokio::spawn(async move {
        let _ = finished.send(answering.await);
    });
    // Errors found before anything was said keep their status.
    let (first, outcome) = match pieces.recv().await {
        Some(text) => (Piece::Text(text), Some(outcome)),
        None => match outcome.await {
            Ok(Err(error)) => return Err(error.into()),
            Ok(done) => (Piece::Done(done), None),
            Err(_) => return Err(ApiError::internal()),
        },
    };
    let events = stream::unfold(Some((Some(first), pieces, outcome)), next_event);
    Ok(Sse::new(events).keep_alive(KeepAlive::default()).into_response())
}

type StreamState = (Option<Piece>, UnboundedReceiver<String>, Option<oneshot::Receiver<Result<AiAnswer, AppError>>>);

/// The next event: the pending piece, then each piece of text, then the outcome.
async fn next_event(state: Option<StreamState>) -> Option<(Result<Event, Infallible>, Option<StreamState>)> {
    let (pending, mut pieces, mut outcome) = state?;
    let piece = match pending {
        Some(piece) => piece,
        None => match pieces.recv().await {
            Some(text) => Piece::Text(text),
            None => match outcome.take()?.await {
                Ok(done) => Piece::Done(done),
                Err(_) => Piece::Done(Err(AppError::Internal("the answering task stopped".to_owned()))),
            },
        },
    };
    Some(match piece {
        Piece::Text(text) => {
            let event = Event::default().event("delta").data(serde_json::json!({ "text": text }).to_string());
            (Ok(event), Some((None, pieces, outcome)))
        }
        Piece::Done(Ok(answer)) => {
            let body = serde_json::to_string(&AnswerResponse::from(answer)).unwrap_or_default();
            (Ok(Event::default().event("done").data(body)), None)
        }
        Piece::Done(Err(error)) => {
            let body = ApiError::from(error).envelope_json();
            (Ok(Event::default().event("error").data(body)), None)
        }
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UsageQuery {
    /// First day included (`YYYY-MM-DD`, UTC); the first of this month by default.
    #[param(pattern = r"^\d{4}-\d{2}-\d{2}$")]
    since: Option<String>,
    /// First day excluded (`YYYY-MM-DD`, UTC); after today by default.
    #[param(pattern = r"^\d{4}-\d{2}-\d{2}$")]
    until: Option<String>,
}

/// Calls grouped by day, task, model and user.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UsageRow {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    pub task: String,
    pub model: String,
    pub user_id: String,
    pub calls: u64,
    pub failures: u64,
    pub cache_hits: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Millionths of a cent, exact.
    pub cost_microcents: u64,
    /// Cents.
    pub cost_cents: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UsageResponse {
    #[serde(with = "time::serde::rfc3339")]
    pub since: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub until: OffsetDateTime,
    pub data: Vec<UsageRow>,
    /// This calendar month's spending (UTC), in cents.
    pub month_spent_cents: f64,
    /// The organization's monthly budget in cents; none means no cap.
    pub monthly_budget_cents: Option<u64>,
}

/// `GET /ai/usage`.
#[utoipa::path(
    get,
    path = "/api/v1/ai/usage",
    tag = "ai",
    summary = "AI usage and costs",
    description = "The organization's model calls by day, task, model and user, with tokens, costs, failures and cache hits, and the month's spending against the budget.",
    params(UsageQuery),
    responses((status = 200, description = "Usage", body = UsageResponse), (status = "default", description = "An error, in the envelope", body = ErrorEnvelope))
)]
pub async fn usage<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::ReadAiUsage>,
    Query(query): Query<UsageQuery>,
) -> Result<Json<UsageResponse>, ApiError> {
    let since = query.since.as_deref().map(|d| day("since", d)).transpose()?;
    let until = query.until.as_deref().map(|d| day("until", d)).transpose()?;
    let usage = state.app.ai_usage(who.ctx(), since, until).await?;
    let cents = |microcents: u64| microcents as f64 / 1_000_000.0;
    Ok(Json(UsageResponse {
        since: usage.since,
        until: usage.until,
        data: usage
            .rows
            .into_iter()
            .map(|r| UsageRow {
                day: r.day,
                task: r.task,
                model: r.model,
                user_id: r.user_id,
                calls: r.calls,
                failures: r.failures,
                cache_hits: r.cache_hits,
                input_tokens: r.input_tokens,
                output_tokens: r.output_tokens,
                cost_cents: cents(r.cost_microcents),
                cost_microcents: r.cost_microcents,
            })
            .collect(),
        month_spent_cents: cents(usage.month_spent_microcents),
        monthly_budget_cents: usage.monthly_budget_cents,
    }))
}

/// Midnight UTC of `text` (`YYYY-MM-DD`).
fn day(field: &str, text: &str) -> Result<OffsetDateTime, ApiError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, &format)
        .map(|d| d.with_time(Time::MIDNIGHT).assume_utc())
        .map_err(|_| ApiError::field(field, "must be a date as YYYY-MM-DD"))
}
