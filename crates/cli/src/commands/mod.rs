//! One module per subcommand.

pub mod audit;
pub mod chat;
pub mod doctor;
pub mod migrate;
pub mod replay;
pub mod search;
pub mod search_eval;
pub mod serve;

use storage::Storage;

use crate::Failure;
use crate::config::{StorageArgs, StorageSettings, load_file};

/// Resolves the configuration and opens (and migrates) the store: SQLite by default,
/// PostgreSQL for a `postgres://` database URL.
pub async fn open_store(args: &StorageArgs) -> Result<(Storage, StorageSettings), Failure> {
    let file = load_file(args.config.as_deref())?;
    let settings = args.resolve(&file)?;
    let store = Storage::open(settings.database.clone()).await?;
    Ok((store, settings))
}
