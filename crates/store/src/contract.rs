//! The contract every [`EventStore`] backend passes. A backend's test file instantiates it with
//! [`event_store_contract!`](crate::event_store_contract), giving a function that opens a fresh,
//! empty store (and a guard that keeps its storage alive).
//!
//! The checks only use [`EventStore`], and each returns a message naming what broke.

use std::collections::BTreeSet;

use crate::chain::verify_chain;
use crate::subscription::Subscription;
use crate::{Commit, EventMetadata, EventStore, ExpectedVersion, NewEvent, StoreError, StreamAppend, StreamId};

/// Result of one contract check.
pub type Check = Result<(), String>;

fn event(n: usize) -> NewEvent {
    NewEvent { event_type: "contract.happened".to_owned(), schema_version: 1, payload: format!("{{\"n\":{n}}}") }
}

fn stream(n: usize) -> StreamId {
    StreamId::new("contract", &format!("s{n}"))
}

fn meta() -> EventMetadata {
    EventMetadata {
        org_id: Some("org_contract".to_owned()),
        actor: Some("usr_contract".to_owned()),
        ..Default::default()
    }
}

fn ensure(condition: bool, message: impl FnOnce() -> String) -> Check {
    if condition { Ok(()) } else { Err(message()) }
}

fn fail(context: &str) -> impl FnOnce(StoreError) -> String + '_ {
    move |e| format!("{context}: {e}")
}

/// Appended events read back from their stream, in order, with versions 1..=n.
pub async fn append_then_read_stream<S: EventStore>(store: S) -> Check {
    let events: Vec<_> = (0..3).map(event).collect();
    let receipt =
        store.append(stream(1), ExpectedVersion::NoStream, events.clone(), meta()).await.map_err(fail("append"))?;
    ensure(receipt.stream_versions == vec![3], || format!("receipt versions {:?}", receipt.stream_versions))?;
    let read = store.read_stream(&stream(1)).await.map_err(fail("read"))?;
    let versions: Vec<u64> = read.iter().map(|e| e.stream_version).collect();
    ensure(versions == vec![1, 2, 3], || format!("versions {versions:?}"))?;
    let payloads: Vec<&str> = read.iter().map(|e| e.payload.as_str()).collect();
    let expected: Vec<&str> = events.iter().map(|e| e.payload.as_str()).collect();
    ensure(payloads == expected, || format!("payloads {payloads:?}"))?;
    let metadata = read[0].metadata().map_err(|e| format!("metadata: {e}"))?;
    ensure(metadata == meta(), || format!("metadata {metadata:?}"))?;
    let empty = store.read_stream(&stream(99)).await.map_err(fail("read missing"))?;
    ensure(empty.is_empty(), || "an unknown stream has events".to_owned())
}

/// A wrong expected version fails with a conflict carrying the actual version, and writes nothing.
pub async fn conflicts_carry_the_actual_version<S: EventStore>(store: S) -> Check {
    store.append(stream(1), ExpectedVersion::NoStream, vec![event(0), event(1)], meta()).await.map_err(fail("seed"))?;
    for expected in [ExpectedVersion::NoStream, ExpectedVersion::Exactly(1), ExpectedVersion::Exactly(5)] {
        match store.append(stream(1), expected, vec![event(2)], meta()).await {
            Err(StoreError::Conflict { actual: 2, .. }) => {}
            other => return Err(format!("expected a conflict at version 2 for {expected}, got {other:?}")),
        }
    }
    let read = store.read_stream(&stream(1)).await.map_err(fail("read"))?;
    ensure(read.len() == 2, || format!("a refused append wrote: {} events", read.len()))?;
    store
        .append(stream(1), ExpectedVersion::Exactly(2), vec![event(2)], meta())
        .await
        .map_err(fail("right version"))?;
    store.append(stream(1), ExpectedVersion::Any, vec![event(3)], meta()).await.map_err(fail("any version"))?;
    Ok(())
}

/// A commit over several streams is all or nothing.
pub async fn multi_stream_commits_are_atomic<S: EventStore>(store: S) -> Check {
    store.append(stream(2), ExpectedVersion::NoStream, vec![event(0)], meta()).await.map_err(fail("seed"))?;
    let commit = Commit {
        appends: vec![
            StreamAppend { stream: stream(1), expected: ExpectedVersion::NoStream, events: vec![event(1)] },
            StreamAppend { stream: stream(2), expected: ExpectedVersion::NoStream, events: vec![event(2)] },
        ],
        metadata: meta(),
    };
    match store.commit(commit).await {
        Err(StoreError::Conflict { actual: 1, .. }) => {}
        other => return Err(format!("expected a conflict on the second stream, got {other:?}")),
    }
    let first = store.read_stream(&stream(1)).await.map_err(fail("read"))?;
    ensure(first.is_empty(), || "the first stream of a failed commit was written".to_owned())?;
    let head = store.head_position().await.map_err(fail("head"))?;
    ensure(head == 1, || format!("head moved to {head} after a failed commit"))
}

