//! Email addresses, normalized so that uniqueness is case-insensitive.

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// A normalized email address: trimmed, lower-cased, one `@`, a dotted domain, at most 254 bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Normalizes and validates an address.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let normalized = raw.trim().to_lowercase();
        if normalized.len() > 254 {
            return Err(DomainError::validation("email", "must be at most 254 bytes"));
        }
        let Some((local, domain)) = normalized.split_once('@') else {
            return Err(DomainError::validation("email", format!("{raw:?} has no @")));
        };
        let well_formed = !local.is_empty()
            && local.len() <= 64
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !normalized.chars().any(|c| c.is_whitespace() || c.is_control());
        if !well_formed {
            return Err(DomainError::validation("email", format!("{raw:?} is not a valid address")));
        }
        Ok(Self(normalized))
    }

    /// The normalized address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = DomainError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> String {
        email.0
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn normalizes_case_and_whitespace() {
        assert_eq!(Email::parse("  Ada@Example.COM ").map(String::from), Ok("ada@example.com".to_owned()));
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in ["", "ada", "ada@", "@example.com", "a@b", "a@@b.com", "a b@c.com", "a@.com", "a@b.com."] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    proptest! {
        #[test]
        fn parsing_is_idempotent(local in "[A-Za-z0-9._%+-]{1,20}", domain in "[A-Za-z0-9-]{1,20}\\.[A-Za-z]{2,6}") {
            let email = Email::parse(&format!("{local}@{domain}")).expect("generated addresses are valid");
            prop_assert_eq!(Email::parse(email.as_str()), Ok(email.clone()));
            prop_assert_eq!(email.as_str().to_lowercase(), email.as_str());
        }
    }
}
