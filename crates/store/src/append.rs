//! What every backend does the same way when it appends: refusing malformed commits,
//! checking expected versions, and numbering and hash-chaining the new events.

use std::collections::HashMap;

use crate::chain::{GENESIS, link_hash};
use crate::{Commit, RecordedEvent, StoreError, StreamAppend};

/// Most events one commit may carry; larger imports are split by the caller.
pub const MAX_EVENTS_PER_COMMIT: usize = 10_000;

/// Refuses commits no backend should accept, before they reach the writer.
pub fn validate(commit: &Commit) -> Result<(), StoreError> {
    let count = commit.event_count();
    if commit.appends.is_empty() || commit.appends.iter().any(|a| a.events.is_empty()) {
        return Err(StoreError::Invalid("a commit needs at least one event for each stream".to_owned()));
    }
    if count > MAX_EVENTS_PER_COMMIT {
        return Err(StoreError::Invalid(format!("a commit holds at most {MAX_EVENTS_PER_COMMIT} events, got {count}")));
    }
    for append in &commit.appends {
        if !is_plain_name(append.stream.as_str()) {
            return Err(StoreError::Invalid(format!(
                "stream id {:?} must be 1 to 200 characters of letters, digits and -_.:",
                append.stream.as_str()
            )));
        }
    }
    for event in commit.appends.iter().flat_map(|a| &a.events) {
        if !is_plain_name(&event.event_type) {
            return Err(StoreError::Invalid(format!(
                "event type {:?} must be 1 to 200 characters of letters, digits and -_.:",
                event.event_type
            )));
        }
        if let Err(error) = serde_json::from_str::<serde::de::IgnoredAny>(&event.payload) {
            return Err(StoreError::Invalid(format!("{} payload is not JSON: {error}", event.event_type)));
        }
    }
    Ok(())
}

/// Whether a stream id or event type is a plain name: what the log can splice into JSON and
/// logs without escaping.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 200 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// The tail of the chain: the last position and its hash.
#[derive(Debug, Clone, Copy)]
pub struct ChainTail {
    pub position: u64,
    pub hash: [u8; 32],
}

/// Records an accepted append in the batch's view of stream versions; returns the new version.
pub fn advance(versions: &mut HashMap<String, u64>, append: &StreamAppend) -> u64 {
    let version = versions.entry(append.stream.as_str().to_owned()).or_insert(0);
    *version += append.events.len() as u64;
    *version
}

/// Checks every append of a commit against the batch's view of stream versions. A stream may
/// appear twice in one commit: each append sees the ones before it.
pub fn check_versions(commit: &Commit, versions: &HashMap<String, u64>) -> Result<(), StoreError> {
    let mut seen: HashMap<&str, u64> = HashMap::new();
    for append in &commit.appends {
        let stream = append.stream.as_str();
        let actual = seen.get(stream).copied().unwrap_or_else(|| versions.get(stream).copied().unwrap_or(0));
        if !append.expected.admits(actual) {
            return Err(StoreError::Conflict { stream: stream.to_owned(), expected: append.expected, actual });
        }
        seen.insert(stream, actual + append.events.len() as u64);
    }
    Ok(())
}

/// Numbers and hashes every event of a commit, with the organization each row carries.
pub fn chain_commit<'c>(
    commit: &'c Commit,
    versions: &HashMap<String, u64>,
    recorded_at: time::OffsetDateTime,
    tail: &mut ChainTail,
) -> Result<Vec<(RecordedEvent, Option<&'c str>)>, StoreError> {
    let metadata =
        serde_json::to_string(&commit.metadata).map_err(|e| StoreError::Invalid(format!("metadata: {e}")))?;
    let org = commit.metadata.org_id.as_deref();
    let mut seen: HashMap<&str, u64> = HashMap::new();
    let mut rows = Vec::with_capacity(commit.event_count());
    for append in &commit.appends {
        let stream = append.stream.as_str();
        let current = seen.get(stream).copied().unwrap_or_else(|| versions.get(stream).copied().unwrap_or(0));
        rows.extend(chain_rows(append, current, &metadata, recorded_at, tail).into_iter().map(|row| (row, org)));
        seen.insert(stream, current + append.events.len() as u64);
    }
    Ok(rows)
}

/// Numbers and hashes the events of one append, advancing the chain tail.
fn chain_rows(
    append: &StreamAppend,
    current_version: u64,
    metadata: &str,
    recorded_at: time::OffsetDateTime,
    tail: &mut ChainTail,
) -> Vec<RecordedEvent> {
    let mut version = current_version;
    append
        .events
        .iter()
        .map(|event| {
            tail.position += 1;
            version += 1;
            let mut row = RecordedEvent {
                position: tail.position,
                stream_id: append.stream.clone(),
                stream_version: version,
                event_type: event.event_type.clone(),
                schema_version: event.schema_version,
                payload: event.payload.clone(),
                metadata: metadata.to_owned(),
                recorded_at,
                hash: GENESIS,
            };
            row.hash = link_hash(&tail.hash, (&row).into());
            tail.hash = row.hash;
            row
        })
        .collect()
}
