//! One module per subcommand.

pub mod audit;
pub mod chat;
pub mod doctor;
pub mod migrate;
pub mod replay;
pub mod search;
pub mod search_eval;
pub mod serve;

use store_sqlite::SqliteStore;

use crate::Failure;
use crate::config::{StorageArgs, StorageSettings, load_file};

/// Resolves the configuration and opens (and migrates) the store.
pub async fn open_store(args: &StorageArgs) -> Result<(SqliteStore, StorageSettings), Failure> {
    let file = load_file(args.config.as_deref())?;
    let settings = args.resolve(&file)?;
    let store = SqliteStore::open(settings.sqlite.clone()).await?;
    Ok((store, settings))
}
