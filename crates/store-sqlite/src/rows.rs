//! Reading the event log and subscription checkpoints.

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};

use store::{RecordedEvent, StoreError, StreamId};

pub(crate) use store::columns::{from_micros, now, to_micros};

use crate::error::{database, signed, unsigned};

pub(crate) const EVENT_COLUMNS: &str =
    "position, stream_id, stream_version, event_type, schema_version, payload, metadata, recorded_at, hash";

/// Microseconds since the epoch: the precision times are stored (and hashed) at.
/// The current time, truncated to the stored precision.
pub(crate) fn event_from_row(row: &SqliteRow) -> Result<RecordedEvent, StoreError> {
    let get_err = |e: sqlx::Error| StoreError::Corrupt(format!("unreadable event row: {e}"));
    let hash: Vec<u8> = row.try_get(8).map_err(get_err)?;
    let position: i64 = row.try_get(0).map_err(get_err)?;
    let hash: [u8; 32] = hash
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("event {position} has a hash that is not 32 bytes")))?;
    let schema_version: i64 = row.try_get(4).map_err(get_err)?;
    Ok(RecordedEvent {
        position: unsigned(position, "position")?,
        stream_id: StreamId::from_stored(row.try_get(1).map_err(get_err)?),
        stream_version: unsigned(row.try_get(2).map_err(get_err)?, "stream_version")?,
        event_type: row.try_get(3).map_err(get_err)?,
        schema_version: u32::try_from(schema_version)
            .map_err(|_| StoreError::Corrupt(format!("event {position} has schema version {schema_version}")))?,
        payload: row.try_get(5).map_err(get_err)?,
        metadata: row.try_get(6).map_err(get_err)?,
        recorded_at: from_micros(row.try_get(7).map_err(get_err)?)?,
        hash,
    })
}

pub(crate) async fn read_stream(pool: &SqlitePool, stream: &StreamId) -> Result<Vec<RecordedEvent>, StoreError> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = ? ORDER BY stream_version");
    let rows = sqlx::query(&sql).bind(stream.as_str()).fetch_all(pool).await.map_err(database)?;
    rows.iter().map(event_from_row).collect()
}

pub(crate) async fn read_all_after<'c, E>(
    executor: E,
    after: u64,
    limit: usize,
) -> Result<Vec<RecordedEvent>, StoreError>
where
    E: sqlx::SqliteExecutor<'c>,
{
    let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?");
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = sqlx::query(&sql).bind(signed(after)?).bind(limit).fetch_all(executor).await.map_err(database)?;
    rows.iter().map(event_from_row).collect()
}

pub(crate) async fn load_checkpoint(pool: &SqlitePool, subscriber: &str) -> Result<u64, StoreError> {
    let position: Option<i64> =
        sqlx::query_scalar("SELECT position FROM subscription_checkpoints WHERE subscriber = ?")
            .bind(subscriber)
            .fetch_optional(pool)
            .await
            .map_err(database)?;
    position.map_or(Ok(0), |p| unsigned(p, "checkpoint"))
}

pub(crate) async fn save_checkpoint(pool: &SqlitePool, subscriber: &str, position: u64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO subscription_checkpoints (subscriber, position, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (subscriber) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at",
    )
    .bind(subscriber)
    .bind(signed(position)?)
    .bind(to_micros(now()))
    .execute(pool)
    .await
    .map_err(database)?;
    Ok(())
}
