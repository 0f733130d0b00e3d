//! The search indexes: where the full-text index lives, `consailt search reindex`, and
//! `consailt search setup` (the embedding model).

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use search::FullTextIndex;
use search::model::ModelFiles;
use store::EventStore;

use crate::Failure;
use crate::commands::open_store;
use crate::config::StorageArgs;

/// Opens (creating, or rebuilding when corrupt) the index of the instance in `data_dir`.
pub fn open_index(data_dir: &Path) -> Result<Arc<FullTextIndex>, Failure> {
    let dir = data_dir.join("search").join("fulltext");
    Ok(Arc::new(FullTextIndex::open(&dir)?))
}

/// Fetches the embedding model into its cache directory when it is missing or damaged, and
/// checks every file against its published checksum.
pub async fn setup() -> Result<(), Failure> {
    let dir = ModelFiles::default_dir();
    let shown = dir.display().to_string();
    tokio::task::spawn_blocking(move || ModelFiles::ensure(&dir))
        .await
        .map_err(|e| format!("the setup task failed: {e}"))??;
    println!("the embedding model is in {shown}, verified");
    Ok(())
}

/// Empties the index and indexes the whole event log again, with progress and an estimate of
/// the time left on the terminal.
pub async fn reindex(args: StorageArgs) -> Result<(), Failure> {
    let (store, settings) = open_store(&args).await?;
    let index = open_index(&settings.data_dir)?;
    let head = store.head_position().await?;
    let started = Instant::now();
    let mut stderr = std::io::stderr();
    let reached = search::indexer::rebuild(&store, &index, |position| {
        let done = position.min(head).max(1) as f64 / head.max(1) as f64;
        let elapsed = started.elapsed().as_secs_f64();
        let left = elapsed / done - elapsed;
        let _ =
            write!(stderr, "\rindexing: event {position} of {head} ({:.0}%), about {left:.0} s left   ", done * 100.0);
        let _ = stderr.flush();
    })
    .await;
    let _ = writeln!(stderr);
    store.close().await;
    let reached = reached?;
    println!("indexed {} items from {reached} events in {:.1} s", index.len(), started.elapsed().as_secs_f64());
    Ok(())
}
