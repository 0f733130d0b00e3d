//! Rebuilding the read models from the log, and dumping them for row-for-row comparison.

use std::time::Instant;

use sqlx::{Row, SqliteConnection, SqlitePool};

use store::{ReplayReport, StoreError};

use crate::error::{database, unsigned};
use domain::DomainEvent;

use crate::projections;

mod model;

use model::ReplayModel;

/// Rows per bulk `INSERT` statement.
const ROWS_PER_STATEMENT: usize = 2_000;

/// Every core read-model table, in a stable order.
pub(crate) const READ_MODEL_TABLES: [&str; 12] = [
    "organizations",
    "users",
    "memberships",
    "engagements",
    "engagement_members",
    "items",
    "item_versions",
    "item_categories",
    "categories",
    "templates",
    "tags",
    "item_counts",
];

/// Rebuilds every read model from the log in one transaction: a failure or crash part-way
/// leaves the previous tables untouched. The events are folded in memory ([`ReplayModel`]) and
/// the final rows written in bulk.
pub(crate) async fn rebuild(conn: &mut SqliteConnection, reads: &SqlitePool) -> Result<ReplayReport, StoreError> {
    let started = Instant::now();
    // The commit must not also copy the whole rewrite into the database file: a background
    // checkpoint does that once the replay is acknowledged (see `checkpoint.rs`).
    sqlx::query("PRAGMA wal_autocheckpoint = 0").execute(&mut *conn).await.map_err(database)?;
    let outcome = rebuild_in_transaction(conn, reads).await;
    sqlx::query("PRAGMA wal_autocheckpoint = 1000").execute(&mut *conn).await.map_err(database)?;
    let events = outcome?;
    Ok(ReplayReport { events, elapsed: started.elapsed() })
}

async fn rebuild_in_transaction(conn: &mut SqliteConnection, reads: &SqlitePool) -> Result<u64, StoreError> {
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await.map_err(database)?;
    match project_everything(conn, reads).await {
        Ok(events) => {
            sqlx::query("COMMIT").execute(&mut *conn).await.map_err(database)?;
            Ok(events)
        }
        Err(error) => {
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            Err(error)
        }
    }
}

/// Reads the log on a second connection (SQLite work on a second thread) inside one read
/// transaction. It starts after this transaction took the write lock, and every append goes
/// through that lock, so it sees exactly the log this transaction would.
async fn project_everything(conn: &mut SqliteConnection, reads: &SqlitePool) -> Result<u64, StoreError> {
    let mut reader = reads.begin().await.map_err(database)?;
    let started = Instant::now();
    // Counted once after the bulk load rather than row by row (see `count_items`).
    for name in ["items_counted_insert", "items_counted_delete", "items_counted_update"] {
        let statement = format!("DROP TRIGGER {name}");
        sqlx::query(&statement).execute(&mut *conn).await.map_err(database)?;
    }
    for table in READ_MODEL_TABLES {
        sqlx::query(&format!("DELETE FROM {table}")).execute(&mut *conn).await.map_err(database)?;
    }
    let mut count = 0;
    // While page n folds on blocking threads, one SQLite connection writes the item versions
    // of page n - 1 and the other reads page n + 1.
    let mut folding: Option<tokio::task::JoinHandle<Result<ReplayModel, StoreError>>> = None;
    let mut model = ReplayModel::default();
    let mut next_page = read_page(&mut reader, 0).await?;
    while let Some((last, page_count, packed)) = next_page {
        let mut previous = match folding.take() {
            Some(handle) => joined(handle.await)??,
            None => std::mem::take(&mut model),
        };
        let versions = previous.take_version_rows();
        folding = Some(tokio::task::spawn_blocking(move || fold_page(previous, &packed)));
        let (page, inserted) = tokio::join!(
            read_page(&mut reader, last),
            insert_rows(conn, "item_versions", model::VERSION_COLUMNS, &versions)
        );
        inserted?;
        next_page = page?;
        count += page_count;
    }
    if let Some(handle) = folding {
        model = joined(handle.await)??;
    }
    reader.rollback().await.map_err(database)?;
    tracing::debug!(events = count, elapsed = ?started.elapsed(), "log read and folded");
    let purged = model.purged_items().to_vec();
    write_tables(conn, model).await?;
    delete_versions_of_purged_items(conn, &purged).await?;
    count_items(conn).await?;
    tracing::debug!(events = count, elapsed = ?started.elapsed(), "read models rewritten");
    Ok(count)
}

