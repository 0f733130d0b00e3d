//! Opening the database: refuse what is not ours (not writable, not SQLite, a newer schema)
//! before touching anything, then configure WAL and durability and migrate.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, SqliteConnection, SqlitePool};

use crate::SqliteConfig;
use crate::migrations::{latest_version, migrator};

/// Why the database could not be opened. Displays as one line naming the path and the cause.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {cause}")]
pub struct OpenError {
    pub path: PathBuf,
    pub cause: String,
}

impl OpenError {
    pub(crate) fn cause(path: &Path, cause: impl std::fmt::Display) -> Self {
        Self { path: path.to_owned(), cause: cause.to_string() }
    }
}

pub(crate) struct Opened {
    /// The migrated connection, kept for replay.
    pub migrated: SqliteConnection,
    /// The writer's connection, on the synchronous driver, without automatic checkpoints.
    pub writer: rusqlite::Connection,
    /// The background checkpointer's connection.
    pub checkpoints: rusqlite::Connection,
    pub reads: SqlitePool,
}

const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Checks an existing file is a SQLite database (an empty file is a new database).
fn check_header(path: &Path) -> Result<(), OpenError> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|e| OpenError::cause(path, format!("cannot read: {e}")))?;
    let mut header = [0u8; 16];
    let read = file.read(&mut header).map_err(|e| OpenError::cause(path, format!("cannot read: {e}")))?;
    if read == 0 {
        return Ok(());
    }
    if read < 16 || &header != SQLITE_HEADER {
        return Err(OpenError::cause(path, "not a SQLite database (wrong file header)"));
    }
    Ok(())
}

/// Checks the directory holding the database exists (creating it) and is writable.
fn check_directory(path: &Path) -> Result<(), OpenError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)
        .map_err(|e| OpenError::cause(dir, format!("cannot create the data directory: {e}")))?;
    let probe = dir.join(format!(".consailt-write-probe-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .map_err(|e| OpenError::cause(dir, format!("the data directory is not writable: {e}")))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// The applied schema version of an existing database, read without modifying it.
async fn applied_version(path: &Path) -> Result<i64, OpenError> {
    let options = SqliteConnectOptions::new().filename(path).read_only(true).disable_statement_logging();
    let mut conn = options.connect().await.map_err(|e| OpenError::cause(path, format!("cannot open: {e}")))?;
    let has_table: Option<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'")
            .fetch_optional(&mut conn)
            .await
            .map_err(|e| OpenError::cause(path, format!("not a readable SQLite database: {e}")))?;
    let version = match has_table {
        Some(_) => sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut conn)
            .await
            .map_err(|e| OpenError::cause(path, format!("cannot read the schema version: {e}")))?,
        None => 0,
    };
    let _ = conn.close().await;
    Ok(version)
}

/// Checks a database without creating or changing it.
pub(crate) async fn inspect(path: &Path) -> Result<(i64, i64), OpenError> {
    if !path.exists() {
        return Err(OpenError::cause(path, "database does not exist (run `consailt migrate` to create it)"));
    }
    check_header(path)?;
    let applied = applied_version(path).await?;
    check_not_newer(path, applied)?;
    Ok((applied, latest_version()))
}

fn check_not_newer(path: &Path, applied: i64) -> Result<(), OpenError> {
    let latest = latest_version();
    if applied > latest {
        return Err(OpenError::cause(
            path,
            format!(
                "database schema version {applied} is newer than this binary supports ({latest}); upgrade consailt"
            ),
        ));
    }
    Ok(())
}

fn options(config: &SqliteConfig) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(&config.path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::from_str(config.durability.pragma()).unwrap_or(SqliteSynchronous::Full))
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT)
        .pragma("cache_size", "-65536")
        .pragma("temp_store", "memory")
        .disable_statement_logging()
}

/// Statements each synchronous connection keeps prepared: every projection statement fits.
const PREPARED_STATEMENTS: usize = 128;

/// Runs a statement without parameters or rows (`BEGIN`, `COMMIT`, a savepoint) from the
/// connection's statement cache: parsed anew on every transaction, these took about 2% of the
/// writer's time per create.
pub(crate) fn run_cached(conn: &rusqlite::Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

/// A connection on the synchronous driver with the settings of [`options`] (WAL is a property
/// of the database file, set by the migrating connection), but for `temp_store`: a statement
/// that writes several rows (an item insert and its count trigger) keeps a statement journal,
/// which in memory is kept in 1 KiB chunks, five mallocs and frees for every page a statement
/// changes (4% of a busy server's CPU under concurrent creates); on the default store it is one 64 KiB buffer,
/// spilled to a temporary file only beyond that.
pub(crate) fn synchronous_connection(config: &SqliteConfig) -> rusqlite::Result<rusqlite::Connection> {
    use rusqlite::OpenFlags;
    let conn = rusqlite::Connection::open_with_flags(
        &config.path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.execute_batch(&format!(
        "PRAGMA synchronous = {}; PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536;",
        config.durability.pragma()
    ))?;
    conn.set_prepared_statement_cache_capacity(PREPARED_STATEMENTS);
    Ok(conn)
}

const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) async fn open(config: &SqliteConfig) -> Result<Opened, OpenError> {
    let path = config.path.as_path();
    check_directory(path)?;
    if path.exists() {
        check_header(path)?;
        let applied = applied_version(path).await?;
        check_not_newer(path, applied)?;
    }
    let options = options(config);
    let mut writer = options.connect().await.map_err(|e| OpenError::cause(path, format!("cannot open: {e}")))?;
    let migrator = migrator().await.map_err(|e| OpenError::cause(path, e))?;
    migrator.run_direct(&mut writer).await.map_err(|e| OpenError::cause(path, format!("migration failed: {e}")))?;
    let reads = SqlitePoolOptions::new()
        .max_connections(config.read_connections.max(1))
        // A ping before every acquire is a round trip to SQLite's thread for a connection to a
        // local file that cannot have gone away.
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .map_err(|e| OpenError::cause(path, format!("cannot open: {e}")))?;
    let synchronous =
        || synchronous_connection(config).map_err(|e| OpenError::cause(path, format!("cannot open: {e}")));
    let sync_writer = synchronous()?;
    sync_writer
        .pragma_update(None, "wal_autocheckpoint", 0)
        .map_err(|e| OpenError::cause(path, format!("cannot configure checkpoints: {e}")))?;
    Ok(Opened { migrated: writer, writer: sync_writer, checkpoints: synchronous()?, reads })
}
