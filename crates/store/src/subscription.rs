//! Durable in-process subscriptions: deliver every event after a named checkpoint, in order,
//! at least once, none skipped, and record progress so a restart resumes where it stopped.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

use crate::{EventStore, RecordedEvent, StoreError};

/// Why a subscription stopped.
#[derive(Debug, thiserror::Error)]
pub enum SubscriptionError<E: std::error::Error + 'static> {
    #[error("event store failed: {0}")]
    Store(#[from] StoreError),
    #[error("handler failed at position {position}: {source}")]
    Handler { position: u64, source: E },
}

/// A named consumer of the global log.
#[derive(Debug, Clone)]
pub struct Subscription<S> {
    store: S,
    name: String,
    batch_size: usize,
    /// How often to look for events committed by other processes, which do not wake `watch_head`.
    poll_interval: Duration,
}

impl<S: EventStore> Subscription<S> {
    /// A subscription named `name` (its checkpoint's key).
    pub fn new(store: S, name: impl Into<String>) -> Self {
        Self { store, name: name.into(), batch_size: 500, poll_interval: Duration::from_secs(1) }
    }

    /// Delivers events until everything committed so far is processed; returns the checkpoint.
    pub async fn catch_up<H, Fut, E>(&self, handler: &mut H) -> Result<u64, SubscriptionError<E>>
    where
        H: FnMut(RecordedEvent) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: std::error::Error + 'static,
    {
        let mut checkpoint = self.store.load_checkpoint(&self.name).await?;
        loop {
            let page = self.store.read_all_after(checkpoint, self.batch_size).await?;
            let Some(last) = page.last().map(|e| e.position) else { return Ok(checkpoint) };
            for event in page {
                let position = event.position;
                handler(event).await.map_err(|source| SubscriptionError::Handler { position, source })?;
            }
            // Saved after the whole page: a crash mid-page redelivers it (at least once).
            self.store.save_checkpoint(&self.name, last).await?;
            checkpoint = last;
        }
    }

    /// Delivers events as they are committed until `shutdown` turns true.
    pub async fn run<H, Fut, E>(
        &self,
        mut handler: H,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), SubscriptionError<E>>
    where
        H: FnMut(RecordedEvent) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: std::error::Error + 'static,
    {
        let mut head = self.store.watch_head();
        loop {
            head.mark_unchanged();
            self.catch_up(&mut handler).await?;
            if *shutdown.borrow() {
                return Ok(());
            }
            tokio::select! {
                _ = head.changed() => {}
                _ = shutdown.changed() => {}
                () = tokio::time::sleep(self.poll_interval) => {}
            }
        }
    }
}
