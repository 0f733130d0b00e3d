//! Semantic search: the embedder follows the event log from its own checkpoint (saved with
//! its vectors in the store), embeds the passages of each item whose title or body changed,
//! in batches, off every request path, and keeps the in-memory [`VectorIndex`] in step. A
//! write is full-text searchable at once and semantically searchable once its embedding is
//! done. When the model cannot be had, semantic search is off, with the reason, and the
//! rest of search works.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use store::embeddings::{EmbeddingChange, EmbeddingStore, ItemEmbedding, PassageVector};
use store::read_model::ItemView;
use store::{EventStore, ReadModels};
use tokio::sync::watch;

use crate::embedding::Embedder;
use crate::model::{ModelError, ModelFiles};
use crate::passages::{self, Passage};
use crate::vectors::{VectorHit, VectorIndex, VectorQuery};
use crate::{SearchError, follow};

/// Events read per step. A step embeds every new text it finds in one call before it saves its
/// checkpoint, so a larger step sorts more passages by length together (less padding) and
/// saves less often, at the price of more work to redo after a crash: 256 new items take ten
/// to twenty seconds of CPU. A write that finds the embedder idle is a step of its own.
const PAGE: usize = 256;

/// The model and the vectors of every live item.
#[derive(Debug)]
pub struct Semantic {
    embedder: Embedder,
    vectors: VectorIndex,
}

impl Semantic {
    /// Loads the model and the stored vectors.
    pub async fn load<S: EmbeddingStore>(store: &S, files: &ModelFiles) -> Result<Self, SearchError> {
        let files = files.clone();
        let embedder = tokio::task::spawn_blocking(move || Embedder::load(&files))
            .await
            .map_err(|e| SearchError::Index(format!("loading the model failed: {e}")))??;
        let vectors = VectorIndex::from_embeddings(store.load_embeddings().await?);
        Ok(Self { embedder, vectors })
    }

    /// The embedding of a query (a forward pass, milliseconds: run it off the async workers).
    pub fn embed_query(&self, text: &str) -> Result<Vec<f32>, SearchError> {
        let mut vectors = self.embedder.embed(&[text])?;
        vectors.pop().ok_or_else(|| SearchError::Index("the model returned no vector".to_owned()))
    }

    /// The items nearest a query vector.
    pub fn nearest(&self, query: &VectorQuery<'_>) -> Vec<VectorHit> {
        self.vectors.search(query)
    }

    /// The embedder itself, for measurement.
    pub fn embedder(&self) -> &Embedder {
        &self.embedder
    }

    /// Items and passages with vectors.
    pub fn size(&self) -> (usize, usize) {
        (self.vectors.items(), self.vectors.passages())
    }
}

impl From<ModelError> for SearchError {
    fn from(error: ModelError) -> Self {
        Self::Model(error.to_string())
    }
}

/// Whether semantic search can answer, as the server sees it.
#[derive(Debug)]
pub struct SemanticSearch {
    state: RwLock<State>,
}

#[derive(Debug, Clone)]
enum State {
    Starting,
    Ready(Arc<Semantic>),
    Off(String),
}

impl SemanticSearch {
    /// Not available yet: the model is being fetched or loaded.
    pub fn starting() -> Arc<Self> {
        Arc::new(Self { state: RwLock::new(State::Starting) })
    }

    /// Available.
    pub fn set_ready(&self, semantic: Arc<Semantic>) {
        *self.state.write().unwrap_or_else(std::sync::PoisonError::into_inner) = State::Ready(semantic);
    }

    /// Off for good in this process, for `reason`.
    pub fn set_off(&self, reason: String) {
        *self.state.write().unwrap_or_else(std::sync::PoisonError::into_inner) = State::Off(reason);
    }

    /// The loaded model and vectors, or why there are none.
    pub fn get(&self) -> Result<Arc<Semantic>, String> {
        match &*self.state.read().unwrap_or_else(std::sync::PoisonError::into_inner) {
            State::Ready(semantic) => Ok(Arc::clone(semantic)),
            State::Starting => Err("semantic search is starting (loading the embedding model)".to_owned()),
            State::Off(reason) => Err(format!("semantic search is off: {reason}")),
        }
    }
}

/// Embeds everything committed so far; returns the position reached.
pub async fn catch_up<S>(store: &S, semantic: &Arc<Semantic>, mut progress: impl FnMut(u64)) -> Result<u64, SearchError>
where
    S: EventStore + ReadModels + EmbeddingStore,
{
    let mut position = store.embeddings_checkpoint().await?;
    loop {
        let page = store.read_all_after(position, PAGE).await?;
        let Some(last) = page.last().map(|event| event.position) else { return Ok(position) };
        let changes = changes(store, semantic, &page).await?;
        store.save_embeddings(changes.clone(), last).await?;
        for change in changes {
            match change {
                EmbeddingChange::Upsert(embedding) => semantic.vectors.upsert(embedding),
                EmbeddingChange::Move { item_id, engagement_id } => {
                    semantic.vectors.set_engagement(&item_id, engagement_id);
                }
                EmbeddingChange::Remove { item_id } => semantic.vectors.remove(&item_id),
            }
        }
        position = last;
        progress(position);
    }
}

