//! The PostgreSQL adapter of the event store, for running several `consailt serve` instances
//! on one database (DESIGN section 4, ADR 0011).
//!
//! - Appends lock the chain's tail row (`event_head`) for the length of their transaction, so
//!   positions are taken and committed in order: a subscriber reading by position never skips
//!   an event that commits late. The hash chain needs that total order anyway. Each instance
//!   commits its queued appends together (`writer`), one savepoint each.
//! - The core read models are projected in the append's transaction, as on SQLite, so any
//!   instance reads a write at once.
//! - Every commit sends a `NOTIFY`; each instance listens and moves its head watch, which wakes
//!   its subscribers (search indexer, embedder). A missed notification costs at most the
//!   subscribers' poll interval: the log and the checkpoints stay the truth.

mod ai_ledger;
mod auth;
mod embeddings;
mod error;
mod migrations;
mod projections;
mod read_models;
mod rows;
mod search_history;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::{Executor, PgPool, Row};
use tokio::sync::{mpsc, oneshot, watch};

use store::append::ChainTail;
use store::{Commit, CommitReceipt, EventStore, RecordedEvent, ReplayReport, StoreError, StreamId};

use crate::error::{database, signed, unsigned};
use crate::rows::to_micros;

/// The channel every instance's commits are announced on; the payload is the schema, so
/// stores in other schemas of the same database (tests) ignore each other.
const CHANNEL: &str = "consailt_events";

/// Appends that may wait for the writer before callers wait to queue.
const APPEND_QUEUE: usize = 1024;

/// How the PostgreSQL store connects.
#[derive(Debug, Clone)]
pub struct PostgresConfig {
    /// `postgres://user:password@host:port/database`
    pub url: String,
    /// A schema of its own (created if missing) instead of the connection's default search path.
    pub schema: Option<String>,
    /// Most connections this instance holds.
    pub max_connections: u32,
    /// How long a request waits for a connection before it fails as unavailable: with the
    /// database down, requests answer 503 after this instead of hanging.
    pub acquire_timeout: Duration,
}

impl PostgresConfig {
    /// Defaults for the database at `url`: 16 connections, a 3-second wait for one.
    pub fn new(url: impl Into<String>) -> Self {
        Self { url: url.into(), schema: None, max_connections: 16, acquire_timeout: Duration::from_secs(3) }
    }
}

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot open the PostgreSQL database {target}: {cause}")]
pub struct OpenError {
    /// Host, port and database, without credentials.
    pub target: String,
    pub cause: String,
}

/// The PostgreSQL event store and read models. Cheap to clone: clones share one pool.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pool: PgPool,
    head: watch::Sender<u64>,
    schema: String,
    listener: tokio::task::JoinHandle<()>,
    /// The writer's queue; the writer stops when the last store clone is dropped.
    appends: mpsc::Sender<writer::Pending>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

