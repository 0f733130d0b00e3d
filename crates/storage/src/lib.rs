//! The storage backend a process runs on: the embedded SQLite database by default, or
//! PostgreSQL when a `postgres://` database URL is given (DESIGN section 4). [`Storage`]
//! implements every storage port by handing each call to the backend it holds, so the
//! application, the server, the search indexer and the tests are written once for both.

use time::OffsetDateTime;
use tokio::sync::watch;

use store::ai_ledger::{AiInteraction, AiLedger, AiTranscript, AiUsageRow};
use store::auth::{
    ActiveApiKey, ActiveSession, ApiKeyRecord, AuthStore, IdempotencyState, NewSession, RefreshOutcome, RefreshRequest,
    SessionRecord,
};
use store::embeddings::{EmbeddingChange, EmbeddingStore, ItemEmbedding};
use store::read_model::{
    CategoryView, EngagementFilter, EngagementSummary, EngagementView, ItemFilter, ItemSummary, ItemVersionContent,
    ItemVersionView, ItemView, MembershipView, OrganizationView, Page, PageRequest, RenderedJson, TagCount,
    TemplateView, UserMembership, UserView,
};
use store::search_history::{SearchHistory, SearchRecord};
use store::{Commit, CommitReceipt, EventStore, ReadModels, RecordedEvent, ReplayReport, StoreError, StreamId};
pub use store_postgres::{PostgresConfig, PostgresStore};
pub use store_sqlite::{SqliteConfig, SqliteStore};

/// Where the data lives.
#[derive(Debug, Clone)]
pub enum StorageConfig {
    Sqlite(SqliteConfig),
    Postgres(PostgresConfig),
}

/// The environment variable that moves the test suite onto PostgreSQL: a
/// `postgres://` URL of a database in which each test creates a schema of its own.
pub const TEST_DATABASE_VARIABLE: &str = "CONSAILT_TEST_DATABASE_URL";

impl StorageConfig {
    /// The store one test gets: a SQLite database in `dir`, or, when
    /// [`TEST_DATABASE_VARIABLE`] is set, a fresh schema on that PostgreSQL database. Running
    /// the suite with and without the variable runs it on both backends.
    pub fn for_test(dir: &std::path::Path) -> Self {
        match std::env::var(TEST_DATABASE_VARIABLE) {
            Ok(url) if !url.is_empty() => {
                let mut config = PostgresConfig::new(url);
                config.schema = Some(format!("test_{}", ulid::Ulid::new().to_string().to_lowercase()));
                // Tests fire a hundred requests at once; they queue for a connection rather
                // than fail as unavailable, and two test processes stay well under the
                // server's connection limit.
                config.max_connections = 8;
                config.acquire_timeout = std::time::Duration::from_secs(60);
                Self::Postgres(config)
            }
            _ => Self::Sqlite(SqliteConfig::new(dir.join("consailt.db"))),
        }
    }
}

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Sqlite(#[from] store_sqlite::OpenError),
    #[error(transparent)]
    Postgres(#[from] store_postgres::OpenError),
}

/// An open store on one of the two backends. Cheap to clone.
#[derive(Debug, Clone)]
pub enum Storage {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

/// Runs `$call` on whichever backend `$self` holds, bound as `$store`.
macro_rules! each {
    ($self:expr, $store:ident => $call:expr) => {
        match $self {
            Storage::Sqlite($store) => $call,
            Storage::Postgres($store) => $call,
        }
    };
}

impl Storage {
    /// Opens (creating and migrating if needed) the configured store.
    pub async fn open(config: StorageConfig) -> Result<Self, OpenError> {
        Ok(match config {
            StorageConfig::Sqlite(config) => Self::Sqlite(SqliteStore::open(config).await?),
            StorageConfig::Postgres(config) => Self::Postgres(PostgresStore::open(config).await?),
        })
    }

    /// The backend's name, for logs: `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            Storage::Sqlite(_) => "sqlite",
            Storage::Postgres(_) => "postgres",
        }
    }

    /// Drops every read model and rebuilds it from the log in one transaction.
    pub async fn replay(&self) -> Result<ReplayReport, StoreError> {
        each!(self, s => s.replay().await)
    }

    /// The rows of every read-model table, for comparing two states row for row.
    pub async fn dump_read_models(&self) -> Result<Vec<(String, Vec<String>)>, StoreError> {
        each!(self, s => s.dump_read_models().await)
    }

    /// Finishes queued writes and closes the connections.
    pub async fn close(&self) {
        each!(self, s => s.close().await)
    }
}

/// What [`copy_security_state`] carried over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopiedSecurity {
    pub credentials: usize,
    pub api_keys: usize,
}

/// Copies password hashes and API keys from a SQLite installation to PostgreSQL, so that a
/// moved installation's users sign in with their passwords and its keys keep working.
pub async fn copy_security_state(from: &SqliteStore, to: &PostgresStore) -> Result<CopiedSecurity, StoreError> {
    let state = from.export_security().await?;
    to.import_security(&state).await?;
    Ok(CopiedSecurity { credentials: state.credentials.len(), api_keys: state.api_keys.len() })
}

