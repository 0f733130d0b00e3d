//! The one JSON error envelope, on every error path:
//! `{"error":{"code":"NOT_FOUND","message":"...","details":[],"request_id":"..."}}`.
//! Handlers return [`ApiError`]; the request-id middleware fills in `request_id` (see
//! [`crate::request_id`]), so every producer of errors gets it without knowing it.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use application::AppError;
use domain::DomainError;
use store::StoreError;

/// A stable error code and its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    ValidationError,
    Unauthenticated,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PreconditionFailed,
    PayloadTooLarge,
    UnsupportedMediaType,
    RateLimited,
    /// The organization's monthly AI budget is spent (the local provider still answers).
    BudgetExceeded,
    Internal,
    Unavailable,
}

impl ErrorCode {
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::ValidationError => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::BudgetExceeded => StatusCode::PAYMENT_REQUIRED,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// One field-level problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// An error answer. Internal causes are logged where the error is made, never sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    /// The code's status, except a malformed body: `VALIDATION_ERROR` with 400 (DESIGN section 5).
    pub status: StatusCode,
    pub message: String,
    pub details: Vec<FieldError>,
    /// Seconds for `Retry-After` (429).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, status: code.status(), message: message.into(), details: Vec::new(), retry_after: None }
    }

    /// A body that is not valid JSON, or cannot be read.
    pub fn malformed(message: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, ..Self::new(ErrorCode::ValidationError, message) }
    }

    /// A 422 about one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let (field, message) = (field.into(), message.into());
        Self {
            message: format!("invalid {field}: {message}"),
            details: vec![FieldError { field, message }],
            ..Self::new(ErrorCode::ValidationError, "")
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub fn internal() -> Self {
        Self::new(ErrorCode::Internal, "internal error; the request id identifies it in the logs")
    }

    /// Renders the envelope with `request_id`.
    pub fn render(&self, request_id: Option<&str>) -> Response {
        let mut response = (self.status, Json(self.envelope(request_id))).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl ApiError {
    /// The envelope as JSON text, for an error reported inside a stream (an SSE `error` event).
    pub fn envelope_json(&self) -> String {
        serde_json::to_string(&self.envelope(None)).unwrap_or_default()
    }

    fn envelope<'a>(&'a self, request_id: Option<&'a str>) -> EnvelopeRef<'a> {
        EnvelopeRef { error: BodyRef { code: self.code, message: &self.message, details: &self.details, request_id } }
    }
}

#[derive(Serialize)]
struct EnvelopeRef<'a> {
    error: BodyRef<'a>,
}

#[derive(Serialize)]
struct BodyRef<'a> {
    code: ErrorCode,
    message: &'a str,
    details: &'a [FieldError],
    request_id: Option<&'a str>,
}

/// The error envelope, as the OpenAPI document describes it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

/// The body of the error envelope.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
    pub details: Vec<FieldError>,
    pub request_id: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.render(None);
        response.extensions_mut().insert(self);
        response
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Domain(domain) => domain.into(),
            AppError::NotFound(message) => ApiError::not_found(message),
            AppError::VersionConflict { expected, actual } => ApiError::new(
                ErrorCode::PreconditionFailed,
                format!("the object changed: you expected version {expected}, it is at version {actual}; reload it"),
            ),
            AppError::Rejected(message) => ApiError::new(ErrorCode::Conflict, message),
            AppError::Unauthenticated(message) => ApiError::new(ErrorCode::Unauthenticated, message),
            AppError::Forbidden(message) => ApiError::new(ErrorCode::Forbidden, message),
            AppError::Throttled(wait) => ApiError {
                retry_after: Some(wait.seconds()),
                ..ApiError::new(
                    ErrorCode::RateLimited,
                    format!("too many attempts; retry in {} seconds", wait.seconds()),
                )
            },
            AppError::Store(StoreError::Unavailable(cause)) => {
                tracing::warn!(%cause, "storage unavailable");
                ApiError::new(ErrorCode::Unavailable, "the database is unavailable; retry shortly")
            }
            AppError::Store(StoreError::Invalid(message)) => ApiError::new(ErrorCode::ValidationError, message),
            AppError::Store(other) => {
                tracing::error!(error = ?other, "storage failure");
                ApiError::internal()
            }
            AppError::Unavailable(message) => ApiError::new(ErrorCode::Unavailable, message),
            AppError::BudgetExceeded(message) => ApiError::new(ErrorCode::BudgetExceeded, message),
            AppError::Internal(cause) => {
                tracing::error!(%cause, "internal failure");
                ApiError::internal()
            }
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        let message = error.to_string();
        match error {
            DomainError::Validation { field, message: detail } => ApiError {
                details: vec![FieldError { field: field.to_owned(), message: detail }],
                ..ApiError::new(ErrorCode::ValidationError, message)
            },
            DomainError::Conflict(_) => ApiError::new(ErrorCode::Conflict, message),
            DomainError::NotFound(_) => ApiError::not_found(message),
            DomainError::IllegalTransition { .. } | DomainError::RuleViolation(_) => {
                ApiError::new(ErrorCode::Conflict, message)
            }
            DomainError::Forbidden(_) => ApiError::new(ErrorCode::Forbidden, message),
        }
    }
}

/// Answers a route that does not exist.
/// A browser asking for a page outside the API gets the HTML 404 page; everyone else gets the
/// envelope.
pub async fn unknown_route(uri: Uri, headers: axum::http::HeaderMap) -> Response {
    let wants_page =
        headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|accept| accept.contains("text/html"));
    if wants_page && !uri.path().starts_with("/api/") {
        return crate::web::not_found_page();
    }
    ApiError::not_found(format!("no route for {}", uri.path())).into_response()
}

/// Answers a known route called with the wrong method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(ErrorCode::MethodNotAllowed, "method not allowed on this route")
}

/// Turns a panic inside a handler into a 500 in the envelope; the panic is logged, not sent.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = detail, "handler panicked");
    ApiError::internal().into_response()
}
