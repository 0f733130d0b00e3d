//! The one error type every aggregate returns when it refuses a command.

/// Why an aggregate refused a command. Each variant maps to one stable API error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A value is malformed (empty title, bad email, oversized metadata, ...).
    #[error("invalid {field}: {message}")]
    Validation { field: &'static str, message: String },
    /// The command collides with the current state (duplicate member, already scheduled, ...).
    #[error("{0}")]
    Conflict(String),
    /// The command targets something the aggregate does not hold (unknown member, version, ...).
    #[error("{0}")]
    NotFound(String),
    /// A state machine refused the move; `allowed` lists the targets reachable from `from`.
    #[error("cannot move from {from} to {to}; allowed: {}", allowed_list(.allowed))]
    IllegalTransition { from: String, to: String, allowed: Vec<String> },
    /// The command breaks a rule that holds whatever the input (last owner, cycle, ...).
    #[error("{0}")]
    RuleViolation(String),
    /// The actor's role is not enough for this command (an admin-only reopen, ...).
    #[error("{0}")]
    Forbidden(String),
}

fn allowed_list(allowed: &[String]) -> String {
    if allowed.is_empty() { "none".to_owned() } else { allowed.join(", ") }
}

impl DomainError {
    /// Shorthand for a [`DomainError::Validation`].
    pub fn validation(field: &'static str, message: impl Into<String>) -> Self {
        Self::Validation { field, message: message.into() }
    }
}
