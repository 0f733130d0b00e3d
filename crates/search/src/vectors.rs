//! The in-memory vector index: every passage vector of every live item, grouped by
//! organization, searched exactly (a scan of the organization's vectors, an item scored by its
//! best passage). Exact search needs no tuning and filters for free: what the caller may not
//! read is skipped before it is scored, so a guest's or a filtered query never loses results
//! to a post-filter. Its cost grows with the organization's passages (see bench/README.md);
//! an approximate index is not built yet.

use std::collections::HashMap;
use std::sync::RwLock;

use store::embeddings::ItemEmbedding;

use crate::embedding::DIMENSIONS;
use crate::passages::Passage;

/// The least cosine similarity of a passage to count as related: all-MiniLM-L6-v2 places
/// unrelated English texts around 0 to 0.15 (measured in `tests/embedding.rs`), so without a
/// floor every query "finds" every item.
pub const MIN_SIMILARITY: f32 = 0.2;

/// Marks a row whose item was removed or re-embedded; compacted away once they pile up.
const DEAD: u32 = u32::MAX;

/// What to look for in one organization.
#[derive(Debug, Clone)]
pub struct VectorQuery<'a> {
    pub org: &'a str,
    /// The query's embedding.
    pub vector: &'a [f32],
    /// The engagements the caller may see, when restricted (a guest); `None` sees all.
    pub engagements_visible: Option<&'a [String]>,
    /// Only items of this engagement.
    pub engagement: Option<&'a str>,
    /// Items wanted, best first.
    pub limit: usize,
}

/// An item near the query: its best passage and that passage's cosine similarity.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorHit {
    pub id: String,
    pub score: f32,
    pub passage: Passage,
}

/// Passage vectors of live items, by organization.
#[derive(Debug, Default)]
pub struct VectorIndex {
    orgs: RwLock<HashMap<String, OrgVectors>>,
    /// The organization of each item, to find it on removal.
    org_of: RwLock<HashMap<String, String>>,
}

#[derive(Debug, Default)]
struct OrgVectors {
    /// Row-major: row `r` is `data[r * DIMENSIONS..(r + 1) * DIMENSIONS]`.
    data: Vec<f32>,
    /// The slot of each row's item, or [`DEAD`].
    owner: Vec<u32>,
    passage: Vec<Passage>,
    slots: Vec<Slot>,
    slot_of: HashMap<String, u32>,
    free: Vec<u32>,
    dead: usize,
}

#[derive(Debug, Default)]
struct Slot {
    id: String,
    engagement: Option<String>,
    content_hash: String,
    rows: Vec<u32>,
}

impl VectorIndex {
    /// An index of `embeddings`.
    pub fn from_embeddings(embeddings: Vec<ItemEmbedding>) -> Self {
        let index = Self::default();
        for embedding in embeddings {
            index.upsert(embedding);
        }
        index
    }

    /// Adds an item's vectors, replacing any it had. Vectors of another length than
    /// [`DIMENSIONS`] are skipped (another model's).
    pub fn upsert(&self, embedding: ItemEmbedding) {
        self.remove(&embedding.item_id);
        let mut orgs = self.orgs.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.org_of
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(embedding.item_id.clone(), embedding.org_id.clone());
        orgs.entry(embedding.org_id.clone()).or_default().insert(embedding);
    }

    /// Forgets every vector.
    pub fn clear(&self) {
        let mut orgs = self.orgs.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        orgs.clear();
        self.org_of.write().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
    }

    /// Moves an item to another engagement (or none).
    pub fn set_engagement(&self, item_id: &str, engagement: Option<String>) {
        let Some(org) = self.org_of(item_id) else { return };
        let mut orgs = self.orgs.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(vectors) = orgs.get_mut(&org)
            && let Some(&slot) = vectors.slot_of.get(item_id)
        {
            vectors.slots[slot as usize].engagement = engagement;
        }
    }

    /// Forgets an item's vectors.
    pub fn remove(&self, item_id: &str) {
        let Some(org) = self.org_of.write().unwrap_or_else(std::sync::PoisonError::into_inner).remove(item_id) else {
            return;
        };
        let mut orgs = self.orgs.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(vectors) = orgs.get_mut(&org) {
            vectors.remove(item_id);
        }
    }

    /// What an item's vectors were computed from, and its engagement, when it has any.
    pub fn state_of(&self, item_id: &str) -> Option<(String, Option<String>)> {
        let org = self.org_of(item_id)?;
        let orgs = self.orgs.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let vectors = orgs.get(&org)?;
        let slot = &vectors.slots[*vectors.slot_of.get(item_id)? as usize];
        Some((slot.content_hash.clone(), slot.engagement.clone()))
    }

