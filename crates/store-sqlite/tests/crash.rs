//! `kill -9` during a burst of appends: after a restart every acknowledged append is there,
//! no commit is partly written, and the hash chain verifies.
//!
//! The test runs this same test binary as a child process (the ignored `crash_child_writer`
//! test, selected with `--ignored --exact`), lets it acknowledge appends for a while, kills it
//! with SIGKILL, then reopens the database.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use store::chain::verify_chain;
use store::{EventMetadata, EventStore, ExpectedVersion, NewEvent, StreamId};
use store_sqlite::{SqliteConfig, SqliteStore};

const CHILD_DATABASE: &str = "CONSAILT_CRASH_CHILD_DATABASE";
const EVENTS_PER_COMMIT: usize = 3;
const WRITERS: usize = 16;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

#[test]
#[ignore = "child process of kill_9_during_a_burst_keeps_every_acknowledged_append"]
fn crash_child_writer() {
    let Ok(path) = std::env::var(CHILD_DATABASE) else { return };
    runtime().block_on(async move {
        let store = SqliteStore::open(SqliteConfig::new(path)).await.expect("child opens the store");
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let store = store.clone();
                tokio::spawn(async move {
                    let stream = StreamId::new("crash", &format!("w{w}"));
                    for commit in 0u64.. {
                        let events = (0..EVENTS_PER_COMMIT)
                            .map(|e| NewEvent {
                                event_type: "crash.appended".to_owned(),
                                schema_version: 1,
                                payload: format!("{{\"writer\":{w},\"commit\":{commit},\"event\":{e}}}"),
                            })
                            .collect();
                        let expected = ExpectedVersion::Exactly(commit * EVENTS_PER_COMMIT as u64);
                        let receipt = store
                            .append(stream.clone(), expected, events, EventMetadata::default())
                            .await
                            .expect("append");
                        let mut out = std::io::stdout().lock();
                        writeln!(out, "ack {} {}", stream, receipt.stream_versions[0]).expect("report ack");
                        out.flush().expect("flush ack");
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.await.expect("writer");
        }
    });
}

#[test]
fn kill_9_during_a_burst_keeps_every_acknowledged_append() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("crash.db");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--ignored", "--exact", "crash_child_writer", "--nocapture", "--test-threads=1"])
        .env(CHILD_DATABASE, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child writer");
    let stdout = child.stdout.take().expect("child stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut acknowledged: BTreeMap<String, u64> = BTreeMap::new();
    let mut acks = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    while acks < 600 && Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some((stream, version)) = parse_ack(&line) {
            acknowledged.insert(stream, version);
            acks += 1;
        }
    }
    child.kill().expect("SIGKILL the child");
    child.wait().expect("reap the child");
    // Acks printed before the kill landed in the pipe: they count too.
    for line in lines.map_while(Result::ok) {
        if let Some((stream, version)) = parse_ack(&line) {
            acknowledged.insert(stream, version);
        }
    }
    assert!(acks >= 100, "the child acknowledged only {acks} appends before the deadline");

    runtime().block_on(async move {
        let store = SqliteStore::open(SqliteConfig::new(&path)).await.expect("reopen after the crash");
        for w in 0..WRITERS {
            let stream = StreamId::new("crash", &format!("w{w}"));
            let events = store.read_stream(&stream).await.expect("read stream");
            let acked = acknowledged.get(stream.as_str()).copied().unwrap_or(0);
            assert!(events.len() as u64 >= acked, "{stream}: {} events stored, {acked} acknowledged", events.len());
            assert_eq!(events.len() % EVENTS_PER_COMMIT, 0, "{stream}: a commit was partly written");
            let versions: Vec<u64> = events.iter().map(|e| e.stream_version).collect();
            assert_eq!(versions, (1..=events.len() as u64).collect::<Vec<_>>(), "{stream}: versions have gaps");
        }
        let report = verify_chain(&store).await.expect("verify");
        assert_eq!(report.first_broken, None, "the chain broke in the crash");
        assert!(report.events_checked >= acks as u64, "fewer events than acknowledged appends");
        store.close().await;
    });
}

fn parse_ack(line: &str) -> Option<(String, u64)> {
    let mut parts = line.strip_prefix("ack ")?.split(' ');
    Some((parts.next()?.to_owned(), parts.next()?.parse().ok()?))
}
