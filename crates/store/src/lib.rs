//! The event store port: the types every storage backend shares, the hash chain that makes
//! the log tamper-evident, durable subscriptions, the read-model query port, and the contract
//! test suite that every backend must pass.

pub mod ai_ledger;
pub mod append;
pub mod auth;
pub mod chain;
pub mod columns;
pub mod contract;
pub mod embeddings;
pub mod event;
pub mod read_model;
pub mod search_history;
pub mod subscription;

use std::future::Future;

pub use event::{
    Commit, CommitReceipt, EventMetadata, ExpectedVersion, NewEvent, RecordedEvent, StreamAppend, StreamId,
};
pub use read_model::ReadModels;

/// What a replay of the read models did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayReport {
    /// Events projected.
    pub events: u64,
    pub elapsed: std::time::Duration,
}

/// Why the store refused or failed a request.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Optimistic concurrency: the stream is not at the expected version.
    #[error("stream {stream} is at version {actual}, expected {expected}")]
    Conflict { stream: String, expected: ExpectedVersion, actual: u64 },
    /// A read-model constraint refused the commit (a second user with the same email, ...).
    #[error("{0}")]
    Rejected(String),
    /// The request itself is malformed (an empty commit, an oversized batch, ...).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The store cannot serve now (writer stopped, database unreachable); retrying later may work.
    #[error("event store unavailable: {0}")]
    Unavailable(String),
    /// Stored data cannot be read back (corrupt row, unknown schema).
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// Any other database failure, with its cause.
    #[error("database error: {0}")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The append-only event log with optimistic concurrency, global ordering and durable
/// subscription checkpoints.
pub trait EventStore: Clone + Send + Sync + 'static {
    /// Appends every [`StreamAppend`] of `commit` atomically: all streams at their expected
    /// versions, or nothing. Acknowledged means durable.
    fn commit(&self, commit: Commit) -> impl Future<Output = Result<CommitReceipt, StoreError>> + Send;

    /// Appends `events` to one stream; a shorthand for a one-stream [`commit`](Self::commit).
    fn append(
        &self,
        stream: StreamId,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
        metadata: EventMetadata,
    ) -> impl Future<Output = Result<CommitReceipt, StoreError>> + Send {
        self.commit(Commit { appends: vec![StreamAppend { stream, expected, events }], metadata })
    }

    /// Every event of one stream, oldest first.
    fn read_stream(&self, stream: &StreamId) -> impl Future<Output = Result<Vec<RecordedEvent>, StoreError>> + Send;

    /// Up to `limit` events with a global position above `after`, in position order.
    fn read_all_after(
        &self,
        after: u64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<RecordedEvent>, StoreError>> + Send;

    /// The position of the last committed event (0 for an empty log).
    fn head_position(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// A receiver that changes to the head position after every commit of this process.
    fn watch_head(&self) -> tokio::sync::watch::Receiver<u64>;

    /// The position a named subscriber has durably processed (0 when it never ran).
    fn load_checkpoint(&self, subscriber: &str) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Records that `subscriber` has processed everything up to `position`.
    fn save_checkpoint(&self, subscriber: &str, position: u64) -> impl Future<Output = Result<(), StoreError>> + Send;
}
