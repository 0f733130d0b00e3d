//! `consailt serve`: the HTTP server, with graceful shutdown on SIGINT and SIGTERM. In-flight
//! requests finish, then the writer commits what it has queued, then the process exits.

use std::sync::Arc;

use clap::Args;
use tokio::net::TcpListener;

use ::search::model::ModelFiles;
use ::search::semantic::SemanticSearch;
use application::security::throttle::{Limit, SharedCounters};
use application::{App, SecuritySettings};
use cluster_redis::{RedisConfig, RedisCounters};
use server::HttpSettings;

use crate::commands::{open_store, search};
use crate::config::FileSettings;
use crate::config::{LogFormat, StorageArgs, load_file, resolve_listen};
use crate::{Failure, signing_key};

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub storage: StorageArgs,
    /// Address to listen on, HOST:PORT [default: 127.0.0.1:8080]
    #[arg(long, env = "CONSAILT_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// Log format [default: text]
    #[arg(long, env = "CONSAILT_LOG_FORMAT", value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
    /// Turn semantic search off: no model fetched, no embedding work (hybrid searches rank by
    /// full text)
    #[arg(long, env = "CONSAILT_NO_SEMANTIC")]
    pub no_semantic: bool,
    /// Redis shared by every instance, redis://HOST:PORT: rate limits then hold for the whole
    /// cluster [default: none; limits are per instance]
    #[arg(long, env = "CONSAILT_REDIS_URL", value_name = "URL")]
    pub redis_url: Option<String>,
    /// Prefix of this deployment's keys in Redis, when several share one [default: consailt]
    #[arg(long, env = "CONSAILT_REDIS_PREFIX", value_name = "PREFIX")]
    pub redis_prefix: Option<String>,
}

pub async fn run(args: ServeArgs, init_logging: fn(LogFormat)) -> Result<(), Failure> {
    let file = load_file(args.storage.config.as_deref())?;
    init_logging(args.log_format.or(file.log_format).unwrap_or_default());
    let listen = resolve_listen(args.listen.as_deref(), &file)?;
    let assistant = ai::Assistant::new(&file.ai, |variable| std::env::var(variable).ok())
        .map_err(|e| Failure::from(e.to_string()))?;
    let shared_counters = shared_counters(&args, &file).await?;
    let (store, settings) = open_store(&args.storage).await?;
    let listener =
        TcpListener::bind(listen).await.map_err(|e| Failure::from(format!("cannot listen on {listen}: {e}")))?;
    let local = listener.local_addr()?;
    tracing::info!(address = %local, database = %settings.describe(), "consailt listening");
    let key = signing_key::load(&settings.data_dir)?;
    let index = search::open_index(&settings.data_dir)?;
    let (stop_background, stopping) = tokio::sync::watch::channel(false);
    let indexer = tokio::spawn(::search::indexer::run(store.clone(), Arc::clone(&index), stopping.clone()));
    let semantic = SemanticSearch::starting();
    let embedder = if args.no_semantic {
        semantic.set_off("turned off by --no-semantic".to_owned());
        None
    } else {
        let model_dir = ModelFiles::default_dir();
        Some(tokio::spawn(::search::semantic::start(store.clone(), Arc::clone(&semantic), model_dir, stopping)))
    };
    let security = SecuritySettings { shared_counters: shared_counters.clone(), ..SecuritySettings::default() };
    let app = App::new(store.clone())
        .with_security(key, security)
        .with_search(index)
        .with_semantic(semantic)
        .with_assistant(Arc::new(assistant));
    let http = HttpSettings { shared_counters, ..http_settings(&file) };
    let router = server::router(app, &http).map_err(Failure::from)?;
    server::serve(listener, router, shutdown_signal()).await?;
    let _ = stop_background.send(true);
    if let Err(error) = indexer.await {
        tracing::error!(%error, "the search indexer did not stop cleanly");
    }
    if let Some(embedder) = embedder {
        // A step embeds a page of items (seconds) and a first start may be fetching the
        // model; neither is worth holding the shutdown for: each step saves atomically.
        match tokio::time::timeout(std::time::Duration::from_secs(5), embedder).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(%error, "the embedder did not stop cleanly"),
            Err(_) => tracing::warn!("the embedder was still busy; it resumes from its checkpoint at the next start"),
        }
    }
    store.close().await;
    tracing::info!("shutdown complete");
    Ok(())
}

/// The counters of cluster-wide rate limits, when Redis is configured. A bad URL stops the
/// start; an unreachable Redis does not (limits are counted per instance until it answers).
async fn shared_counters(args: &ServeArgs, file: &FileSettings) -> Result<Option<Arc<dyn SharedCounters>>, Failure> {
    let Some(url) = args.redis_url.clone().or_else(|| file.redis_url.clone()).filter(|url| !url.is_empty()) else {
        tracing::info!("no Redis configured: rate limits are counted per instance");
        return Ok(None);
    };
    let described = cluster_redis::describe(&url);
    let mut config = RedisConfig::new(url);
    if let Some(prefix) = args.redis_prefix.clone().or_else(|| file.redis_prefix.clone()) {
        config.prefix = prefix;
    }
    let counters = RedisCounters::new(config).map_err(Failure::from)?;
    if counters.ping().await.is_ok() {
        tracing::info!(redis = %described, "rate limits hold for the whole cluster through Redis");
    }
    Ok(Some(Arc::new(counters)))
}

/// HTTP settings from the `[http]` table, over the defaults.
fn http_settings(file: &FileSettings) -> HttpSettings {
    let defaults = HttpSettings::default();
    let per_minute = |max: u32| Limit { max, window: time::Duration::minutes(1) };
    HttpSettings {
        cors_origins: file.http.cors_origins.clone(),
        per_ip: file.http.rate_limit_per_ip.map_or(defaults.per_ip, per_minute),
        per_principal: file.http.rate_limit_per_principal.map_or(defaults.per_principal, per_minute),
        hsts: file.http.hsts.unwrap_or(defaults.hsts),
        shared_counters: None,
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT received, finishing in-flight requests"),
        () = terminate => tracing::info!("SIGTERM received, finishing in-flight requests"),
    }
}
