//! The orchestrator: routes a request to its task's models in order, skipping a model whose
//! breaker is open, refusing a paid model once the month's budget is spent, pseudonymizing
//! the prompt for every remote model, retrying transient failures with backoff inside the
//! model's bulkhead, and falling back to the next model while nothing has been shown yet.
//! Every model tried becomes an [`Attempt`], which the caller records in the cost ledger.

#![expect(clippy::disallowed_types, reason = "the std Mutex is held for one map operation, never across an await")]

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::sync::mpsc::UnboundedSender;

use crate::breaker::Breaker;
use crate::config::{AiConfig, ConfigError, LOCAL_MODEL, ModelConfig, ProviderKind};
use crate::openai::{Completion, OpenAiClient, ProviderError};
use crate::prompt::{self, Message};
use crate::redaction::{Redaction, SensitiveName};
use crate::{Citation, Request, Task, local};

/// Answers kept in the response cache at most; the oldest goes first.
const CACHE_ENTRIES: usize = 512;

/// One request to answer.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// Whose call this is (the organization): cached answers are never shared across it.
    pub scope: &'a str,
    pub request: &'a Request,
    /// Names to pseudonymize before a prompt leaves the process.
    pub sensitive: &'a [SensitiveName],
    pub budget: Budget,
    /// Answer with the built-in local provider only (the fallback offered when the budget is
    /// spent).
    pub local_only: bool,
}

/// The organization's monthly AI budget and what it has spent this month.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Budget {
    pub monthly_cents: Option<u64>,
    pub spent_microcents: u64,
}

impl Budget {
    /// Whether a paid call must be refused.
    pub fn exhausted(&self) -> bool {
        self.monthly_cents.is_some_and(|cents| self.spent_microcents >= cents.saturating_mul(1_000_000))
    }
}

/// The answer shown to the user, placeholders restored.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub text: String,
    pub citations: Vec<Citation>,
    /// The model that answered.
    pub model: String,
    /// Whether the built-in extractive provider answered.
    pub extractive: bool,
}

/// How one model's turn ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptStatus {
    Ok,
    Failed,
    BreakerOpen,
    BudgetExceeded,
}

impl AttemptStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptStatus::Ok => "ok",
            AttemptStatus::Failed => "failed",
            AttemptStatus::BreakerOpen => "breaker_open",
            AttemptStatus::BudgetExceeded => "budget_exceeded",
        }
    }
}

/// One model tried for one request: what the cost ledger records.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub task: Task,
    pub model: String,
    pub provider: &'static str,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_microcents: u64,
    pub latency_ms: u64,
    pub status: AttemptStatus,
    /// Whether an earlier model of the route failed first.
    pub fallback: bool,
    pub cache_hit: bool,
}

/// Why no answer came.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AiError {
    #[error("the organization's monthly AI budget is spent; ask again with the local provider")]
    BudgetExceeded,
    #[error("no model could answer: {0}")]
    Unavailable(String),
}

/// The result of [`Assistant::run`] and every model it tried.
#[derive(Debug)]
pub struct Outcome {
    pub result: Result<Reply, AiError>,
    pub attempts: Vec<Attempt>,
}

enum Backend {
    Local,
    Remote(OpenAiClient),
}

struct Model {
    config: ModelConfig,
    backend: Backend,
    breaker: Breaker,
    bulkhead: Semaphore,
}

/// The configured models and routes; one per process.
pub struct Assistant {
    config: AiConfig,
    models: HashMap<String, Model>,
    cache: Mutex<ResponseCache>,
}

impl std::fmt::Debug for Assistant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Assistant").field("models", &self.models.keys().collect::<Vec<_>>()).finish_non_exhaustive()
    }
}

impl Default for Assistant {
    /// Every task answered by the built-in local provider.
    fn default() -> Self {
        Self::new(&AiConfig::default(), |_| None).expect("the default configuration is valid")
    }
}