/// Fills `item_counts` from the rebuilt items in one statement, then restores the triggers
/// that keep it exact from here on (all inside the replay's transaction).
async fn count_items(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO item_counts (org_id, trashed, status, kind, engagement_id, item_count)
         SELECT org_id, trashed_at IS NOT NULL, status, kind, COALESCE(engagement_id, ''), COUNT(*)
         FROM items GROUP BY 1, 2, 3, 4, 5",
    )
    .execute(&mut *conn)
    .await
    .map_err(database)?;
    let triggers: Vec<&'static str> = crate::migrations::ITEM_COUNT_TRIGGERS
        .split_inclusive("END;\n")
        .filter(|statement| !statement.trim().is_empty())
        .collect();
    for trigger in triggers {
        sqlx::query(trigger).execute(&mut *conn).await.map_err(database)?;
    }
    Ok(())
}

async fn delete_versions_of_purged_items(conn: &mut SqliteConnection, purged: &[String]) -> Result<(), StoreError> {
    if purged.is_empty() {
        return Ok(());
    }
    let list = serde_json::to_string(purged).map_err(|e| StoreError::Invalid(format!("purged items: {e}")))?;
    sqlx::query("DELETE FROM item_versions WHERE item_id IN (SELECT value FROM json_each(?))")
        .bind(list)
        .execute(&mut *conn)
        .await
        .map_err(database)?;
    Ok(())
}

fn joined<T>(outcome: Result<T, tokio::task::JoinError>) -> Result<T, StoreError> {
    outcome.map_err(|e| StoreError::Unavailable(format!("replay worker failed: {e}")))
}

/// One event as packed by [`read_page`]: `[position, stream_id, stream_version, event_type,
/// schema_version, payload, recorded_at]`.
#[derive(Debug, serde::Deserialize)]
struct PackedEvent<'a>(
    i64,
    #[serde(borrow)] std::borrow::Cow<'a, str>,
    i64,
    #[serde(borrow)] std::borrow::Cow<'a, str>,
    u32,
    #[serde(borrow)] &'a serde_json::value::RawValue,
    i64,
);

fn fold_page(mut model: ReplayModel, packed: &str) -> Result<ReplayModel, StoreError> {
    let mut events: Vec<PackedEvent<'_>> =
        serde_json::from_str(packed).map_err(|e| StoreError::Corrupt(format!("unreadable event page: {e}")))?;
    if !events.is_sorted_by_key(|e| e.0) {
        events.sort_by_key(|e| e.0);
    }
    // Decoding is most of the work and needs no shared state: the two halves of the page are
    // decoded on two threads, then folded in order.
    let (first, second) = events.split_at(events.len() / 2);
    let (first, second) = std::thread::scope(|scope| {
        let first = scope.spawn(|| decode_all(first));
        let second = decode_all(second);
        (first.join(), second)
    });
    let first = first.map_err(|_| StoreError::Corrupt("a replay decoder panicked".to_owned()))?;
    for decoded in first?.iter().chain(second?.iter()) {
        let (event, aggregate_id, stream_version, at) = decoded;
        model.apply(event, aggregate_id, *stream_version, *at);
    }
    Ok(model)
}

/// A decoded event with its aggregate id, stream version and recorded time.
type Decoded<'a> = (DomainEvent, &'a str, i64, i64);

