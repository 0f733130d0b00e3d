//! The group-commit writer. Every append goes through one task that owns the only writing
//! connection: commands queue while a commit is being synced, and the next transaction takes
//! them all (bounded by [`SqliteConfig::max_batch_events`](crate::SqliteConfig)). Versions are
//! checked per command, so a conflict fails only that command; a command whose projections can
//! refuse it (a duplicate email) runs in its own savepoint. The batch then commits with one
//! fsync and every command is acknowledged.

use std::collections::HashMap;

use sqlx::{Connection, Row, SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use store::chain::{GENESIS, link_hash};
use store::{Commit, CommitReceipt, RecordedEvent, StoreError, StreamAppend};

use crate::error::{database, signed, unsigned};
use crate::replay::ReplayReport;
use crate::rows::{now, to_micros};
use crate::{SqliteConfig, projections, replay};

/// Most events one commit may carry; larger imports are split by the caller.
pub(crate) const MAX_EVENTS_PER_COMMIT: usize = 10_000;
/// Rows per multi-row INSERT statement.
const INSERT_CHUNK: usize = 100;

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

pub(crate) enum WriteRequest {
    Commit { commit: Commit, reply: Reply<CommitReceipt> },
    Replay { reply: Reply<ReplayReport> },
    Shutdown { reply: oneshot::Sender<()> },
}

impl std::fmt::Debug for WriteRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteRequest::Commit { commit, .. } => write!(f, "Commit({} events)", commit.event_count()),
            WriteRequest::Replay { .. } => f.write_str("Replay"),
            WriteRequest::Shutdown { .. } => f.write_str("Shutdown"),
        }
    }
}

/// Refuses commits no backend should accept, before they reach the writer.
pub(crate) fn validate(commit: &Commit) -> Result<(), StoreError> {
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

/// The last committed position.
pub(crate) async fn current_head(pool: &SqlitePool) -> Result<u64, StoreError> {
    let head: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) FROM events").fetch_one(pool).await.map_err(database)?;
    unsigned(head, "position")
}

pub(crate) fn spawn(
    conn: SqliteConnection,
    reads: SqlitePool,
    head: watch::Sender<u64>,
    config: &SqliteConfig,
) -> mpsc::Sender<WriteRequest> {
    let (sender, receiver) = mpsc::channel(8_192);
    let writer = Writer {
        conn,
        reads,
        head,
        max_batch_events: config.max_batch_events.max(1),
        linger: config.linger,
        known: Known::default(),
    };
    tokio::spawn(writer.run(receiver));
    sender
}

