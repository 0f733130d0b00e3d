//! Maps sqlx errors to the store's errors, keeping the cause.

use store::StoreError;

/// Wraps a database failure, turning the constraints that carry a business meaning into
/// [`StoreError::Rejected`] with a message a user can act on.
pub(crate) fn database(error: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &error {
        let message = db.message();
        if message.contains("users.email") {
            return StoreError::Rejected("a user with this email address is already registered".to_owned());
        }
        if message.contains("templates.org_id, templates.name") {
            return StoreError::Rejected("a template with this name already exists".to_owned());
        }
        if message.contains("database is locked") || message.contains("unable to open") {
            return StoreError::Unavailable(message.to_owned());
        }
    }
    if matches!(error, sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)) {
        return StoreError::Unavailable(error.to_string());
    }
    StoreError::Database(Box::new(error))
}

/// Converts a stored integer that must be non-negative.
pub(crate) fn unsigned(value: i64, column: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{column} holds negative value {value}")))
}

/// Converts a count or position for binding.
pub(crate) fn signed(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Invalid(format!("{value} is out of range")))
}
