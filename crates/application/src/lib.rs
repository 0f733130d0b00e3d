//! Consailt's use cases: the one place where commands run (load, decide, append with inline
//! projection) and queries are answered. HTTP handlers, the CLI and background jobs all call
//! [`App`]; none of them touches the event store directly.

pub mod assistance;
pub mod commands;
pub mod context;
pub mod error;
pub mod ports;
pub mod queries;
mod runner;
pub mod security;

use std::sync::Arc;

pub use context::{Caller, TenantContext};
pub use error::AppError;
pub use ports::{Clock, IdGenerator, Store, SystemClock, UlidGenerator};
pub use security::{Credential, Principal, Security, SecuritySettings};

/// The application service: a store plus the clock and id source that commands need.
#[derive(Clone)]
pub struct App<S> {
    store: S,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    security: Arc<Security>,
    /// The full-text index, when this process keeps one.
    search: Option<Arc<search::FullTextIndex>>,
    /// Semantic search, when this process runs the embedder (it may be starting or off).
    semantic: Option<Arc<search::semantic::SemanticSearch>>,
    /// The AI models and routes (by default every task goes to the built-in local provider).
    assistant: Arc<ai::Assistant>,
}

impl<S: std::fmt::Debug> std::fmt::Debug for App<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("store", &self.store).finish_non_exhaustive()
    }
}

impl<S: Store> App<S> {
    /// An application over `store` using the system clock, ULID ids, and a signing key made
    /// for this process (tokens it issues die with it; `serve` passes a persistent one).
    pub fn new(store: S) -> Self {
        Self::with(store, Arc::new(SystemClock), Arc::new(UlidGenerator))
    }

    /// An application with an injected clock and id source (tests, replays).
    pub fn with(store: S, clock: Arc<dyn Clock>, ids: Arc<dyn IdGenerator>) -> Self {
        let key = security::tokens::SigningKey::generate().unwrap_or_else(|error| {
            tracing::error!(%error, "cannot generate a signing key; token sign-in is disabled");
            security::tokens::SigningKey::disabled()
        });
        let security = Arc::new(Security::new(key, SecuritySettings::default()));
        Self { store, clock, ids, security, search: None, semantic: None, assistant: Arc::default() }
    }

    /// The same application with this signing key and these security settings.
    pub fn with_security(mut self, key: security::tokens::SigningKey, settings: SecuritySettings) -> Self {
        self.security = Arc::new(Security::new(key, settings));
        self
    }

    /// The same application answering searches from `index`.
    pub fn with_search(mut self, index: Arc<search::FullTextIndex>) -> Self {
        self.search = Some(index);
        self
    }

    /// The same application ranking by meaning too, through `semantic`.
    pub fn with_semantic(mut self, semantic: Arc<search::semantic::SemanticSearch>) -> Self {
        self.semantic = Some(semantic);
        self
    }

    /// The same application answering AI requests through `assistant`.
    pub fn with_assistant(mut self, assistant: Arc<ai::Assistant>) -> Self {
        self.assistant = assistant;
        self
    }

    /// The current time of the application's clock.
    pub fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }

    /// The security settings in force (token and session lifetimes, login limits).
    pub fn security_settings(&self) -> &SecuritySettings {
        &self.security.settings
    }

    /// The underlying store, for wiring (subscriptions, health checks).
    pub fn store(&self) -> &S {
        &self.store
    }
}

/// Fixtures for this crate's tests: a fresh store per test (SQLite, or PostgreSQL when the
/// suite is pointed at one) and a member of a new organization.
#[cfg(test)]
pub(crate) mod testing {
    use domain::ids::{OrgId, UserId};
    use domain::role::Role;
    use storage::{Storage, StorageConfig};

    use crate::commands::create_organization::CreateOrganization;
    use crate::commands::register_user::RegisterUser;
    use crate::{App, Caller, TenantContext};

    pub(crate) type TestApp = App<Storage>;

    pub(crate) async fn app() -> (TestApp, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = Storage::open(StorageConfig::for_test(dir.path())).await.expect("open store");
        (App::new(store), dir)
    }

    /// A new user, owner of a new organization, acting with `role`.
    pub(crate) async fn tenant(app: &TestApp, role: Role) -> TenantContext {
        let caller = Caller::default();
        let n = ulid::Ulid::new();
        let user = app
            .register_user(&caller, RegisterUser { email: format!("{n}@example.com"), display_name: "Tester".into() })
            .await
            .expect("register");
        let org = app
            .create_organization(&caller, CreateOrganization { name: format!("Org {n}"), owner: user.id.clone() })
            .await
            .expect("organization");
        TenantContext {
            org: OrgId::parse(&org.id).expect("valid id"),
            actor: UserId::parse(&user.id).expect("valid id"),
            role,
            request_id: None,
        }
    }
}