impl Assistant {
    /// The assistant for `config`; `env` looks up the environment variables that hold API
    /// keys (a variable named but unset is an error, so a missing key is found at start).
    pub fn new(config: &AiConfig, env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        config.validate()?;
        let mut models = HashMap::new();
        for (name, model) in config.all_models() {
            let backend = match model.provider {
                ProviderKind::Local => Backend::Local,
                ProviderKind::Openai => {
                    let api_key = match &model.api_key_env {
                        Some(variable) => Some(env(variable).ok_or_else(|| {
                            ConfigError(format!("model {name}: environment variable {variable} is not set"))
                        })?),
                        None => None,
                    };
                    let (base_url, model_name) = (model.base_url.as_deref(), model.model.as_deref());
                    Backend::Remote(OpenAiClient::new(
                        base_url.unwrap_or_default(),
                        model_name.unwrap_or_default(),
                        api_key,
                        model.timeout(),
                    )?)
                }
            };
            let breaker = Breaker::new(model.breaker_failures(), model.breaker_cool_down());
            let bulkhead = Semaphore::new(model.max_concurrency());
            models.insert(name, Model { config: model, backend, breaker, bulkhead });
        }
        Ok(Self { config: config.clone(), models, cache: Mutex::new(ResponseCache::default()) })
    }

    /// Whether answering `task` may send a prompt out of the process, so the caller must gather
    /// the names to pseudonymize (a route of `local` only never needs them).
    pub fn may_leave_process(&self, task: Task, local_only: bool) -> bool {
        !local_only
            && self
                .config
                .route(task)
                .iter()
                .any(|name| self.models.get(name).is_some_and(|m| matches!(m.backend, Backend::Remote(_))))
    }

    /// Answers `call`, trying its task's models in order. With `sink`, the answer's pieces are
    /// sent as they arrive (restored); a model that fails after sending something is not
    /// followed by another, since the user already saw part of its answer.
    pub async fn run(&self, call: Call<'_>, sink: Option<&UnboundedSender<String>>) -> Outcome {
        let task = call.request.task();
        let route = if call.local_only { vec![LOCAL_MODEL.to_owned()] } else { self.config.route(task) };
        let mut attempts = Vec::new();
        let mut last_error = String::from("no model is routed");
        for name in &route {
            let Some(model) = self.models.get(name) else { continue };
            let fallback = !attempts.is_empty();
            let attempt = |status, started: Instant| Attempt {
                task,
                model: name.clone(),
                provider: provider_name(&model.backend),
                input_tokens: 0,
                output_tokens: 0,
                cost_microcents: 0,
                latency_ms: started.elapsed().as_millis() as u64,
                status,
                fallback,
                cache_hit: false,
            };
            let client = match &model.backend {
                Backend::Local => {
                    let started = Instant::now();
                    let output = local::run(call.request);
                    if let Some(sink) = sink {
                        for piece in output.text.split_inclusive('\n') {
                            let _ = sink.send(piece.to_owned());
                        }
                    }
                    let input: usize = call.request.sources().iter().map(|s| s.text.len()).sum();
                    attempts.push(Attempt {
                        input_tokens: estimate_tokens(input),
                        output_tokens: estimate_tokens(output.text.len()),
                        ..attempt(AttemptStatus::Ok, started)
                    });
                    let reply =
                        Reply { text: output.text, citations: output.citations, model: name.clone(), extractive: true };
                    return Outcome { result: Ok(reply), attempts };
                }
                Backend::Remote(client) => client,
            };

            let started = Instant::now();
            let mut redaction = Redaction::new(call.sensitive);
            let messages: Vec<Message> = prompt::messages(call.request)
                .into_iter()
                .map(|m| Message { content: redaction.redact(&m.content), ..m })
                .collect();
            let key = cache_key(call.scope, name, &messages);
            if let Some(cached) = self.cached(&key) {
                let text = redaction.restore(&cached.text);
                if let Some(sink) = sink {
                    let _ = sink.send(text.clone());
                }
                attempts.push(Attempt { cache_hit: true, ..attempt(AttemptStatus::Ok, started) });
                return Outcome { result: Ok(self.reply(call.request, name, text)), attempts };
            }
            if model.config.is_paid() && call.budget.exhausted() {
                attempts.push(attempt(AttemptStatus::BudgetExceeded, started));
                return Outcome { result: Err(AiError::BudgetExceeded), attempts };
            }
            let Some(permit) = model.breaker.try_acquire(Instant::now()) else {
                attempts.push(attempt(AttemptStatus::BreakerOpen, started));
                last_error = format!("{name}: its circuit breaker is open");
                continue;
            };
            let Ok(_slot) = model.bulkhead.acquire().await else { continue };
            let (result, shown) = call_with_retries(client, &model.config, &messages, &redaction, sink).await;
            let input_estimate = estimate_tokens(messages.iter().map(|m| m.content.len()).sum());
            match result {
                Ok(completion) => {
                    model.breaker.succeeded(permit);
                    let input_tokens = completion.input_tokens.unwrap_or(input_estimate);
                    let output_tokens = completion.output_tokens.unwrap_or(estimate_tokens(completion.text.len()));
                    attempts.push(Attempt {
                        input_tokens,
                        output_tokens,
                        cost_microcents: model.config.cost_microcents(input_tokens, output_tokens),
                        ..attempt(AttemptStatus::Ok, started)
                    });
                    let text = redaction.restore(&completion.text);
                    self.remember(key, completion);
                    return Outcome { result: Ok(self.reply(call.request, name, text)), attempts };
                }
                Err(error) => {
                    model.breaker.failed(permit, Instant::now());
                    tracing::warn!(model = %name, %error, "model call failed");
                    // A failed call may still have been billed for its prompt; count it as sent.
                    attempts.push(Attempt {
                        input_tokens: input_estimate,
                        cost_microcents: model.config.cost_microcents(input_estimate, 0),
                        ..attempt(AttemptStatus::Failed, started)
                    });
                    last_error = format!("{name}: {error}");
                    if shown {
                        break;
                    }
                }
            }
        }
        Outcome { result: Err(AiError::Unavailable(last_error)), attempts }
    }

