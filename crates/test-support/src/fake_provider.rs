//! An OpenAI-compatible chat-completions server for tests: it follows a script (answer, stream
//! in pieces, fail) and keeps every request body, so tests check what left the process.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::Mutex;

/// What the fake provider does with its next request.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// Answers `text` in one JSON body, reporting the given usage.
    Reply { text: String, prompt_tokens: u64, completion_tokens: u64 },
    /// Streams `pieces` as SSE chunks, `gap` apart.
    Stream { pieces: Vec<String>, gap: Duration },
    /// Fails with this status.
    Fail(u16),
    /// Waits, then answers `text`.
    Slow { wait: Duration, text: String },
}

/// An OpenAI-compatible `/v1/chat/completions` that follows a script (the last step repeats)
/// and keeps every request body.
#[derive(Debug, Clone, Default)]
pub struct FakeProvider {
    script: Arc<Mutex<VecDeque<Behaviour>>>,
    received: Arc<Mutex<Vec<Value>>>,
    in_flight: Arc<AtomicUsize>,
    most_in_flight: Arc<AtomicUsize>,
}

impl FakeProvider {
    /// Serves on a free loopback port; answers the base URL.
    pub async fn start(script: Vec<Behaviour>) -> (Self, String) {
        let fake = Self { script: Arc::new(Mutex::new(script.into())), ..Self::default() };
        let router = axum::Router::new()
            .route("/v1/chat/completions", axum::routing::post(chat_completions))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, router).await.expect("fake provider") });
        (fake, format!("http://{address}/v1"))
    }

    pub async fn then(&self, behaviour: Behaviour) {
        let mut script = self.script.lock().await;
        script.clear();
        script.push_back(behaviour);
    }

    pub async fn requests(&self) -> Vec<Value> {
        self.received.lock().await.clone()
    }

    /// The most requests it has answered at once.
    pub fn most_in_flight(&self) -> usize {
        self.most_in_flight.load(Ordering::SeqCst)
    }
}

async fn chat_completions(State(fake): State<FakeProvider>, Json(body): Json<Value>) -> Response {
    let now = fake.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    fake.most_in_flight.fetch_max(now, Ordering::SeqCst);
    let response = answer(&fake, body).await;
    fake.in_flight.fetch_sub(1, Ordering::SeqCst);
    response
}

async fn answer(fake: &FakeProvider, body: Value) -> Response {
    fake.received.lock().await.push(body.clone());
    let behaviour = {
        let mut script = fake.script.lock().await;
        if script.len() > 1 { script.pop_front() } else { script.front().cloned() }
    };
    match behaviour.expect("a scripted behaviour") {
        Behaviour::Fail(status) => {
            (StatusCode::from_u16(status).expect("status"), Json(json!({"error": {"message": "scripted failure"}})))
                .into_response()
        }
        Behaviour::Slow { wait, text } => {
            tokio::time::sleep(wait).await;
            Json(json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]})).into_response()
        }
        Behaviour::Reply { text, prompt_tokens, completion_tokens } => Json(json!({
            "id": "chatcmpl-1", "object": "chat.completion", "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens}
        }))
        .into_response(),
        Behaviour::Stream { pieces, gap } => {
            assert_eq!(body["stream"], json!(true), "a streamed answer is asked for with stream: true");
            let count = pieces.len();
            let chunks =
                futures_util::stream::iter(pieces.into_iter().enumerate()).then(move |(i, piece)| async move {
                    if i > 0 {
                        tokio::time::sleep(gap).await;
                    }
                    let chunk = json!({"choices": [{"index": 0, "delta": {"content": piece}}]});
                    let mut event = format!("data: {chunk}\n\n");
                    if i + 1 == count {
                        let usage = json!({"choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": count}});
                        event.push_str(&format!("data: {usage}\n\ndata: [DONE]\n\n"));
                    }
                    Ok::<_, std::convert::Infallible>(event)
                });
            Response::builder()
                .header(header::CONTENT_TYPE, "text/event-stream")
                .body(Body::from_stream(chunks))
                .expect("response")
        }
    }
}
