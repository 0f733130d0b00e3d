//! Prefixed, time-ordered identifiers (`org_01J...`). The application mints them (the domain has
//! no randomness); parsing checks the prefix so an item id can never stand in for a user id.

use serde::{Deserialize, Serialize};

use crate::DomainError;

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The prefix every id of this kind starts with.
            pub const PREFIX: &'static str = $prefix;

            /// Parses an id, checking its prefix and that the rest is a plain token.
            pub fn parse(raw: &str) -> Result<Self, DomainError> {
                let rest = raw.strip_prefix(Self::PREFIX).ok_or_else(|| {
                    DomainError::validation("id", format!("{raw:?} does not start with {:?}", Self::PREFIX))
                })?;
                let plain = !rest.is_empty()
                    && rest.len() <= 64
                    && rest.chars().all(|c| c.is_ascii_alphanumeric());
                if !plain {
                    return Err(DomainError::validation("id", format!("{raw:?} is not a valid id")));
                }
                Ok(Self(raw.to_owned()))
            }

            /// Builds an id from a freshly minted unique suffix (a ULID in practice).
            pub fn from_suffix(suffix: &str) -> Self {
                Self(format!("{}{}", Self::PREFIX, suffix))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = DomainError;
            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

prefixed_id!(
    /// Identifies an organization, the tenant every other object belongs to.
    OrgId, "org_"
);
prefixed_id!(
    /// Identifies a user across organizations.
    UserId, "usr_"
);
prefixed_id!(
    /// Identifies a client engagement.
    EngagementId, "eng_"
);
prefixed_id!(
    /// Identifies a knowledge item.
    ItemId, "itm_"
);
prefixed_id!(
    /// Identifies a category in an organization's category tree.
    CategoryId, "cat_"
);
prefixed_id!(
    /// Identifies a template.
    TemplateId, "tpl_"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_its_own_prefix_only() {
        assert!(OrgId::parse("org_01JABC").is_ok());
        assert!(OrgId::parse("usr_01JABC").is_err());
        assert!(OrgId::parse("org_").is_err());
        assert!(OrgId::parse("org_a-b").is_err());
    }

    #[test]
    fn serde_checks_the_prefix() {
        let ok: Result<ItemId, _> = serde_json::from_str("\"itm_1\"");
        assert!(ok.is_ok());
        let bad: Result<ItemId, _> = serde_json::from_str("\"eng_1\"");
        assert!(bad.is_err());
    }
}
