//! `consailt migrate`: create or upgrade the schema; with `--from sqlite:PATH --to
//! postgres://...`, move an installation from SQLite to PostgreSQL.

use clap::Args;

use storage::{PostgresConfig, PostgresStore, SqliteConfig, SqliteStore, StorageConfig};
use store::EventStore;
use store::chain::verify_chain;

use crate::Failure;
use crate::commands::open_store;
use crate::config::{StorageArgs, describe_postgres, is_postgres, sqlite_path};

#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub storage: StorageArgs,
    /// Move this SQLite installation (sqlite:PATH) ...
    #[arg(long, value_name = "URL", requires = "to")]
    pub from: Option<String>,
    /// ... into this PostgreSQL database (postgres://...): the event log is copied with its
    /// hash chain verified on arrival, the read models are projected from it, and
    /// passwords and API keys come along. An interrupted move resumes where it stopped.
    #[arg(long, value_name = "URL", requires = "from")]
    pub to: Option<String>,
}

/// Events copied per transaction.
const PAGE: usize = 2_000;

pub async fn run(args: MigrateArgs) -> Result<(), Failure> {
    if let (Some(from), Some(to)) = (&args.from, &args.to) {
        return move_installation(from, to).await;
    }
    let (store, settings) = open_store(&args.storage).await?;
    let applied = match &settings.database {
        StorageConfig::Sqlite(config) => SqliteStore::inspect(&config.path).await?.0,
        StorageConfig::Postgres(config) => PostgresStore::inspect(config).await?.0,
    };
    println!("{}: schema at version {applied}", settings.describe());
    store.close().await;
    Ok(())
}

async fn move_installation(from: &str, to: &str) -> Result<(), Failure> {
    let path = sqlite_path(from)?;
    if !is_postgres(to) {
        return Err(Failure::from(format!("--to must be a postgres:// URL, got {to:?}")));
    }
    // Refuses a missing file or another kind of file before anything is created.
    SqliteStore::inspect(&path).await?;
    let source = SqliteStore::open(SqliteConfig::new(&path)).await?;
    let target = PostgresStore::open(PostgresConfig::new(to)).await?;
    let total = source.head_position().await?;
    let mut position = target.head_position().await?;
    if position > 0 {
        // Resuming: the target's last event must be the source's event at that position.
        let theirs = source.read_all_after(position - 1, 1).await?;
        let ours = target.read_all_after(position - 1, 1).await?;
        let same = matches!((theirs.first(), ours.first()), (Some(a), Some(b)) if a.hash == b.hash);
        if !same {
            return Err(Failure::from(format!(
                "{} already holds a different event log ({position} events); move into an empty database",
                describe_postgres(to)
            )));
        }
        eprintln!("resuming after event {position} of {total}");
    }
    while position < total {
        let page = source.read_all_after(position, PAGE).await?;
        if page.is_empty() {
            break;
        }
        position = target.import(&page).await?;
        eprintln!("copied {position} of {total} events");
    }
    let copied = storage::copy_security_state(&source, &target).await?;
    let report = verify_chain(&target).await?;
    if let Some(broken) = report.first_broken {
        return Err(Failure::from(format!(
            "the copied log does not verify at event {}: {}",
            broken.position, broken.reason
        )));
    }
    let source_report = verify_chain(&source).await?;
    if source_report.head != report.head {
        return Err(Failure::from("the copied log's head differs from the source's".to_owned()));
    }
    println!(
        "moved {} events ({} credentials, {} API keys) from {} to {}; hash chain verified",
        report.events_checked,
        copied.credentials,
        copied.api_keys,
        path.display(),
        describe_postgres(to)
    );
    source.close().await;
    target.close().await;
    Ok(())
}
