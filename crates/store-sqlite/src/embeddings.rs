//! Item embeddings on SQLite: one row per item, its passages packed in a blob (see migration
//! 0006). Writes go through the writer's thread, the checkpoint in the same transaction.

use rusqlite::types::Value;

use store::StoreError;
use store::embeddings::{EmbeddingChange, EmbeddingStore, ItemEmbedding, pack, unpack};

use crate::SqliteStore;
use crate::error::{database, signed, unsigned};
use crate::rows::{load_checkpoint, now, to_micros};

/// The checkpoint's row in `subscription_checkpoints`.
const CHECKPOINT: &str = "search.embeddings";

impl EmbeddingStore for SqliteStore {
    async fn embeddings_checkpoint(&self) -> Result<u64, StoreError> {
        load_checkpoint(self.reads(), CHECKPOINT).await
    }

    async fn save_embeddings(&self, changes: Vec<EmbeddingChange>, position: u64) -> Result<(), StoreError> {
        let text = |s: String| Value::Text(s);
        let optional = |s: Option<String>| s.map_or(Value::Null, Value::Text);
        let mut statements = Vec::with_capacity(changes.len() + 1);
        for change in changes {
            statements.push(match change {
                EmbeddingChange::Upsert(item) => {
                    let dimensions = item.passages.first().map_or(0, |p| p.vector.len());
                    if dimensions == 0 || item.passages.iter().any(|p| p.vector.len() != dimensions) {
                        return Err(StoreError::Invalid(format!(
                            "the vectors of item {} differ in length",
                            item.item_id
                        )));
                    }
                    let sql = "INSERT INTO item_embeddings \
                               (item_id, org_id, engagement_id, content_hash, passages, dimensions) \
                               VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (item_id) DO UPDATE SET \
                               org_id = excluded.org_id, engagement_id = excluded.engagement_id, \
                               content_hash = excluded.content_hash, passages = excluded.passages, \
                               dimensions = excluded.dimensions";
                    let blob = pack(&item.passages);
                    let params = vec![
                        text(item.item_id),
                        text(item.org_id),
                        optional(item.engagement_id),
                        text(item.content_hash),
                        Value::Blob(blob),
                        Value::Integer(dimensions as i64),
                    ];
                    (sql, params)
                }
                EmbeddingChange::Move { item_id, engagement_id } => (
                    "UPDATE item_embeddings SET engagement_id = ? WHERE item_id = ?",
                    vec![optional(engagement_id), text(item_id)],
                ),
                EmbeddingChange::Remove { item_id } => {
                    ("DELETE FROM item_embeddings WHERE item_id = ?", vec![text(item_id)])
                }
            });
        }
        statements.push((
            "INSERT INTO subscription_checkpoints (subscriber, position, updated_at) VALUES (?, ?, ?) \
             ON CONFLICT (subscriber) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at",
            vec![text(CHECKPOINT.to_owned()), Value::Integer(signed(position)?), Value::Integer(to_micros(now()))],
        ));
        self.write_statements(statements).await.map(|_| ())
    }

    async fn load_embeddings(&self) -> Result<Vec<ItemEmbedding>, StoreError> {
        type Row = (String, String, Option<String>, String, Vec<u8>, i64);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT item_id, org_id, engagement_id, content_hash, passages, dimensions FROM item_embeddings",
        )
        .fetch_all(self.reads())
        .await
        .map_err(database)?;
        rows.into_iter()
            .map(|(item_id, org_id, engagement_id, content_hash, blob, dimensions)| {
                let dimensions = usize::try_from(unsigned(dimensions, "dimensions")?)
                    .map_err(|_| StoreError::Corrupt("dimensions out of range".to_owned()))?;
                let passages = unpack(&blob, dimensions)
                    .ok_or_else(|| StoreError::Corrupt(format!("the embedding of item {item_id} is malformed")))?;
                Ok(ItemEmbedding { item_id, org_id, engagement_id, content_hash, passages })
            })
            .collect()
    }

    async fn clear_embeddings(&self) -> Result<(), StoreError> {
        self.write_statements(vec![
            ("DELETE FROM item_embeddings", vec![]),
            ("DELETE FROM subscription_checkpoints WHERE subscriber = ?", vec![Value::Text(CHECKPOINT.to_owned())]),
        ])
        .await
        .map(|_| ())
    }
}
