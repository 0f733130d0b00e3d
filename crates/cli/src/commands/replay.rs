//! `consailt events replay`: rebuild every read model from the log.

use crate::Failure;
use crate::commands::open_store;
use crate::config::StorageArgs;

pub async fn run(args: StorageArgs) -> Result<(), Failure> {
    let (store, _) = open_store(&args).await?;
    let report = store.replay().await?;
    let seconds = report.elapsed.as_secs_f64();
    let rate = if seconds > 0.0 { report.events as f64 / seconds } else { 0.0 };
    println!("replayed {} events into the read models in {:.3} s ({rate:.0} events/s)", report.events, seconds);
    store.close().await;
    Ok(())
}
