//! WAL checkpoints outside the writer's commits. SQLite's automatic checkpoint (every 1,000
//! pages) runs inside the commit that crosses the threshold: right for small commits, but a
//! replay rewrites tens of megabytes, so it turns the automatic checkpoint off for its own
//! transaction and a background checkpoint folds the log into the database file afterwards.

use std::time::Duration;

use sqlx::SqlitePool;

/// Copies what it can of the log into the database file without blocking anyone.
pub(crate) async fn passive(pool: SqlitePool) {
    if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await {
        tracing::warn!(%error, "background checkpoint failed; SQLite's automatic checkpoint takes over");
    }
}

/// Copies the whole log into the database file and truncates it (at close). A checkpoint
/// still running in the background makes SQLite answer "busy"; this waits for it, boundedly.
pub(crate) async fn truncate(pool: &SqlitePool) {
    const ATTEMPTS: u32 = 50;
    for _ in 0..ATTEMPTS {
        match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(pool).await {
            Ok((0, _, _)) => return,
            Ok(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(error) => {
                tracing::warn!(%error, "final checkpoint failed; the log is replayed at next open");
                return;
            }
        }
    }
    tracing::warn!("final checkpoint stayed busy; the log is replayed at next open");
}