impl PostgresStore {
    /// Connects, creates the schema if asked, applies the migrations this binary knows, and
    /// starts listening for other instances' commits. A database of a newer schema is refused.
    pub async fn open(config: PostgresConfig) -> Result<Self, OpenError> {
        let (options, target) = connect_options(&config.url)?;
        let fail = |cause: String| OpenError { target: target.clone(), cause };
        if let Some(schema) = &config.schema
            && !schema.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(fail(format!("schema {schema:?} must be lowercase letters, digits and _")));
        }
        let schema_for_connections = config.schema.clone();
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections.max(2))
            .acquire_timeout(config.acquire_timeout)
            .after_connect(move |conn, _| {
                let schema = schema_for_connections.clone();
                Box::pin(async move {
                    if let Some(schema) = schema {
                        conn.execute(format!("SET search_path TO {schema}").as_str()).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| fail(e.to_string()))?;
        if let Some(schema) = &config.schema {
            pool.execute(format!("CREATE SCHEMA IF NOT EXISTS {schema}").as_str())
                .await
                .map_err(|e| fail(e.to_string()))?;
        }
        migrations::apply(&pool).await.map_err(fail)?;
        let schema: String =
            sqlx::query_scalar("SELECT current_schema()").fetch_one(&pool).await.map_err(|e| fail(e.to_string()))?;
        let head = rows::head(&pool).await.map_err(|e| fail(e.to_string()))?;
        let (head_tx, _) = watch::channel(head);
        let listener = tokio::spawn(listen(pool.clone(), head_tx.clone(), schema.clone()));
        let (appends, queue) = mpsc::channel(APPEND_QUEUE);
        tokio::spawn(writer::run(pool.clone(), head_tx.clone(), queue));
        Ok(Self { inner: Arc::new(Inner { pool, head: head_tx, schema, listener, appends }) })
    }

    /// Checks a database without migrating it: it answers, and its schema is one this binary
    /// knows. Returns the applied and the latest known schema versions (0: not yet created).
    pub async fn inspect(config: &PostgresConfig) -> Result<(i64, i64), OpenError> {
        use sqlx::ConnectOptions;
        let (options, target) = connect_options(&config.url)?;
        let fail = |e: sqlx::Error| OpenError { target: target.clone(), cause: e.to_string() };
        let connect = tokio::time::timeout(config.acquire_timeout, options.connect());
        let mut conn = connect
            .await
            .map_err(|_| OpenError { target: target.clone(), cause: "no answer within the timeout".to_owned() })?
            .map_err(fail)?;
        if let Some(schema) = &config.schema {
            conn.execute(format!("SET search_path TO {schema}").as_str()).await.map_err(fail)?;
        }
        let applied = migrations::applied(&mut conn).await.map_err(fail)?;
        Ok((applied, migrations::LATEST))
    }

    /// Appends events recorded by another store exactly as they were (positions, times,
    /// hashes) and projects them, for `consailt migrate`. Each event must continue this log's
    /// hash chain: the chain is verified on arrival, and nothing of a refused page is kept.
    pub async fn import(&self, events: &[RecordedEvent]) -> Result<u64, StoreError> {
        let mut tx = self.pool().begin().await.map_err(database)?;
        let mut tail = lock_tail(&mut tx).await?;
        let mut orgs = Vec::with_capacity(events.len());
        for event in events {
            if event.position != tail.position + 1 {
                return Err(StoreError::Invalid(format!(
                    "event {} does not follow position {} of the target log",
                    event.position, tail.position
                )));
            }
            if store::chain::link_hash(&tail.hash, event.into()) != event.hash {
                return Err(StoreError::Corrupt(format!(
                    "event {} does not continue the hash chain: the source log was altered",
                    event.position
                )));
            }
            tail = ChainTail { position: event.position, hash: event.hash };
            let metadata =
                event.metadata().map_err(|e| StoreError::Corrupt(format!("event {}: {e}", event.position)))?;
            orgs.push(metadata.org_id);
        }
        for (event, org) in events.iter().zip(&orgs) {
            insert_event(&mut tx, event, org.as_deref()).await?;
        }
        for event in events {
            projections::project(&mut tx, event).await?;
        }
        finish_append(&mut tx, &tail).await?;
        tx.commit().await.map_err(database)?;
        self.inner.head.send_if_modified(|head| raise(head, tail.position));
        Ok(tail.position)
    }

    /// The schema the store's tables live in.
    pub fn schema(&self) -> &str {
        &self.inner.schema
    }

    /// Drops every read model and rebuilds it from the log in one transaction, holding the
    /// append lock so no commit interleaves: a failure part-way leaves the previous tables.
    pub async fn replay(&self) -> Result<ReplayReport, StoreError> {
        let started = std::time::Instant::now();
        let mut tx = self.pool().begin().await.map_err(database)?;
        sqlx::query("SELECT position FROM event_head FOR UPDATE").execute(&mut *tx).await.map_err(database)?;
        let tables = projections::READ_MODEL_TABLES.join(", ");
        sqlx::query(&format!("TRUNCATE {tables}")).execute(&mut *tx).await.map_err(database)?;
        let mut after = 0;
        let mut events = 0;
        loop {
            let page = rows::read_all_after(&mut *tx, after, 2_000).await?;
            let Some(last) = page.last().map(|e| e.position) else { break };
            for event in &page {
                projections::project(&mut tx, event).await?;
            }
            events += page.len() as u64;
            after = last;
        }
        tx.commit().await.map_err(database)?;
        Ok(ReplayReport { events, elapsed: started.elapsed() })
    }

    /// The rows of every read-model table as JSON text, in a stable order, for comparing two
    /// databases row for row.
    pub async fn dump_read_models(&self) -> Result<Vec<(String, Vec<String>)>, StoreError> {
        let mut dump = Vec::with_capacity(projections::READ_MODEL_TABLES.len());
        for table in projections::READ_MODEL_TABLES {
            let rows: Vec<String> = sqlx::query_scalar(&format!(
                "SELECT row_to_json(t)::text FROM {table} t ORDER BY row_to_json(t)::text COLLATE \"C\""
            ))
            .fetch_all(self.pool())
            .await
            .map_err(database)?;
            dump.push((table.to_owned(), rows));
        }
        Ok(dump)
    }

    /// Stops listening and closes the pool's connections.
    pub async fn close(&self) {
        self.inner.listener.abort();
        self.inner.pool.close().await;
    }

    /// Whether the database answers now.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(self.pool()).await.map_err(database).map(|_| ())
    }

    pub(crate) fn pool(&self) -> &PgPool {
        &self.inner.pool
    }
}

/// Parses a database URL; also returns `host:port/database` for messages (never the
/// credentials).
fn connect_options(url: &str) -> Result<(PgConnectOptions, String), OpenError> {
    let options: PgConnectOptions = url.parse().map_err(|e| OpenError {
        target: "(unparsable URL)".to_owned(),
        cause: format!("the database URL is not valid: {e}"),
    })?;
    let target = format!("{}:{}/{}", options.get_host(), options.get_port(), options.get_database().unwrap_or(""));
    Ok((options, target))
}

/// Locks the chain's tail row until the transaction ends (every append takes this lock
/// first, so appends are serialized and commit in position order) and reads it.
async fn lock_tail(tx: &mut sqlx::PgConnection) -> Result<ChainTail, StoreError> {
    let row =
        sqlx::query("SELECT position, hash FROM event_head FOR UPDATE").fetch_one(&mut *tx).await.map_err(database)?;
    let position: i64 = row.try_get(0).map_err(database)?;
    let hash: Vec<u8> = row.try_get(1).map_err(database)?;
    Ok(ChainTail {
        position: unsigned(position, "position")?,
        hash: hash.try_into().map_err(|_| StoreError::Corrupt("the chain head's hash is malformed".to_owned()))?,
    })
}

/// Moves the tail row to the appended events and announces the commit to every instance
/// (PostgreSQL delivers the notification when, and only if, the transaction commits).
async fn finish_append(tx: &mut sqlx::PgConnection, tail: &ChainTail) -> Result<(), StoreError> {
    sqlx::query("UPDATE event_head SET position = $1, hash = $2")
        .bind(signed(tail.position)?)
        .bind(tail.hash.as_slice())
        .execute(&mut *tx)
        .await
        .map_err(database)?;
    sqlx::query("SELECT pg_notify($1, current_schema())").bind(CHANNEL).execute(&mut *tx).await.map_err(database)?;
    Ok(())
}

/// Raises the watched head to `position`; true when it moved.
fn raise(head: &mut u64, position: u64) -> bool {
    if position > *head {
        *head = position;
        true
    } else {
        false
    }
}

async fn insert_event(tx: &mut sqlx::PgConnection, row: &RecordedEvent, org: Option<&str>) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO events (position, stream_id, stream_version, event_type, schema_version, payload, metadata, \
         org_id, recorded_at, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(signed(row.position)?)
    .bind(row.stream_id.as_str())
    .bind(signed(row.stream_version)?)
    .bind(row.event_type.as_str())
    .bind(i64::from(row.schema_version))
    .bind(row.payload.as_str())
    .bind(row.metadata.as_str())
    .bind(org)
    .bind(to_micros(row.recorded_at))
    .bind(row.hash.as_slice())
    .execute(&mut *tx)
    .await
    .map_err(database)?;
    Ok(())
}

/// Follows other instances' commits: on each notification for this schema (and after every
/// reconnection, when notifications may have been missed) reads the head and raises the watch.
async fn listen(pool: PgPool, head: watch::Sender<u64>, schema: String) {
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::debug!(%error, "cannot listen for commits yet; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(error) = listener.listen(CHANNEL).await {
            tracing::debug!(%error, "cannot listen for commits yet; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) if notification.payload() != schema => continue,
                Ok(_) => {
                    // A notification for this schema, or a reconnection that may have lost some.
                    if let Ok(position) = rows::head(&pool).await {
                        head.send_if_modified(|current| raise(current, position));
                    }
                }
                Err(error) => {
                    tracing::debug!(%error, "the commit listener lost its connection");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    break;
                }
            }
        }
    }
}

impl EventStore for PostgresStore {
    async fn commit(&self, commit: Commit) -> Result<CommitReceipt, StoreError> {
        store::append::validate(&commit)?;
        let stopped = || StoreError::Unavailable("the writer has stopped".to_owned());
        let (reply, outcome) = oneshot::channel();
        self.inner.appends.send(writer::Pending { commit, reply }).await.map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())?
    }

    async fn read_stream(&self, stream: &StreamId) -> Result<Vec<RecordedEvent>, StoreError> {
        rows::read_stream(self.pool(), stream).await
    }

    async fn read_all_after(&self, after: u64, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        rows::read_all_after(self.pool(), after, limit).await
    }

    async fn head_position(&self) -> Result<u64, StoreError> {
        rows::head(self.pool()).await
    }

    fn watch_head(&self) -> watch::Receiver<u64> {
        self.inner.head.subscribe()
    }

    async fn load_checkpoint(&self, subscriber: &str) -> Result<u64, StoreError> {
        rows::load_checkpoint(self.pool(), subscriber).await
    }

    async fn save_checkpoint(&self, subscriber: &str, position: u64) -> Result<(), StoreError> {
        rows::save_checkpoint(self.pool(), subscriber, position).await
    }
}