fn decode_all<'a>(events: &'a [PackedEvent<'a>]) -> Result<Vec<Decoded<'a>>, StoreError> {
    let mut decoded = Vec::with_capacity(events.len());
    for packed in events {
        let PackedEvent(_, stream, stream_version, event_type, schema_version, payload, at) = packed;
        if !projections::is_projected(event_type) {
            continue;
        }
        let event = DomainEvent::decode(event_type, *schema_version, payload.get())
            .map_err(|e| StoreError::Corrupt(format!("{stream} version {stream_version}: {e}")))?;
        let aggregate_id = stream.split_once('-').map_or("", |(_, id)| id);
        decoded.push((event, aggregate_id, *stream_version, *at));
    }
    Ok(decoded)
}

/// Reads the next page of events packed into one JSON array, so a page crosses from SQLite
/// to Rust as one value instead of one message per row. Stream ids, event types and payloads
/// are spliced in as stored (the store accepts only plain identifiers and valid JSON):
/// escaping or re-parsing them in SQLite would cost more than the rest of the page. `None` at
/// the end of the log.
async fn read_page(conn: &mut SqliteConnection, after: i64) -> Result<Option<(i64, u64, String)>, StoreError> {
    const PAGE: i64 = 10_000;
    let row = sqlx::query(
        "SELECT MAX(position), COUNT(*), '[' || group_concat(format('[%d,\"%s\",%d,\"%s\",%d,%s,%d]', position, \
         stream_id, stream_version, event_type, schema_version, payload, recorded_at), ',') || ']' \
         FROM (SELECT position, stream_id, stream_version, event_type, schema_version, payload, recorded_at \
               FROM events WHERE position > ? ORDER BY position LIMIT ?)",
    )
    .bind(after)
    .bind(PAGE)
    .fetch_one(&mut *conn)
    .await
    .map_err(database)?;
    let last: Option<i64> = row.try_get(0).map_err(database)?;
    let Some(last) = last else { return Ok(None) };
    let count: i64 = row.try_get(1).map_err(database)?;
    let packed: String = row.try_get(2).map_err(database)?;
    Ok(Some((last, unsigned(count, "count")?, packed)))
}

/// Writes every table with multi-row statements whose values are SQL literals (SQLite parses
/// literals far faster than the driver binds values one by one). The statements are built on
/// a blocking thread while the previous one executes.
async fn write_tables(conn: &mut SqliteConnection, model: ReplayModel) -> Result<(), StoreError> {
    let (statements, mut ready) = tokio::sync::mpsc::channel::<String>(2);
    let builder = tokio::task::spawn_blocking(move || {
        for table in model.into_tables() {
            let head = format!("INSERT INTO {} ({}) VALUES ", table.table, table.columns.join(", "));
            for chunk in table.rows.chunks(ROWS_PER_STATEMENT) {
                if statements.blocking_send(insert_statement(&head, chunk)).is_err() {
                    return;
                }
            }
        }
    });
    while let Some(sql) = ready.recv().await {
        sqlx::query(&sql).persistent(false).execute(&mut *conn).await.map_err(database)?;
    }
    joined(builder.await)
}

/// Inserts rows of one table (used for the rows written while the log is still being read).
async fn insert_rows(
    conn: &mut SqliteConnection,
    table: &str,
    columns: &[&str],
    rows: &[Vec<model::Cell>],
) -> Result<(), StoreError> {
    let head = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        sqlx::query(&insert_statement(&head, chunk)).persistent(false).execute(&mut *conn).await.map_err(database)?;
    }
    Ok(())
}

fn insert_statement(head: &str, rows: &[Vec<model::Cell>]) -> String {
    let mut sql = String::with_capacity(head.len() + rows.len() * 256);
    sql.push_str(head);
    for (i, row) in rows.iter().enumerate() {
        sql.push_str(if i == 0 { "(" } else { ",(" });
        for (j, cell) in row.iter().enumerate() {
            if j > 0 {
                sql.push(',');
            }
            cell.write_literal(&mut sql);
        }
        sql.push(')');
    }
    sql
}

/// Every row of every read model, rendered as text and sorted, per table.
pub(crate) async fn dump(pool: &SqlitePool) -> Result<Vec<(String, Vec<String>)>, StoreError> {
    let mut tables = Vec::with_capacity(READ_MODEL_TABLES.len());
    for table in READ_MODEL_TABLES {
        let rows = sqlx::query(&format!("SELECT * FROM {table}")).fetch_all(pool).await.map_err(database)?;
        let mut rendered: Vec<String> = rows
            .iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| {
                        let text: Option<String> = row.try_get_unchecked::<Option<String>, _>(i).ok().flatten();
                        match text {
                            Some(text) => text,
                            None => row
                                .try_get::<Option<i64>, _>(i)
                                .ok()
                                .flatten()
                                .map_or_else(|| "NULL".to_owned(), |n| n.to_string()),
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect();
        rendered.sort();
        tables.push((table.to_owned(), rendered));
    }
    Ok(tables)
}
