//! A knowledge item: a note, document, meeting notes, deliverable or lesson learned.
//!
//! Status runs `draft -> in_review -> published -> archived` (and `in_review -> draft`). Every
//! edit makes a new version; restoring a past version makes a new version with its content. A
//! deliverable may supersede another: publishing it marks the other `superseded`. Deleting moves
//! an item to the trash, from which it is restored or, after [`TRASH_RETENTION`], purged.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::ids::{CategoryId, EngagementId, ItemId, OrgId, UserId};
use crate::tag::{Tags, parse_tags};
use crate::text::bounded_line;
use crate::{Aggregate, DomainError};

/// How long a trashed item waits before it may be purged.
pub const TRASH_RETENTION: Duration = Duration::days(30);
/// Largest Markdown body, in bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Largest metadata object, in bytes of its JSON encoding.
pub const MAX_METADATA_BYTES: usize = 16 * 1024;
/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 300;
/// Most categories one item may belong to.
pub const MAX_CATEGORIES_PER_ITEM: usize = 20;

/// What sort of knowledge an item holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Note,
    Document,
    MeetingNotes,
    Deliverable,
    LessonLearned,
}

impl ItemKind {
    /// Every kind.
    pub const ALL: [ItemKind; 5] =
        [ItemKind::Note, ItemKind::Document, ItemKind::MeetingNotes, ItemKind::Deliverable, ItemKind::LessonLearned];

    /// The kind's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Note => "note",
            ItemKind::Document => "document",
            ItemKind::MeetingNotes => "meeting_notes",
            ItemKind::Deliverable => "deliverable",
            ItemKind::LessonLearned => "lesson_learned",
        }
    }
}

/// Where an item stands in its review lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    Draft,
    InReview,
    Published,
    Archived,
    Superseded,
}

impl ItemStatus {
    /// Every status.
    pub const ALL: [ItemStatus; 5] =
        [ItemStatus::Draft, ItemStatus::InReview, ItemStatus::Published, ItemStatus::Archived, ItemStatus::Superseded];

    /// The status's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Draft => "draft",
            ItemStatus::InReview => "in_review",
            ItemStatus::Published => "published",
            ItemStatus::Archived => "archived",
            ItemStatus::Superseded => "superseded",
        }
    }

    /// The statuses a [`ItemCommand::Transition`] may reach from this one. `superseded` is
    /// reached only through [`ItemCommand::MarkSuperseded`].
    pub fn allowed_targets(self) -> &'static [ItemStatus] {
        match self {
            ItemStatus::Draft => &[ItemStatus::InReview],
            ItemStatus::InReview => &[ItemStatus::Published, ItemStatus::Draft],
            ItemStatus::Published => &[ItemStatus::Archived],
            ItemStatus::Archived | ItemStatus::Superseded => &[],
        }
    }

    fn is_editable(self) -> bool {
        matches!(self, ItemStatus::Draft | ItemStatus::InReview | ItemStatus::Published)
    }
}

impl std::fmt::Display for ItemStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A bounded JSON object of free-form metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "serde_json::Map<String, serde_json::Value>", into = "serde_json::Map<String, serde_json::Value>")]
pub struct Metadata(serde_json::Map<String, serde_json::Value>);

impl Metadata {
    /// Accepts a JSON value if it is an object whose encoding fits [`MAX_METADATA_BYTES`].
    pub fn parse(value: serde_json::Value) -> Result<Self, DomainError> {
        match value {
            serde_json::Value::Object(map) => Self::try_from(map),
            other => {
                Err(DomainError::validation("metadata", format!("must be a JSON object, got {}", json_kind(&other))))
            }
        }
    }

    /// The metadata as a JSON object.
    pub fn as_map(&self) -> &serde_json::Map<String, serde_json::Value> {
        &self.0
    }

    /// The compact JSON encoding the read models store and answer.
    pub fn to_json(&self) -> String {
        serde_json::Value::Object(self.0.clone()).to_string()
    }
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// The length of a value's JSON encoding, measured without building the string.
fn encoded_len(value: &impl Serialize) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    match serde_json::to_writer(&mut counter, value) {
        Ok(()) => counter.0,
        Err(_) => usize::MAX,
    }
}

