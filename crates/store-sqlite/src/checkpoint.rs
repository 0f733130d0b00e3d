//! WAL checkpoints outside the writer's commits. SQLite's automatic checkpoint (every 1,000
//! pages) runs inside the commit that crosses the threshold, and its copy and fsyncs then
//! stall every command queued behind that commit: at 16 concurrent creates it put the p99 at
//! 13 ms, against 5 ms with no checkpoint at all. So the writer's connection has it off, and a
//! thread of its own copies the log into the database file in small steps without blocking
//! the writer (a `PASSIVE` checkpoint). Small steps matter more than being off the commit
//! path: paced at 1 s the p99 was 31 ms, at 200 ms 12 ms, at 50 ms 8 ms, at 10 ms 5 ms, and
//! with no pause at all the rate fell by a fifth. A step is due per [`ROWS_PER_CHECKPOINT`]
//! rows written. At `full` durability, when the writer has nothing queued, it takes the step
//! itself after acknowledging its commit: a checkpoint's fsyncs running beside a commit's
//! fsync slow that commit down, which cost a lone writer of small commits a sixth of its rate.
//! Otherwise the thread takes it, at most every [`PACING`] (see bench/README.md).
//!
//! Under a steady stream of commits the thread's checkpoint never catches up with the writer,
//! and SQLite restarts the log only after one that did (it grew to 250 MB in two seconds of
//! creates). So once the log passes [`MAX_LOG_FRAMES`] the writer takes a step itself right
//! after the thread's, which copies what the thread has not yet copied: one short stall. Short only because the
//! thread also flushes the database file after each step: SQLite flushes it only when a
//! checkpoint catches up, so the writer's step otherwise paid for every page
//! the thread had copied since the last restart (25-35 ms, against 2-3 ms).
//!
//! A replay also turns the automatic checkpoint off for its own transaction, and a background
//! checkpoint folds the rewrite in afterwards.

use std::fs::File;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sqlx::SqlitePool;

/// The least time between two background checkpoints: each copies what the writer committed
/// meanwhile, so a busy writer is not followed by a checkpoint per commit.
const PACING: Duration = Duration::from_millis(10);

/// Rows the writer changes before it asks for a checkpoint: enough that a lone writer making
/// small commits does not pay for a database fsync every few commits, few enough that one
/// checkpoint's copy stays short.
const ROWS_PER_CHECKPOINT: u64 = 500;

/// Log frames (pages, 4 KiB each) beyond which the writer takes the next checkpoint itself.
const MAX_LOG_FRAMES: i64 = 16_384;

/// When checkpoints are due, and the thread that runs them while the writer is busy.
pub(crate) struct Checkpointer {
    committed: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
    /// Set by the thread when the log stays long (see [`MAX_LOG_FRAMES`]).
    log_too_long: Arc<AtomicBool>,
    /// The writer connection's count of changed rows at the last request.
    requested_at: u64,
}

impl Checkpointer {
    /// Starts the thread with its own connection to the database and a handle on its file
    /// (`database`), which it flushes after each step.
    pub(crate) fn start(conn: rusqlite::Connection, database: File) -> std::io::Result<Self> {
        let (committed, commits) = sync_channel(1);
        let log_too_long = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&log_too_long);
        let thread = std::thread::Builder::new()
            .name("consailt-checkpoint".to_owned())
            .spawn(move || run(&conn, &database, &commits, &flag))?;
        Ok(Self { committed: Some(committed), thread: Some(thread), log_too_long, requested_at: 0 })
    }

    /// Whether the writer should take the due checkpoint itself because the thread's could not
    /// keep the log short: under a steady stream of commits a checkpoint running beside the
    /// writer never catches up, and the log is only restarted after one that did.
    pub(crate) fn log_too_long(&self) -> bool {
        self.log_too_long.swap(false, Ordering::Relaxed)
    }

    /// Whether a checkpoint is due, given the writer connection's running count of changed
    /// rows (`total_changes`): [`ROWS_PER_CHECKPOINT`] rows since the last one was due.
    pub(crate) fn due(&mut self, total_changes: u64) -> bool {
        if total_changes.saturating_sub(self.requested_at) < ROWS_PER_CHECKPOINT {
            return false;
        }
        self.requested_at = total_changes;
        true
    }

    /// Asks the thread for a checkpoint. Never blocks: requests coalesce while it is busy.
    pub(crate) fn request(&self) {
        if let Some(sender) = &self.committed {
            let _ = sender.try_send(());
        }
    }
}

/// How far a checkpoint got, in log frames (pages).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Progress {
    /// Frames in the log.
    pub log: i64,
    /// Frames of the log now copied into the database file (of those the step saw: the writer
    /// may have added more meanwhile).
    pub copied: i64,
}

/// Copies what it can of the log into the database file without blocking the writer.
pub(crate) fn passive_now(conn: &rusqlite::Connection) -> Progress {
    let step = conn
        .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| Ok(Progress { log: row.get(1)?, copied: row.get(2)? }));
    step.unwrap_or_else(|error| {
        tracing::warn!(%error, "checkpoint failed; the next one retries it");
        Progress::default()
    })
}

impl Drop for Checkpointer {
    /// Stops the thread after the checkpoint it may be running.
    fn drop(&mut self) {
        self.committed.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Waits for a request, checkpoints, then pauses for [`PACING`]; a request made during the
/// pause makes the next checkpoint start right after it.
fn run(conn: &rusqlite::Connection, database: &File, commits: &Receiver<()>, log_too_long: &AtomicBool) {
    let mut pending = false;
    loop {
        if !pending && commits.recv().is_err() {
            return;
        }
        let progress = passive_now(conn);
        // SQLite flushes the file itself only after a step that caught up with the writer; when
        // it did, this flush finds nothing left to write.
        if progress.copied > 0
            && let Err(error) = database.sync_data()
        {
            tracing::warn!(%error, "flushing the database file failed; the next checkpoint flushes it");
        }
        if progress.log >= MAX_LOG_FRAMES {
            log_too_long.store(true, Ordering::Relaxed);
        }
        pending = false;
        let resume = Instant::now() + PACING;
        loop {
            match commits.recv_timeout(resume.saturating_duration_since(Instant::now())) {
                Ok(()) => pending = true,
                Err(RecvTimeoutError::Timeout) => break,
                // The store is closing: its final checkpoint folds in the rest.
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }
}

/// Copies what it can of the log into the database file without blocking anyone.
pub(crate) async fn passive(pool: SqlitePool) {
    if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await {
        tracing::warn!(%error, "background checkpoint failed; SQLite's automatic checkpoint takes over");
    }
}

/// Copies the whole log into the database file and truncates it (at close). A checkpoint
/// still running in the background makes SQLite answer "busy"; this waits for it, boundedly.
pub(crate) async fn truncate(pool: &SqlitePool) {
    const ATTEMPTS: u32 = 50;
    for _ in 0..ATTEMPTS {
        match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(pool).await {
            Ok((0, _, _)) => return,
            Ok(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(error) => {
                tracing::warn!(%error, "final checkpoint failed; the log is replayed at next open");
                return;
            }
        }
    }
    tracing::warn!("final checkpoint stayed busy; the log is replayed at next open");
}
