//! `consailt migrate`: create or upgrade the schema.

use crate::Failure;
use crate::commands::open_store;
use crate::config::StorageArgs;

pub async fn run(args: StorageArgs) -> Result<(), Failure> {
    let (store, _) = open_store(&args).await?;
    let (applied, _) = store_sqlite::SqliteStore::inspect(store.path()).await?;
    println!("{}: schema at version {applied}", store.path().display());
    store.close().await;
    Ok(())
}