impl TryFrom<serde_json::Map<String, serde_json::Value>> for Metadata {
    type Error = DomainError;
    fn try_from(map: serde_json::Map<String, serde_json::Value>) -> Result<Self, Self::Error> {
        let size = encoded_len(&map);
        if size > MAX_METADATA_BYTES {
            return Err(DomainError::validation(
                "metadata",
                format!("must encode to at most {MAX_METADATA_BYTES} bytes, got {size}"),
            ));
        }
        Ok(Self(map))
    }
}

impl From<Metadata> for serde_json::Map<String, serde_json::Value> {
    fn from(metadata: Metadata) -> Self {
        metadata.0
    }
}

/// Everything a version of an item holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemContent {
    pub title: String,
    pub body: String,
    pub categories: BTreeSet<CategoryId>,
    pub tags: Tags,
    pub metadata: Metadata,
}

impl ItemContent {
    /// Validates raw content: a 1..=300 character title, a body of at most 1 MiB, at most
    /// 20 categories, and normalized tags.
    pub fn new<S: AsRef<str>>(
        title: &str,
        body: String,
        categories: BTreeSet<CategoryId>,
        tags: &[S],
        metadata: Metadata,
    ) -> Result<Self, DomainError> {
        let title = bounded_line("title", title, MAX_TITLE_CHARS)?;
        if body.len() > MAX_BODY_BYTES {
            return Err(DomainError::validation(
                "body",
                format!("must be at most {MAX_BODY_BYTES} bytes, got {}", body.len()),
            ));
        }
        if categories.len() > MAX_CATEGORIES_PER_ITEM {
            return Err(DomainError::validation(
                "categories",
                format!("at most {MAX_CATEGORIES_PER_ITEM} categories are allowed, got {}", categories.len()),
            ));
        }
        Ok(Self { title, body, categories, tags: parse_tags(tags)?, metadata })
    }
}

/// What may be asked of a knowledge item.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemCommand {
    Create {
        id: ItemId,
        org: OrgId,
        author: UserId,
        kind: ItemKind,
        engagement: Option<EngagementId>,
        content: ItemContent,
        supersedes: Option<ItemId>,
    },
    Edit {
        content: ItemContent,
        author: UserId,
    },
    Transition {
        to: ItemStatus,
    },
    RestoreVersion {
        version: u32,
        author: UserId,
    },
    MarkSuperseded {
        by: ItemId,
    },
    Trash {
        at: OffsetDateTime,
    },
    RestoreFromTrash,
    Purge {
        now: OffsetDateTime,
    },
}

/// What happened to a knowledge item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ItemEvent {
    Created {
        id: ItemId,
        org: OrgId,
        author: UserId,
        kind: ItemKind,
        engagement: Option<EngagementId>,
        content: ItemContent,
        supersedes: Option<ItemId>,
    },
    Edited {
        version: u32,
        content: ItemContent,
        author: UserId,
    },
    VersionRestored {
        version: u32,
        restored_from: u32,
        content: ItemContent,
        author: UserId,
    },
    StatusChanged {
        from: ItemStatus,
        to: ItemStatus,
    },
    Superseded {
        by: ItemId,
    },
    Trashed {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    RestoredFromTrash,
    Purged,
}

/// A knowledge item as folded from its events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KnowledgeItem {
    pub id: Option<ItemId>,
    pub org: Option<OrgId>,
    pub author: Option<UserId>,
    pub kind: Option<ItemKind>,
    pub engagement: Option<EngagementId>,
    pub status: Option<ItemStatus>,
    /// Every version's content, oldest first; version `n` is `versions[n - 1]`.
    pub versions: Vec<ItemContent>,
    pub supersedes: Option<ItemId>,
    pub superseded_by: Option<ItemId>,
    pub trashed_at: Option<OffsetDateTime>,
    pub purged: bool,
}

impl KnowledgeItem {
    /// The current version number (0 before creation).
    pub fn version(&self) -> u32 {
        u32::try_from(self.versions.len()).unwrap_or(u32::MAX)
    }

    /// The current content, if the item exists.
    pub fn content(&self) -> Option<&ItemContent> {
        self.versions.last()
    }