/// An empty commit is refused as invalid.
pub async fn empty_commits_are_invalid<S: EventStore>(store: S) -> Check {
    let outcome = store.append(stream(1), ExpectedVersion::Any, vec![], meta()).await;
    ensure(matches!(outcome, Err(StoreError::Invalid(_))), || format!("empty append gave {outcome:?}"))
}

/// A payload that is not JSON, or a stream id that is not a plain name, is refused before
/// anything is written.
pub async fn malformed_events_are_refused<S: EventStore>(store: S) -> Check {
    let bad = NewEvent { event_type: "contract.broken".to_owned(), schema_version: 1, payload: "{not json".to_owned() };
    let outcome = store.append(stream(1), ExpectedVersion::Any, vec![event(0), bad], meta()).await;
    ensure(matches!(outcome, Err(StoreError::Invalid(_))), || format!("malformed payload gave {outcome:?}"))?;
    let quoted = store.append(StreamId::new("contract", "a\"b"), ExpectedVersion::Any, vec![event(1)], meta()).await;
    ensure(matches!(quoted, Err(StoreError::Invalid(_))), || format!("a quoted stream id gave {quoted:?}"))?;
    let head = store.head_position().await.map_err(fail("head"))?;
    ensure(head == 0, || format!("head moved to {head}"))
}

/// Racing writers on one stream: exactly one wins each version, the others conflict, and
/// writers on other streams racing alongside are not disturbed by the refusals (a backend
/// that commits several appends together must leave the refused ones out, the rest in, and
/// the chain unbroken).
pub async fn racing_writers_on_one_stream<S: EventStore>(store: S) -> Check {
    let tasks: Vec<_> = (0..32)
        .map(|n| {
            let store = store.clone();
            let target = if n % 2 == 0 { stream(1) } else { stream(100 + n) };
            tokio::spawn(async move { store.append(target, ExpectedVersion::NoStream, vec![event(n)], meta()).await })
        })
        .collect();
    let mut won = 0;
    for (n, task) in tasks.into_iter().enumerate() {
        match task.await.map_err(|e| format!("task: {e}"))? {
            Ok(_) if n % 2 == 0 => won += 1,
            Ok(_) => {}
            Err(StoreError::Conflict { actual: 1, .. }) if n % 2 == 0 => {}
            Err(other) => return Err(format!("unexpected error for writer {n}: {other}")),
        }
    }
    ensure(won == 1, || format!("{won} writers won version 1"))?;
    let head = store.head_position().await.map_err(fail("head"))?;
    ensure(head == 17, || format!("head {head}: one winner and 16 writers on their own streams"))?;
    let report = verify_chain(&store).await.map_err(fail("verify"))?;
    ensure(report.first_broken.is_none() && report.events_checked == 17, || format!("chain {report:?}"))
}

/// Many concurrent writers on distinct streams: all succeed; positions are unique and gapless.
pub async fn concurrent_writers_get_gapless_positions<S: EventStore>(store: S) -> Check {
    let tasks: Vec<_> = (0..64)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                store.append(stream(n), ExpectedVersion::NoStream, vec![event(n), event(n + 1000)], meta()).await
            })
        })
        .collect();
    for task in tasks {
        task.await.map_err(|e| format!("task: {e}"))?.map_err(fail("append"))?;
    }
    let all = store.read_all_after(0, 1_000).await.map_err(fail("read all"))?;
    let positions: Vec<u64> = all.iter().map(|e| e.position).collect();
    ensure(positions == (1..=128).collect::<Vec<_>>(), || format!("positions {positions:?}"))?;
    let after = store.read_all_after(100, 10).await.map_err(fail("read after"))?;
    let page: Vec<u64> = after.iter().map(|e| e.position).collect();
    ensure(page == (101..=110).collect::<Vec<_>>(), || format!("page {page:?}"))?;
    for s in 0..64 {
        let events = store.read_stream(&stream(s)).await.map_err(fail("read stream"))?;
        ensure(events.len() == 2 && events[0].position < events[1].position, || format!("stream {s} out of order"))?;
    }
    let head = store.head_position().await.map_err(fail("head"))?;
    ensure(head == 128, || format!("head {head}"))
}

/// The hash chain verifies over everything appended.
pub async fn the_hash_chain_verifies<S: EventStore>(store: S) -> Check {
    for n in 0..20 {
        store.append(stream(n % 3), ExpectedVersion::Any, vec![event(n)], meta()).await.map_err(fail("append"))?;
    }
    let report = verify_chain(&store).await.map_err(fail("verify"))?;
    ensure(report.first_broken.is_none(), || format!("broken: {:?}", report.first_broken))?;
    ensure(report.events_checked == 20, || format!("checked {}", report.events_checked))
}

/// Checkpoints survive and start at zero.
pub async fn checkpoints_are_durable<S: EventStore>(store: S) -> Check {
    let start = store.load_checkpoint("contract").await.map_err(fail("load"))?;
    ensure(start == 0, || format!("fresh checkpoint {start}"))?;
    store.save_checkpoint("contract", 42).await.map_err(fail("save"))?;
    store.save_checkpoint("contract", 43).await.map_err(fail("save again"))?;
    let loaded = store.load_checkpoint("contract").await.map_err(fail("reload"))?;
    ensure(loaded == 43, || format!("reloaded {loaded}"))
}

