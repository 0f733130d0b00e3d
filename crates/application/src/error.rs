//! The application's error: a domain refusal, a concurrency conflict, or a storage failure.

use domain::DomainError;
use store::StoreError;

/// Why a use case failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A business rule refused the command.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The object does not exist in the caller's organization.
    #[error("{0}")]
    NotFound(String),
    /// The caller's expected version is stale (an `If-Match` that no longer matches), or
    /// retries ran out under contention.
    #[error("version conflict: expected {expected}, current {actual}")]
    VersionConflict { expected: u64, actual: u64 },
    /// A constraint across objects refused the command (duplicate email, template name, ...).
    #[error("{0}")]
    Rejected(String),
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
    /// No valid credentials: a missing, expired, revoked or wrong token, key or password.
    #[error("{0}")]
    Unauthenticated(String),
    /// Authenticated, but the role does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// Too many attempts; retry after the given time.
    #[error("too many attempts; retry in {} seconds", .0.seconds())]
    Throttled(crate::security::throttle::RetryAfter),
    /// The organization's monthly AI budget is spent; the local provider can still answer.
    #[error("{0}")]
    BudgetExceeded(String),
    /// A capability of this server is off or not ready (the message says which and why).
    #[error("{0}")]
    Unavailable(String),
    /// A failure that is ours, not the caller's (no randomness, a signing error).
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Rejected(message) => AppError::Rejected(message),
            other => AppError::Store(other),
        }
    }
}
