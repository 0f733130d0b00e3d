//! WAL checkpoints outside the writer's commits. SQLite's automatic checkpoint (every 1,000
//! pages) runs inside the commit that crosses the threshold: right for small commits, but a
//! replay rewrites tens of megabytes, so it turns the automatic checkpoint off for its own
//! transaction and a background checkpoint folds the log into the database file afterwards.

use sqlx::SqlitePool;

/// Copies what it can of the log into the database file without blocking anyone.
pub(crate) async fn passive(pool: SqlitePool) {
    if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await {
        tracing::warn!(%error, "background checkpoint failed; SQLite's automatic checkpoint takes over");
    }
}

/// Copies the whole log into the database file and truncates it (at close).
pub(crate) async fn truncate(pool: &SqlitePool) {
    if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(pool).await {
        tracing::warn!(%error, "final checkpoint failed; the log is replayed at next open");
    }
}
