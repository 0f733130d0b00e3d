//! Tags: normalized (trimmed, lower-case, inner whitespace collapsed, bounded) and de-duplicated.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// One normalized tag.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Tag(String);

impl Tag {
    /// Longest accepted tag, in characters, after normalization.
    pub const MAX_CHARS: usize = 50;

    /// Normalizes and validates a tag.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let already_normal = !raw.is_empty()
            && !raw.starts_with(' ')
            && !raw.ends_with(' ')
            && !raw.contains("  ")
            && !raw.chars().any(|c| c.is_uppercase() || (c.is_whitespace() && c != ' '));
        let normalized = if already_normal {
            raw.to_owned()
        } else {
            raw.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
        };
        if normalized.is_empty() {
            return Err(DomainError::validation("tags", "a tag must not be empty"));
        }
        let len = normalized.chars().count();
        if len > Self::MAX_CHARS {
            return Err(DomainError::validation(
                "tags",
                format!("tag {normalized:?} has {len} characters; at most {} are allowed", Self::MAX_CHARS),
            ));
        }
        if normalized.chars().any(|c| c.is_control() || c == ',') {
            return Err(DomainError::validation(
                "tags",
                format!("tag {normalized:?} contains a comma or control character"),
            ));
        }
        Ok(Self(normalized))
    }

    /// The tag as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Tag {
    type Error = DomainError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Tag> for String {
    fn from(tag: Tag) -> String {
        tag.0
    }
}

/// A de-duplicated, ordered set of tags.
pub type Tags = BTreeSet<Tag>;

/// Most tags one item may carry.
pub const MAX_TAGS_PER_ITEM: usize = 50;

/// Normalizes raw tags into a set, rejecting any invalid one and sets that grow too large.
pub fn parse_tags<S: AsRef<str>>(raw: &[S]) -> Result<Tags, DomainError> {
    let tags = raw.iter().map(|t| Tag::parse(t.as_ref())).collect::<Result<Tags, _>>()?;
    if tags.len() > MAX_TAGS_PER_ITEM {
        return Err(DomainError::validation(
            "tags",
            format!("at most {MAX_TAGS_PER_ITEM} tags are allowed, got {}", tags.len()),
        ));
    }
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn normalizes_and_deduplicates() {
        let tags = parse_tags(&["  Rust ", "rust", "Due  Diligence"]).expect("valid tags");
        let names: Vec<&str> = tags.iter().map(Tag::as_str).collect();
        assert_eq!(names, vec!["due diligence", "rust"]);
    }

    #[test]
    fn rejects_empty_long_and_comma_tags() {
        assert!(Tag::parse("   ").is_err());
        assert!(Tag::parse(&"a".repeat(51)).is_err());
        assert!(Tag::parse(&"a".repeat(50)).is_ok());
        assert!(Tag::parse("a,b").is_err());
    }

    #[test]
    fn bounds_the_number_of_tags() {
        let many: Vec<String> = (0..51).map(|i| format!("t{i}")).collect();
        assert!(parse_tags(&many).is_err());
        assert!(parse_tags(&many[..50]).is_ok());
    }

    proptest! {
        #[test]
        fn normalization_is_idempotent(raw in "\\PC{1,60}") {
            if let Ok(tag) = Tag::parse(&raw) {
                prop_assert_eq!(Tag::parse(tag.as_str()), Ok(tag.clone()));
                prop_assert!(tag.as_str().chars().count() <= Tag::MAX_CHARS);
                prop_assert_eq!(tag.as_str().trim(), tag.as_str());
            }
        }
    }
}
