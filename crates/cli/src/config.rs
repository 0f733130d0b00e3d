//! Layered configuration: defaults, then `consailt.toml`, then `CONSAILT_*` environment
//! variables, then flags. clap folds the environment into the flags (a flag wins over its
//! variable); what neither gives comes from the file, then from the defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use serde::Deserialize;
use storage::{PostgresConfig, SqliteConfig, StorageConfig};
use store_sqlite::Durability;

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "consailt.toml";
/// Where the server listens unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Where data lives unless told otherwise.
pub const DEFAULT_DATA_DIR: &str = "./data";

/// Why the configuration could not be built. Each message names its source.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read the configuration file: {source}")]
    Unreadable { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("{0}")]
    Value(String),
}

/// The configuration file's shape. Unknown keys are errors, so a typo never goes unnoticed.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    /// Redis shared by every instance, for cluster-wide rate limits.
    pub redis_url: Option<String>,
    /// Prefix of this deployment's keys in Redis.
    pub redis_prefix: Option<String>,
    pub log_format: Option<LogFormat>,
    #[serde(default)]
    pub storage: FileStorage,
    #[serde(default)]
    pub http: FileHttp,
    /// AI models and the task routing matrix; without it every task goes to `local`.
    #[serde(default)]
    pub ai: ai::AiConfig,
    #[serde(default)]
    pub chat: FileChat,
}

/// The `[chat]` table: where `consailt chat` asks, when no flag or variable says.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileChat {
    /// The server's base URL, e.g. `https://consailt.example.com`.
    pub url: Option<String>,
    /// An API key (`csk_...`); keep the file private if you put it here.
    pub api_key: Option<String>,
}

/// The `[http]` table of the configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileHttp {
    /// Browser origins allowed to call the API (CORS), e.g. `["https://app.example.com"]`.
    #[serde(default)]
    pub cors_origins: Vec<String>,
    /// Requests per minute from one client address.
    pub rate_limit_per_ip: Option<u32>,
    /// Requests per minute by one access token's user or one API key.
    pub rate_limit_per_principal: Option<u32>,
    /// Send `Strict-Transport-Security` (when served over HTTPS).
    pub hsts: Option<bool>,
}

/// The `[storage]` table of the configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileStorage {
    pub durability: Option<Durability>,
    pub group_commit_linger_ms: Option<u64>,
    pub group_commit_max_events: Option<usize>,
    /// PostgreSQL: most connections one instance holds [default: 16].
    pub max_connections: Option<u32>,
    /// PostgreSQL: how long a request waits for a connection before it answers 503
    /// [default: 3000].
    pub acquire_timeout_ms: Option<u64>,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Options shared by every command that opens the database.
#[derive(Debug, Clone, Default, Args)]
pub struct StorageArgs {
    /// Configuration file [default: ./consailt.toml when it exists]
    #[arg(long, env = "CONSAILT_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory holding the database and files [default: ./data]
    #[arg(long, env = "CONSAILT_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://USER@HOST:PORT/DATABASE [default: SQLite at
    /// DATA_DIR/consailt.db]
    #[arg(long, env = "CONSAILT_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
    /// full: an acknowledged write survives power loss; normal: survives a crash of the
    /// process only, and is faster [default: full]
    #[arg(long, env = "CONSAILT_DURABILITY", value_name = "LEVEL", value_parser = parse_durability)]
    pub durability: Option<Durability>,
}

fn parse_durability(raw: &str) -> Result<Durability, String> {
    match raw {
        "full" => Ok(Durability::Full),
        "normal" => Ok(Durability::Normal),
        other => Err(format!("unknown durability {other:?}; expected full or normal")),
    }
}

/// The resolved storage settings.
#[derive(Debug, Clone)]
pub struct StorageSettings {
    /// Files, the signing key and the search index live here on either backend.
    pub data_dir: PathBuf,
    pub database: StorageConfig,
}

