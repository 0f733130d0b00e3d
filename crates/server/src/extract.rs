//! Request parsing with the API's error rules: JSON bodies (400 malformed, 415 wrong type, 413
//! too large, 422 wrong shape or unknown field), query strings (422 for an unknown parameter),
//! `If-Match` preconditions, and conditional `GET` with `ETag`.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{ETAG, IF_MATCH, IF_NONE_MATCH};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorCode};

/// Deserializes a field that may be absent (`None`: leave it alone), `null` (`Some(None)`:
/// clear it) or a value; use with `#[serde(default, deserialize_with = "nullable")]`.
pub fn nullable<'de, T: serde::Deserialize<'de>, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

/// A JSON body of `T` (whose type should deny unknown fields).
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

fn json_rejection(rejection: &JsonRejection) -> ApiError {
    let text = rejection.body_text();
    match rejection {
        JsonRejection::JsonDataError(_) => {
            let detail = text.split_once(": ").map_or(text.as_str(), |(_, rest)| rest).to_owned();
            let field = detail.split_once(": ").map(|(path, _)| path.to_owned()).filter(|p| !p.contains(' '));
            ApiError {
                details: field
                    .map(|field| vec![crate::error::FieldError { field, message: detail.clone() }])
                    .unwrap_or_default(),
                ..ApiError::new(ErrorCode::ValidationError, format!("the request body does not fit: {detail}"))
            }
        }
        JsonRejection::JsonSyntaxError(_) => ApiError::malformed("the request body is not valid JSON"),
        JsonRejection::MissingJsonContentType(_) => {
            ApiError::new(ErrorCode::UnsupportedMediaType, "send the body as `Content-Type: application/json`")
        }
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("the request body is larger than {} bytes", crate::MAX_BODY_BYTES),
        ),
        _ => ApiError::malformed("the request body could not be read"),
    }
}

/// A query string of `T` (whose type should deny unknown fields: an unknown filter is a 422).
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => Err(query_rejection(&rejection)),
        }
    }
}

fn query_rejection(rejection: &QueryRejection) -> ApiError {
    let text = rejection.body_text();
    let detail = text.split_once(": ").map_or(text.as_str(), |(_, rest)| rest);
    ApiError::new(ErrorCode::ValidationError, format!("invalid query string: {detail}"))
}

/// The version an `If-Match` header pins, if one was sent (`*` pins none).
#[derive(Debug, Clone, Copy, Default)]
pub struct IfMatch(pub Option<u64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(IF_MATCH) else { return Ok(IfMatch(None)) };
        let text = value.to_str().unwrap_or_default().trim();
        if text == "*" {
            return Ok(IfMatch(None));
        }
        parse_etag(text)
            .map(|v| IfMatch(Some(v)))
            .ok_or_else(|| ApiError::field("If-Match", format!("{text:?} is not an ETag this API issued")))
    }
}

/// The ETag of an object at stream `version`.
pub fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

fn parse_etag(text: &str) -> Option<u64> {
    text.trim_start_matches("W/").strip_prefix('"')?.strip_suffix('"')?.parse().ok()
}

/// A single resource with its `ETag`; `304 Not Modified` when the client already has it.
pub fn versioned<T: Serialize>(headers: &HeaderMap, version: u64, body: &T) -> Response {
    let tag = etag(version);
    let fresh = headers.get(IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(',').any(|candidate| candidate.trim() == "*" || parse_etag(candidate.trim()) == Some(version))
    });
    let mut response = if fresh { StatusCode::NOT_MODIFIED.into_response() } else { Json(body).into_response() };
    if let Ok(value) = HeaderValue::from_str(&tag) {
        response.headers_mut().insert(ETAG, value);
    }
    response
}

/// A created or changed resource with its new `ETag`.
pub fn changed<T: Serialize>(status: StatusCode, version: u64, body: &T) -> Response {
    let mut response = (status, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&etag(version)) {
        response.headers_mut().insert(ETAG, value);
    }
    response
}

/// Path parameters, with a rejection in the envelope (a malformed segment is a 422).
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(rejection) => {
                Err(ApiError::new(ErrorCode::ValidationError, format!("invalid path: {}", rejection.body_text())))
            }
        }
    }
}
