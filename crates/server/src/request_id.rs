//! Every request carries an `X-Request-Id`: the client's when it sends a sane one, else a new
//! one. It is echoed on the response, recorded in logs, and written into error envelopes.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::error::ApiError;

/// The header's name.
pub const REQUEST_ID: &str = "x-request-id";

fn acceptable(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty() && bytes.len() <= 128 && bytes.iter().all(|b| b.is_ascii_graphic())
}

/// The request id of a request that passed through [`propagate`].
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Middleware that ensures the request and its response carry a request id.
pub async fn propagate(mut request: Request, next: Next) -> Response {
    let id = match request.headers().get(REQUEST_ID) {
        Some(value) if acceptable(value) => value.clone(),
        _ => HeaderValue::from_str(&format!("req_{}", ulid::Ulid::new()))
            .unwrap_or(HeaderValue::from_static("req_unknown")),
    };
    let text = id.to_str().unwrap_or("req_unknown").to_owned();
    request.headers_mut().insert(REQUEST_ID, id.clone());
    request.extensions_mut().insert(RequestId(text.clone()));
    let span =
        tracing::info_span!("request", request_id = %text, method = %request.method(), path = %request.uri().path());
    let mut response = next.run(request).instrument(span).await;
    if let Some(error) = response.extensions_mut().remove::<ApiError>() {
        let headers = std::mem::take(response.headers_mut());
        response = error.render(Some(&text));
        for (name, value) in headers.iter() {
            if name != axum::http::header::CONTENT_LENGTH && !response.headers().contains_key(name) {
                response.headers_mut().insert(name.clone(), value.clone());
            }
        }
    }
    response.headers_mut().insert(REQUEST_ID, id);
    response
}
