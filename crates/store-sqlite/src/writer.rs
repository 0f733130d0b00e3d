//! The group-commit writer. Every append goes through one thread that owns the only writing
//! connection: commands queue while a commit is being synced, and the next transaction takes
//! them all (bounded by [`SqliteConfig::max_batch_events`](crate::SqliteConfig)). Versions are
//! checked per command, so a conflict fails only that command; a projection refusing a
//! command in a shared batch (a duplicate email) fails only that command too, the batch being
//! written again with a savepoint per command. The batch then commits with one fsync and every
//! command is acknowledged. The thread runs SQLite synchronously (rusqlite, ADR 0005): a
//! statement costs microseconds, where a round trip to an async driver's worker thread cost
//! tens.

use std::collections::HashMap;

use std::collections::BTreeSet;

use rusqlite::OptionalExtension;
use sqlx::{SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use store::append::{ChainTail, advance, chain_commit, check_versions};
use store::chain::GENESIS;
use store::{Commit, CommitReceipt, RecordedEvent, ReplayReport, StoreError};

use crate::checkpoint::{self, Checkpointer};
use crate::database::run_cached;
use crate::error::{database, signed, sqlite, unsigned};
use crate::rows::{now, to_micros};
use crate::{SqliteConfig, projections, replay};

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

pub(crate) enum WriteRequest {
    Commit {
        commit: Commit,
        reply: Reply<CommitReceipt>,
    },
    Replay {
        reply: Reply<ReplayReport>,
    },
    /// Statements on state kept beside the log (sessions, API keys, embeddings), in one
    /// transaction: as the database's only writer, this thread never waits for its write
    /// lock. Answers the rows the statements changed in all.
    Statements {
        statements: Vec<(&'static str, Vec<rusqlite::types::Value>)>,
        reply: Reply<usize>,
    },
    Shutdown {
        reply: oneshot::Sender<()>,
    },
}

impl std::fmt::Debug for WriteRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteRequest::Commit { commit, .. } => write!(f, "Commit({} events)", commit.event_count()),
            WriteRequest::Replay { .. } => f.write_str("Replay"),
            WriteRequest::Statements { statements, .. } => {
                write!(f, "Statements({:?})", statements.iter().map(|(sql, _)| *sql).collect::<Vec<_>>())
            }
            WriteRequest::Shutdown { .. } => f.write_str("Shutdown"),
        }
    }
}

/// The last committed position.
pub(crate) async fn current_head(pool: &SqlitePool) -> Result<u64, StoreError> {
    let head: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) FROM events").fetch_one(pool).await.map_err(database)?;
    unsigned(head, "position")
}

/// What the writer thread is given: its connection, and what replay needs besides it.
pub(crate) struct WriterParts {
    /// The only connection that appends and projects (synchronous driver, see ADR 0005).
    pub conn: rusqlite::Connection,
    /// The connection replay rewrites the read models through, idle otherwise.
    pub replay: SqliteConnection,
    /// For replay, which reads the log on a second connection while the first writes.
    pub reads: SqlitePool,
    /// Folds the log into the database file off the commit path.
    pub checkpointer: Checkpointer,
}

/// Starts the writer on a thread of its own: appends and projections run there with no await
/// between statements, and the async side only sends it requests.
pub(crate) fn spawn(
    parts: WriterParts,
    head: watch::Sender<u64>,
    config: &SqliteConfig,
) -> std::io::Result<mpsc::Sender<WriteRequest>> {
    let (sender, receiver) = mpsc::channel(8_192);
    let writer = Writer {
        conn: parts.conn,
        replay: parts.replay,
        reads: parts.reads,
        checkpointer: parts.checkpointer,
        fsyncs_commits: config.durability == crate::Durability::Full,
        runtime: tokio::runtime::Handle::current(),
        head,
        max_batch_events: config.max_batch_events.max(1),
        linger: config.linger,
        known: Known::default(),
    };
    std::thread::Builder::new().name("consailt-writer".to_owned()).spawn(move || writer.run(receiver))?;
    Ok(sender)
}

