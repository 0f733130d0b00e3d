//! AI help in the browser: the Ask page, an item's summary and an engagement's risk checklist,
//! and the organization's AI usage. Each form works without JavaScript (the answer comes back
//! as a page); with `app.js` it asks for `stream=1` and the answer streams into the page over
//! Server-Sent Events, through the same use cases as the API.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use tokio::sync::mpsc::UnboundedSender;

use application::assistance::{AiAnswer, Ask};
use application::security::permissions::Permission;
use application::{App, AppError, Store, TenantContext};

use super::{filled, form};
use crate::AppState;
use crate::routes::ai::stream_answer;
use crate::web::{Chrome, Page, WebError, render};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AssistForm {
    #[allow(dead_code, reason = "checked by the CSRF middleware")]
    csrf: Option<String>,
    #[serde(default)]
    question: String,
    #[serde(default)]
    engagement: String,
    /// `on` when "extractive answers only" is ticked.
    #[serde(default)]
    local: Option<String>,
    /// `1` when `app.js` wants the answer streamed.
    #[serde(default)]
    stream: Option<String>,
}

impl AssistForm {
    fn streamed(&self) -> bool {
        self.stream.as_deref() == Some("1")
    }

    fn local(&self) -> bool {
        self.local.is_some()
    }
}

#[derive(Template)]
#[template(path = "ask.html")]
struct AskPage {
    chrome: Option<Chrome>,
    question: String,
    engagement: String,
    local: bool,
    engagements: Vec<(String, String)>,
    answer: Option<AiAnswer>,
}

#[derive(Template)]
#[template(path = "answer.html")]
struct AnswerPage {
    chrome: Option<Chrome>,
    heading: String,
    back: String,
    answer: AiAnswer,
}

/// `GET /ask`.
pub async fn ask_form<S: Store>(State(state): State<AppState<S>>, page: Page) -> Result<Response, WebError> {
    page.require(Permission::UseAi)?;
    let engagements = super::items::engagement_options(&state, page.ctx()).await?;
    Ok(render(&AskPage {
        chrome: Some(page.chrome("ask")),
        question: String::new(),
        engagement: String::new(),
        local: false,
        engagements,
        answer: None,
    }))
}

/// `POST /ask`.
pub async fn ask<S: Store>(State(state): State<AppState<S>>, page: Page, body: Bytes) -> Result<Response, WebError> {
    let input = assist_form(&page, &body)?;
    let ask = Ask {
        question: input.question.clone(),
        engagement: filled(Some(input.engagement.clone())),
        local_only: input.local(),
    };
    if input.streamed() {
        return stream(
            &state.app,
            page.ctx(),
            move |app, ctx, sink| async move { app.ask(&ctx, ask, sink.as_ref()).await },
        )
        .await;
    }
    let answer = state.app.ask(page.ctx(), ask, None).await?;
    let engagements = super::items::engagement_options(&state, page.ctx()).await?;
    Ok(render(&AskPage {
        chrome: Some(page.chrome("ask")),
        local: input.local(),
        question: input.question,
        engagement: input.engagement,
        engagements,
        answer: Some(answer),
    }))
}

/// `POST /items/{id}/summary`.
pub async fn summary<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let input = assist_form(&page, &body)?;
    let local = input.local();
    let titled = async {
        let item = state.app.get_item(page.ctx(), &id).await?;
        Ok(("items", format!("Summary of “{}”", item.title), format!("/items/{id}")))
    };
    let target = id.clone();
    let work = move |app: App<S>, ctx: TenantContext, sink: Option<UnboundedSender<String>>| async move {
        app.summarize_item(&ctx, &target, local, sink.as_ref()).await
    };
    answer_page(&state, &page, input.streamed(), titled, work).await
}

/// `POST /engagements/{id}/risks`.
pub async fn risks<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let input = assist_form(&page, &body)?;
    let local = input.local();
    let titled = async {
        let engagement = state.app.get_engagement(page.ctx(), &id).await?;
        Ok(("engagements", format!("Risks of “{}”", engagement.name), format!("/engagements/{id}")))
    };
    let target = id.clone();
    let work = move |app: App<S>, ctx: TenantContext, sink: Option<UnboundedSender<String>>| async move {
        app.assess_risks(&ctx, &target, local, sink.as_ref()).await
    };
    answer_page(&state, &page, input.streamed(), titled, work).await
}

