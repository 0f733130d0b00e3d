//! The hash chain that makes the event log tamper-evident: each event's hash covers the
//! previous event's hash and the event's own content, so changing, removing or reordering any
//! row breaks every link after it. [`verify_chain`] walks the log and reports the first break.

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::{EventStore, RecordedEvent, StoreError};

/// The "previous hash" of the first event.
pub const GENESIS: [u8; 32] = [0; 32];

/// The content of one event that its hash covers.
#[derive(Debug, Clone, Copy)]
pub struct LinkContent<'a> {
    pub position: u64,
    pub stream_id: &'a str,
    pub stream_version: u64,
    pub event_type: &'a str,
    pub schema_version: u32,
    pub payload: &'a str,
    pub metadata: &'a str,
    pub recorded_at: OffsetDateTime,
}

impl<'a> From<&'a RecordedEvent> for LinkContent<'a> {
    fn from(event: &'a RecordedEvent) -> Self {
        Self {
            position: event.position,
            stream_id: event.stream_id.as_str(),
            stream_version: event.stream_version,
            event_type: &event.event_type,
            schema_version: event.schema_version,
            payload: &event.payload,
            metadata: &event.metadata,
            recorded_at: event.recorded_at,
        }
    }
}

/// Hashes one link. Variable-length fields are length-prefixed so that no two different
/// contents encode to the same bytes.
pub fn link_hash(previous: &[u8; 32], content: LinkContent<'_>) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(previous);
    hasher.update(content.position.to_be_bytes());
    for text in [content.stream_id, content.event_type, content.payload, content.metadata] {
        hasher.update((text.len() as u64).to_be_bytes());
        hasher.update(text.as_bytes());
    }
    hasher.update(content.stream_version.to_be_bytes());
    hasher.update(content.schema_version.to_be_bytes());
    hasher.update(content.recorded_at.unix_timestamp_nanos().to_be_bytes());
    hasher.finalize().into()
}

/// The first link that does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    pub position: u64,
    pub reason: String,
}

/// The outcome of walking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub events_checked: u64,
    pub head: Option<[u8; 32]>,
    pub first_broken: Option<BrokenLink>,
}

/// Reads the whole log in position order and checks every link and that positions have no gaps.
pub async fn verify_chain<S: EventStore>(store: &S) -> Result<ChainReport, StoreError> {
    const PAGE: usize = 2_000;
    let mut previous = GENESIS;
    let mut expected_position = 1;
    let mut checked = 0;
    loop {
        let page = store.read_all_after(expected_position - 1, PAGE).await?;
        let Some(last) = page.last() else { break };
        let last_position = last.position;
        for event in &page {
            if event.position != expected_position {
                let reason =
                    format!("expected position {expected_position}, found {}: an event is missing", event.position);
                return Ok(broken(checked, event.position, reason));
            }
            let computed = link_hash(&previous, event.into());
            if computed != event.hash {
                let reason = format!(
                    "stored hash {} does not match the content's hash {}: the event or one before it was altered",
                    hex::encode(event.hash),
                    hex::encode(computed)
                );
                return Ok(broken(checked, event.position, reason));
            }
            previous = event.hash;
            expected_position += 1;
            checked += 1;
        }
        if page.len() < PAGE || last_position + 1 != expected_position {
            break;
        }
    }
    Ok(ChainReport { events_checked: checked, head: (checked > 0).then_some(previous), first_broken: None })
}

fn broken(checked: u64, position: u64, reason: String) -> ChainReport {
    ChainReport { events_checked: checked, head: None, first_broken: Some(BrokenLink { position, reason }) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(payload: &str) -> LinkContent<'_> {
        LinkContent {
            position: 1,
            stream_id: "s-1",
            stream_version: 1,
            event_type: "t",
            schema_version: 1,
            payload,
            metadata: "{}",
            recorded_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn any_change_changes_the_hash() {
        let a = link_hash(&GENESIS, content("{\"a\":1}"));
        assert_eq!(a, link_hash(&GENESIS, content("{\"a\":1}")));
        assert_ne!(a, link_hash(&GENESIS, content("{\"a\":2}")));
        assert_ne!(a, link_hash(&[1; 32], content("{\"a\":1}")));
    }
}
