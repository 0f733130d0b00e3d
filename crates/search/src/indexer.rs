//! Keeps the full-text index in step with the event log: reads the log after the index's
//! checkpoint, re-reads every item the events touched from the read models (a trashed or
//! purged item leaves the index), and commits the changes together with the new checkpoint.
//! A crash between two commits redoes at most one page; re-reading current state makes that
//! harmless.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use domain::aggregate::Aggregate;
use domain::item::KnowledgeItem;
use store::{EventStore, ReadModels, RecordedEvent};
use tokio::sync::watch;

use crate::{FullTextIndex, IndexedItem, SearchError};

/// Events read per index commit.
const PAGE: usize = 1_000;
/// How often to look for events committed by another process (no local wake-up).
const POLL: Duration = Duration::from_secs(1);
/// How long the indexer lets writes gather after one wakes it: an index commit costs far more
/// than adding a document (segment files written and fsynced), so a commit per write would
/// take the CPU from the writes themselves. The pause leaves most of the one second in which
/// a write must become searchable to the commit, whose fsyncs take hundreds of milliseconds
/// on a busy disk (at 500 ms a test run right after a build missed the second).
const GATHER: Duration = Duration::from_millis(250);
/// Pause after a failure before trying again.
const RETRY: Duration = Duration::from_secs(1);

/// Indexes everything committed so far; returns the position reached. `progress` is told
/// each position reached, for a progress display.
pub async fn catch_up<S>(
    store: &S,
    index: &Arc<FullTextIndex>,
    mut progress: impl FnMut(u64),
) -> Result<u64, SearchError>
where
    S: EventStore + ReadModels,
{
    let mut position = index.checkpoint()?;
    loop {
        let page = store.read_all_after(position, PAGE).await?;
        let Some(last) = page.last().map(|event| event.position) else { return Ok(position) };
        let (upserts, deletes) = changes(store, &page).await?;
        let target = Arc::clone(index);
        blocking(move || target.apply(&upserts, &deletes, last)).await?;
        position = last;
        progress(position);
    }
}

/// Empties the index and indexes the whole log again.
pub async fn rebuild<S>(store: &S, index: &Arc<FullTextIndex>, progress: impl FnMut(u64)) -> Result<u64, SearchError>
where
    S: EventStore + ReadModels,
{
    let target = Arc::clone(index);
    blocking(move || target.clear()).await?;
    catch_up(store, index, progress).await
}

/// Follows the log until `shutdown` turns true (or its sender is dropped): indexes after every local commit, and at
/// least every second for commits of other processes. Failures are logged and retried.
pub async fn run<S>(store: S, index: Arc<FullTextIndex>, mut shutdown: watch::Receiver<bool>)
where
    S: EventStore + ReadModels,
{
    let mut head = store.watch_head();
    let mut failing = false;
    loop {
        head.mark_unchanged();
        match catch_up(&store, &index, |_| {}).await {
            Ok(_) if failing => {
                failing = false;
                tracing::info!("the search indexer has recovered");
            }
            Ok(_) => {}
            Err(error) => {
                if !failing {
                    tracing::error!(%error, "the search indexer failed; retrying every second");
                }
                failing = true;
            }
        }
        if *shutdown.borrow() {
            return;
        }
        let wait = if failing { RETRY } else { POLL };
        let woken = tokio::select! {
            changed = head.changed(), if !failing => changed.is_ok(),
            // A dropped sender stops the indexer too.
            changed = shutdown.changed() => if changed.is_err() { return } else { false },
            () = tokio::time::sleep(wait) => false,
        };
        if woken {
            tokio::select! {
                changed = shutdown.changed() => if changed.is_err() { return },
                () = tokio::time::sleep(GATHER) => {}
            }
        }
    }
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
    let prefix = format!("{}-", KnowledgeItem::STREAM_CATEGORY);
    let mut touched: BTreeMap<&str, String> = BTreeMap::new();
    for event in page {
        let Some(id) = event.stream_id.as_str().strip_prefix(&prefix) else { continue };
        match event.metadata().ok().and_then(|metadata| metadata.org_id) {
            Some(org) => {
                touched.insert(id, org);
            }
            None => tracing::warn!(position = event.position, "an item event without an organization; not indexed"),
        }
    }
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