impl EventStore for Storage {
    async fn commit(&self, commit: Commit) -> Result<CommitReceipt, StoreError> {
        each!(self, s => s.commit(commit).await)
    }
    async fn read_stream(&self, stream: &StreamId) -> Result<Vec<RecordedEvent>, StoreError> {
        each!(self, s => s.read_stream(stream).await)
    }
    async fn read_all_after(&self, after: u64, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        each!(self, s => s.read_all_after(after, limit).await)
    }
    async fn head_position(&self) -> Result<u64, StoreError> {
        each!(self, s => s.head_position().await)
    }
    fn watch_head(&self) -> watch::Receiver<u64> {
        each!(self, s => s.watch_head())
    }
    async fn load_checkpoint(&self, subscriber: &str) -> Result<u64, StoreError> {
        each!(self, s => s.load_checkpoint(subscriber).await)
    }
    async fn save_checkpoint(&self, subscriber: &str, position: u64) -> Result<(), StoreError> {
        each!(self, s => s.save_checkpoint(subscriber, position).await)
    }
}

impl ReadModels for Storage {
    async fn organization(&self, org: &str) -> Result<Option<OrganizationView>, StoreError> {
        each!(self, s => s.organization(org).await)
    }
    async fn user_by_email(&self, email: &str) -> Result<Option<UserView>, StoreError> {
        each!(self, s => s.user_by_email(email).await)
    }
    async fn user(&self, id: &str) -> Result<Option<UserView>, StoreError> {
        each!(self, s => s.user(id).await)
    }
    async fn memberships_of_user(&self, user: &str) -> Result<Vec<UserMembership>, StoreError> {
        each!(self, s => s.memberships_of_user(user).await)
    }
    async fn engagements_of_member(&self, org: &str, user: &str) -> Result<Vec<String>, StoreError> {
        each!(self, s => s.engagements_of_member(org, user).await)
    }
    async fn list_engagements(
        &self,
        org: &str,
        filter: &EngagementFilter,
        page: &PageRequest,
    ) -> Result<Page<EngagementSummary>, StoreError> {
        each!(self, s => s.list_engagements(org, filter, page).await)
    }
    async fn list_items(
        &self,
        org: &str,
        filter: &ItemFilter,
        page: &PageRequest,
    ) -> Result<Page<ItemSummary>, StoreError> {
        each!(self, s => s.list_items(org, filter, page).await)
    }
    async fn list_item_entries(
        &self,
        org: &str,
        filter: &ItemFilter,
        page: &PageRequest,
    ) -> Result<Page<RenderedJson>, StoreError> {
        each!(self, s => s.list_item_entries(org, filter, page).await)
    }
    async fn item_version(&self, org: &str, id: &str, version: u32) -> Result<Option<ItemVersionContent>, StoreError> {
        each!(self, s => s.item_version(org, id, version).await)
    }
    async fn template(&self, org: &str, id: &str) -> Result<Option<TemplateView>, StoreError> {
        each!(self, s => s.template(org, id).await)
    }
    async fn org_events(&self, org: &str, after: u64, limit: u32) -> Result<Vec<RecordedEvent>, StoreError> {
        each!(self, s => s.org_events(org, after, limit).await)
    }
    async fn recent_org_events(&self, org: &str, limit: u32) -> Result<Vec<RecordedEvent>, StoreError> {
        each!(self, s => s.recent_org_events(org, limit).await)
    }
    async fn members(&self, org: &str) -> Result<Vec<MembershipView>, StoreError> {
        each!(self, s => s.members(org).await)
    }
    async fn engagement(&self, org: &str, id: &str) -> Result<Option<EngagementView>, StoreError> {
        each!(self, s => s.engagement(org, id).await)
    }
    async fn item(&self, org: &str, id: &str) -> Result<Option<ItemView>, StoreError> {
        each!(self, s => s.item(org, id).await)
    }
    async fn item_versions(&self, org: &str, id: &str) -> Result<Vec<ItemVersionView>, StoreError> {
        each!(self, s => s.item_versions(org, id).await)
    }
    async fn items_in_category(&self, org: &str, category: &str) -> Result<Vec<String>, StoreError> {
        each!(self, s => s.items_in_category(org, category).await)
    }
    async fn categories(&self, org: &str) -> Result<Vec<CategoryView>, StoreError> {
        each!(self, s => s.categories(org).await)
    }
    async fn templates(&self, org: &str) -> Result<Vec<TemplateView>, StoreError> {
        each!(self, s => s.templates(org).await)
    }
    async fn tags(&self, org: &str) -> Result<Vec<TagCount>, StoreError> {
        each!(self, s => s.tags(org).await)
    }
}