struct Writer {
    conn: rusqlite::Connection,
    replay: SqliteConnection,
    reads: SqlitePool,
    checkpointer: Checkpointer,
    /// Whether every commit waits for an fsync (`full`): a checkpoint's fsyncs beside it would
    /// slow it down, so an idle writer takes a due checkpoint itself.
    fsyncs_commits: bool,
    /// Drives the async parts (replay, the linger wait) from the writer's thread.
    runtime: tokio::runtime::Handle,
    head: watch::Sender<u64>,
    max_batch_events: usize,
    linger: std::time::Duration,
    known: Known,
}

/// What this writer has committed: the chain tail and the versions of the streams it wrote.
/// It is the log's only writer, so these stay true until it writes again; any failure forgets
/// them, and the next batch reads them from the database.
#[derive(Debug, Default)]
struct Known {
    tail: Option<ChainTail>,
    versions: HashMap<String, u64>,
}

/// Streams remembered before the memory is emptied.
const KNOWN_STREAMS: usize = 100_000;

impl Known {
    /// The tail and the versions of `streams` when all of them are known.
    fn lookup(&self, streams: &BTreeSet<&str>) -> Option<(ChainTail, HashMap<String, u64>)> {
        let tail = self.tail?;
        let mut versions = HashMap::with_capacity(streams.len());
        for stream in streams {
            versions.insert((*stream).to_owned(), *self.versions.get(*stream)?);
        }
        Some((tail, versions))
    }

    fn remember(&mut self, tail: ChainTail, versions: HashMap<String, u64>) {
        if self.versions.len() + versions.len() > KNOWN_STREAMS {
            self.versions.clear();
        }
        self.tail = Some(tail);
        self.versions.extend(versions);
    }

    fn forget(&mut self) {
        self.tail = None;
        self.versions.clear();
    }
}

