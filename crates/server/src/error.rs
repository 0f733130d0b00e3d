//! The one JSON error envelope:
//! `{"error":{"code":"NOT_FOUND","message":"...","details":[],"request_id":"..."}}`.

use axum::Json;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::request_id::REQUEST_ID;

/// A stable error code and its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    NotFound,
    MethodNotAllowed,
    Unavailable,
}

impl ErrorCode {
    fn status(self) -> StatusCode {
        match self {
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

#[derive(Debug, Serialize)]
struct Envelope<'a> {
    error: Body<'a>,
}

#[derive(Debug, Serialize)]
struct Body<'a> {
    code: ErrorCode,
    message: &'a str,
    details: [(); 0],
    request_id: Option<&'a str>,
}

/// Renders an error response in the envelope.
pub fn respond(code: ErrorCode, message: &str, headers: &HeaderMap) -> Response {
    let request_id = headers.get(REQUEST_ID).and_then(|v| v.to_str().ok());
    let body = Envelope { error: Body { code, message, details: [], request_id } };
    (code.status(), Json(body)).into_response()
}

/// Answers a route that does not exist.
pub async fn unknown_route(uri: Uri, headers: HeaderMap) -> Response {
    respond(ErrorCode::NotFound, &format!("no route for {}", uri.path()), &headers)
}

/// Answers a known route called with the wrong method.
pub async fn method_not_allowed(headers: HeaderMap) -> Response {
    respond(ErrorCode::MethodNotAllowed, "method not allowed on this route", &headers)
}
