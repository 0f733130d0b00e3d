//! The SQLite adapter of the event store: a group-commit writer that makes every acknowledged
//! append durable with one fsync per batch, the hash-chained log, inline projections into the
//! core read models, replay, and the embedded migrations.

mod ai_ledger;
mod auth;
mod checkpoint;
mod database;
mod embeddings;
mod error;
mod migrations;
mod projections;
mod read_models;
mod readers;
mod replay;
mod rows;
mod search_history;
mod writer;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot, watch};

use store::{Commit, CommitReceipt, EventStore, RecordedEvent, ReplayReport, StoreError, StreamId};

pub use database::OpenError;

/// How hard an acknowledged write is pushed to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Durability {
    /// `synchronous=FULL`: an acknowledged commit survives power loss. The default.
    #[default]
    Full,
    /// `synchronous=NORMAL`: survives a process crash; the last commits may be lost on power loss.
    Normal,
}

impl Durability {
    fn pragma(self) -> &'static str {
        match self {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        }
    }
}

/// How the SQLite store is opened.
#[derive(Debug, Clone)]
pub struct SqliteConfig {
    /// The database file.
    pub path: PathBuf,
    pub durability: Durability,
    /// Most events one group commit takes before it commits.
    pub max_batch_events: usize,
    /// How long the writer waits for more commands once it has one; zero commits whatever is
    /// queued at once (commands still batch while a commit is being synced).
    pub linger: Duration,
    /// Connections serving reads.
    pub read_connections: u32,
}

impl SqliteConfig {
    /// Defaults for a database at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            durability: Durability::Full,
            max_batch_events: 10_000,
            linger: Duration::ZERO,
            read_connections: 4,
        }
    }
}

