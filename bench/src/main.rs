//! Store, application-layer and replay benchmarks. Each run prints one JSON object per line;
//! `bench/run.sh` interleaves them with their baselines (PostgreSQL via pgbench, the sqlite3
//! command-line tool) and summarizes medians.
//!
//! The embedded store runs on its own pinned core ("server": the writer task and SQLite's
//! worker threads) and the load generators on the other, like a server and its client.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use serde_json::json;

use application::commands::create_item::{CreateItem, ItemDraft};
use application::{App, TenantContext};
use domain::item::ItemKind;
use store::{Commit, EventMetadata, EventStore, ExpectedVersion, NewEvent, StreamAppend, StreamId};
use store_sqlite::{Durability, SqliteConfig, SqliteStore};

/// The `consailt` binary's allocator, so that its parts are measured as they run there (with
/// glibc's, the embedder ran 36% slower: every large tensor was a fresh mmap to fault in).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod history;

#[derive(Debug, Parser)]
#[command(name = "consailt-bench")]
struct Cli {
    /// Database file (created; must not exist)
    #[arg(long)]
    db: PathBuf,
    /// full or normal
    #[arg(long, default_value = "full")]
    durability: String,
    /// Core for the store; the load generators get the other one
    #[arg(long, default_value_t = 0)]
    store_core: usize,
    /// Group-commit linger in microseconds (0: commit whatever is queued at once)
    #[arg(long, default_value_t = 0)]
    linger_us: u64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Durable single-event appends from N concurrent writers, each to its own stream
    Appends {
        #[arg(long)]
        writers: usize,
        #[arg(long, default_value_t = 5)]
        seconds: u64,
    },
    /// Bulk import: commits of BATCH events, IMPORTERS in flight, TOTAL events
    Bulk {
        #[arg(long, default_value_t = 100)]
        batch: usize,
        #[arg(long, default_value_t = 4)]
        importers: usize,
        #[arg(long, default_value_t = 200_000)]
        total: usize,
    },
    /// Commands through the application layer (decide, append, inline projections)
    App {
        #[arg(long)]
        writers: usize,
        #[arg(long, default_value_t = 5)]
        seconds: u64,
    },
    /// Replay of all projections over a generated history of about EVENTS domain events
    Replay {
        #[arg(long, default_value_t = 100_000)]
        events: usize,
    },
}

fn pinned_runtime(core: usize, threads: usize) -> tokio::runtime::Runtime {
    let cores = core_affinity::get_core_ids().unwrap_or_default();
    let chosen = cores.get(core % cores.len().max(1)).copied();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .on_thread_start(move || {
            if let Some(core) = chosen {
                core_affinity::set_for_current(core);
            }
        })
        .build()
        .expect("runtime")
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1_000.0
}

/// Waits for every writer and returns all their latencies, sorted.
async fn sorted_latencies(tasks: Vec<tokio::task::JoinHandle<Vec<Duration>>>) -> Vec<Duration> {
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("writer"));
    }
    latencies.sort();
    latencies
}

fn event(payload_size: usize, n: usize) -> NewEvent {
    let filler = "x".repeat(payload_size.saturating_sub(40));
    NewEvent {
        event_type: "bench.appended".to_owned(),
        schema_version: 1,
        payload: format!("{{\"n\":{n},\"pad\":\"{filler}\"}}"),
    }
}

fn meta() -> EventMetadata {
    EventMetadata { org_id: Some("org_bench".to_owned()), actor: Some("usr_bench".to_owned()), ..Default::default() }
}

