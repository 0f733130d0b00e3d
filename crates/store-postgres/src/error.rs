//! Maps PostgreSQL failures to the store's errors, keeping the cause: a lost or refused
//! connection is `Unavailable` (the API answers 503 and the client retries), a broken
//! uniqueness rule the read models enforce is `Rejected`.

use store::StoreError;

pub(crate) fn database(error: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &error {
        match (db.code().as_deref(), db.constraint()) {
            (Some("23505"), Some("users_email_unique")) => {
                return StoreError::Rejected("a user with this email address is already registered".to_owned());
            }
            (Some("23505"), Some("templates_name_unique")) => {
                return StoreError::Rejected("a template with this name already exists".to_owned());
            }
            // Class 08: connection exceptions; 57P0x: the server is shutting down or starting.
            (Some(code), _) if code.starts_with("08") || code.starts_with("57P") => {
                return StoreError::Unavailable(error.to_string());
            }
            _ => {}
        }
    }
    if matches!(
        error,
        sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed
    ) {
        return StoreError::Unavailable(error.to_string());
    }
    StoreError::Database(Box::new(error))
}

pub(crate) use store::columns::{signed, unsigned};