impl StorageSettings {
    /// Where the data is, for logs: the SQLite file, or PostgreSQL's host, port and database
    /// (never the password).
    pub fn describe(&self) -> String {
        match &self.database {
            StorageConfig::Sqlite(config) => config.path.display().to_string(),
            StorageConfig::Postgres(config) => describe_postgres(&config.url),
        }
    }
}

/// `postgres://host:port/database`, without user or password.
pub fn describe_postgres(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    format!("postgres://{}", host.split('?').next().unwrap_or(host))
}

/// Reads the configuration file: the one named, or `./consailt.toml` when it exists.
pub fn load_file(explicit: Option<&Path>) -> Result<FileSettings, ConfigError> {
    let path = match explicit {
        Some(path) => path.to_owned(),
        None if Path::new(DEFAULT_CONFIG_FILE).exists() => PathBuf::from(DEFAULT_CONFIG_FILE),
        None => return Ok(FileSettings::default()),
    };
    let text =
        std::fs::read_to_string(&path).map_err(|source| ConfigError::Unreadable { path: path.clone(), source })?;
    toml::from_str(&text).map_err(|e| ConfigError::Invalid { path, message: one_line(&e, &text) })
}

/// Condenses a TOML error into one line: `line 3, column 1: unknown field `lisen`, ...`.
fn one_line(error: &toml::de::Error, text: &str) -> String {
    let message = error.message().trim().replace('\n', " ");
    match error.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message,
    }
}

impl StorageArgs {
    /// Resolves storage settings from flags/environment, then the file, then the defaults.
    pub fn resolve(&self, file: &FileSettings) -> Result<StorageSettings, ConfigError> {
        let data_dir =
            self.data_dir.clone().or_else(|| file.data_dir.clone()).unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let url = self.database_url.clone().or_else(|| file.database_url.clone());
        if let Some(url) = url.as_deref().filter(|url| is_postgres(url)) {
            let mut postgres = PostgresConfig::new(url);
            if let Some(max) = file.storage.max_connections {
                if max < 2 {
                    return Err(ConfigError::Value("storage.max_connections must be at least 2".to_owned()));
                }
                postgres.max_connections = max;
            }
            if let Some(ms) = file.storage.acquire_timeout_ms {
                postgres.acquire_timeout = Duration::from_millis(ms.max(1));
            }
            return Ok(StorageSettings { data_dir, database: StorageConfig::Postgres(postgres) });
        }
        let path = match url {
            Some(url) => sqlite_path(&url)?,
            None => data_dir.join("consailt.db"),
        };
        let mut sqlite = SqliteConfig::new(path);
        sqlite.durability = self.durability.or(file.storage.durability).unwrap_or_default();
        if let Some(ms) = file.storage.group_commit_linger_ms {
            sqlite.linger = Duration::from_millis(ms);
        }
        if let Some(max) = file.storage.group_commit_max_events {
            if max == 0 {
                return Err(ConfigError::Value("storage.group_commit_max_events must be at least 1".to_owned()));
            }
            sqlite.max_batch_events = max;
        }
        Ok(StorageSettings { data_dir, database: StorageConfig::Sqlite(sqlite) })
    }
}

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The file path of a `sqlite:` URL.
pub fn sqlite_path(url: &str) -> Result<PathBuf, ConfigError> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"));
    match rest {
        Some(rest) => {
            let path = rest.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err(ConfigError::Value(format!("database URL {url:?} names no file")));
            }
            Ok(PathBuf::from(path))
        }
        None => Err(ConfigError::Value(format!(
            "unsupported database URL {url:?}; expected sqlite://PATH or postgres://USER@HOST:PORT/DATABASE"
        ))),
    }
}