fn main() {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("CONSAILT_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let durability = if cli.durability == "normal" { Durability::Normal } else { Durability::Full };
    let store_runtime = pinned_runtime(cli.store_core, 1);
    let load_runtime = pinned_runtime(cli.store_core + 1, 1);
    let mut config = SqliteConfig::new(&cli.db);
    config.durability = durability;
    config.linger = Duration::from_micros(cli.linger_us);
    let store = store_runtime.block_on(SqliteStore::open(config)).expect("open store");
    let result = match cli.command {
        Command::Appends { writers, seconds } => load_runtime.block_on(appends(store.clone(), writers, seconds)),
        Command::Bulk { batch, importers, total } => {
            load_runtime.block_on(bulk(store.clone(), batch, importers, total))
        }
        Command::App { writers, seconds } => load_runtime.block_on(app_layer(store.clone(), writers, seconds)),
        Command::Replay { events } => load_runtime.block_on(replay(store.clone(), events)),
    };
    let mut result = result;
    result["durability"] = json!(cli.durability);
    println!("{result}");
    store_runtime.block_on(store.close());
}

async fn appends(store: SqliteStore, writers: usize, seconds: u64) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                let stream = StreamId::new("bench", &format!("w{w}"));
                let mut latencies = Vec::new();
                let mut version = 0;
                while Instant::now() < deadline {
                    let begun = Instant::now();
                    store
                        .append(
                            stream.clone(),
                            ExpectedVersion::Exactly(version),
                            vec![event(200, version as usize)],
                            meta(),
                        )
                        .await
                        .expect("append");
                    latencies.push(begun.elapsed());
                    version += 1;
                }
                latencies
            })
        })
        .collect();
    let latencies = sorted_latencies(tasks).await;
    let elapsed = started.elapsed().as_secs_f64();
    json!({
        "bench": "appends", "writers": writers, "events": latencies.len(),
        "events_per_sec": latencies.len() as f64 / elapsed,
        "p50_ms": percentile(&latencies, 0.50), "p99_ms": percentile(&latencies, 0.99),
    })
}

async fn bulk(store: SqliteStore, batch: usize, importers: usize, total: usize) -> serde_json::Value {
    let commits = total / batch;
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..importers)
        .map(|_| {
            let (store, next) = (store.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if n >= commits {
                        break;
                    }
                    let events = (0..batch).map(|i| event(200, n * batch + i)).collect();
                    let append = StreamAppend {
                        stream: StreamId::new("import", &format!("s{n}")),
                        expected: ExpectedVersion::NoStream,
                        events,
                    };
                    store.commit(Commit { appends: vec![append], metadata: meta() }).await.expect("import commit");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("importer");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let events = commits * batch;
    json!({ "bench": "bulk", "batch": batch, "importers": importers, "events": events, "events_per_sec": events as f64 / elapsed })
}

async fn app_layer(store: SqliteStore, writers: usize, seconds: u64) -> serde_json::Value {
    let app = App::new(store.clone());
    let tenants = history::tenants(&app, writers).await;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let head_before = store.head_position().await.expect("head");
    let started = Instant::now();
    let tasks: Vec<_> = tenants
        .into_iter()
        .map(|ctx: TenantContext| {
            let app = app.clone();
            tokio::spawn(async move {
                let mut commands = 0u64;
                let mut latencies = Vec::new();
                let mut current: Option<String> = None;
                while Instant::now() < deadline {
                    let begun = Instant::now();
                    let draft = ItemDraft {
                        title: format!("Item {commands}"),
                        body: "Findings from the workshop".to_owned(),
                        tags: vec!["bench".to_owned(), format!("t{}", commands % 7)],
                        ..ItemDraft::default()
                    };
                    match &current {
                        Some(id) if !commands.is_multiple_of(4) => {
                            app.edit_item(&ctx, id, draft, None).await.expect("edit");
                        }
                        _ => {
                            let created = app
                                .create_item(
                                    &ctx,
                                    CreateItem { kind: ItemKind::Note, engagement: None, draft, supersedes: None },
                                )
                                .await
                                .expect("create");
                            current = Some(created.id);
                        }
                    }
                    latencies.push(begun.elapsed());
                    commands += 1;
                }
                latencies
            })
        })
        .collect();
    let latencies = sorted_latencies(tasks).await;
    let elapsed = started.elapsed().as_secs_f64();
    let events = store.head_position().await.expect("head") - head_before;
    json!({
        "bench": "app", "writers": writers, "commands": latencies.len(), "events": events,
        "events_per_sec": events as f64 / elapsed,
        "p50_ms": percentile(&latencies, 0.50), "p99_ms": percentile(&latencies, 0.99),
    })
}

async fn replay(store: SqliteStore, events: usize) -> serde_json::Value {
    // A database that already holds a history is replayed as it is (to profile replay alone).
    let existing = store.head_position().await.expect("head");
    let generated = if existing > 0 { existing as usize } else { history::generate(&store, events).await };
    let report = store.replay().await.expect("replay");
    let seconds = report.elapsed.as_secs_f64();
    json!({ "bench": "replay", "events": report.events, "generated": generated, "seconds": seconds, "events_per_sec": report.events as f64 / seconds })
}
