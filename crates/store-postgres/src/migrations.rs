//! Versioned migrations, applied at open in one transaction under a lock per schema, so two
//! instances starting together apply them once. Never edited once released.

use sqlx::PgPool;

/// Every migration this binary knows, in order.
const MIGRATIONS: [(i64, &str, &str); 1] = [(1, "schema", include_str!("../migrations/0001_schema.sql"))];

/// The latest schema version this binary knows.
pub(crate) const LATEST: i64 = MIGRATIONS[MIGRATIONS.len() - 1].0;

/// The schema version applied to the connection's schema (0: none yet).
pub(crate) async fn applied(conn: &mut sqlx::PgConnection) -> Result<i64, sqlx::Error> {
    let exists: bool =
        sqlx::query_scalar("SELECT to_regclass('schema_migrations') IS NOT NULL").fetch_one(&mut *conn).await?;
    if !exists {
        return Ok(0);
    }
    sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetch_one(&mut *conn).await
}

/// Applies the migrations the database lacks; refuses a database migrated by a newer binary.
pub(crate) async fn apply(pool: &PgPool) -> Result<(), String> {
    let fail = |e: sqlx::Error| e.to_string();
    let mut tx = pool.begin().await.map_err(fail)?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.consailt.migrations'))")
        .execute(&mut *tx)
        .await
        .map_err(fail)?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, \
         applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .execute(&mut *tx)
    .await
    .map_err(fail)?;
    let applied: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        .fetch_one(&mut *tx)
        .await
        .map_err(fail)?;
    let latest = LATEST;
    if applied > latest {
        return Err(format!(
            "the database schema is at version {applied}, newer than this binary knows ({latest}); upgrade consailt"
        ));
    }
    for (version, name, sql) in MIGRATIONS.iter().filter(|(version, _, _)| *version > applied) {
        sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(|e| format!("migration {version} ({name}): {e}"))?;
        sqlx::query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)")
            .bind(version)
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
    }
    tx.commit().await.map_err(fail)
}
