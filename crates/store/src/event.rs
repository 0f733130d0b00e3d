//! The event log's value types: streams, versions, new and recorded events, commits.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Names one stream: `<aggregate category>-<aggregate id>` (`item-itm_01J...`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct StreamId(String);

impl StreamId {
    /// Builds the stream of an aggregate instance.
    pub fn new(category: &str, id: &str) -> Self {
        Self(format!("{category}-{id}"))
    }

    /// Wraps a stream name read back from storage.
    pub fn from_stored(name: String) -> Self {
        Self(name)
    }

    /// The stream name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the writer believes about a stream's version before appending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExpectedVersion {
    /// No check: append after whatever is there.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream's last event must have exactly this version.
    Exactly(u64),
}

impl ExpectedVersion {
    /// Whether a stream currently at `actual` satisfies this expectation.
    pub fn admits(self, actual: u64) -> bool {
        match self {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => actual == 0,
            ExpectedVersion::Exactly(version) => actual == version,
        }
    }
}

impl std::fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExpectedVersion::Any => f.write_str("any"),
            ExpectedVersion::NoStream => f.write_str("no stream"),
            ExpectedVersion::Exactly(version) => write!(f, "{version}"),
        }
    }
}

/// An event about to be appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub event_type: String,
    pub schema_version: u32,
    /// The JSON payload, stored and hashed byte for byte.
    pub payload: String,
}

/// Who did what, on whose behalf and why; stored with every event of a commit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
}

/// Events for one stream, with the version the stream must be at.
#[derive(Debug, Clone)]
pub struct StreamAppend {
    pub stream: StreamId,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
}

/// Appends to one or more streams that succeed or fail together.
#[derive(Debug, Clone)]
pub struct Commit {
    pub appends: Vec<StreamAppend>,
    pub metadata: EventMetadata,
}

impl Commit {
    /// How many events the commit holds.
    pub fn event_count(&self) -> usize {
        self.appends.iter().map(|a| a.events.len()).sum()
    }
}

/// What a successful commit produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitReceipt {
    /// Global position of the commit's last event.
    pub last_position: u64,
    /// Each stream's version after the commit, in the order of [`Commit::appends`].
    pub stream_versions: Vec<u64>,
    /// When the commit's events were recorded (to the microsecond, as stored): what the
    /// projections wrote as their `created_at` or `updated_at`.
    pub recorded_at: OffsetDateTime,
}

/// An event as stored in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    pub position: u64,
    pub stream_id: StreamId,
    pub stream_version: u64,
    pub event_type: String,
    pub schema_version: u32,
    pub payload: String,
    /// The commit's [`EventMetadata`], as stored JSON.
    pub metadata: String,
    pub recorded_at: OffsetDateTime,
    /// SHA-256 over the previous event's hash and this event's content.
    pub hash: [u8; 32],
}

impl RecordedEvent {
    /// Parses the stored metadata.
    pub fn metadata(&self) -> Result<EventMetadata, serde_json::Error> {
        serde_json::from_str(&self.metadata)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_versions_admit_what_they_say() {
        assert!(ExpectedVersion::Any.admits(7));
        assert!(ExpectedVersion::NoStream.admits(0));
        assert!(!ExpectedVersion::NoStream.admits(1));
        assert!(ExpectedVersion::Exactly(3).admits(3));
        assert!(!ExpectedVersion::Exactly(3).admits(4));
    }
}