/// Resolves the listen address from flag/environment, then the file, then the default.
pub fn resolve_listen(flag: Option<&str>, file: &FileSettings) -> Result<SocketAddr, ConfigError> {
    let raw = flag.map(str::to_owned).or_else(|| file.listen.clone()).unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
    raw.parse().map_err(|e| ConfigError::Value(format!("listen address {raw:?} is not HOST:PORT: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<FileSettings, String> {
        toml::from_str::<FileSettings>(text).map_err(|e| one_line(&e, text))
    }

    #[test]
    fn the_readmes_ai_example_is_a_valid_configuration() {
        let readme = include_str!("../../../README.md");
        let start = readme.find("[ai.models.gpt]").expect("the README's [ai] example");
        let example = &readme[start..start + readme[start..].find("```").expect("the block's end")];
        let file = parse(example).expect("the example parses");
        assert_eq!(file.ai.route(ai::Task::KnowledgeQa), ["gpt", "local"]);
        ai::Assistant::new(&file.ai, |variable| (variable == "OPENAI_API_KEY").then(|| "sk-test".to_owned()))
            .expect("the example is valid");
        let missing = ai::Assistant::new(&file.ai, |_| None).expect_err("an unset key variable");
        assert!(missing.to_string().contains("OPENAI_API_KEY is not set"), "{missing}");
    }

    #[test]
    fn unknown_keys_are_named() {
        let error = parse("listen = \"127.0.0.1:1\"\nlisten_port = 3\n").expect_err("unknown key");
        assert!(error.starts_with("line 2, column 1: unknown field `listen_port`"), "{error}");
        let nested = parse("[storage]\ndurabilty = \"full\"\n").expect_err("unknown nested key");
        assert!(nested.starts_with("line 2, column 1: unknown field `durabilty`"), "{nested}");
    }

    #[test]
    fn flags_beat_the_file_which_beats_defaults() {
        let file = parse("data_dir = \"/srv/consailt\"\n[storage]\ndurability = \"normal\"\n").expect("valid");
        let sqlite = |settings: StorageSettings| match settings.database {
            StorageConfig::Sqlite(config) => config,
            StorageConfig::Postgres(_) => panic!("expected SQLite"),
        };
        let from_file = sqlite(StorageArgs::default().resolve(&file).expect("resolve"));
        assert_eq!(from_file.path, PathBuf::from("/srv/consailt/consailt.db"));
        assert_eq!(from_file.durability, Durability::Normal);
        let flags =
            StorageArgs { data_dir: Some("/tmp/x".into()), durability: Some(Durability::Full), ..Default::default() };
        let from_flags = sqlite(flags.resolve(&file).expect("resolve"));
        assert_eq!(from_flags.path, PathBuf::from("/tmp/x/consailt.db"));
        assert_eq!(from_flags.durability, Durability::Full);
        let defaults = sqlite(StorageArgs::default().resolve(&FileSettings::default()).expect("resolve"));
        assert_eq!(defaults.path, PathBuf::from("./data/consailt.db"));
    }

    #[test]
    fn database_urls_are_checked() {
        assert_eq!(sqlite_path("sqlite:///var/db.sqlite").expect("valid"), PathBuf::from("/var/db.sqlite"));
        assert_eq!(sqlite_path("sqlite:rel.db").expect("valid"), PathBuf::from("rel.db"));
        assert!(sqlite_path("mysql://x").is_err());
        assert!(sqlite_path("sqlite://").is_err());
        let file = parse("[storage]\nmax_connections = 5\nacquire_timeout_ms = 500\n").expect("valid");
        let args =
            StorageArgs { database_url: Some("postgres://app:secret@db:5433/consailt".into()), ..Default::default() };
        let settings = args.resolve(&file).expect("resolve");
        assert_eq!(settings.describe(), "postgres://db:5433/consailt", "no credentials in logs");
        let StorageConfig::Postgres(config) = settings.database else { panic!("expected PostgreSQL") };
        assert_eq!((config.max_connections, config.acquire_timeout), (5, Duration::from_millis(500)));
    }
}
