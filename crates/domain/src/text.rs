//! Bounded text value objects: names and titles that can only hold valid values.

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// Trims `raw` and checks it holds between 1 and `max` characters and no control characters.
pub fn bounded_line(field: &'static str, raw: &str, max: usize) -> Result<String, DomainError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(DomainError::validation(field, "must not be empty"));
    }
    let len = trimmed.chars().count();
    if len > max {
        return Err(DomainError::validation(field, format!("must be at most {max} characters, got {len}")));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(DomainError::validation(field, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

/// A short single-line name (organization, engagement, client, category, template).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Name(String);

impl Name {
    /// Longest accepted name, in characters.
    pub const MAX_CHARS: usize = 200;

    /// Trims and validates a name.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        bounded_line("name", raw, Self::MAX_CHARS).map(Self)
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Name {
    type Error = DomainError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Name> for String {
    fn from(name: Name) -> String {
        name.0
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(Name::parse("  Acme  ").map(String::from), Ok("Acme".to_owned()));
        assert!(Name::parse("   ").is_err());
        assert!(Name::parse(&"x".repeat(201)).is_err());
        assert!(Name::parse(&"x".repeat(200)).is_ok());
        assert!(Name::parse("a\u{7}b").is_err());
    }
}