/// The SQLite event store and read models. Cheap to clone: clones share one writer and pool.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    writer: mpsc::Sender<writer::WriteRequest>,
    reads: SqlitePool,
    /// The hot reads, on the synchronous driver.
    readers: readers::Readers,
    head: watch::Receiver<u64>,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens (creating and migrating if needed) the database at `config.path`, after checking
    /// that it is a SQLite database of a schema this binary knows. On any refusal nothing on
    /// disk is modified.
    pub async fn open(config: SqliteConfig) -> Result<Self, OpenError> {
        let opened = database::open(&config).await?;
        let head = writer::current_head(&opened.reads).await.map_err(|e| OpenError::cause(&config.path, e))?;
        let (head_tx, head_rx) = watch::channel(head);
        let thread_error = |e: std::io::Error| OpenError::cause(&config.path, format!("cannot start a thread: {e}"));
        let database = std::fs::File::open(&config.path).map_err(|e| OpenError::cause(&config.path, e))?;
        let checkpointer = checkpoint::Checkpointer::start(opened.checkpoints, database).map_err(thread_error)?;
        let parts = writer::WriterParts {
            conn: opened.writer,
            replay: opened.migrated,
            reads: opened.reads.clone(),
            checkpointer,
        };
        let writer = writer::spawn(parts, head_tx, &config).map_err(thread_error)?;
        let readers = readers::Readers::new(config.path.clone());
        Ok(Self { inner: Arc::new(Inner { writer, reads: opened.reads, readers, head: head_rx, path: config.path }) })
    }

    /// Checks a database without creating or migrating it: it exists, is SQLite, and its schema
    /// is one this binary knows. Returns the applied and the latest known schema versions.
    pub async fn inspect(path: &std::path::Path) -> Result<(i64, i64), OpenError> {
        database::inspect(path).await
    }

    /// The database file.
    pub fn path(&self) -> &std::path::Path {
        &self.inner.path
    }

    /// Drops every read model and rebuilds it from the log in one transaction. The rebuilt
    /// tables are durable when this returns; folding them from the write-ahead log into the
    /// database file happens afterwards, in the background.
    pub async fn replay(&self) -> Result<ReplayReport, StoreError> {
        let (reply, receipt) = oneshot::channel();
        self.send(writer::WriteRequest::Replay { reply }).await?;
        let report =
            receipt.await.map_err(|_| StoreError::Unavailable("the writer stopped during replay".to_owned()))??;
        tokio::spawn(checkpoint::passive(self.inner.reads.clone()));
        Ok(report)
    }

    /// The rows of every read-model table, for comparing two databases row for row.
    pub async fn dump_read_models(&self) -> Result<Vec<(String, Vec<String>)>, StoreError> {
        replay::dump(&self.inner.reads).await
    }

    /// Closes the store after the writer has committed everything already queued, folding
    /// the write-ahead log back into the database file.
    pub async fn close(&self) {
        let (reply, done) = oneshot::channel();
        if self.send(writer::WriteRequest::Shutdown { reply }).await.is_ok() {
            let _ = done.await;
        }
        checkpoint::truncate(&self.inner.reads).await;
        settle(&self.inner.reads).await;
        self.inner.reads.close().await;
    }

    async fn send(&self, request: writer::WriteRequest) -> Result<(), StoreError> {
        self.inner.writer.send(request).await.map_err(|_| StoreError::Unavailable("the writer has stopped".to_owned()))
    }

    /// Runs one statement on the writer's thread (see [`writer::WriteRequest::Statements`]).
    /// Writes from the read pool would contend with the writer for SQLite's write lock, and a
    /// connection waiting in SQLite's busy handler sleeps in steps of up to 100 ms: a request
    /// waited 1.3 s for one under a steady stream of commits.
    pub(crate) async fn write_statement(
        &self,
        sql: &'static str,
        params: Vec<rusqlite::types::Value>,
    ) -> Result<usize, StoreError> {
        self.write_statements(vec![(sql, params)]).await
    }

    /// Runs `statements` in one transaction on the writer's thread; answers the rows changed.
    pub(crate) async fn write_statements(
        &self,
        statements: Vec<(&'static str, Vec<rusqlite::types::Value>)>,
    ) -> Result<usize, StoreError> {
        let (reply, done) = oneshot::channel();
        self.send(writer::WriteRequest::Statements { statements, reply }).await?;
        done.await.map_err(|_| StoreError::Unavailable("the writer stopped before acknowledging".to_owned()))?
    }

    pub(crate) fn reads(&self) -> &SqlitePool {
        &self.inner.reads
    }
}

impl EventStore for SqliteStore {
    async fn commit(&self, commit: Commit) -> Result<CommitReceipt, StoreError> {
        store::append::validate(&commit)?;
        let (reply, receipt) = oneshot::channel();
        self.send(writer::WriteRequest::Commit { commit, reply }).await?;
        receipt.await.map_err(|_| StoreError::Unavailable("the writer stopped before acknowledging".to_owned()))?
    }

    async fn read_stream(&self, stream: &StreamId) -> Result<Vec<RecordedEvent>, StoreError> {
        rows::read_stream(self.reads(), stream).await
    }

    async fn read_all_after(&self, after: u64, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        rows::read_all_after(self.reads(), after, limit).await
    }

    async fn head_position(&self) -> Result<u64, StoreError> {
        writer::current_head(self.reads()).await
    }

    fn watch_head(&self) -> watch::Receiver<u64> {
        self.inner.head.clone()
    }

    async fn load_checkpoint(&self, subscriber: &str) -> Result<u64, StoreError> {
        rows::load_checkpoint(self.reads(), subscriber).await
    }

    async fn save_checkpoint(&self, subscriber: &str, position: u64) -> Result<(), StoreError> {
        rows::save_checkpoint(self.reads(), subscriber, position).await
    }
}

/// Waits (at most a second) until no read connection is checked out. sqlx returns a dropped
/// connection to the pool from a spawned task; one that task puts back while the pool is
/// closing stays open until the last handle on the pool is dropped, and closing it then, the
/// last connection to the file, removes the log after `close` has returned.
async fn settle(pool: &SqlitePool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    while pool.size() > u32::try_from(pool.num_idle()).unwrap_or(u32::MAX) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}
