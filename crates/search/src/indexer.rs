//! Keeps the full-text index in step with the event log: reads the log after the index's
//! checkpoint, re-reads every item the events touched from the read models (a trashed or
//! purged item leaves the index), and commits the changes together with the new checkpoint.
//! A crash between two commits redoes what came after the last (a page while following the
//! log, at most ten while rebuilding); re-reading current state makes that harmless.

use std::sync::Arc;

use store::{EventStore, ReadModels, RecordedEvent};
use tokio::sync::watch;

use crate::{FullTextIndex, IndexedItem, SearchError, follow};

/// Events read at a time, and per index commit while following the log.
const PAGE: usize = 1_000;
/// Events per index commit while rebuilding: a commit writes and fsyncs a segment and reloads
/// the searchers (building the common words of new large segments), and at one per page it
/// was about 40% of a rebuild (200,000 items: 20.3-21.4 s, against 11.8-12.1 s).
const REBUILD_COMMIT_EVENTS: usize = 10_000;

/// Indexes everything committed so far; returns the position reached. `progress` is told
/// each position reached, for a progress display.
pub async fn catch_up<S>(store: &S, index: &Arc<FullTextIndex>, progress: impl FnMut(u64)) -> Result<u64, SearchError>
where
    S: EventStore + ReadModels,
{
    catch_up_committing_every(store, index, PAGE, progress).await
}

/// Empties the index and indexes the whole log again.
pub async fn rebuild<S>(store: &S, index: &Arc<FullTextIndex>, progress: impl FnMut(u64)) -> Result<u64, SearchError>
where
    S: EventStore + ReadModels,
{
    let target = Arc::clone(index);
    blocking(move || target.clear()).await?;
    catch_up_committing_every(store, index, REBUILD_COMMIT_EVENTS, progress).await
}

/// [`catch_up`], reading a page at a time and committing once at least `events` are staged,
/// and at the end of the log.
async fn catch_up_committing_every<S>(
    store: &S,
    index: &Arc<FullTextIndex>,
    events: usize,
    mut progress: impl FnMut(u64),
) -> Result<u64, SearchError>
where
    S: EventStore + ReadModels,
{
    let mut position = index.checkpoint()?;
    // Events read since the last commit.
    let mut staged = 0;
    loop {
        let page = store.read_all_after(position, PAGE).await?;
        let Some(last) = page.last().map(|event| event.position) else {
            if staged > 0 {
                let target = Arc::clone(index);
                blocking(move || target.apply(&[], &[], position)).await?;
            }
            return Ok(position);
        };
        let (upserts, deletes) = changes(store, &page).await?;
        staged += page.len();
        let target = Arc::clone(index);
        // A page short of full is the end of the log for now.
        if staged >= events || page.len() < PAGE {
            blocking(move || target.apply(&upserts, &deletes, last)).await?;
            staged = 0;
        } else {
            blocking(move || target.stage(&upserts, &deletes)).await?;
        }
        position = last;
        progress(position);
    }
}

/// Follows the log until `shutdown` turns true (see [`follow::follow`]).
pub async fn run<S>(store: S, index: Arc<FullTextIndex>, shutdown: watch::Receiver<bool>)
where
    S: EventStore + ReadModels,
{
    follow::follow(&store, "the search indexer", shutdown, || catch_up(&store, &index, |_| {})).await;
}

/// Runs an index write (tantivy commits block on disk) off the async workers.
async fn blocking(write: impl FnOnce() -> Result<(), SearchError> + Send + 'static) -> Result<(), SearchError> {
    tokio::task::spawn_blocking(write)
        .await
        .map_err(|e| SearchError::Index(format!("the indexing task failed: {e}")))?
}

/// The index changes a page of events calls for: the current state of each item it touched.
async fn changes<S: ReadModels>(
    store: &S,
    page: &[RecordedEvent],
) -> Result<(Vec<IndexedItem>, Vec<String>), SearchError> {
    let touched = follow::touched_items(page);
    let mut upserts = Vec::with_capacity(touched.len());
    let mut deletes = Vec::new();
    for (id, org) in touched {
        match store.item(&org, id).await? {
            Some(item) if item.trashed_at.is_none() => upserts.push(IndexedItem::of(org, item)),
            _ => deletes.push(id.to_owned()),
        }
    }
    Ok((upserts, deletes))
}
