//! Test fixtures shared by Consailt's crates: a fresh [`TestApp`] per test (SQLite, or
//! PostgreSQL when the suite is pointed at one), a
//! clock tests drive by hand, and a seeded random history generator that exercises every
//! aggregate through the application layer (for replay, crash and benchmark runs), and an
//! OpenAI-compatible server that follows a script (for the AI tests), and the addresses of the
//! local PostgreSQL and Redis that tests of several instances share.

pub mod fake_provider;
pub mod history;
pub mod proxy;

pub use proxy::CuttableProxy;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;

use application::commands::create_organization::CreateOrganization;
use application::commands::register_user::RegisterUser;
use application::security::tokens::SigningKey;
use application::{App, Caller, Clock, SecuritySettings, TenantContext, UlidGenerator};
use domain::ids::{OrgId, UserId};
use domain::role::Role;
use storage::{Storage, StorageConfig};

/// The PostgreSQL database the tests that need PostgreSQL itself use (several instances, an
/// outage), whichever backend the rest of the suite runs on: `CONSAILT_TEST_DATABASE_URL`,
/// else the local server's `postgres` database (trust authentication, as on the CI machine).
pub fn postgres_url() -> String {
    std::env::var(storage::TEST_DATABASE_VARIABLE)
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// The Redis that tests of cluster-wide limits use: `CONSAILT_TEST_REDIS_URL`, else the local
/// server (as on the CI machine). Each test isolates itself with a key prefix of its own.
pub fn redis_url() -> String {
    std::env::var("CONSAILT_TEST_REDIS_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned())
}

/// A PostgreSQL configuration for `url` in `schema`, sized for tests.
pub fn postgres_config(url: &str, schema: &str) -> storage::PostgresConfig {
    let mut config = storage::PostgresConfig::new(url);
    config.schema = Some(schema.to_owned());
    config.max_connections = 8;
    config
}

/// A schema name no other test uses.
pub fn fresh_schema(prefix: &str) -> String {
    format!("{prefix}_{}", ulid::Ulid::new().to_string().to_lowercase())
}

/// The key every `TestApp` of the process signs tokens with.
fn shared_signing_key() -> SigningKey {
    SigningKey::from_secret(b"consailt test suite's shared signing key").expect("a valid key")
}

/// A clock that moves only when told to (microsecond precision).
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

fn micros(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

impl ManualClock {
    /// A clock stopped at `at`.
    pub fn at(at: OffsetDateTime) -> Self {
        Self(Arc::new(AtomicI64::new(micros(at))))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: time::Duration) {
        let by = i64::try_from(by.whole_microseconds()).unwrap_or(i64::MAX);
        self.0.fetch_add(by, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        let micros = i128::from(self.0.load(Ordering::SeqCst));
        OffsetDateTime::from_unix_timestamp_nanos(micros * 1_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

/// An application over a fresh database: SQLite in its own temporary directory, or a schema of
/// its own on PostgreSQL when `CONSAILT_TEST_DATABASE_URL` is set (see
/// [`StorageConfig::for_test`]).
#[derive(Debug)]
pub struct TestApp {
    pub app: App<Storage>,
    pub store: Storage,
    pub clock: ManualClock,
    pub dir: tempfile::TempDir,
}

impl TestApp {
    /// Opens a fresh database; the clock starts at 2026-01-01.
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let config = StorageConfig::for_test(dir.path());
        Self::open(dir, config).await
    }

    /// Opens the store `config` names, with `dir` for the test's files; the clock starts at
    /// 2026-01-01 and tokens are signed with a key shared by every `TestApp` of the process,
    /// so several instances over one database accept each other's tokens, as instances
    /// sharing `CONSAILT_TOKEN_SECRET` do.
    pub async fn open(dir: tempfile::TempDir, config: StorageConfig) -> Self {
        let store = Storage::open(config).await.expect("open store");
        let clock = ManualClock::at(time::macros::datetime!(2026-01-01 00:00 UTC));
        let app = App::with(store.clone(), Arc::new(clock.clone()), Arc::new(UlidGenerator))
            .with_security(shared_signing_key(), SecuritySettings::default());
        Self { app, store, clock, dir }
    }

    /// The same test application with these security settings (login limits, shared counters).
    pub fn with_security(mut self, settings: SecuritySettings) -> Self {
        self.app = self.app.with_security(shared_signing_key(), settings);
        self
    }

    /// Registers a user who owns a new organization, and returns them acting with `role`.
    pub async fn member(&self, role: Role) -> TenantContext {
        let caller = Caller::default();
        let n = ulid::Ulid::new();
        let user = self
            .app
            .register_user(
                &caller,
                RegisterUser { email: format!("{n}@example.com"), display_name: format!("User {n}") },
            )
            .await
            .expect("register user");
        let org = self
            .app
            .create_organization(&caller, CreateOrganization { name: format!("Org {n}"), owner: user.id.clone() })
            .await
            .expect("create organization");
        TenantContext {
            org: OrgId::parse(&org.id).expect("valid id"),
            actor: UserId::parse(&user.id).expect("valid id"),
            role,
            request_id: None,
        }
    }
}