impl Writer {
    /// Runs `statements` in one transaction; all or nothing.
    fn execute_all(
        &mut self,
        statements: Vec<(&'static str, Vec<rusqlite::types::Value>)>,
    ) -> Result<usize, StoreError> {
        let transaction = self.conn.transaction().map_err(sqlite)?;
        let mut changed = 0;
        for (sql, params) in statements {
            let mut statement = transaction.prepare_cached(sql).map_err(sqlite)?;
            changed += statement.execute(rusqlite::params_from_iter(params)).map_err(sqlite)?;
        }
        transaction.commit().map_err(sqlite)?;
        Ok(changed)
    }

    fn run(mut self, mut receiver: mpsc::Receiver<WriteRequest>) {
        let mut deferred = None;
        let mut stopped = None;
        loop {
            let request = match deferred.take() {
                Some(request) => request,
                None => match receiver.blocking_recv() {
                    Some(request) => request,
                    None => break,
                },
            };
            match request {
                WriteRequest::Commit { commit, reply } => {
                    let mut batch = vec![(commit, reply)];
                    deferred = self.gather(&mut receiver, &mut batch);
                    self.commit_batch(batch);
                    // Right after the thread's step, when least is left to copy.
                    if self.checkpointer.log_too_long() {
                        checkpoint::passive_now(&self.conn);
                    } else if self.checkpointer.due(self.conn.total_changes()) {
                        let idle = deferred.is_none() && receiver.is_empty();
                        if self.fsyncs_commits && idle {
                            checkpoint::passive_now(&self.conn);
                        } else {
                            self.checkpointer.request();
                        }
                    }
                }
                WriteRequest::Replay { reply } => {
                    self.known.forget();
                    let outcome = self.runtime.block_on(replay::rebuild(&mut self.replay, &self.reads));
                    let _ = reply.send(outcome);
                }
                WriteRequest::Statements { statements, reply } => {
                    let _ = reply.send(self.execute_all(statements));
                }
                WriteRequest::Shutdown { reply } => {
                    stopped = Some(reply);
                    break;
                }
            }
        }
        // Every connection closes before the stop is acknowledged, so the caller's final
        // checkpoint finds no other connection busy and no file changes after `close` returns.
        // Dropping the async connection would only ask its worker thread to close it.
        let Writer { conn, replay, checkpointer, runtime, .. } = self;
        drop(checkpointer);
        drop(conn);
        if let Err(error) = runtime.block_on(sqlx::Connection::close(replay)) {
            tracing::warn!(%error, "closing the replay connection failed");
        }
        if let Some(reply) = stopped {
            let _ = reply.send(());
        }
    }

    /// Takes queued commits into the batch until it is full, the queue is empty (after the
    /// linger time) or a non-commit request arrives, which is returned for the next turn.
    fn gather(
        &self,
        receiver: &mut mpsc::Receiver<WriteRequest>,
        batch: &mut Vec<(Commit, Reply<CommitReceipt>)>,
    ) -> Option<WriteRequest> {
        let deadline = Instant::now() + self.linger;
        let mut events: usize = batch.iter().map(|(c, _)| c.event_count()).sum();
        while events < self.max_batch_events {
            let next = match receiver.try_recv() {
                Ok(request) => request,
                Err(_) if self.linger.is_zero() => return None,
                // The timer is created inside the runtime: this thread is not one of its own.
                Err(_) => {
                    match self.runtime.block_on(async { tokio::time::timeout_at(deadline, receiver.recv()).await }) {
                        Ok(Some(request)) => request,
                        _ => return None,
                    }
                }
            };
            match next {
                WriteRequest::Commit { commit, reply } => {
                    events += commit.event_count();
                    batch.push((commit, reply));
                }
                other => return Some(other),
            }
        }
        None
    }

    fn commit_batch(&mut self, batch: Vec<(Commit, Reply<CommitReceipt>)>) {
        let commits: Vec<&Commit> = batch.iter().map(|(commit, _)| commit).collect();
        match self.write(&commits) {
            Ok((outcomes, head)) => {
                self.head.send_replace(head);
                for ((_, reply), outcome) in batch.into_iter().zip(outcomes) {
                    let _ = reply.send(outcome);
                }
            }
            Err(error) => {
                self.known.forget();
                if !self.conn.is_autocommit() {
                    let _ = self.conn.execute_batch("ROLLBACK");
                }
                tracing::error!(error = %error, commands = batch.len(), "group commit failed");
                let message = format!("the commit failed and nothing was written: {error}");
                for (_, reply) in batch {
                    let _ = reply.send(Err(StoreError::Unavailable(message.clone())));
                }
            }
        }
    }

    /// Writes the batch in one transaction. Versions are checked in memory, against what this
    /// writer knows or else one lookup per stream of the batch. A projection may refuse its
    /// command (a duplicate email), which must fail that command alone; savepoints would
    /// isolate each command, but they copy every page a command touches into a statement
    /// journal (3% of a busy server's CPU under concurrent creates). So a batch of several
    /// commands is first written without them, and only when a command fails is the
    /// transaction rolled back and the batch written again with a savepoint per projecting
    /// command. A failure of the transaction itself is returned, and nothing of the batch is
    /// written.
    fn write(&mut self, commits: &[&Commit]) -> Result<Written, StoreError> {
        let isolation = if commits.len() > 1 { Isolation::Optimistic } else { Isolation::Alone };
        match self.write_with(commits, isolation)? {
            Some(written) => Ok(written),
            None => Ok(self
                .write_with(commits, Isolation::Savepoints)?
                .unwrap_or_else(|| unreachable!("with savepoints a failing command is rolled back alone"))),
        }
    }

    /// One attempt at [`Self::write`]; `None` when an optimistic attempt met a failing command
    /// and rolled the whole transaction back.
    fn write_with(&mut self, commits: &[&Commit], isolation: Isolation) -> Result<Option<Written>, StoreError> {
        let conn = &self.conn;
        let streams: BTreeSet<&str> =
            commits.iter().flat_map(|c| c.appends.iter().map(|a| a.stream.as_str())).collect();
        run_cached(conn, "BEGIN IMMEDIATE").map_err(sqlite)?;
        let (mut tail, mut versions) = match self.known.lookup(&streams) {
            Some(known) => known,
            None => read_positions(conn, &streams)?,
        };
        let recorded_at = now();
        let mut outcomes = Vec::with_capacity(commits.len());
        for commit in commits {
            if let Err(conflict) = check_versions(commit, &versions) {
                outcomes.push(Err(conflict));
                continue;
            }
            let before = tail;
            let rows = chain_commit(commit, &versions, recorded_at, &mut tail)?;
            let savepoint = isolation == Isolation::Savepoints
                && rows.iter().any(|(row, _)| projections::is_projected(&row.event_type));
            if savepoint {
                run_cached(conn, "SAVEPOINT command").map_err(sqlite)?;
            }
            match insert_and_project(conn, &rows) {
                Ok(()) if savepoint => run_cached(conn, "RELEASE command").map_err(sqlite)?,
                Ok(()) => {}
                Err(_) if isolation == Isolation::Optimistic => {
                    conn.execute_batch("ROLLBACK").map_err(sqlite)?;
                    return Ok(None);
                }
                // A lone command's failure is its own: the transaction rolls back below.
                Err(error) if savepoint || isolation == Isolation::Alone => {
                    if savepoint {
                        conn.execute_batch("ROLLBACK TO command; RELEASE command").map_err(sqlite)?;
                    }
                    tail = before;
                    outcomes.push(Err(error));
                    continue;
                }
                Err(error) => return Err(error),
            }
            let receipt = CommitReceipt {
                last_position: tail.position,
                stream_versions: commit.appends.iter().map(|a| advance(&mut versions, a)).collect(),
                recorded_at,
            };
            outcomes.push(Ok(receipt));
        }
        if outcomes.iter().all(Result::is_err) {
            conn.execute_batch("ROLLBACK").map_err(sqlite)?;
            return Ok(Some((outcomes, tail.position)));
        }
        run_cached(conn, "COMMIT").map_err(sqlite)?;
        self.known.remember(tail, versions);
        Ok(Some((outcomes, tail.position)))
    }
}

/// Each command's outcome, and the log position the batch reached.
type Written = (Vec<Result<CommitReceipt, StoreError>>, u64);

/// How [`Writer::write_with`] keeps one command's failure from failing the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Isolation {
    /// The batch's only command: its failure rolls the transaction back.
    Alone,
    /// No savepoints: the first failure rolls the transaction back for another attempt.
    Optimistic,
    /// A savepoint around each command that projects.
    Savepoints,
}