/// A subscription sees every event once per run, in order, and resumes after its checkpoint.
pub async fn subscriptions_deliver_everything_in_order<S: EventStore>(store: S) -> Check {
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for n in 0..300 {
                store.append(stream(n % 7), ExpectedVersion::Any, vec![event(n)], meta()).await?;
            }
            Ok::<_, StoreError>(())
        })
    };
    let subscription = Subscription::new(store.clone(), "contract-sub");
    let mut seen = Vec::new();
    while seen.len() < 300 {
        let mut handler = |e: crate::RecordedEvent| {
            seen.push(e.position);
            std::future::ready(Ok::<_, std::io::Error>(()))
        };
        subscription.catch_up(&mut handler).await.map_err(|e| format!("catch up: {e}"))?;
        tokio::task::yield_now().await;
    }
    writer.await.map_err(|e| format!("writer: {e}"))?.map_err(fail("writer append"))?;
    ensure(seen == (1..=300).collect::<Vec<_>>(), || "positions delivered out of order, twice or skipped".to_owned())?;
    store.append(stream(1), ExpectedVersion::Any, vec![event(1)], meta()).await.map_err(fail("append"))?;
    let mut resumed = BTreeSet::new();
    let mut handler = |e: crate::RecordedEvent| {
        resumed.insert(e.position);
        std::future::ready(Ok::<_, std::io::Error>(()))
    };
    Subscription::new(store, "contract-sub").catch_up(&mut handler).await.map_err(|e| format!("resume: {e}"))?;
    ensure(resumed == BTreeSet::from([301]), || format!("resumed with {resumed:?}"))
}

/// Many concurrent appenders on many streams while a subscriber follows: the subscriber sees
/// every committed event exactly once and in global order, with no gap, even where commits
/// that took their positions concurrently finish in a different order (DESIGN section 2).
pub async fn concurrent_appenders_are_followed_exactly_once<S: EventStore>(store: S) -> Check {
    const WRITERS: usize = 16;
    const COMMITS: usize = 25;
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                for n in 0..COMMITS {
                    let events = (0..1 + n % 3).map(|k| event(w * 1_000 + n * 10 + k)).collect();
                    store.append(stream(w * 100 + n % 5), ExpectedVersion::Any, events, meta()).await?;
                }
                Ok::<_, StoreError>(())
            })
        })
        .collect();
    let expected: u64 = (0..COMMITS).map(|n| 1 + n as u64 % 3).sum::<u64>() * WRITERS as u64;
    let subscription = Subscription::new(store.clone(), "contract-stress");
    let mut seen: Vec<u64> = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while (seen.len() as u64) < expected {
        if std::time::Instant::now() > deadline {
            return Err(format!("saw {} of {expected} events within a minute", seen.len()));
        }
        let mut handler = |e: crate::RecordedEvent| {
            seen.push(e.position);
            std::future::ready(Ok::<_, std::io::Error>(()))
        };
        subscription.catch_up(&mut handler).await.map_err(|e| format!("catch up: {e}"))?;
        tokio::task::yield_now().await;
    }
    for writer in writers {
        writer.await.map_err(|e| format!("writer: {e}"))?.map_err(fail("append"))?;
    }
    let mut handler = |e: crate::RecordedEvent| {
        seen.push(e.position);
        std::future::ready(Ok::<_, std::io::Error>(()))
    };
    subscription.catch_up(&mut handler).await.map_err(|e| format!("final catch up: {e}"))?;
    ensure(seen == (1..=expected).collect::<Vec<_>>(), || {
        let first_wrong = seen.iter().zip(1..).find(|(got, want)| **got != *want);
        format!("{} events seen for {expected} committed; first out of place: {first_wrong:?}", seen.len())
    })?;
    let report = verify_chain(&store).await.map_err(fail("verify"))?;
    ensure(report.first_broken.is_none(), || format!("broken chain: {:?}", report.first_broken))
}

/// Instantiates the contract for a backend: `event_store_contract!(open_store)` where
/// `open_store().await` returns `(store, guard)`.
#[macro_export]
macro_rules! event_store_contract {
    ($open:path) => {
        $crate::event_store_contract!(@tests $open;
            append_then_read_stream,
            conflicts_carry_the_actual_version,
            multi_stream_commits_are_atomic,
            empty_commits_are_invalid,
            malformed_events_are_refused,
            racing_writers_on_one_stream,
            concurrent_writers_get_gapless_positions,
            the_hash_chain_verifies,
            checkpoints_are_durable,
            subscriptions_deliver_everything_in_order,
            concurrent_appenders_are_followed_exactly_once,
        );
    };
    (@tests $open:path; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let (store, _guard) = $open().await;
                if let Err(message) = $crate::contract::$check(store).await {
                    panic!("{}: {}", stringify!($check), message);
                }
            }
        )*
    };
}
