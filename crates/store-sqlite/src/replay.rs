//! Rebuilding the read models from the log, and dumping them for row-for-row comparison.

use std::time::{Duration, Instant};

use sqlx::{Row, SqliteConnection, SqlitePool};

use store::StoreError;

use crate::error::database;
use crate::{projections, rows};

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

/// Empties every read model and projects the whole log again, in one transaction: a failure
/// or crash part-way leaves the previous tables untouched.
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
    for table in READ_MODEL_TABLES {
        sqlx::query(&format!("DELETE FROM {table}")).execute(&mut *conn).await.map_err(database)?;
    }
    const PAGE: usize = 5_000;
    let mut after = 0;
    let mut count = 0;
    loop {
        let page = rows::read_all_after(&mut *conn, after, PAGE).await?;
        let Some(last) = page.last().map(|e| e.position) else { break };
        for event in &page {
            let org = event.metadata().ok().and_then(|m| m.org_id);
            projections::project(conn, event, org.as_deref()).await?;
        }
        count += page.len() as u64;
        after = last;
    }
    Ok(count)
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