/// Reads, inside the batch's transaction, the tail of the hash chain and the current version
/// of every stream the batch touches (each one seek on the unique index).
fn read_positions(
    conn: &rusqlite::Connection,
    streams: &BTreeSet<&str>,
) -> Result<(ChainTail, HashMap<String, u64>), StoreError> {
    let last = conn
        .prepare_cached("SELECT position, hash FROM events ORDER BY position DESC LIMIT 1")
        .and_then(|mut statement| {
            statement.query_row([], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))).optional()
        })
        .map_err(sqlite)?;
    let tail = match last {
        None => ChainTail { position: 0, hash: GENESIS },
        Some((position, hash)) => ChainTail {
            position: unsigned(position, "position")?,
            hash: hash.try_into().map_err(|_| StoreError::Corrupt(format!("event {position} has a malformed hash")))?,
        },
    };
    let mut lookup = conn
        .prepare_cached("SELECT COALESCE(MAX(stream_version), 0) FROM events WHERE stream_id = ?")
        .map_err(sqlite)?;
    let mut versions = HashMap::with_capacity(streams.len());
    for stream in streams {
        let version: i64 = lookup.query_row([stream], |row| row.get(0)).map_err(sqlite)?;
        versions.insert((*stream).to_owned(), unsigned(version, "stream_version")?);
    }
    Ok((tail, versions))
}

fn insert_and_project(conn: &rusqlite::Connection, rows: &[(RecordedEvent, Option<&str>)]) -> Result<(), StoreError> {
    let mut insert = conn
        .prepare_cached(
            "INSERT INTO events (position, stream_id, stream_version, event_type, schema_version, payload, metadata, \
             org_id, recorded_at, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .map_err(sqlite)?;
    for (row, org) in rows {
        insert
            .execute(rusqlite::params![
                signed(row.position)?,
                row.stream_id.as_str(),
                signed(row.stream_version)?,
                row.event_type.as_str(),
                i64::from(row.schema_version),
                row.payload.as_str(),
                row.metadata.as_str(),
                *org,
                to_micros(row.recorded_at),
                row.hash.as_slice(),
            ])
            .map_err(sqlite)?;
    }
    for (row, _) in rows {
        projections::project(conn, row)?;
    }
    Ok(())
}
