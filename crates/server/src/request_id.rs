//! Every request carries an `X-Request-Id`: the client's when it sends a sane one, else a new
//! one. It is echoed on the response and recorded in logs.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// The header's name.
pub const REQUEST_ID: &str = "x-request-id";

fn acceptable(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty() && bytes.len() <= 128 && bytes.iter().all(|b| b.is_ascii_graphic())
}

/// Middleware that ensures the request and its response carry a request id.
pub async fn propagate(mut request: Request, next: Next) -> Response {
    let id = match request.headers().get(REQUEST_ID) {
        Some(value) if acceptable(value) => value.clone(),
        _ => HeaderValue::from_str(&format!("req_{}", ulid::Ulid::new()))
            .unwrap_or(HeaderValue::from_static("req_unknown")),
    };
    request.headers_mut().insert(REQUEST_ID, id.clone());
    let span =
        tracing::info_span!("request", request_id = ?id, method = %request.method(), path = %request.uri().path());
    let mut response = next.run(request).instrument(span).await;
    response.headers_mut().insert(REQUEST_ID, id);
    response
}
