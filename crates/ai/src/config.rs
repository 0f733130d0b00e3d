//! The `[ai]` table of the configuration file: the models the organization may use and the
//! routing matrix from tasks to ordered lists of models. With no table at all every task goes
//! to the built-in `local` provider, so every AI feature works on a fresh machine.
//!
//! ```toml
//! [ai.models.gpt]
//! provider = "openai"                     # any OpenAI-compatible chat-completions endpoint
//! base_url = "https://api.openai.com/v1"
//! model = "gpt-4o-mini"
//! api_key_env = "OPENAI_API_KEY"          # the key itself never goes in the file
//! input_cents_per_million = 15
//! output_cents_per_million = 60
//!
//! [ai.routes]
//! knowledge_qa = ["gpt", "local"]         # tried in order; the next when one fails
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::Task;

/// The name of the built-in extractive model; it always exists.
pub const LOCAL_MODEL: &str = "local";

/// Why the AI configuration cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ai: {0}")]
pub struct ConfigError(pub String);

/// The `[ai]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AiConfig {
    /// Models by the name routes use. `local` is built in and need not be declared.
    #[serde(default)]
    pub models: BTreeMap<String, ModelConfig>,
    /// Task -> models tried in order. A task not listed goes to `local`.
    #[serde(default)]
    pub routes: BTreeMap<Task, Vec<String>>,
}

/// Which kind of provider serves a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// The built-in extractive provider.
    Local,
    /// An OpenAI-compatible `/chat/completions` endpoint.
    Openai,
}

/// One model's settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    pub provider: ProviderKind,
    /// The endpoint's base URL, up to and including `/v1`.
    pub base_url: Option<String>,
    /// The model name the endpoint expects.
    pub model: Option<String>,
    /// The environment variable holding the API key (none for endpoints without auth).
    pub api_key_env: Option<String>,
    /// Price per million input tokens, in cents.
    #[serde(default)]
    pub input_cents_per_million: f64,
    /// Price per million output tokens, in cents.
    #[serde(default)]
    pub output_cents_per_million: f64,
    /// Longest wait for a whole answer.
    pub timeout_ms: Option<u64>,
    /// Calls in flight at once (the bulkhead); more wait for a slot.
    pub max_concurrency: Option<usize>,
    /// Retries after a 429, a 5xx or a connection failure, before the next model is tried.
    pub retries: Option<u32>,
    /// First retry's delay; each next one doubles it (plus jitter).
    pub retry_backoff_ms: Option<u64>,
    /// Failed calls in a row that open the circuit breaker.
    pub breaker_failures: Option<u32>,
    /// How long an open breaker skips the model before a trial call.
    pub breaker_cool_down_ms: Option<u64>,
}

impl ModelConfig {
    /// The built-in local model.
    pub fn local() -> Self {
        Self {
            provider: ProviderKind::Local,
            base_url: None,
            model: None,
            api_key_env: None,
            input_cents_per_million: 0.0,
            output_cents_per_million: 0.0,
            timeout_ms: None,
            max_concurrency: None,
            retries: None,
            retry_backoff_ms: None,
            breaker_failures: None,
            breaker_cool_down_ms: None,
        }
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms.unwrap_or(60_000))
    }

    pub fn max_concurrency(&self) -> usize {
        self.max_concurrency.unwrap_or(4).max(1)
    }

    pub fn retries(&self) -> u32 {
        self.retries.unwrap_or(2)
    }

    pub fn retry_backoff(&self) -> Duration {
        Duration::from_millis(self.retry_backoff_ms.unwrap_or(250))
    }

    pub fn breaker_failures(&self) -> u32 {
        self.breaker_failures.unwrap_or(5)
    }

    pub fn breaker_cool_down(&self) -> Duration {
        Duration::from_millis(self.breaker_cool_down_ms.unwrap_or(30_000))
    }

    /// Whether calls cost money, so the budget applies.
    pub fn is_paid(&self) -> bool {
        self.input_cents_per_million > 0.0 || self.output_cents_per_million > 0.0
    }

    /// The cost of a call in millionths of a cent.
    pub fn cost_microcents(&self, input_tokens: u64, output_tokens: u64) -> u64 {
        let cost =
            input_tokens as f64 * self.input_cents_per_million + output_tokens as f64 * self.output_cents_per_million;
        cost.round() as u64
    }
}

impl AiConfig {
    /// Every model, `local` included.
    pub fn all_models(&self) -> BTreeMap<String, ModelConfig> {
        let mut models = self.models.clone();
        models.entry(LOCAL_MODEL.to_owned()).or_insert_with(ModelConfig::local);
        models
    }

    /// The models tried for `task`, in order.
    pub fn route(&self, task: Task) -> Vec<String> {
        self.routes.get(&task).cloned().unwrap_or_else(|| vec![LOCAL_MODEL.to_owned()])
    }

    /// Checks that routes name declared models and that every remote model is complete.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let models = self.all_models();
        for (name, model) in &models {
            let prices = [model.input_cents_per_million, model.output_cents_per_million];
            if prices.iter().any(|p| !p.is_finite() || *p < 0.0) {
                return Err(ConfigError(format!("model {name}: prices must be zero or positive numbers")));
            }
            match model.provider {
                ProviderKind::Local if name != LOCAL_MODEL || model.is_paid() => {
                    return Err(ConfigError(format!("model {name}: only the free built-in model `local` is local")));
                }
                ProviderKind::Openai if model.base_url.is_none() || model.model.is_none() => {
                    return Err(ConfigError(format!("model {name}: an openai model needs base_url and model")));
                }
                _ => {}
            }
            if let Some(url) = &model.base_url
                && !(url.starts_with("http://") || url.starts_with("https://"))
            {
                return Err(ConfigError(format!("model {name}: base_url must start with http:// or https://")));
            }
        }
        for (task, route) in &self.routes {
            if route.is_empty() {
                return Err(ConfigError(format!("route {}: lists no model", task.as_str())));
            }
            if let Some(unknown) = route.iter().find(|m| !models.contains_key(*m)) {
                return Err(ConfigError(format!("route {}: unknown model {unknown}", task.as_str())));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_must_name_declared_models_and_costs_follow_prices() {
        let config: AiConfig = serde_json::from_value(serde_json::json!({
            "models": {"gpt": {"provider": "openai", "base_url": "http://127.0.0.1:1/v1", "model": "m",
                               "input_cents_per_million": 15, "output_cents_per_million": 60}},
            "routes": {"knowledge_qa": ["gpt", "local"]}
        }))
        .expect("valid shape");
        config.validate().expect("valid");
        assert_eq!(config.route(Task::KnowledgeQa), ["gpt", "local"]);
        assert_eq!(config.route(Task::QuickSummary), ["local"]);
        // 1,000 input tokens at 15 cents per million and 500 output at 60: 0.015 + 0.03 cents.
        assert_eq!(config.all_models()["gpt"].cost_microcents(1_000, 500), 45_000);

        let unknown: AiConfig =
            serde_json::from_value(serde_json::json!({"routes": {"realtime": ["nope"]}})).expect("valid shape");
        assert_eq!(unknown.validate(), Err(ConfigError("route realtime: unknown model nope".into())));
    }
}
