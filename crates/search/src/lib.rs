//! Search over the knowledge base (DESIGN section 7). The full-text index is a projection of
//! the event log: [`indexer`] follows the log from the position stored in the index's last
//! commit and re-reads each changed item from the read models, so the index converges on
//! what the read models hold, whatever order and repetition the events arrive in.
//!
//! Semantic search follows the same log: [`semantic`] embeds passages of each changed item
//! with [`embedding`] (all-MiniLM-L6-v2, fetched by [`model`]) into the in-memory
//! [`vectors`] index, and [`hybrid`] fuses the two rankings.

mod common_words;
mod doc_bits;
pub mod embedding;
pub mod eval;
mod expansion;
mod facets;
mod follow;
mod graph;
mod highlight;
pub mod hybrid;
pub mod index;
pub mod indexer;
pub mod model;
pub mod passages;
mod scoring;
pub mod semantic;
mod similarity;
mod stemming;
pub mod vectors;
mod writer;

use std::path::Path;

pub use index::FullTextIndex;

/// What the index stores of a live (not trashed) knowledge item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedItem {
    pub id: String,
    pub org: String,
    pub engagement: Option<String>,
    pub kind: String,
    pub status: String,
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
    pub categories: Vec<String>,
}

impl IndexedItem {
    /// The document of `item`, an item of organization `org`.
    pub fn of(org: String, item: store::read_model::ItemView) -> Self {
        Self {
            id: item.id,
            org,
            engagement: item.engagement_id,
            kind: item.kind,
            status: item.status,
            title: item.title,
            body: item.body,
            tags: item.tags,
            categories: item.categories,
        }
    }
}

/// Narrowing by facet value; each one set must match.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub engagement: Option<String>,
    pub category: Option<String>,
    pub tag: Option<String>,
    pub kind: Option<String>,
    pub status: Option<String>,
}

/// A query of one organization's items (the ranking mode is the caller's choice).
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    /// What the user typed.
    pub text: String,
    pub org: String,
    /// The engagements the caller may see, when restricted (a guest); `None` sees all.
    pub engagements_visible: Option<Vec<String>>,
    pub filters: Filters,
    pub limit: usize,
    pub offset: usize,
}

/// One ranked item.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub id: String,
    pub title: String,
    /// The title as HTML, matched words in `<b>`.
    pub title_highlighted: String,
    /// A passage of the body as HTML, matched words in `<b>` (empty when the body has none).
    pub snippet: String,
    pub score: f32,
    /// Whether the words matched (full text) and whether the meaning did (semantic).
    pub signals: Signals,
    pub engagement: Option<String>,
    pub kind: String,
    pub status: String,
}

/// Which rankings found a hit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Signals {
    pub fulltext: bool,
    pub semantic: bool,
}

/// A facet value and the number of matching items that carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacetCount {
    pub value: String,
    pub count: u64,
}

/// Counts over every match (not only the page), by facet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facets {
    pub engagement: Vec<FacetCount>,
    pub category: Vec<FacetCount>,
    pub tag: Vec<FacetCount>,
    pub kind: Vec<FacetCount>,
    pub status: Vec<FacetCount>,
}

/// A page of hits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchPage {
    pub hits: Vec<SearchHit>,
    /// Matches in all.
    pub total: u64,
    pub facets: Facets,
}

/// Why the index failed.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(String),
    /// Another process holds the index (a running server, during `consailt search reindex`).
    #[error("the search index is in use by another process: {0}")]
    Locked(String),
    #[error("search index at {path}: {cause}")]
    Io { path: String, cause: String },
    /// The embedding model failed (missing, corrupt, or a forward pass).
    #[error("embedding model: {0}")]
    Model(String),
    #[error("reading the event log: {0}")]
    Store(#[from] store::StoreError),
}

impl SearchError {
    fn io(path: &Path, cause: std::io::Error) -> Self {
        Self::Io { path: path.display().to_string(), cause: cause.to_string() }
    }
}

impl From<tantivy::TantivyError> for SearchError {
    fn from(error: tantivy::TantivyError) -> Self {
        match error {
            tantivy::TantivyError::LockFailure(..) => Self::Locked(error.to_string()),
            other => Self::Index(other.to_string()),
        }
    }
}
