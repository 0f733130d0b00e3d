//! Maps database errors (from sqlx and from rusqlite) to the store's errors, keeping the cause.

use store::StoreError;

/// Wraps a database failure, turning the constraints that carry a business meaning into
/// [`StoreError::Rejected`] with a message a user can act on.
pub(crate) fn database(error: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &error
        && let Some(meaning) = meaning(db.message())
    {
        return meaning;
    }
    if matches!(error, sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)) {
        return StoreError::Unavailable(error.to_string());
    }
    StoreError::Database(Box::new(error))
}

/// The same mapping for the synchronous driver of the writer and the hot reads.
pub(crate) fn sqlite(error: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(_, Some(message)) = &error
        && let Some(meaning) = meaning(message)
    {
        return meaning;
    }
    StoreError::Database(Box::new(error))
}

/// What SQLite's message means to a user, when it carries a business meaning.
fn meaning(message: &str) -> Option<StoreError> {
    if message.contains("users.email") {
        return Some(StoreError::Rejected("a user with this email address is already registered".to_owned()));
    }
    if message.contains("templates.org_id, templates.name") {
        return Some(StoreError::Rejected("a template with this name already exists".to_owned()));
    }
    if message.contains("database is locked") || message.contains("unable to open") {
        return Some(StoreError::Unavailable(message.to_owned()));
    }
    None
}

/// Converts a stored integer that must be non-negative.
/// Converts a count or position for binding.
pub(crate) use store::columns::{signed, unsigned};