/// `POST /templates/{id}/draft`.
pub async fn draft<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let input = assist_form(&page, &body)?;
    let (engagement, local) = (input.engagement.clone(), input.local());
    let titled = async {
        let template = state.app.get_template(page.ctx(), &id).await?;
        Ok(("templates", format!("Draft from “{}”", template.name), format!("/templates/{id}")))
    };
    let target = id.clone();
    let work = move |app: App<S>, ctx: TenantContext, sink: Option<UnboundedSender<String>>| async move {
        app.draft_from_template(&ctx, &target, &engagement, local, sink.as_ref()).await
    };
    answer_page(&state, &page, input.streamed(), titled, work).await
}

/// The form of an AI action, once the caller is known to be allowed to ask.
fn assist_form(page: &Page, body: &[u8]) -> Result<AssistForm, WebError> {
    page.require(Permission::UseAi)?;
    form(body)
}

/// Streams `work`'s answer, or runs it and shows it on a page titled by `titled` (the
/// navigation section, the heading, and where "Back" goes).
async fn answer_page<S, T, F, Fut>(
    state: &AppState<S>,
    page: &Page,
    streamed: bool,
    titled: T,
    work: F,
) -> Result<Response, WebError>
where
    S: Store,
    T: Future<Output = Result<(&'static str, String, String), AppError>>,
    F: FnOnce(App<S>, TenantContext, Option<UnboundedSender<String>>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<AiAnswer, AppError>> + Send + 'static,
{
    if streamed {
        return stream(&state.app, page.ctx(), work).await;
    }
    let (section, heading, back) = titled.await?;
    let answer = work(App::clone(&state.app), page.ctx().clone(), None).await?;
    Ok(render(&AnswerPage { chrome: Some(page.chrome(section)), heading, back, answer }))
}

/// `POST /items/{id}/tag-suggestions`: the suggestions as a page (add the ones you keep in the
/// editor).
pub async fn tag_suggestions<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let input = assist_form(&page, &body)?;
    let item = state.app.get_item(page.ctx(), &id).await?;
    let found = state.app.suggest_tags(page.ctx(), &id, input.local()).await?;
    let text = if found.tags.is_empty() {
        "No tag to suggest beyond the ones the item has.".to_owned()
    } else {
        format!("Suggested tags: {}. Add the ones you keep in the editor.", found.tags.join(", "))
    };
    Ok(render(&AnswerPage {
        chrome: Some(page.chrome("items")),
        heading: format!("Tags for “{}”", item.title),
        back: format!("/items/{id}/edit"),
        answer: AiAnswer { text, citations: Vec::new(), model: found.model, extractive: found.extractive },
    }))
}

/// The answer as Server-Sent Events; an error before the first piece keeps its status and the
/// API's JSON envelope, which `app.js` shows.
async fn stream<S, F, Fut>(app: &App<S>, ctx: &TenantContext, work: F) -> Result<Response, WebError>
where
    S: Store,
    F: FnOnce(App<S>, TenantContext, Option<UnboundedSender<String>>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<AiAnswer, AppError>> + Send + 'static,
{
    Ok(stream_answer(app, ctx, work).await.unwrap_or_else(axum::response::IntoResponse::into_response))
}

struct UsageRow {
    day: String,
    task: String,
    model: String,
    user: String,
    calls: u64,
    failures: u64,
    cache_hits: u64,
    tokens: String,
    cost: String,
}

#[derive(Template)]
#[template(path = "ai_usage.html")]
struct UsagePage {
    chrome: Option<Chrome>,
    rows: Vec<UsageRow>,
    spent: String,
    budget: Option<String>,
}

/// Millionths of a cent as cents, with sub-cent precision kept visible.
fn cents(microcents: u64) -> String {
    format!("{:.4}", microcents as f64 / 1_000_000.0)
}

/// `GET /admin/ai-usage`: this month's calls by day, task, model and user.
pub async fn usage<S: Store>(State(state): State<AppState<S>>, page: Page) -> Result<Response, WebError> {
    page.require(Permission::ReadAiUsage)?;
    let usage = state.app.ai_usage(page.ctx(), None, None).await?;
    let names = super::member_names(&state, &page).await?;
    let rows = usage
        .rows
        .into_iter()
        .map(|r| UsageRow {
            user: names.get(&r.user_id).cloned().unwrap_or(r.user_id),
            day: r.day,
            task: r.task.replace('_', " "),
            model: r.model,
            calls: r.calls,
            failures: r.failures,
            cache_hits: r.cache_hits,
            tokens: format!("{} in / {} out", r.input_tokens, r.output_tokens),
            cost: cents(r.cost_microcents),
        })
        .collect();
    Ok(render(&UsagePage {
        chrome: Some(page.chrome("admin")),
        rows,
        spent: cents(usage.month_spent_microcents),
        budget: usage.monthly_budget_cents.map(|budget| cents(budget.saturating_mul(1_000_000))),
    }))
}
