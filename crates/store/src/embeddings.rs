//! The embeddings port: the passage vectors of each live item, kept with the read models so
//! that a restart (or another instance) loads them instead of recomputing them, which costs
//! minutes of CPU for a large knowledge base. They are derived from the event log: the
//! embedder follows it from a checkpoint saved in the same transaction as its vectors.

use std::future::Future;

use crate::StoreError;

/// One embedded passage: a byte range of the item's body and its vector.
#[derive(Debug, Clone, PartialEq)]
pub struct PassageVector {
    pub start: u32,
    pub end: u32,
    pub vector: Vec<f32>,
}

/// The vectors of one item, with what searching them needs to know of it.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemEmbedding {
    pub item_id: String,
    pub org_id: String,
    pub engagement_id: Option<String>,
    /// What the vectors were computed from (model, title, body); equal hashes, same vectors.
    pub content_hash: String,
    pub passages: Vec<PassageVector>,
}

/// One change to the stored embeddings.
#[derive(Debug, Clone, PartialEq)]
pub enum EmbeddingChange {
    /// New or recomputed vectors of an item.
    Upsert(ItemEmbedding),
    /// The item moved to another engagement (or none); its vectors stay.
    Move { item_id: String, engagement_id: Option<String> },
    /// The item was trashed or purged.
    Remove { item_id: String },
}

/// Where embeddings live.
pub trait EmbeddingStore: Send + Sync + 'static {
    /// The last log position whose changes are saved (0 when nothing is).
    fn embeddings_checkpoint(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Applies `changes` and moves the checkpoint to `position`, atomically.
    fn save_embeddings(
        &self,
        changes: Vec<EmbeddingChange>,
        position: u64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Every stored embedding, to build the in-memory vector index at start.
    fn load_embeddings(&self) -> impl Future<Output = Result<Vec<ItemEmbedding>, StoreError>> + Send;

    /// Forgets every embedding and the checkpoint (a rebuild from the log).
    fn clear_embeddings(&self) -> impl Future<Output = Result<(), StoreError>> + Send;
}
