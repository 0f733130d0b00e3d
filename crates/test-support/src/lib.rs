//! Test fixtures shared by Consailt's crates: a fresh SQLite-backed [`TestApp`] per test, a
//! clock tests drive by hand, and a seeded random history generator that exercises every
//! aggregate through the application layer (for replay, crash and benchmark runs), and an
//! OpenAI-compatible server that follows a script (for the AI tests).

pub mod fake_provider;
pub mod history;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;

use application::commands::create_organization::CreateOrganization;
use application::commands::register_user::RegisterUser;
use application::{App, Caller, Clock, TenantContext, UlidGenerator};
use domain::ids::{OrgId, UserId};
use domain::role::Role;
use store_sqlite::{SqliteConfig, SqliteStore};

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

/// An application over a fresh SQLite database in its own temporary directory.
#[derive(Debug)]
pub struct TestApp {
    pub app: App<SqliteStore>,
    pub store: SqliteStore,
    pub clock: ManualClock,
    pub dir: tempfile::TempDir,
}

impl TestApp {
    /// Opens a fresh database; the clock starts at 2026-01-01.
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        Self::open(dir, SqliteConfig::new).await
    }

    /// Opens a fresh database configured by `configure` (given the database path).
    pub async fn open(dir: tempfile::TempDir, configure: impl FnOnce(std::path::PathBuf) -> SqliteConfig) -> Self {
        let store = SqliteStore::open(configure(dir.path().join("consailt.db"))).await.expect("open store");
        let clock = ManualClock::at(time::macros::datetime!(2026-01-01 00:00 UTC));
        let app = App::with(store.clone(), Arc::new(clock.clone()), Arc::new(UlidGenerator));
        Self { app, store, clock, dir }
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