/// Forgets every vector and embeds the whole log again.
pub async fn rebuild<S>(store: &S, semantic: &Arc<Semantic>, progress: impl FnMut(u64)) -> Result<u64, SearchError>
where
    S: EventStore + ReadModels + EmbeddingStore,
{
    store.clear_embeddings().await?;
    semantic.vectors.clear();
    catch_up(store, semantic, progress).await
}

/// Semantic search for a server: fetches the model when missing (the setup step), loads it
/// with the stored vectors, marks `status` ready and follows the log until `shutdown`. When
/// the model cannot be had, marks `status` off with the reason and says so once in the log;
/// full-text search is unaffected.
pub async fn start<S>(store: S, status: Arc<SemanticSearch>, model_dir: PathBuf, shutdown: watch::Receiver<bool>)
where
    S: EventStore + ReadModels + EmbeddingStore,
{
    let fetched = tokio::task::spawn_blocking(move || ModelFiles::ensure(&model_dir)).await;
    let loaded = match fetched {
        Ok(Ok(files)) => Semantic::load(&store, &files).await,
        Ok(Err(error)) => Err(error.into()),
        Err(error) => Err(SearchError::Model(format!("the setup task failed: {error}"))),
    };
    match loaded {
        Ok(semantic) => {
            let semantic = Arc::new(semantic);
            let (items, passages) = semantic.size();
            tracing::info!(items, passages, "semantic search is on");
            status.set_ready(Arc::clone(&semantic));
            run(store, semantic, shutdown).await;
        }
        Err(error) => {
            tracing::warn!(%error, "semantic search is off; full-text search works");
            status.set_off(error.to_string());
        }
    }
}

/// Follows the log until `shutdown` turns true (see [`follow::follow`]).
pub async fn run<S>(store: S, semantic: Arc<Semantic>, shutdown: watch::Receiver<bool>)
where
    S: EventStore + ReadModels + EmbeddingStore,
{
    follow::follow(&store, "the embedder", shutdown, || catch_up(&store, &semantic, |_| {})).await;
}

/// The changes a page of events calls for: the items it touched, re-read, and embedded again
/// only when their title or body changed.
async fn changes<S: ReadModels>(
    store: &S,
    semantic: &Arc<Semantic>,
    page: &[store::RecordedEvent],
) -> Result<Vec<EmbeddingChange>, SearchError> {
    let touched = follow::touched_items(page);
    let mut changes = Vec::new();
    let mut to_embed: Vec<(String, ItemView, String)> = Vec::new();
    for (id, org) in touched {
        let item = store.item(&org, id).await?.filter(|item| item.trashed_at.is_none());
        let known = semantic.vectors.state_of(id);
        match (item, known) {
            (None, None) => {}
            (None, Some(_)) => changes.push(EmbeddingChange::Remove { item_id: id.to_owned() }),
            (Some(item), Some((hash, engagement))) if hash == passages::content_hash(&item.title, &item.body) => {
                if engagement != item.engagement_id {
                    changes.push(EmbeddingChange::Move { item_id: id.to_owned(), engagement_id: item.engagement_id });
                }
            }
            (Some(item), _) => {
                let hash = passages::content_hash(&item.title, &item.body);
                to_embed.push((org, item, hash));
            }
        }
    }
    if to_embed.is_empty() {
        return Ok(changes);
    }
    let work = Arc::clone(semantic);
    let embedded = tokio::task::spawn_blocking(move || embed_items(&work.embedder, to_embed))
        .await
        .map_err(|e| SearchError::Index(format!("the embedding task failed: {e}")))??;
    changes.extend(embedded.into_iter().map(EmbeddingChange::Upsert));
    Ok(changes)
}

/// Embeds the passages of `items` in one call, so that batches mix passages of all of them.
fn embed_items(embedder: &Embedder, items: Vec<(String, ItemView, String)>) -> Result<Vec<ItemEmbedding>, SearchError> {
    let split: Vec<Vec<Passage>> = items.iter().map(|(_, item, _)| passages::split(&item.body)).collect();
    let texts: Vec<String> = items
        .iter()
        .zip(&split)
        .flat_map(|((_, item, _), parts)| parts.iter().map(|p| passages::text(&item.title, &item.body, *p)))
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let mut vectors = embedder.embed(&refs)?.into_iter();
    let mut out = Vec::with_capacity(items.len());
    for ((org, item, hash), parts) in items.into_iter().zip(split) {
        let passages = parts
            .into_iter()
            .zip(vectors.by_ref())
            .map(|(part, vector)| PassageVector {
                start: u32::try_from(part.start).unwrap_or(u32::MAX),
                end: u32::try_from(part.end).unwrap_or(u32::MAX),
                vector,
            })
            .collect();
        out.push(ItemEmbedding {
            item_id: item.id,
            org_id: org,
            engagement_id: item.engagement_id,
            content_hash: hash,
            passages,
        });
    }
    Ok(out)
}