impl AuthStore for Storage {
    async fn password_hash(&self, user_id: &str) -> Result<Option<String>, StoreError> {
        each!(self, s => s.password_hash(user_id).await)
    }
    async fn set_password_hash(&self, user_id: &str, hash: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        each!(self, s => s.set_password_hash(user_id, hash, now).await)
    }
    async fn create_session(&self, session: NewSession) -> Result<(), StoreError> {
        each!(self, s => s.create_session(session).await)
    }
    async fn refresh(&self, request: RefreshRequest) -> Result<RefreshOutcome, StoreError> {
        each!(self, s => s.refresh(request).await)
    }
    async fn active_session(&self, session_id: &str, now: OffsetDateTime) -> Result<Option<ActiveSession>, StoreError> {
        each!(self, s => s.active_session(session_id, now).await)
    }
    async fn sessions(&self, user_id: &str) -> Result<Vec<SessionRecord>, StoreError> {
        each!(self, s => s.sessions(user_id).await)
    }
    async fn revoke_session(&self, user_id: &str, session_id: &str, now: OffsetDateTime) -> Result<bool, StoreError> {
        each!(self, s => s.revoke_session(user_id, session_id, now).await)
    }
    async fn revoke_sessions_of_user(
        &self,
        user_id: &str,
        keep: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        each!(self, s => s.revoke_sessions_of_user(user_id, keep, now).await)
    }
    async fn revoke_sessions_in_org(
        &self,
        org_id: &str,
        user_id: &str,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        each!(self, s => s.revoke_sessions_in_org(org_id, user_id, now).await)
    }
    async fn create_api_key(&self, key: &ApiKeyRecord, secret_hash: &[u8]) -> Result<(), StoreError> {
        each!(self, s => s.create_api_key(key, secret_hash).await)
    }
    async fn use_api_key(&self, secret_hash: &[u8], now: OffsetDateTime) -> Result<Option<ActiveApiKey>, StoreError> {
        each!(self, s => s.use_api_key(secret_hash, now).await)
    }
    async fn api_keys(&self, org_id: &str) -> Result<Vec<ApiKeyRecord>, StoreError> {
        each!(self, s => s.api_keys(org_id).await)
    }
    async fn revoke_api_key(&self, org_id: &str, key_id: &str, now: OffsetDateTime) -> Result<bool, StoreError> {
        each!(self, s => s.revoke_api_key(org_id, key_id, now).await)
    }
    async fn claim_idempotency(
        &self,
        principal: &str,
        key: &str,
        request_hash: &[u8],
        now: OffsetDateTime,
        expire_before: OffsetDateTime,
    ) -> Result<IdempotencyState, StoreError> {
        each!(self, s => s.claim_idempotency(principal, key, request_hash, now, expire_before).await)
    }
    async fn complete_idempotency(
        &self,
        principal: &str,
        key: &str,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<(), StoreError> {
        each!(self, s => s.complete_idempotency(principal, key, status, content_type, body).await)
    }
    async fn release_idempotency(&self, principal: &str, key: &str) -> Result<(), StoreError> {
        each!(self, s => s.release_idempotency(principal, key).await)
    }
}

impl SearchHistory for Storage {
    async fn record_search(
        &self,
        org_id: &str,
        user_id: &str,
        query: &str,
        at: OffsetDateTime,
        supersedes: Option<&str>,
    ) -> Result<(), StoreError> {
        each!(self, s => s.record_search(org_id, user_id, query, at, supersedes).await)
    }
    async fn search_history(&self, org_id: &str, user_id: &str) -> Result<Vec<SearchRecord>, StoreError> {
        each!(self, s => s.search_history(org_id, user_id).await)
    }
    async fn clear_search_history(&self, org_id: &str, user_id: &str) -> Result<u64, StoreError> {
        each!(self, s => s.clear_search_history(org_id, user_id).await)
    }
}

impl AiLedger for Storage {
    async fn record_ai_calls(&self, calls: &[AiInteraction]) -> Result<(), StoreError> {
        each!(self, s => s.record_ai_calls(calls).await)
    }
    async fn record_ai_transcript(&self, transcript: &AiTranscript) -> Result<(), StoreError> {
        each!(self, s => s.record_ai_transcript(transcript).await)
    }
    async fn ai_transcripts(&self, org_id: &str, limit: u32) -> Result<Vec<AiTranscript>, StoreError> {
        each!(self, s => s.ai_transcripts(org_id, limit).await)
    }
    async fn ai_spent_since(&self, org_id: &str, since: OffsetDateTime) -> Result<u64, StoreError> {
        each!(self, s => s.ai_spent_since(org_id, since).await)
    }
    async fn ai_usage(
        &self,
        org_id: &str,
        since: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<Vec<AiUsageRow>, StoreError> {
        each!(self, s => s.ai_usage(org_id, since, until).await)
    }
}

impl EmbeddingStore for Storage {
    async fn embeddings_checkpoint(&self) -> Result<u64, StoreError> {
        each!(self, s => s.embeddings_checkpoint().await)
    }
    async fn save_embeddings(&self, changes: Vec<EmbeddingChange>, position: u64) -> Result<(), StoreError> {
        each!(self, s => s.save_embeddings(changes, position).await)
    }
    async fn load_embeddings(&self) -> Result<Vec<ItemEmbedding>, StoreError> {
        each!(self, s => s.load_embeddings().await)
    }
    async fn clear_embeddings(&self) -> Result<(), StoreError> {
        each!(self, s => s.clear_embeddings().await)
    }
}
