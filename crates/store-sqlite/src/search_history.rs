//! Search history on SQLite. Writes go through the writer's thread (see
//! [`SqliteStore::write_statement`]); the table's trigger keeps the newest
//! [`store::search_history::HISTORY_LEN`] rows per user.

use rusqlite::types::Value;
use time::OffsetDateTime;

use store::StoreError;
use store::search_history::{SearchHistory, SearchRecord};

use crate::SqliteStore;
use crate::error::database;
use crate::rows::{from_micros, to_micros};

impl SearchHistory for SqliteStore {
    async fn record_search(
        &self,
        org_id: &str,
        user_id: &str,
        query: &str,
        at: OffsetDateTime,
        supersedes: Option<&str>,
    ) -> Result<(), StoreError> {
        let text = |s: &str| Value::Text(s.to_owned());
        if let Some(older) = supersedes.filter(|older| *older != query) {
            let sql = "DELETE FROM search_history WHERE org_id = ? AND user_id = ? AND query = ?";
            self.write_statement(sql, vec![text(org_id), text(user_id), text(older)]).await?;
        }
        let sql = "INSERT INTO search_history (org_id, user_id, query, searched_at) VALUES (?, ?, ?, ?) \
                   ON CONFLICT (org_id, user_id, query) DO UPDATE SET searched_at = excluded.searched_at";
        let params = vec![text(org_id), text(user_id), text(query), Value::Integer(to_micros(at))];
        self.write_statement(sql, params).await.map(|_| ())
    }

    async fn search_history(&self, org_id: &str, user_id: &str) -> Result<Vec<SearchRecord>, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT query, searched_at FROM search_history WHERE org_id = ? AND user_id = ? \
             ORDER BY searched_at DESC, query",
        )
        .bind(org_id)
        .bind(user_id)
        .fetch_all(self.reads())
        .await
        .map_err(database)?;
        rows.into_iter().map(|(query, at)| Ok(SearchRecord { query, searched_at: from_micros(at)? })).collect()
    }

    async fn clear_search_history(&self, org_id: &str, user_id: &str) -> Result<u64, StoreError> {
        let sql = "DELETE FROM search_history WHERE org_id = ? AND user_id = ?";
        let removed =
            self.write_statement(sql, vec![Value::Text(org_id.to_owned()), Value::Text(user_id.to_owned())]).await?;
        Ok(removed as u64)
    }
}
