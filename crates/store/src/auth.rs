//! The security-state port: password hashes, sessions with their rotating refresh tokens, API
//! keys and idempotency records. This is not business history, so it is not event-sourced
//! (ADR 0004): it churns (a refresh every 15 minutes per client), must be erasable, and holds
//! only hashes of secrets. API keys are read and revoked within their organization; sessions
//! and credentials belong to their user.

use std::future::Future;

use time::OffsetDateTime;

use crate::StoreError;

/// A login session: one refresh-token family bound to a user and the organization it acts in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id: String,
    pub user_id: String,
    pub org_id: String,
    pub created_at: OffsetDateTime,
    pub last_used_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
    pub user_agent: Option<String>,
}

/// A new session and its first refresh token (by hash).
#[derive(Debug, Clone)]
pub struct NewSession {
    pub session: SessionRecord,
    pub refresh_hash: Vec<u8>,
}

/// What presenting a refresh token did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// The token was current: it is now rotated and its successor (by hash) is current.
    Rotated { session: SessionRecord },
    /// The token was rotated moments ago (within the grace period) and its successor is still
    /// unused: a retry of a request whose response was lost. The caller re-derives the same
    /// successor.
    AlreadyRotated { session: SessionRecord },
    /// The token was rotated before and is presented again: the whole family is now revoked.
    Reused,
    /// Unknown token, or its session is revoked or expired.
    Invalid,
}

/// A refresh request, as the store needs it.
#[derive(Debug, Clone)]
pub struct RefreshRequest {
    pub token_hash: Vec<u8>,
    pub successor_hash: Vec<u8>,
    pub now: OffsetDateTime,
    /// A retry presented within this long after rotation gets the same successor.
    pub grace: time::Duration,
    /// Moves the session into another organization the user belongs to.
    pub switch_org: Option<String>,
    pub expires_at: OffsetDateTime,
}

/// Who an access token's session belongs to, with the member's current role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveSession {
    pub session_id: String,
    pub user_id: String,
    pub org_id: String,
    pub role: String,
}

/// An API key as stored (the secret only as a hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub role: String,
    /// The recognizable start of the key, shown in lists so a user can tell keys apart.
    pub prefix: String,
    pub created_by: String,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

/// An API key that authenticated a request, with its creator's current role in the
/// organization (the key never acts above it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveApiKey {
    pub key: ApiKeyRecord,
    pub creator_role: String,
}

/// A stored answer to a request that carried an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyState {
    /// This caller now owns the key: run the request, then [`AuthStore::complete_idempotency`].
    Claimed,
    /// Another request with this key is still running.
    InFlight { request_hash: Vec<u8> },
    /// The key's first request finished with this response.
    Completed { request_hash: Vec<u8>, status: u16, content_type: Option<String>, body: Vec<u8> },
}

/// Storage of security state.
/// The security state a move between backends carries over (`consailt migrate`): password
/// hashes and API keys. Sessions stay behind: everyone signs in again on the new database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecurityExport {
    /// User id, argon2id PHC string, when it was set.
    pub credentials: Vec<(String, String, OffsetDateTime)>,
    /// Each key with the SHA-256 of its secret.
    pub api_keys: Vec<(ApiKeyRecord, Vec<u8>)>,
}

pub trait AuthStore: Clone + Send + Sync + 'static {
    /// The user's argon2id password hash (PHC string), if one is set.
    fn password_hash(&self, user_id: &str) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;

    /// Sets the user's password hash.
    fn set_password_hash(
        &self,
        user_id: &str,
        hash: &str,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records a new session and its first refresh token.
    fn create_session(&self, session: NewSession) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Presents a refresh token: rotates it atomically (of any number of concurrent
    /// presentations at most one rotates), detects reuse and revokes the family then.
    fn refresh(&self, request: RefreshRequest) -> impl Future<Output = Result<RefreshOutcome, StoreError>> + Send;

    /// The live session `id` with the member's current role; `None` when the session is
    /// revoked or expired, or the user is no longer a member of its organization.
    fn active_session(
        &self,
        session_id: &str,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Option<ActiveSession>, StoreError>> + Send;

    /// The user's sessions (live and recently ended), newest first.
    fn sessions(&self, user_id: &str) -> impl Future<Output = Result<Vec<SessionRecord>, StoreError>> + Send;

    /// Revokes one of the user's sessions; false when it is not theirs or already revoked.
    fn revoke_session(
        &self,
        user_id: &str,
        session_id: &str,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Revokes every live session of the user except `keep`; returns how many.
    fn revoke_sessions_of_user(
        &self,
        user_id: &str,
        keep: Option<&str>,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Revokes the user's sessions in one organization (removal from it); returns how many.
    fn revoke_sessions_in_org(
        &self,
        org_id: &str,
        user_id: &str,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Stores a new API key by the hash of its secret.
    fn create_api_key(
        &self,
        key: &ApiKeyRecord,
        secret_hash: &[u8],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The live key whose secret hashes to `secret_hash`, if its creator is still a member.
    /// Records `now` as its last use (at most once a minute).
    fn use_api_key(
        &self,
        secret_hash: &[u8],
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Option<ActiveApiKey>, StoreError>> + Send;

    /// The organization's API keys, newest first.
    fn api_keys(&self, org_id: &str) -> impl Future<Output = Result<Vec<ApiKeyRecord>, StoreError>> + Send;

    /// Revokes a key of the organization; false when there is no such live key.
    fn revoke_api_key(
        &self,
        org_id: &str,
        key_id: &str,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Claims `key` for `principal`, or reports what an earlier request with it did. Keys older
    /// than `expire_before` are forgotten first.
    fn claim_idempotency(
        &self,
        principal: &str,
        key: &str,
        request_hash: &[u8],
        now: OffsetDateTime,
        expire_before: OffsetDateTime,
    ) -> impl Future<Output = Result<IdempotencyState, StoreError>> + Send;

    /// Stores the response of a claimed key.
    fn complete_idempotency(
        &self,
        principal: &str,
        key: &str,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Releases a claimed key whose request failed before producing a response worth
    /// replaying (a server error), so that a retry runs again.
    fn release_idempotency(&self, principal: &str, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}