    fn live_status(&self) -> Result<ItemStatus, DomainError> {
        match self.status {
            Some(_) if self.purged => Err(DomainError::NotFound("item was purged".to_owned())),
            Some(_) if self.trashed_at.is_some() => {
                Err(DomainError::Conflict("item is in the trash; restore it first".to_owned()))
            }
            Some(status) => Ok(status),
            None => Err(DomainError::NotFound("item does not exist".to_owned())),
        }
    }

    fn editable_status(&self) -> Result<ItemStatus, DomainError> {
        let status = self.live_status()?;
        if !status.is_editable() {
            return Err(DomainError::RuleViolation(format!("a {status} item is read-only")));
        }
        Ok(status)
    }

    fn create(&self, command: ItemCommand) -> Result<Vec<ItemEvent>, DomainError> {
        let ItemCommand::Create { id, org, author, kind, engagement, content, supersedes } = command else {
            unreachable!("create is only called with a create command");
        };
        if self.id.is_some() {
            return Err(DomainError::Conflict(format!("item {id} already exists")));
        }
        if let Some(other) = &supersedes {
            if kind != ItemKind::Deliverable {
                return Err(DomainError::validation("supersedes", "only a deliverable may supersede another item"));
            }
            if other == &id {
                return Err(DomainError::validation("supersedes", "an item cannot supersede itself"));
            }
        }
        Ok(vec![ItemEvent::Created { id, org, author, kind, engagement, content, supersedes }])
    }

    fn mark_superseded(&self, by: ItemId) -> Result<Vec<ItemEvent>, DomainError> {
        let status = self.live_status()?;
        if self.kind != Some(ItemKind::Deliverable) {
            return Err(DomainError::RuleViolation("only a deliverable can be superseded".to_owned()));
        }
        if self.id.as_ref() == Some(&by) {
            return Err(DomainError::RuleViolation("an item cannot supersede itself".to_owned()));
        }
        match status {
            ItemStatus::Published | ItemStatus::Archived => Ok(vec![ItemEvent::Superseded { by }]),
            ItemStatus::Superseded => Err(DomainError::Conflict(format!(
                "item is already superseded by {}; supersede that one instead",
                self.superseded_by.as_ref().map_or("another item", ItemId::as_str)
            ))),
            ItemStatus::Draft | ItemStatus::InReview => Err(DomainError::RuleViolation(format!(
                "a {status} deliverable is not current and cannot be superseded"
            ))),
        }
    }
}

impl Aggregate for KnowledgeItem {
    type Command = ItemCommand;
    type Event = ItemEvent;
    const STREAM_CATEGORY: &'static str = "item";

    fn decide(&self, command: ItemCommand) -> Result<Vec<ItemEvent>, DomainError> {
        use ItemCommand as C;
        use ItemEvent as E;
        match command {
            C::Create { .. } => self.create(command),
            C::Edit { content, author } => {
                self.editable_status()?;
                if self.content() == Some(&content) {
                    return Ok(vec![]);
                }
                Ok(vec![E::Edited { version: self.version() + 1, content, author }])
            }
            C::RestoreVersion { version, author } => {
                self.editable_status()?;
                let index = usize::try_from(version).unwrap_or(usize::MAX).wrapping_sub(1);
                let content = self
                    .versions
                    .get(index)
                    .cloned()
                    .ok_or_else(|| DomainError::NotFound(format!("version {version} does not exist")))?;
                Ok(vec![E::VersionRestored { version: self.version() + 1, restored_from: version, content, author }])
            }
            C::Transition { to } => {
                let from = self.live_status()?;
                let allowed = from.allowed_targets();
                if !allowed.contains(&to) {
                    return Err(DomainError::IllegalTransition {
                        from: from.to_string(),
                        to: to.to_string(),
                        allowed: allowed.iter().map(ToString::to_string).collect(),
                    });
                }
                Ok(vec![E::StatusChanged { from, to }])
            }
            C::MarkSuperseded { by } => self.mark_superseded(by),
            C::Trash { at } => {
                if self.trashed_at.is_some() && !self.purged {
                    return Err(DomainError::Conflict("item is already in the trash".to_owned()));
                }
                self.live_status()?;
                Ok(vec![E::Trashed { at }])
            }
            C::RestoreFromTrash => match self.trashed_at {
                Some(_) if !self.purged => Ok(vec![E::RestoredFromTrash]),
                _ => {
                    self.live_status()?;
                    Err(DomainError::Conflict("item is not in the trash".to_owned()))
                }
            },
            C::Purge { now } => match self.trashed_at {
                Some(_) if self.purged => Err(DomainError::NotFound("item was purged".to_owned())),
                Some(at) if now >= at + TRASH_RETENTION => Ok(vec![E::Purged]),
                Some(at) => {
                    Err(DomainError::RuleViolation(format!("item stays in the trash until {}", at + TRASH_RETENTION)))
                }
                None => {
                    self.live_status()?;
                    Err(DomainError::RuleViolation("only a trashed item can be purged".to_owned()))
                }
            },
        }
    }