    fn reply(&self, request: &Request, model: &str, text: String) -> Reply {
        let citations = prompt::citations(request, &text);
        Reply { text, citations, model: model.to_owned(), extractive: false }
    }

    fn cached(&self, key: &str) -> Option<Completion> {
        self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(key)
    }

    fn remember(&self, key: String, completion: Completion) {
        self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(key, completion);
    }
}

/// Calls `client`, retrying transient failures with doubling backoff and jitter as long as
/// nothing was shown. Returns the result and whether any piece reached the sink.
async fn call_with_retries(
    client: &OpenAiClient,
    config: &ModelConfig,
    messages: &[Message],
    redaction: &Redaction,
    sink: Option<&UnboundedSender<String>>,
) -> (Result<Completion, ProviderError>, bool) {
    let mut retry = 0;
    loop {
        let mut shown = false;
        let mut restorer = redaction.restorer();
        let result = {
            let mut forward = |piece: &str| {
                let restored = restorer.push(piece);
                if let Some(sink) = sink
                    && !restored.is_empty()
                {
                    shown = true;
                    let _ = sink.send(restored);
                }
            };
            let on_delta: Option<&mut (dyn FnMut(&str) + Send)> = match sink {
                Some(_) => Some(&mut forward),
                None => None,
            };
            client.complete(messages, on_delta).await
        };
        if let (Ok(_), Some(sink)) = (&result, sink) {
            let rest = restorer.finish();
            if !rest.is_empty() {
                let _ = sink.send(rest);
            }
        }
        match result {
            Err(ProviderError::Transient(_)) if retry < config.retries() && !shown => {
                tokio::time::sleep(backoff(config.retry_backoff(), retry)).await;
                retry += 1;
            }
            result => return (result, shown),
        }
    }
}

/// `base` doubled per earlier retry, plus up to half of it again at random (so that many
/// clients rate-limited together do not retry together).
fn backoff(base: Duration, retry: u32) -> Duration {
    let delay = base.saturating_mul(1 << retry.min(10));
    let jitter = getrandom::u32().unwrap_or(0) % 1_000;
    delay + delay.mul_f64(f64::from(jitter) / 2_000.0)
}

fn provider_name(backend: &Backend) -> &'static str {
    match backend {
        Backend::Local => "local",
        Backend::Remote(_) => "openai",
    }
}

/// About four characters per token, the usual rule for English, where a provider reports none.
fn estimate_tokens(chars: usize) -> u64 {
    chars.div_ceil(4) as u64
}

/// The cache key: the caller's scope, the model and the redacted prompt, which quotes every cited source. An edit
/// to a cited item changes its text in the prompt, so a stale answer is never served.
fn cache_key(scope: &str, model: &str, messages: &[Message]) -> String {
    let prompt = serde_json::to_string(messages).unwrap_or_default();
    format!("{scope}\n{model}\n{prompt}")
}

#[derive(Default)]
struct ResponseCache {
    entries: HashMap<String, Completion>,
    order: VecDeque<String>,
}

impl ResponseCache {
    fn get(&self, key: &str) -> Option<Completion> {
        self.entries.get(key).cloned()
    }

    fn insert(&mut self, key: String, completion: Completion) {
        if self.entries.insert(key.clone(), completion).is_none() {
            self.order.push_back(key);
        }
        while self.order.len() > CACHE_ENTRIES {
            if let Some(oldest) = self.order.pop_front() {
                self.entries.remove(&oldest);
            }
        }
    }
}
