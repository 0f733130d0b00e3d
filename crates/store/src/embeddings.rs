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

/// Packs passages into the stored blob: per passage, start and end (u32 little-endian), then
/// the vector (f32 little-endian).
pub fn pack(passages: &[PassageVector]) -> Vec<u8> {
    let mut blob = Vec::with_capacity(passages.iter().map(|p| 8 + 4 * p.vector.len()).sum());
    for passage in passages {
        blob.extend_from_slice(&passage.start.to_le_bytes());
        blob.extend_from_slice(&passage.end.to_le_bytes());
        for value in &passage.vector {
            blob.extend_from_slice(&value.to_le_bytes());
        }
    }
    blob
}

/// Unpacks a blob made by [`pack`]; `None` when its length does not fit `dimensions`.
pub fn unpack(blob: &[u8], dimensions: usize) -> Option<Vec<PassageVector>> {
    let row = 8 + 4 * dimensions;
    if blob.is_empty() || !blob.len().is_multiple_of(row) {
        return None;
    }
    let word = |bytes: &[u8]| -> [u8; 4] { [bytes[0], bytes[1], bytes[2], bytes[3]] };
    Some(
        blob.chunks_exact(row)
            .map(|chunk| PassageVector {
                start: u32::from_le_bytes(word(&chunk[0..4])),
                end: u32::from_le_bytes(word(&chunk[4..8])),
                vector: chunk[8..].chunks_exact(4).map(|b| f32::from_le_bytes(word(b))).collect(),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passages_survive_packing() {
        let passages = vec![
            PassageVector { start: 0, end: 10, vector: vec![0.5, -1.0, f32::MIN_POSITIVE] },
            PassageVector { start: 11, end: u32::MAX, vector: vec![1.0, 2.0, 3.0] },
        ];
        assert_eq!(unpack(&pack(&passages), 3), Some(passages));
        assert_eq!(unpack(&[0; 13], 3), None);
        assert_eq!(unpack(&[], 3), None);
    }
}