    fn apply(&mut self, event: &ItemEvent) {
        use ItemEvent as E;
        match event {
            E::Created { id, org, author, kind, engagement, content, supersedes } => {
                self.id = Some(id.clone());
                self.org = Some(org.clone());
                self.author = Some(author.clone());
                self.kind = Some(*kind);
                self.engagement.clone_from(engagement);
                self.status = Some(ItemStatus::Draft);
                self.versions = vec![content.clone()];
                self.supersedes.clone_from(supersedes);
            }
            E::Edited { content, .. } | E::VersionRestored { content, .. } => self.versions.push(content.clone()),
            E::StatusChanged { to, .. } => self.status = Some(*to),
            E::Superseded { by } => {
                self.status = Some(ItemStatus::Superseded);
                self.superseded_by = Some(by.clone());
            }
            E::Trashed { at } => self.trashed_at = Some(*at),
            E::RestoredFromTrash => self.trashed_at = None,
            E::Purged => self.purged = true,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::macros::datetime;

    use super::*;
    use crate::aggregate::testing::Scenario;
    use ItemStatus as S;

    fn id(n: u8) -> ItemId {
        ItemId::parse(&format!("itm_{n}")).expect("valid id")
    }
    fn author() -> UserId {
        UserId::parse("usr_1").expect("valid id")
    }
    fn content(title: &str) -> ItemContent {
        ItemContent::new(title, "body".to_owned(), BTreeSet::new(), &["Tag"], Metadata::default())
            .expect("valid content")
    }
    fn created(kind: ItemKind, supersedes: Option<ItemId>) -> ItemEvent {
        ItemEvent::Created {
            id: id(1),
            org: OrgId::parse("org_1").expect("valid id"),
            author: author(),
            kind,
            engagement: None,
            content: content("v1"),
            supersedes,
        }
    }
    fn status(from: ItemStatus, to: ItemStatus) -> ItemEvent {
        ItemEvent::StatusChanged { from, to }
    }
    fn published(kind: ItemKind) -> Vec<ItemEvent> {
        vec![created(kind, None), status(S::Draft, S::InReview), status(S::InReview, S::Published)]
    }

    #[test]
    fn content_is_validated() {
        let empty = ItemContent::new("  ", String::new(), BTreeSet::new(), &[] as &[&str], Metadata::default());
        assert!(matches!(empty, Err(DomainError::Validation { field: "title", .. })));
        let big_body =
            ItemContent::new("t", "x".repeat(MAX_BODY_BYTES + 1), BTreeSet::new(), &[] as &[&str], Metadata::default());
        assert!(matches!(big_body, Err(DomainError::Validation { field: "body", .. })));
        let tags = content("t").tags.into_iter().map(String::from).collect::<Vec<_>>();
        assert_eq!(tags, vec!["tag"]);
    }

    #[test]
    fn metadata_must_be_a_bounded_object() {
        assert!(Metadata::parse(serde_json::json!([1, 2])).is_err());
        assert!(Metadata::parse(serde_json::json!({"client_ref": "A-17"})).is_ok());
        let huge = serde_json::json!({ "blob": "x".repeat(MAX_METADATA_BYTES) });
        assert!(matches!(Metadata::parse(huge), Err(DomainError::Validation { field: "metadata", .. })));
    }

    #[test]
    fn every_edit_makes_a_new_version() {
        Scenario::<KnowledgeItem>::given(vec![created(ItemKind::Note, None)])
            .when(ItemCommand::Edit { content: content("v2"), author: author() })
            .then(vec![ItemEvent::Edited { version: 2, content: content("v2"), author: author() }]);
        Scenario::<KnowledgeItem>::given(vec![created(ItemKind::Note, None)])
            .when(ItemCommand::Edit { content: content("v1"), author: author() })
            .then(vec![]);
    }

    #[test]
    fn restoring_a_version_makes_a_new_version_with_its_content() {
        let history = vec![
            created(ItemKind::Note, None),
            ItemEvent::Edited { version: 2, content: content("v2"), author: author() },
        ];
        Scenario::<KnowledgeItem>::given(history.clone())
            .when(ItemCommand::RestoreVersion { version: 1, author: author() })
            .then(vec![ItemEvent::VersionRestored {
                version: 3,
                restored_from: 1,
                content: content("v1"),
                author: author(),
            }]);
        Scenario::<KnowledgeItem>::given(history)
            .when(ItemCommand::RestoreVersion { version: 9, author: author() })
            .then_error(|e| matches!(e, DomainError::NotFound(_)));
    }

    #[test]
    fn status_follows_the_review_lifecycle() {
        Scenario::<KnowledgeItem>::given(vec![created(ItemKind::Note, None)])
            .when(ItemCommand::Transition { to: S::Published })
            .then_error(|e| matches!(e, DomainError::IllegalTransition { allowed, .. } if allowed == &["in_review"]));
        Scenario::<KnowledgeItem>::given(vec![created(ItemKind::Note, None), status(S::Draft, S::InReview)])
            .when(ItemCommand::Transition { to: S::Draft })
            .then(vec![status(S::InReview, S::Draft)]);
        Scenario::<KnowledgeItem>::given(published(ItemKind::Note))
            .when(ItemCommand::Transition { to: S::Archived })
            .then(vec![status(S::Published, S::Archived)]);
        Scenario::<KnowledgeItem>::given(published(ItemKind::Note))
            .when(ItemCommand::Transition { to: S::Superseded })
            .then_error(|e| matches!(e, DomainError::IllegalTransition { .. }));
    }

    #[test]
    fn archived_items_are_read_only() {
        let mut history = published(ItemKind::Note);
        history.push(status(S::Published, S::Archived));
        Scenario::<KnowledgeItem>::given(history)
            .when(ItemCommand::Edit { content: content("v2"), author: author() })
            .then_error(|e| matches!(e, DomainError::RuleViolation(_)));
    }

    #[test]
    fn only_deliverables_supersede() {
        let mut note = created(ItemKind::Note, None);
        if let ItemEvent::Created { supersedes, .. } = &mut note {
            *supersedes = Some(id(2));
        }
        let ItemEvent::Created { id, org, author, kind, engagement, content, supersedes } = note else {
            unreachable!()
        };
        Scenario::<KnowledgeItem>::given(vec![])
            .when(ItemCommand::Create {
                id: id.clone(),
                org: org.clone(),
                author: author.clone(),
                kind,
                engagement: engagement.clone(),
                content: content.clone(),
                supersedes,
            })
            .then_error(|e| matches!(e, DomainError::Validation { field: "supersedes", .. }));
        Scenario::<KnowledgeItem>::given(vec![])
            .when(ItemCommand::Create {
                id: id.clone(),
                org,
                author,
                kind: ItemKind::Deliverable,
                engagement,
                content,
                supersedes: Some(id),
            })
            .then_error(|e| matches!(e, DomainError::Validation { field: "supersedes", .. }));
    }

    #[test]
    fn a_published_deliverable_is_superseded_once() {
        Scenario::<KnowledgeItem>::given(published(ItemKind::Deliverable))
            .when(ItemCommand::MarkSuperseded { by: id(2) })
            .then(vec![ItemEvent::Superseded { by: id(2) }]);
        let mut superseded = published(ItemKind::Deliverable);
        superseded.push(ItemEvent::Superseded { by: id(2) });
        Scenario::<KnowledgeItem>::given(superseded).when(ItemCommand::MarkSuperseded { by: id(3) }).then_conflict();
        Scenario::<KnowledgeItem>::given(vec![created(ItemKind::Deliverable, None)])
            .when(ItemCommand::MarkSuperseded { by: id(2) })
            .then_error(|e| matches!(e, DomainError::RuleViolation(_)));
        Scenario::<KnowledgeItem>::given(published(ItemKind::Note))
            .when(ItemCommand::MarkSuperseded { by: id(2) })
            .then_error(|e| matches!(e, DomainError::RuleViolation(_)));
    }

    #[test]
    fn trash_restore_and_purge_after_thirty_days() {
        let trashed_at = datetime!(2026-11-01 00:00 UTC);
        let trashed = vec![created(ItemKind::Note, None), ItemEvent::Trashed { at: trashed_at }];
        Scenario::<KnowledgeItem>::given(trashed.clone())
            .when(ItemCommand::Edit { content: content("v2"), author: author() })
            .then_conflict();
        Scenario::<KnowledgeItem>::given(trashed.clone())
            .when(ItemCommand::RestoreFromTrash)
            .then(vec![ItemEvent::RestoredFromTrash]);
        Scenario::<KnowledgeItem>::given(trashed.clone())
            .when(ItemCommand::Purge { now: trashed_at + Duration::days(29) })
            .then_error(|e| matches!(e, DomainError::RuleViolation(_)));
        Scenario::<KnowledgeItem>::given(trashed.clone())
            .when(ItemCommand::Purge { now: trashed_at + TRASH_RETENTION })
            .then(vec![ItemEvent::Purged]);
        Scenario::<KnowledgeItem>::given(vec![created(ItemKind::Note, None)])
            .when(ItemCommand::Purge { now: trashed_at })
            .then_error(|e| matches!(e, DomainError::RuleViolation(_)));
        let mut purged = trashed;
        purged.push(ItemEvent::Purged);
        Scenario::<KnowledgeItem>::given(purged)
            .when(ItemCommand::RestoreFromTrash)
            .then_error(|e| matches!(e, DomainError::NotFound(_)));
    }

    fn arb_command() -> impl Strategy<Value = ItemCommand> {
        let status = proptest::sample::select(ItemStatus::ALL.to_vec());
        let day = (0i64..90).prop_map(|d| datetime!(2026-01-01 00:00 UTC) + Duration::days(d));
        prop_oneof![
            4 => status.prop_map(|to| ItemCommand::Transition { to }),
            2 => (0u8..4).prop_map(|n| ItemCommand::Edit { content: content(&format!("v{n}")), author: author() }),
            1 => (0u32..6).prop_map(|version| ItemCommand::RestoreVersion { version, author: author() }),
            1 => (2u8..5).prop_map(|n| ItemCommand::MarkSuperseded { by: id(n) }),
            1 => day.clone().prop_map(|at| ItemCommand::Trash { at }),
            1 => Just(ItemCommand::RestoreFromTrash),
            1 => day.prop_map(|now| ItemCommand::Purge { now }),
        ]
    }

    proptest! {
        #[test]
        fn random_histories_respect_the_lifecycle(
            kind in proptest::sample::select(ItemKind::ALL.to_vec()),
            commands in proptest::collection::vec(arb_command(), 0..60),
        ) {
            let mut history = vec![created(kind, None)];
            let mut state = KnowledgeItem::from_events(&history);
            for command in commands {
                let before = state.clone();
                if let Ok(events) = state.decide(command) {
                    prop_assert!(!before.purged, "a purged item accepted a command");
                    for event in &events {
                        match event {
                            ItemEvent::StatusChanged { from, to } => {
                                prop_assert_eq!(Some(*from), before.status);
                                prop_assert!(from.allowed_targets().contains(to));
                            }
                            ItemEvent::Edited { version, .. } | ItemEvent::VersionRestored { version, .. } => {
                                prop_assert_eq!(*version, before.version() + 1);
                            }
                            ItemEvent::Superseded { .. } => prop_assert_eq!(kind, ItemKind::Deliverable),
                            ItemEvent::Purged => prop_assert!(before.trashed_at.is_some()),
                            _ => {}
                        }
                        state.apply(event);
                    }
                    history.extend(events);
                }
                prop_assert_eq!(state.status == Some(S::Superseded), state.superseded_by.is_some());
                prop_assert!(state.version() >= 1);
                prop_assert_eq!(&KnowledgeItem::from_events(&history), &state);
            }
        }
    }
}