    /// Items with vectors.
    pub fn items(&self) -> usize {
        self.org_of.read().unwrap_or_else(std::sync::PoisonError::into_inner).len()
    }

    /// Passages with vectors.
    pub fn passages(&self) -> usize {
        let orgs = self.orgs.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        orgs.values().map(|vectors| vectors.owner.len() - vectors.dead).sum()
    }

    /// The items nearest the query, best first, each scored by its best passage; none whose
    /// best passage is below [`MIN_SIMILARITY`].
    pub fn search(&self, query: &VectorQuery<'_>) -> Vec<VectorHit> {
        if query.vector.len() != DIMENSIONS || query.limit == 0 {
            return Vec::new();
        }
        let orgs = self.orgs.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(vectors) = orgs.get(query.org) else { return Vec::new() };
        let allowed: Vec<bool> = vectors
            .slots
            .iter()
            .map(|slot| {
                let engagement = slot.engagement.as_deref();
                !slot.rows.is_empty()
                    && query.engagement.is_none_or(|wanted| engagement == Some(wanted))
                    && query
                        .engagements_visible
                        .is_none_or(|visible| engagement.is_some_and(|e| visible.iter().any(|v| v == e)))
            })
            .collect();
        let mut best: Vec<(f32, u32)> = vec![(MIN_SIMILARITY, DEAD); vectors.slots.len()];
        for (row, &owner) in vectors.owner.iter().enumerate() {
            if owner == DEAD || !allowed[owner as usize] {
                continue;
            }
            let start = row * DIMENSIONS;
            let score = dot(query.vector, &vectors.data[start..start + DIMENSIONS]);
            let entry = &mut best[owner as usize];
            if score >= entry.0 {
                *entry = (score, row as u32);
            }
        }
        let mut ranked: Vec<(usize, f32, u32)> = best
            .into_iter()
            .enumerate()
            .filter(|(_, (_, row))| *row != DEAD)
            .map(|(slot, (score, row))| (slot, score, row))
            .collect();
        let by_score = |a: &(usize, f32, u32), b: &(usize, f32, u32)| b.1.total_cmp(&a.1);
        if ranked.len() > query.limit {
            ranked.select_nth_unstable_by(query.limit - 1, by_score);
            ranked.truncate(query.limit);
        }
        ranked.sort_unstable_by(by_score);
        ranked
            .into_iter()
            .map(|(slot, score, row)| VectorHit {
                id: vectors.slots[slot].id.clone(),
                score,
                passage: vectors.passage[row as usize],
            })
            .collect()
    }

    fn org_of(&self, item_id: &str) -> Option<String> {
        self.org_of.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(item_id).cloned()
    }
}

impl OrgVectors {
    fn insert(&mut self, embedding: ItemEmbedding) {
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(Slot::default());
                (self.slots.len() - 1) as u32
            }
        };
        let mut rows = Vec::with_capacity(embedding.passages.len());
        for passage in &embedding.passages {
            if passage.vector.len() != DIMENSIONS {
                continue;
            }
            rows.push(self.owner.len() as u32);
            self.data.extend_from_slice(&passage.vector);
            self.owner.push(slot);
            self.passage.push(Passage { start: passage.start as usize, end: passage.end as usize });
        }
        self.slot_of.insert(embedding.item_id.clone(), slot);
        self.slots[slot as usize] = Slot {
            id: embedding.item_id,
            engagement: embedding.engagement_id,
            content_hash: embedding.content_hash,
            rows,
        };
    }

    fn remove(&mut self, item_id: &str) {
        let Some(slot) = self.slot_of.remove(item_id) else { return };
        let removed = std::mem::take(&mut self.slots[slot as usize]);
        for row in &removed.rows {
            self.owner[*row as usize] = DEAD;
        }
        self.dead += removed.rows.len();
        self.free.push(slot);
        if self.dead > 1_024 && self.dead * 2 > self.owner.len() {
            self.compact();
        }
    }

    /// Drops dead rows, renumbering the live ones.
    fn compact(&mut self) {
        let mut data = Vec::with_capacity((self.owner.len() - self.dead) * DIMENSIONS);
        let mut owner = Vec::with_capacity(self.owner.len() - self.dead);
        let mut passage = Vec::with_capacity(owner.capacity());
        for slot in &mut self.slots {
            for row in &mut slot.rows {
                let old = *row as usize;
                *row = owner.len() as u32;
                data.extend_from_slice(&self.data[old * DIMENSIONS..(old + 1) * DIMENSIONS]);
                owner.push(self.owner[old]);
                passage.push(self.passage[old]);
            }
        }
        self.data = data;
        self.owner = owner;
        self.passage = passage;
        self.dead = 0;
    }
}

