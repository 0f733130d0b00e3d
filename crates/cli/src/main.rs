//! The `consailt` binary: one thin entry point that parses the command line, resolves the
//! configuration, opens the store and hands over to the command.

mod commands;
mod config;
mod signing_key;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{LogFormat, StorageArgs};

/// mimalloc: small, short-lived allocations (rows, JSON, headers) dominate every request.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Consailt: a self-hosted, privacy-first knowledge and engagement platform for consultants.
///
/// Configuration is layered: defaults, then the configuration file (./consailt.toml or
/// --config), then CONSAILT_* environment variables, then flags.
#[derive(Debug, Parser)]
#[command(name = "consailt", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server (migrates the database first)
    Serve(commands::serve::ServeArgs),
    /// Create or upgrade the database schema, then exit
    Migrate(commands::migrate::MigrateArgs),
    /// Work with the event log
    Events {
        #[command(subcommand)]
        command: EventsCommand,
    },
    /// Check the tamper-evident audit trail
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Check the configuration, the data directory and the database, and say what is missing
    Doctor(StorageArgs),
    /// Ask a server's knowledge base from the terminal, answers streamed with their sources
    Chat(commands::chat::ChatArgs),
    /// Work with the search index
    Search {
        #[command(subcommand)]
        command: SearchCommand,
    },
}

#[derive(Debug, Subcommand)]
enum SearchCommand {
    /// Rebuild the full-text index from the event log (stop the server first)
    Reindex(StorageArgs),
    /// Fetch and verify the embedding model for semantic search (serve does it when missing)
    Setup,
    /// Measure ranking quality on a test collection (nDCG@10, recall@100, MRR), next to SQLite FTS5
    Eval(commands::search_eval::EvalArgs),
}

#[derive(Debug, Subcommand)]
enum EventsCommand {
    /// Drop every read model and rebuild it from the event log
    Replay(StorageArgs),
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Verify the hash chain over the whole event log; reports the first broken link
    Verify(StorageArgs),
}

/// A failed command: the message to print and the exit code.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub code: u8,
}

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(error: E) -> Self {
        Self { message: error.to_string(), code: 1 }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CONSAILT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

#[expect(unsafe_code, reason = "fix_thread_count sets an environment variable")]
fn main() -> ExitCode {
    // SAFETY: the first thing the process does; no other thread exists yet.
    unsafe { search::embedding::fix_thread_count() };
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => commands::serve::run(args, init_logging).await,
            Command::Chat(args) => commands::chat::run(args).await,
            Command::Migrate(args) => commands::migrate::run(args).await,
            Command::Events { command: EventsCommand::Replay(args) } => commands::replay::run(args).await,
            Command::Audit { command: AuditCommand::Verify(args) } => commands::audit::run(args).await,
            Command::Doctor(args) => commands::doctor::run(args).await,
            Command::Search { command: SearchCommand::Reindex(args) } => commands::search::reindex(args).await,
            Command::Search { command: SearchCommand::Eval(args) } => commands::search_eval::run(args).await,
            Command::Search { command: SearchCommand::Setup } => commands::search::setup().await,
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
