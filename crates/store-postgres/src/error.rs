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

pub(crate) fn unsigned(value: i64, column: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{column} holds negative value {value}")))
}

pub(crate) fn signed(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Invalid(format!("{value} is out of range")))
}