struct Writer {
    conn: SqliteConnection,
    /// For replay, which reads the log on a second connection while this one writes.
    reads: SqlitePool,
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
    fn lookup(&self, streams: &std::collections::BTreeSet<&str>) -> Option<(ChainTail, HashMap<String, u64>)> {
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

/// The tail of the chain: the last position and its hash.
#[derive(Debug, Clone, Copy)]
struct ChainTail {
    position: u64,
    hash: [u8; 32],
}

impl Writer {
    async fn run(mut self, mut receiver: mpsc::Receiver<WriteRequest>) {
        let mut deferred = None;
        loop {
            let request = match deferred.take() {
                Some(request) => request,
                None => match receiver.recv().await {
                    Some(request) => request,
                    None => break,
                },
            };
            match request {
                WriteRequest::Commit { commit, reply } => {
                    let mut batch = vec![(commit, reply)];
                    deferred = self.gather(&mut receiver, &mut batch).await;
                    self.commit_batch(batch).await;
                }
                WriteRequest::Replay { reply } => {
                    self.known.forget();
                    let outcome = replay::rebuild(&mut self.conn, &self.reads).await;
                    let _ = reply.send(outcome);
                }
                WriteRequest::Shutdown { reply } => {
                    let _ = reply.send(());
                    break;
                }
            }
        }
        let _ = self.conn.close().await;
    }

    /// Takes queued commits into the batch until it is full, the queue is empty (after the
    /// linger time) or a non-commit request arrives, which is returned for the next turn.
    async fn gather(
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
                Err(_) => match tokio::time::timeout_at(deadline, receiver.recv()).await {
                    Ok(Some(request)) => request,
                    _ => return None,
                },
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

    async fn commit_batch(&mut self, batch: Vec<(Commit, Reply<CommitReceipt>)>) {
        let commits: Vec<&Commit> = batch.iter().map(|(commit, _)| commit).collect();
        match self.write(&commits).await {
            Ok((outcomes, head)) => {
                self.head.send_replace(head);
                for ((_, reply), outcome) in batch.into_iter().zip(outcomes) {
                    let _ = reply.send(outcome);
                }
            }
            Err(error) => {
                self.known.forget();
                let _ = sqlx::query("ROLLBACK").execute(&mut self.conn).await;
                tracing::error!(error = %error, commands = batch.len(), "group commit failed");
                let message = format!("the commit failed and nothing was written: {error}");
                for (_, reply) in batch {
                    let _ = reply.send(Err(StoreError::Unavailable(message.clone())));
                }
            }
        }
    }

    /// Writes the batch in one transaction. Versions are checked in memory, against what this
    /// writer knows or else one query for every stream of the batch; events that no projection
    /// reads are inserted together at the end. A command whose projection fails (a rejected
    /// constraint) is rolled back to its savepoint and reported; a failure of the transaction
    /// itself is returned.
    async fn write(
        &mut self,
        commits: &[&Commit],
    ) -> Result<(Vec<Result<CommitReceipt, StoreError>>, u64), StoreError> {
        let conn = &mut self.conn;
        let streams: std::collections::BTreeSet<&str> =
            commits.iter().flat_map(|c| c.appends.iter().map(|a| a.stream.as_str())).collect();
        let projected = commits
            .iter()
            .any(|c| c.appends.iter().any(|a| a.events.iter().any(|e| projections::is_projected(&e.event_type))));
        // With everything known and nothing to project, BEGIN rides with the insert and COMMIT:
        // one round trip to SQLite for the whole batch.
        let (mut tail, mut versions, begun) = match self.known.lookup(&streams) {
            Some((tail, versions)) if !projected => (tail, versions, false),
            _ => {
                let (tail, versions) = begin(conn, &streams).await?;
                (tail, versions, true)
            }
        };
        let recorded_at = now();
        let isolate = commits.len() > 1;
        let mut unprojected = Vec::new();
        let mut outcomes = Vec::with_capacity(commits.len());
        for commit in commits {
            if let Err(conflict) = check_versions(commit, &versions) {
                outcomes.push(Err(conflict));
                continue;
            }
            let before = tail;
            let rows = chain_commit(commit, &versions, recorded_at, &mut tail)?;
            if rows.iter().any(|(row, _)| projections::is_projected(&row.event_type)) {
                // Only a projection that can refuse its command gets a savepoint (two round trips);
                // any other failure inside a shared batch fails the whole batch, so nothing is
                // ever half-written.
                let savepoint = isolate && rows.iter().any(|(row, _)| projections::can_refuse(&row.event_type));
                if savepoint {
                    sqlx::query("SAVEPOINT command").execute(&mut *conn).await.map_err(database)?;
                }
                if let Err(error) = insert_and_project(conn, &rows).await {
                    if isolate && !savepoint {
                        return Err(error);
                    }
                    tail = before;
                    if savepoint {
                        sqlx::query("ROLLBACK TO command").execute(&mut *conn).await.map_err(database)?;
                        sqlx::query("RELEASE command").execute(&mut *conn).await.map_err(database)?;
                    }
                    outcomes.push(Err(error));
                    continue;
                }
                if savepoint {
                    sqlx::query("RELEASE command").execute(&mut *conn).await.map_err(database)?;
                }
            } else {
                unprojected.extend(rows);
            }
            let receipt = CommitReceipt {
                last_position: tail.position,
                stream_versions: commit.appends.iter().map(|a| advance(&mut versions, a)).collect(),
            };
            outcomes.push(Ok(receipt));
        }
        if outcomes.iter().all(Result::is_err) && (!isolate || !begun) {
            if begun {
                sqlx::query("ROLLBACK").execute(&mut *conn).await.map_err(database)?;
            }
            return Ok((outcomes, tail.position));
        }
        let opening = if begun { "" } else { "BEGIN IMMEDIATE; " };
        insert_rows_and_commit(conn, opening, &unprojected).await?;
        self.known.remember(tail, versions);
        Ok((outcomes, tail.position))
    }
}

/// Records an accepted append in the batch's view of stream versions; returns the new version.
fn advance(versions: &mut HashMap<String, u64>, append: &StreamAppend) -> u64 {
    let version = versions.entry(append.stream.as_str().to_owned()).or_insert(0);
    *version += append.events.len() as u64;
    *version
}

/// Opens the batch's transaction and reads, in the same round trip to SQLite, the tail of the
/// hash chain and the current version of every stream the batch touches (the streams travel
/// as one JSON array; each lookup is one seek on the unique index).
async fn begin(
    conn: &mut SqliteConnection,
    streams: &std::collections::BTreeSet<&str>,
) -> Result<(ChainTail, HashMap<String, u64>), StoreError> {
    let list = serde_json::to_string(streams).map_err(|e| StoreError::Invalid(format!("stream ids: {e}")))?;
    let rows = sqlx::query(
        "BEGIN IMMEDIATE; \
         SELECT NULL, position, hash FROM (SELECT position, hash FROM events ORDER BY position DESC LIMIT 1) \
         UNION ALL \
         SELECT j.value, (SELECT MAX(stream_version) FROM events WHERE stream_id = j.value), NULL FROM json_each(?) AS j",
    )
    .bind(list)
    .fetch_all(&mut *conn)
    .await
    .map_err(database)?;
    let mut tail = ChainTail { position: 0, hash: GENESIS };
    let mut versions = HashMap::with_capacity(streams.len());
    for row in rows {
        let stream: Option<String> = row.try_get(0).map_err(database)?;
        let number: Option<i64> = row.try_get(1).map_err(database)?;
        match stream {
            None => {
                let position = number.unwrap_or(0);
                let hash: Vec<u8> = row.try_get(2).map_err(database)?;
                let hash = hash
                    .try_into()
                    .map_err(|_| StoreError::Corrupt(format!("event {position} has a malformed hash")))?;
                tail = ChainTail { position: unsigned(position, "position")?, hash };
            }
            Some(stream) => {
                versions.insert(stream, unsigned(number.unwrap_or(0), "stream_version")?);
            }
        }
    }
    Ok((tail, versions))
}

/// Checks every append of a commit against the batch's view of stream versions. A stream may
/// appear twice in one commit: each append sees the ones before it.
fn check_versions(commit: &Commit, versions: &HashMap<String, u64>) -> Result<(), StoreError> {
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
fn chain_commit<'c>(
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

async fn insert_and_project(
    conn: &mut SqliteConnection,
    rows: &[(RecordedEvent, Option<&str>)],
) -> Result<(), StoreError> {
    insert_rows(conn, rows).await?;
    for (row, _) in rows {
        projections::project(conn, row).await?;
    }
    Ok(())
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

async fn insert_rows(conn: &mut SqliteConnection, rows: &[(RecordedEvent, Option<&str>)]) -> Result<(), StoreError> {
    insert_rows_then(conn, "", rows, "").await
}

/// Inserts the rows and commits, the commit riding with the last insert (one round trip fewer);
/// `opening` (a `BEGIN` not yet sent) rides with the first.
async fn insert_rows_and_commit(
    conn: &mut SqliteConnection,
    opening: &str,
    rows: &[(RecordedEvent, Option<&str>)],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        sqlx::query(&format!("{opening}COMMIT")).execute(&mut *conn).await.map_err(database)?;
        return Ok(());
    }
    insert_rows_then(conn, opening, rows, "; COMMIT").await
}

/// Inserts rows with multi-row statements; `opening` is put before the first statement and
/// `tail` after the last.
async fn insert_rows_then(
    conn: &mut SqliteConnection,
    opening: &str,
    rows: &[(RecordedEvent, Option<&str>)],
    tail: &str,
) -> Result<(), StoreError> {
    let chunks = rows.len().div_ceil(INSERT_CHUNK);
    for (index, chunk) in rows.chunks(INSERT_CHUNK).enumerate() {
        let mut sql = String::from(if index == 0 { opening } else { "" });
        sql.push_str(
            "INSERT INTO events (position, stream_id, stream_version, event_type, schema_version, payload, metadata, \
             org_id, recorded_at, hash) VALUES ",
        );
        for i in 0..chunk.len() {
            sql.push_str(if i == 0 { "(?,?,?,?,?,?,?,?,?,?)" } else { ",(?,?,?,?,?,?,?,?,?,?)" });
        }
        if index + 1 == chunks {
            sql.push_str(tail);
        }
        let mut query = sqlx::query(&sql);
        for (row, org) in chunk {
            query = query
                .bind(signed(row.position)?)
                .bind(row.stream_id.as_str())
                .bind(signed(row.stream_version)?)
                .bind(row.event_type.as_str())
                .bind(i64::from(row.schema_version))
                .bind(row.payload.as_str())
                .bind(row.metadata.as_str())
                .bind(*org)
                .bind(to_micros(row.recorded_at))
                .bind(row.hash.as_slice());
        }
        query.execute(&mut *conn).await.map_err(database)?;
    }
    Ok(())
}
