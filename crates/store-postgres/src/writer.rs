//! The append path: one writer task per instance commits queued appends together. Each batch
//! is one transaction holding the chain's tail lock, with a savepoint per commit so a commit
//! refused by its expected versions or a constraint leaves the others in; one WAL flush then
//! acknowledges them all. Without batching every append paid its own flush while holding the
//! cluster-wide tail lock, which capped appends at one flush time each.

use std::collections::{BTreeSet, HashMap};

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot, watch};

use store::append::{ChainTail, advance, chain_commit, check_versions};
use store::{Commit, CommitReceipt, StoreError};

use crate::error::{database, unsigned};
use crate::{finish_append, insert_event, lock_tail, projections, raise, rows};

/// Most commits one batch carries, and about the most events (a commit is never split).
const MAX_BATCH_COMMITS: usize = 256;
const MAX_BATCH_EVENTS: usize = 10_000;

/// A commit waiting for the writer, and where its outcome goes.
pub(crate) struct Pending {
    pub(crate) commit: Commit,
    pub(crate) reply: oneshot::Sender<Result<CommitReceipt, StoreError>>,
}

/// Runs until every sender is gone: takes what is queued, writes it as one batch, answers.
pub(crate) async fn run(pool: PgPool, head: watch::Sender<u64>, mut queue: mpsc::Receiver<Pending>) {
    while let Some(first) = queue.recv().await {
        let mut events = first.commit.event_count();
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH_COMMITS && events < MAX_BATCH_EVENTS {
            let Ok(next) = queue.try_recv() else { break };
            events += next.commit.event_count();
            batch.push(next);
        }
        let commits: Vec<&Commit> = batch.iter().map(|pending| &pending.commit).collect();
        match write_batch(&pool, &commits).await {
            Ok((outcomes, position)) => {
                head.send_if_modified(|head| raise(head, position));
                for (pending, outcome) in batch.into_iter().zip(outcomes) {
                    let _ = pending.reply.send(outcome);
                }
            }
            Err(error) => {
                for pending in batch {
                    let _ = pending.reply.send(Err(same_failure(&error)));
                }
            }
        }
    }
}

/// Writes `commits` in one transaction; returns each commit's outcome and the new tail
/// position, or the failure that lost the whole batch (nothing of it was committed).
async fn write_batch(
    pool: &PgPool,
    commits: &[&Commit],
) -> Result<(Vec<Result<CommitReceipt, StoreError>>, u64), StoreError> {
    let mut tx = pool.begin().await.map_err(database)?;
    let mut tail = lock_tail(&mut tx).await?;
    let isolated = commits.len() > 1;
    let mut outcomes = Vec::with_capacity(commits.len());
    for commit in commits {
        if isolated {
            sqlx::query("SAVEPOINT append").execute(&mut *tx).await.map_err(database)?;
        }
        let before = tail;
        match append_one(&mut tx, commit, &mut tail).await {
            Ok(receipt) => {
                if isolated {
                    sqlx::query("RELEASE SAVEPOINT append").execute(&mut *tx).await.map_err(database)?;
                }
                outcomes.push(Ok(receipt));
            }
            Err(refused @ (StoreError::Conflict { .. } | StoreError::Rejected(_) | StoreError::Invalid(_))) => {
                if isolated {
                    sqlx::query("ROLLBACK TO SAVEPOINT append").execute(&mut *tx).await.map_err(database)?;
                }
                tail = before;
                outcomes.push(Err(refused));
            }
            Err(failure) => return Err(failure),
        }
    }
    if outcomes.iter().any(Result::is_ok) {
        finish_append(&mut tx, &tail).await?;
        tx.commit().await.map_err(database)?;
    } else {
        tx.rollback().await.map_err(database)?;
    }
    Ok((outcomes, tail.position))
}

/// Checks one commit's expected versions, then inserts, chains and projects its events.
async fn append_one(
    tx: &mut sqlx::PgConnection,
    commit: &Commit,
    tail: &mut ChainTail,
) -> Result<CommitReceipt, StoreError> {
    let streams: BTreeSet<&str> = commit.appends.iter().map(|a| a.stream.as_str()).collect();
    let mut versions = HashMap::with_capacity(streams.len());
    for stream in streams {
        let version: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(stream_version), 0) FROM events WHERE stream_id = $1")
                .bind(stream)
                .fetch_one(&mut *tx)
                .await
                .map_err(database)?;
        versions.insert(stream.to_owned(), unsigned(version, "stream_version")?);
    }
    check_versions(commit, &versions)?;
    let recorded_at = rows::now();
    let rows = chain_commit(commit, &versions, recorded_at, tail)?;
    for (row, org) in &rows {
        insert_event(tx, row, *org).await?;
    }
    for (row, _) in &rows {
        projections::project(tx, row).await?;
    }
    Ok(CommitReceipt {
        last_position: tail.position,
        stream_versions: commit.appends.iter().map(|a| advance(&mut versions, a)).collect(),
        recorded_at,
    })
}

/// The failure of a whole batch, as each of its commits reports it.
fn same_failure(error: &StoreError) -> StoreError {
    match error {
        StoreError::Conflict { stream, expected, actual } => {
            StoreError::Conflict { stream: stream.clone(), expected: *expected, actual: *actual }
        }
        StoreError::Rejected(message) => StoreError::Rejected(message.clone()),
        StoreError::Invalid(message) => StoreError::Invalid(message.clone()),
        StoreError::Unavailable(message) => StoreError::Unavailable(message.clone()),
        StoreError::Corrupt(message) => StoreError::Corrupt(message.clone()),
        StoreError::Database(cause) => StoreError::Database(cause.to_string().into()),
    }
}
