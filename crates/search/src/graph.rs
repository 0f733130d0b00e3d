//! The approximate-nearest-neighbour graph of one organization's passage vectors: an HNSW
//! index (usearch, ADR 0009) keyed by the row of each vector in [`crate::vectors`]. It only
//! answers "which rows are near"; the rows, their items and what a caller may read stay in
//! the vector index, which also keeps the vectors for exact scans.

use std::fmt;

use usearch::{Index, IndexOptions, MetricKind, ScalarKind};

use crate::embedding::DIMENSIONS;

/// Links per node: 16 is HNSW's usual trade between memory, build time and recall.
const CONNECTIVITY: usize = 16;
/// Candidates kept while linking a new node: higher builds slower and finds better links.
const EXPANSION_ADD: usize = 128;
/// Candidates kept while searching (at least the number of results asked): recall@10 of
/// 0.95 or more on MiniLM passage vectors, measured in bench/vectors.sh.
pub const EXPANSION_SEARCH: usize = 64;
/// The graph holds its vectors in half precision: a walk reads half the memory per node it
/// visits, and the similarities it returns are within about 1e-3 of the true ones (the
/// vector index rescores the rows it is given from its full-precision copy).
const QUANTIZATION: ScalarKind = ScalarKind::F16;

/// An HNSW graph over unit vectors, scored by cosine similarity (their dot product).
pub struct Graph {
    index: Index,
}

impl fmt::Debug for Graph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Graph").field("size", &self.index.size()).finish()
    }
}

/// The graph library refused an operation (out of memory, mostly); the caller falls back to
/// an exact scan, which needs no graph.
#[derive(Debug, thiserror::Error)]
#[error("the vector graph failed: {0}")]
pub struct GraphError(String);

impl GraphError {
    fn of(error: impl fmt::Display) -> Self {
        Self(error.to_string())
    }

    /// A building thread panicked.
    pub fn panicked() -> Self {
        Self("a thread building the graph panicked".to_owned())
    }
}

impl Graph {
    /// An empty graph with room for `capacity` vectors.
    pub fn new(capacity: usize) -> Result<Self, GraphError> {
        let options = IndexOptions {
            dimensions: DIMENSIONS,
            metric: MetricKind::IP,
            quantization: QUANTIZATION,
            connectivity: CONNECTIVITY,
            expansion_add: EXPANSION_ADD,
            expansion_search: EXPANSION_SEARCH,
            multi: false,
        };
        let index = Index::new(&options).map_err(GraphError::of)?;
        index.reserve(capacity.max(64)).map_err(GraphError::of)?;
        Ok(Self { index })
    }

    /// Adds the vector of `row`. Safe to call from several threads at once.
    pub fn add(&self, row: u32, vector: &[f32]) -> Result<(), GraphError> {
        self.index.add(u64::from(row), vector).map_err(GraphError::of)
    }

    /// Makes room for `more` vectors beyond those in the graph (doubling, so that growing one
    /// at a time stays cheap).
    pub fn reserve(&self, more: usize) -> Result<(), GraphError> {
        let needed = self.index.size() + more;
        if needed > self.index.capacity() {
            self.index.reserve(needed.max(self.index.capacity() * 2)).map_err(GraphError::of)?;
        }
        Ok(())
    }

    /// Forgets the vector of `row`.
    pub fn remove(&self, row: u32) -> Result<(), GraphError> {
        self.index.remove(u64::from(row)).map_err(GraphError::of)?;
        Ok(())
    }

    /// Gives the vector of row `from` the row `to` (which must be free).
    pub fn renumber(&self, from: u32, to: u32) -> Result<(), GraphError> {
        self.index.rename(u64::from(from), u64::from(to)).map_err(GraphError::of)?;
        Ok(())
    }

    /// Vectors in the graph.
    pub fn len(&self) -> usize {
        self.index.size()
    }

    /// About the `count` rows nearest `query` among those `keep` accepts, nearest first. Their
    /// similarities are the caller's to compute: the graph's are only half precision.
    pub fn nearest(
        &self,
        query: &[f32],
        count: usize,
        keep: Option<&dyn Fn(u32) -> bool>,
    ) -> Result<Vec<u32>, GraphError> {
        let matches = match keep {
            None => self.index.search(query, count),
            Some(keep) => self.index.filtered_search(query, count, |key| u32::try_from(key).is_ok_and(keep)),
        }
        .map_err(GraphError::of)?;
        Ok(matches.keys.iter().filter_map(|&key| u32::try_from(key).ok()).collect())
    }
}
