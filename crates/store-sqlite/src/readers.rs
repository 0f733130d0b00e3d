//! Read connections on the synchronous driver for the hot reads (an item by id, a page of a
//! list). Each read runs inline on the calling task's thread: it is a handful of index seeks
//! in pages SQLite or the OS already holds, shorter than the two thread switches an async
//! driver's worker costs (see ADR 0005). Reads that may scan stay on the async pool.
#![expect(
    clippy::disallowed_types,
    reason = "the std Mutex is held to take or return a connection, never across an await"
)]

use std::path::PathBuf;
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags};

use store::StoreError;

use crate::database::run_cached;
use crate::error::sqlite;

/// Idle connections kept; a burst beyond them opens more and closes the extra afterwards.
const IDLE: usize = 8;

#[derive(Debug)]
pub(crate) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    pub(crate) fn new(path: PathBuf) -> Self {
        Self { path, idle: Mutex::new(Vec::with_capacity(IDLE)) }
    }

    /// Runs `read` on an idle connection (or a new one). One statement reads one snapshot; for
    /// several, see [`Readers::snapshot`].
    pub(crate) fn read<T>(&self, read: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let taken = self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop();
        let conn = match taken {
            Some(conn) => conn,
            None => self.open()?,
        };
        let outcome = read(&conn);
        // A connection left inside a transaction (a failed `COMMIT`) is not reused.
        if conn.is_autocommit() {
            let mut idle = self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if idle.len() < IDLE {
                idle.push(conn);
            }
        }
        outcome
    }

    /// Runs `read` inside one read transaction, so that all its statements see one snapshot.
    pub(crate) fn snapshot<T>(&self, read: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.read(|conn| {
            run_cached(conn, "BEGIN").map_err(sqlite)?;
            let outcome = read(conn);
            let ended = run_cached(conn, "COMMIT");
            outcome.and_then(|value| ended.map(|()| value).map_err(sqlite))
        })
    }

    fn open(&self) -> Result<Connection, StoreError> {
        let conn =
            Connection::open_with_flags(&self.path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", self.path.display())))?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(sqlite)?;
        conn.execute_batch("PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY;").map_err(sqlite)?;
        conn.set_prepared_statement_cache_capacity(32);
        Ok(conn)
    }
}