/// The dot product, in eight lanes the compiler vectorizes.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (a_chunks, b_chunks) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a_chunks.remainder().iter().zip(b_chunks.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for lane in 0..8 {
            lanes[lane] += x[lane] * y[lane];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use store::embeddings::PassageVector;

    use super::*;

    fn unit(axis: usize) -> Vec<f32> {
        let mut vector = vec![0.0; DIMENSIONS];
        vector[axis] = 1.0;
        vector
    }

    fn item(id: &str, org: &str, engagement: Option<&str>, axes: &[usize]) -> ItemEmbedding {
        ItemEmbedding {
            item_id: id.to_owned(),
            org_id: org.to_owned(),
            engagement_id: engagement.map(str::to_owned),
            content_hash: format!("hash-{id}"),
            passages: axes
                .iter()
                .enumerate()
                .map(|(i, &axis)| PassageVector { start: i as u32, end: i as u32 + 1, vector: unit(axis) })
                .collect(),
        }
    }

    fn query<'a>(org: &'a str, vector: &'a [f32], limit: usize) -> VectorQuery<'a> {
        VectorQuery { org, vector, engagements_visible: None, engagement: None, limit }
    }

    fn ids(hits: &[VectorHit]) -> Vec<&str> {
        hits.iter().map(|hit| hit.id.as_str()).collect()
    }

    #[test]
    fn an_item_is_scored_by_its_best_passage_within_its_organization() {
        let index = VectorIndex::from_embeddings(vec![
            item("a", "org1", None, &[0, 1]),
            item("b", "org1", None, &[2]),
            item("c", "org2", None, &[1]),
        ]);
        let hits = index.search(&query("org1", &unit(1), 10));
        assert_eq!(ids(&hits), ["a"], "b is unrelated (similarity 0) and c elsewhere");
        assert_eq!(hits[0].passage, Passage { start: 1, end: 2 });
        assert!((hits[0].score - 1.0).abs() < 1e-6);
        assert!(index.search(&query("org3", &unit(1), 10)).is_empty());
    }

    #[test]
    fn restrictions_apply_before_scoring() {
        let index = VectorIndex::from_embeddings(vec![
            item("shared", "o", Some("e1"), &[0]),
            item("secret", "o", Some("e2"), &[0]),
            item("loose", "o", None, &[0]),
        ]);
        let visible = ["e1".to_owned()];
        let axis = unit(0);
        let guest = VectorQuery { engagements_visible: Some(&visible), ..query("o", &axis, 10) };
        assert_eq!(ids(&index.search(&guest)), ["shared"]);
        let filtered = VectorQuery { engagement: Some("e2"), ..query("o", &axis, 10) };
        assert_eq!(ids(&index.search(&filtered)), ["secret"]);
        index.set_engagement("secret", Some("e1".to_owned()));
        assert_eq!(index.search(&guest).len(), 2);
    }

    #[test]
    fn replaced_and_removed_items_leave_no_trace_even_after_compaction() {
        let index = VectorIndex::default();
        for i in 0..3_000 {
            index.upsert(item(&format!("i{i}"), "o", None, &[i % 100]));
        }
        for i in 0..2_500 {
            index.remove(&format!("i{i}"));
        }
        index.upsert(item("i2999", "o", None, &[200, 201]));
        assert_eq!(index.items(), 500);
        assert_eq!(index.passages(), 501);
        let hits = index.search(&query("o", &unit(201), 1));
        assert_eq!(ids(&hits), ["i2999"]);
        assert_eq!(hits[0].passage, Passage { start: 1, end: 2 });
        assert!(index.search(&query("o", &unit(0), 1_000)).iter().all(|hit| hit.id != "i0"));
        assert_eq!(index.search(&query("o", &unit(0), 1_000)).len(), 5, "2500, 2600, ... 2900");
        assert_eq!(index.state_of("i2999").map(|(hash, _)| hash), Some("hash-i2999".to_owned()));
        assert_eq!(index.state_of("i0"), None);
    }

    #[test]
    fn the_dot_product_matches_the_plain_sum() {
        let a: Vec<f32> = (0..DIMENSIONS).map(|i| (i as f32).sin()).collect();
        let b: Vec<f32> = (0..DIMENSIONS).map(|i| (i as f32 * 0.3).cos()).collect();
        let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - plain).abs() < 1e-3);
        assert!((dot(&a[..13], &b[..13]) - a[..13].iter().zip(&b[..13]).map(|(x, y)| x * y).sum::<f32>()).abs() < 1e-5);
    }
}
