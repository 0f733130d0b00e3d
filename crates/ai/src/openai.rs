//! A client for any OpenAI-compatible `/chat/completions` endpoint (OpenAI, Ollama, vLLM,
//! llama.cpp's server, gateways), plain or streamed as Server-Sent Events.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::config::ConfigError;
use crate::prompt::Message;

/// Why a call failed, and whether trying again may help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// Rate limited, a server error, a timeout or a broken connection: retry, then fall back.
    #[error("{0}")]
    Transient(String),
    /// Refused or not understood: retrying the same call cannot help; fall back.
    #[error("{0}")]
    Refused(String),
}

/// What a model answered and what it says the call used.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Completion {
    pub text: String,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
}

/// One model on one endpoint.
#[derive(Clone)]
pub struct OpenAiClient {
    http: reqwest::Client,
    url: String,
    model: String,
    api_key: Option<String>,
}

impl std::fmt::Debug for OpenAiClient {
    /// Never shows the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiClient").field("url", &self.url).field("model", &self.model).finish_non_exhaustive()
    }
}

impl OpenAiClient {
    /// A client for `model` at `base_url` (ending in `/v1` or the gateway's equivalent).
    pub fn new(base_url: &str, model: &str, api_key: Option<String>, timeout: Duration) -> Result<Self, ConfigError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| ConfigError(format!("cannot build an HTTP client: {e}")))?;
        let url = format!("{}/chat/completions", base_url.trim_end_matches('/'));
        Ok(Self { http, url, model: model.to_owned(), api_key })
    }

    /// Sends `messages`; with `on_delta`, streams the answer and hands each piece over as it
    /// arrives.
    pub async fn complete(
        &self,
        messages: &[Message],
        on_delta: Option<&mut (dyn FnMut(&str) + Send)>,
    ) -> Result<Completion, ProviderError> {
        let stream = on_delta.is_some();
        let mut body = json!({"model": self.model, "messages": messages, "stream": stream});
        if stream {
            body["stream_options"] = json!({"include_usage": true});
        }
        let mut request = self.http.post(&self.url).header("content-type", "application/json").body(body.to_string());
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        if !status.is_success() {
            let message = format!("the provider answered HTTP {}", status.as_u16());
            return Err(if status.as_u16() == 429 || status.is_server_error() {
                ProviderError::Transient(message)
            } else {
                ProviderError::Refused(message)
            });
        }
        match on_delta {
            None => {
                let bytes = response.bytes().await.map_err(transport)?;
                let value: Value = serde_json::from_slice(&bytes)
                    .map_err(|e| ProviderError::Refused(format!("the provider's answer is not JSON: {e}")))?;
                let text = value["choices"][0]["message"]["content"]
                    .as_str()
                    .ok_or_else(|| ProviderError::Refused("the provider's answer has no message content".to_owned()))?;
                let (input_tokens, output_tokens) = usage(&value);
                Ok(Completion { text: text.to_owned(), input_tokens, output_tokens })
            }
            Some(on_delta) => read_events(response, on_delta).await,
        }
    }
}

/// Reads an SSE body: `data: {chunk}` lines until `data: [DONE]`.
async fn read_events(
    response: reqwest::Response,
    on_delta: &mut (dyn FnMut(&str) + Send),
) -> Result<Completion, ProviderError> {
    let mut completion = Completion::default();
    let mut buffer: Vec<u8> = Vec::new();
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        buffer.extend_from_slice(&chunk.map_err(transport)?);
        while let Some(end) = buffer.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let Some(data) = line.trim().strip_prefix("data:").map(str::trim) else { continue };
            if data == "[DONE]" {
                return Ok(completion);
            }
            let value: Value = serde_json::from_str(data)
                .map_err(|e| ProviderError::Transient(format!("a streamed chunk is not JSON: {e}")))?;
            if let Some(error) = value.get("error") {
                return Err(ProviderError::Transient(format!("the provider failed mid-answer: {}", error["message"])));
            }
            if let Some(piece) = value["choices"][0]["delta"]["content"].as_str()
                && !piece.is_empty()
            {
                completion.text.push_str(piece);
                on_delta(piece);
            }
            if let (Some(input), Some(output)) = usage(&value) {
                completion.input_tokens = Some(input);
                completion.output_tokens = Some(output);
            }
        }
    }
    if completion.text.is_empty() {
        return Err(ProviderError::Transient("the stream ended before any answer".to_owned()));
    }
    Ok(completion)
}

fn usage(value: &Value) -> (Option<u64>, Option<u64>) {
    let usage = &value["usage"];
    (usage["prompt_tokens"].as_u64(), usage["completion_tokens"].as_u64())
}

fn transport(error: reqwest::Error) -> ProviderError {
    let what = if error.is_timeout() {
        "the provider did not answer in time"
    } else if error.is_connect() {
        "cannot connect to the provider"
    } else {
        "the connection to the provider failed"
    };
    ProviderError::Transient(what.to_owned())
}
