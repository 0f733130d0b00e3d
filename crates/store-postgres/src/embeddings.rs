//! Item embeddings on PostgreSQL: one row per item, its passages packed as on SQLite, saved
//! with the embedder's checkpoint in one transaction.

use store::StoreError;
use store::embeddings::{EmbeddingChange, EmbeddingStore, ItemEmbedding, pack, unpack};

use crate::PostgresStore;
use crate::error::{database, unsigned};
use crate::rows::{load_checkpoint, save_checkpoint};

const CHECKPOINT: &str = "search.embeddings";

impl EmbeddingStore for PostgresStore {
    async fn embeddings_checkpoint(&self) -> Result<u64, StoreError> {
        load_checkpoint(self.pool(), CHECKPOINT).await
    }

    async fn save_embeddings(&self, changes: Vec<EmbeddingChange>, position: u64) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await.map_err(database)?;
        for change in changes {
            let statement = match change {
                EmbeddingChange::Upsert(item) => {
                    let dimensions = item.passages.first().map_or(0, |p| p.vector.len());
                    if dimensions == 0 || item.passages.iter().any(|p| p.vector.len() != dimensions) {
                        return Err(StoreError::Invalid(format!(
                            "the vectors of item {} differ in length",
                            item.item_id
                        )));
                    }
                    sqlx::query(
                        "INSERT INTO item_embeddings (item_id, org_id, engagement_id, content_hash, passages, dimensions) \
                         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (item_id) DO UPDATE SET \
                         org_id = excluded.org_id, engagement_id = excluded.engagement_id, \
                         content_hash = excluded.content_hash, passages = excluded.passages, \
                         dimensions = excluded.dimensions",
                    )
                    .bind(item.item_id)
                    .bind(item.org_id)
                    .bind(item.engagement_id)
                    .bind(item.content_hash)
                    .bind(pack(&item.passages))
                    .bind(dimensions as i64)
                }
                EmbeddingChange::Move { item_id, engagement_id } => {
                    sqlx::query("UPDATE item_embeddings SET engagement_id = $1 WHERE item_id = $2")
                        .bind(engagement_id)
                        .bind(item_id)
                }
                EmbeddingChange::Remove { item_id } => {
                    sqlx::query("DELETE FROM item_embeddings WHERE item_id = $1").bind(item_id)
                }
            };
            statement.execute(&mut *tx).await.map_err(database)?;
        }
        save_checkpoint(&mut *tx, CHECKPOINT, position).await?;
        tx.commit().await.map_err(database)
    }

    async fn load_embeddings(&self) -> Result<Vec<ItemEmbedding>, StoreError> {
        type Row = (String, String, Option<String>, String, Vec<u8>, i64);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT item_id, org_id, engagement_id, content_hash, passages, dimensions FROM item_embeddings",
        )
        .fetch_all(self.pool())
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
        let mut tx = self.pool().begin().await.map_err(database)?;
        sqlx::query("DELETE FROM item_embeddings").execute(&mut *tx).await.map_err(database)?;
        sqlx::query("DELETE FROM subscription_checkpoints WHERE subscriber = $1")
            .bind(CHECKPOINT)
            .execute(&mut *tx)
            .await
            .map_err(database)?;
        tx.commit().await.map_err(database)
    }
}
