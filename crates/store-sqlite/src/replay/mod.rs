//! Rebuilding the read models from the log, and dumping them for row-for-row comparison.

use std::time::{Duration, Instant};

use sqlx::{Row, SqliteConnection, SqlitePool};

use store::StoreError;

use crate::error::{database, unsigned};
use domain::DomainEvent;

use crate::projections;

mod model;

use model::ReplayModel;

/// Every core read-model table, in a stable order.
pub(crate) const READ_MODEL_TABLES: [&str; 11] = [
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
];

/// What a replay did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayReport {
    pub events: u64,
    pub elapsed: Duration,
}

/// Rebuilds every read model from the log in one transaction: a failure or crash part-way
/// leaves the previous tables untouched. The events are folded in memory ([`ReplayModel`]) and
/// the final rows written in bulk.
pub(crate) async fn rebuild(conn: &mut SqliteConnection) -> Result<ReplayReport, StoreError> {
    let started = Instant::now();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await.map_err(database)?;
    match project_everything(conn).await {
        Ok(events) => {
            sqlx::query("COMMIT").execute(&mut *conn).await.map_err(database)?;
            Ok(ReplayReport { events, elapsed: started.elapsed() })
        }
        Err(error) => {
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            Err(error)
        }
    }
}

async fn project_everything(conn: &mut SqliteConnection) -> Result<u64, StoreError> {
    let started = Instant::now();
    let mut count = 0;
    let mut after = 0i64;
    // Folding page n (on a blocking thread) overlaps with reading page n + 1.
    let mut folding: Option<tokio::task::JoinHandle<Result<ReplayModel, StoreError>>> = None;
    let mut model = ReplayModel::default();
    while let Some((last, page_count, packed)) = read_page(conn, after).await? {
        let previous = match folding.take() {
            Some(handle) => joined(handle.await)??,
            None => std::mem::take(&mut model),
        };
        folding = Some(tokio::task::spawn_blocking(move || fold_page(previous, &packed)));
        count += page_count;
        after = last;
    }
    if let Some(handle) = folding {
        model = joined(handle.await)??;
    }
    tracing::debug!(events = count, elapsed = ?started.elapsed(), "log read and folded");
    for table in READ_MODEL_TABLES {
        sqlx::query(&format!("DELETE FROM {table}")).execute(&mut *conn).await.map_err(database)?;
    }
    write_tables(conn, model).await?;
    tracing::debug!(events = count, elapsed = ?started.elapsed(), "read models rewritten");
    Ok(count)
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
    for event in &events {
        fold(&mut model, event)?;
    }
    Ok(model)
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
         FROM (SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?)",
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

fn fold(model: &mut ReplayModel, packed: &PackedEvent<'_>) -> Result<(), StoreError> {
    let PackedEvent(_, stream, stream_version, event_type, schema_version, payload, at) = packed;
    if !projections::is_projected(event_type) {
        return Ok(());
    }
    let event = DomainEvent::decode(event_type, *schema_version, payload.get())
        .map_err(|e| StoreError::Corrupt(format!("{stream} version {stream_version}: {e}")))?;
    let aggregate_id = stream.split_once('-').map_or("", |(_, id)| id);
    model.apply(&event, aggregate_id, *stream_version, *at);
    Ok(())
}

/// Writes every table with multi-row statements whose values are SQL literals (SQLite parses
/// literals far faster than the driver binds values one by one). The statements are built on
/// a blocking thread while the previous one executes.
async fn write_tables(conn: &mut SqliteConnection, model: ReplayModel) -> Result<(), StoreError> {
    const ROWS_PER_STATEMENT: usize = 2_000;
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
