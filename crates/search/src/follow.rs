//! Following the event log: the loop the full-text indexer and the embedder share. A step
//! catches up with everything committed; the loop runs one after every local commit (after a
//! short pause that lets writes gather), at least every second for commits of other
//! processes, and every second after a failure until one succeeds.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use domain::aggregate::Aggregate;
use domain::item::KnowledgeItem;
use store::{EventStore, RecordedEvent};
use tokio::sync::watch;

use crate::SearchError;

/// How often to look for events committed by another process (no local wake-up).
const POLL: Duration = Duration::from_secs(1);
/// How long to let writes gather after one wakes the loop: an index commit costs far more
/// than adding a document (segment files written and fsynced), so a commit per write would
/// take the CPU from the writes themselves. The pause leaves most of the one second in which
/// a write must become searchable to the commit, whose fsyncs take hundreds of milliseconds
/// on a busy disk (at 500 ms a test run right after a build missed the second).
const GATHER: Duration = Duration::from_millis(250);
/// Pause after a failure before trying again.
const RETRY: Duration = Duration::from_secs(1);

/// Runs `step` until `shutdown` turns true or its sender is dropped. Failures are logged once
/// (as `who`) and retried; the recovery is logged too.
pub(crate) async fn follow<S, F, Fut>(store: &S, who: &str, mut shutdown: watch::Receiver<bool>, mut step: F)
where
    S: EventStore,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<u64, SearchError>>,
{
    let mut head = store.watch_head();
    let mut failing = false;
    loop {
        head.mark_unchanged();
        match step().await {
            Ok(_) if failing => {
                failing = false;
                tracing::info!("{who} has recovered");
            }
            Ok(_) => {}
            Err(error) => {
                if !failing {
                    tracing::error!(%error, "{who} failed; retrying every second");
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
            // A dropped sender stops the loop too.
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

/// The knowledge items a page of events touched, each once, with its organization. An item
/// event without an organization is logged and skipped.
pub(crate) fn touched_items(page: &[RecordedEvent]) -> BTreeMap<&str, String> {
    let prefix = format!("{}-", KnowledgeItem::STREAM_CATEGORY);
    let mut touched = BTreeMap::new();
    for event in page {
        let Some(id) = event.stream_id.as_str().strip_prefix(&prefix) else { continue };
        match event.metadata().ok().and_then(|metadata| metadata.org_id) {
            Some(org) => {
                touched.insert(id, org);
            }
            None => tracing::warn!(position = event.position, "an item event without an organization; skipped"),
        }
    }
    touched
}
