//! Search history on PostgreSQL; the table's trigger keeps the newest
//! [`store::search_history::HISTORY_LEN`] rows per user.

use time::OffsetDateTime;

use store::StoreError;
use store::search_history::{SearchHistory, SearchRecord};

use crate::PostgresStore;
use crate::error::database;
use crate::rows::{from_micros, to_micros};

impl SearchHistory for PostgresStore {
    async fn record_search(
        &self,
        org_id: &str,
        user_id: &str,
        query: &str,
        at: OffsetDateTime,
        supersedes: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await.map_err(database)?;
        if let Some(older) = supersedes.filter(|older| *older != query) {
            sqlx::query("DELETE FROM search_history WHERE org_id = $1 AND user_id = $2 AND query = $3")
                .bind(org_id)
                .bind(user_id)
                .bind(older)
                .execute(&mut *tx)
                .await
                .map_err(database)?;
        }
        sqlx::query(
            "INSERT INTO search_history (org_id, user_id, query, searched_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (org_id, user_id, query) DO UPDATE SET searched_at = excluded.searched_at",
        )
        .bind(org_id)
        .bind(user_id)
        .bind(query)
        .bind(to_micros(at))
        .execute(&mut *tx)
        .await
        .map_err(database)?;
        tx.commit().await.map_err(database)
    }

    async fn search_history(&self, org_id: &str, user_id: &str) -> Result<Vec<SearchRecord>, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT query, searched_at FROM search_history WHERE org_id = $1 AND user_id = $2 \
             ORDER BY searched_at DESC, query",
        )
        .bind(org_id)
        .bind(user_id)
        .fetch_all(self.pool())
        .await
        .map_err(database)?;
        rows.into_iter().map(|(query, at)| Ok(SearchRecord { query, searched_at: from_micros(at)? })).collect()
    }

    async fn clear_search_history(&self, org_id: &str, user_id: &str) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM search_history WHERE org_id = $1 AND user_id = $2")
            .bind(org_id)
            .bind(user_id)
            .execute(self.pool())
            .await
            .map_err(database)?;
        Ok(done.rows_affected())
    }
}
