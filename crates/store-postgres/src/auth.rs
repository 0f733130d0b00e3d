//! Security state on PostgreSQL: credentials, sessions and refresh tokens, API keys,
//! idempotency records. Concurrent refreshes of one token and concurrent claims of one
//! idempotency key are settled by row locks: the second waits for the first to commit.

use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;

use store::StoreError;
use store::auth::{
    ActiveApiKey, ActiveSession, ApiKeyRecord, AuthStore, IdempotencyState, NewSession, RefreshOutcome, RefreshRequest,
    SessionRecord,
};

use crate::PostgresStore;
use crate::error::database;
use crate::rows::{from_micros, to_micros};

/// Last-used times of API keys are written at most this often, so that authenticating with a
/// key is a read, not a write, on the hot path.
const API_KEY_TOUCH_INTERVAL_MICROS: i64 = 60_000_000;

fn column<'r, T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>>(
    row: &'r PgRow,
    name: &str,
) -> Result<T, StoreError> {
    row.try_get(name).map_err(|e| StoreError::Corrupt(format!("security column {name}: {e}")))
}

fn optional_time(row: &PgRow, name: &str) -> Result<Option<OffsetDateTime>, StoreError> {
    column::<Option<i64>>(row, name)?.map(from_micros).transpose()
}

const SESSION_COLUMNS: &str = "id, user_id, org_id, created_at, last_used_at, expires_at, revoked_at, user_agent";

fn session_from_row(row: &PgRow) -> Result<SessionRecord, StoreError> {
    Ok(SessionRecord {
        id: column(row, "id")?,
        user_id: column(row, "user_id")?,
        org_id: column(row, "org_id")?,
        created_at: from_micros(column(row, "created_at")?)?,
        last_used_at: from_micros(column(row, "last_used_at")?)?,
        expires_at: from_micros(column(row, "expires_at")?)?,
        revoked_at: optional_time(row, "revoked_at")?,
        user_agent: column(row, "user_agent")?,
    })
}

const API_KEY_COLUMNS: &str =
    "k.id, k.org_id, k.name, k.role, k.prefix, k.created_by, k.created_at, k.last_used_at, k.revoked_at";

fn api_key_from_row(row: &PgRow) -> Result<ApiKeyRecord, StoreError> {
    Ok(ApiKeyRecord {
        id: column(row, "id")?,
        org_id: column(row, "org_id")?,
        name: column(row, "name")?,
        role: column(row, "role")?,
        prefix: column(row, "prefix")?,
        created_by: column(row, "created_by")?,
        created_at: from_micros(column(row, "created_at")?)?,
        last_used_at: optional_time(row, "last_used_at")?,
        revoked_at: optional_time(row, "revoked_at")?,
    })
}

impl PostgresStore {
    async fn session_by_id(
        &self,
        conn: &mut sqlx::PgConnection,
        id: &str,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(conn).await.map_err(database)?;
        row.as_ref().map(session_from_row).transpose()
    }
}

impl PostgresStore {
    /// Writes password hashes and API keys exported from another backend; rows already here
    /// (a resumed move) are left as they are.
    pub async fn import_security(&self, state: &store::auth::SecurityExport) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await.map_err(database)?;
        for (user, hash, at) in &state.credentials {
            sqlx::query(
                "INSERT INTO credentials (user_id, password_hash, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id) DO NOTHING",
            )
            .bind(user)
            .bind(hash)
            .bind(to_micros(*at))
            .execute(&mut *tx)
            .await
            .map_err(database)?;
        }
        for (key, secret_hash) in &state.api_keys {
            sqlx::query(
                "INSERT INTO api_keys (id, org_id, name, role, prefix, secret_hash, created_by, created_at, \
                 last_used_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING",
            )
            .bind(&key.id)
            .bind(&key.org_id)
            .bind(&key.name)
            .bind(&key.role)
            .bind(&key.prefix)
            .bind(secret_hash)
            .bind(&key.created_by)
            .bind(to_micros(key.created_at))
            .bind(key.last_used_at.map(to_micros))
            .bind(key.revoked_at.map(to_micros))
            .execute(&mut *tx)
            .await
            .map_err(database)?;
        }
        tx.commit().await.map_err(database)
    }
}

impl AuthStore for PostgresStore {
    async fn password_hash(&self, user_id: &str) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT password_hash FROM credentials WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(self.pool())
            .await
            .map_err(database)
    }

    async fn set_password_hash(&self, user_id: &str, hash: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO credentials (user_id, password_hash, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (user_id) DO UPDATE SET password_hash = excluded.password_hash, updated_at = excluded.updated_at",
        )
        .bind(user_id)
        .bind(hash)
        .bind(to_micros(now))
        .execute(self.pool())
        .await
        .map_err(database)?;
        Ok(())
    }

    async fn create_session(&self, new: NewSession) -> Result<(), StoreError> {
        let s = &new.session;
        let mut tx = self.pool().begin().await.map_err(database)?;
        sqlx::query(
            "INSERT INTO sessions (id, user_id, org_id, created_at, last_used_at, expires_at, revoked_at, user_agent)
             VALUES ($1, $2, $3, $4, $5, $6, NULL, $7)",
        )
        .bind(&s.id)
        .bind(&s.user_id)
        .bind(&s.org_id)
        .bind(to_micros(s.created_at))
        .bind(to_micros(s.last_used_at))
        .bind(to_micros(s.expires_at))
        .bind(&s.user_agent)
        .execute(&mut *tx)
        .await
        .map_err(database)?;
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, session_id, issued_at, rotated_at) VALUES ($1, $2, $3, NULL)",
        )
        .bind(&new.refresh_hash)
        .bind(&s.id)
        .bind(to_micros(s.created_at))
        .execute(&mut *tx)
        .await
        .map_err(database)?;
        tx.commit().await.map_err(database)
    }

    async fn refresh(&self, request: RefreshRequest) -> Result<RefreshOutcome, StoreError> {
        let now = to_micros(request.now);
        let mut tx = self.pool().begin().await.map_err(database)?;
        // Writing first takes the token's row lock before anything is read, so concurrent
        // presentations of one token queue here and exactly one of them rotates it.
        let rotated = sqlx::query(
            "UPDATE refresh_tokens SET rotated_at = $1
             WHERE token_hash = $2 AND rotated_at IS NULL
               AND session_id IN (SELECT id FROM sessions WHERE revoked_at IS NULL AND expires_at > $1)",
        )
        .bind(now)
        .bind(&request.token_hash)
        .execute(&mut *tx)
        .await
        .map_err(database)?
        .rows_affected()
            == 1;
        let row = sqlx::query("SELECT session_id, rotated_at FROM refresh_tokens WHERE token_hash = $1")
            .bind(&request.token_hash)
            .fetch_optional(&mut *tx)
            .await
            .map_err(database)?;
        let Some(row) = row else { return Ok(RefreshOutcome::Invalid) };
        let session_id: String = column(&row, "session_id")?;
        let rotated_at: Option<i64> = column(&row, "rotated_at")?;
        let Some(session) = self.session_by_id(&mut tx, &session_id).await? else {
            return Ok(RefreshOutcome::Invalid);
        };
        if session.revoked_at.is_some() || session.expires_at <= request.now {
            return Ok(RefreshOutcome::Invalid);
        }
        if rotated {
            if let Some(org) = &request.switch_org {
                let member: Option<String> =
                    sqlx::query_scalar("SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2")
                        .bind(org)
                        .bind(&session.user_id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(database)?;
                if member.is_none() {
                    // Not a member of the requested organization: nothing is rotated.
                    tx.rollback().await.map_err(database)?;
                    return Ok(RefreshOutcome::Invalid);
                }
            }
            sqlx::query(
                "INSERT INTO refresh_tokens (token_hash, session_id, issued_at, rotated_at) VALUES ($1, $2, $3, NULL)",
            )
            .bind(&request.successor_hash)
            .bind(&session_id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(database)?;
            sqlx::query(
                "UPDATE sessions SET last_used_at = $1, expires_at = $2, org_id = COALESCE($3, org_id) WHERE id = $4",
            )
            .bind(now)
            .bind(to_micros(request.expires_at))
            .bind(&request.switch_org)
            .bind(&session_id)
            .execute(&mut *tx)
            .await
            .map_err(database)?;
            let session = self.session_by_id(&mut tx, &session_id).await?.unwrap_or(session);
            tx.commit().await.map_err(database)?;
            return Ok(RefreshOutcome::Rotated { session });
        }
        let successor_unused: Option<Option<i64>> =
            sqlx::query_scalar("SELECT rotated_at FROM refresh_tokens WHERE token_hash = $1 AND session_id = $2")
                .bind(&request.successor_hash)
                .bind(&session_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(database)?;
        let within_grace = rotated_at.is_some_and(|at| now - at <= request.grace.whole_microseconds() as i64);
        if within_grace && matches!(successor_unused, Some(None)) && request.switch_org.is_none() {
            tx.commit().await.map_err(database)?;
            return Ok(RefreshOutcome::AlreadyRotated { session });
        }
        sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(&session_id)
            .execute(&mut *tx)
            .await
            .map_err(database)?;
        tx.commit().await.map_err(database)?;
        tracing::warn!(session_id = %session_id, "refresh token reused; session family revoked");
        Ok(RefreshOutcome::Reused)
    }

    async fn active_session(&self, session_id: &str, now: OffsetDateTime) -> Result<Option<ActiveSession>, StoreError> {
        let row = sqlx::query(
            "SELECT s.user_id, s.org_id, m.role FROM sessions s
             JOIN memberships m ON m.org_id = s.org_id AND m.user_id = s.user_id
             WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2",
        )
        .bind(session_id)
        .bind(to_micros(now))
        .fetch_optional(self.pool())
        .await
        .map_err(database)?;
        row.map(|row| {
            Ok(ActiveSession {
                session_id: session_id.to_owned(),
                user_id: column(&row, "user_id")?,
                org_id: column(&row, "org_id")?,
                role: column(&row, "role")?,
            })
        })
        .transpose()
    }

    async fn sessions(&self, user_id: &str) -> Result<Vec<SessionRecord>, StoreError> {
        let sql =
            format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE user_id = $1 ORDER BY created_at DESC, id DESC");
        let rows = sqlx::query(&sql).bind(user_id).fetch_all(self.pool()).await.map_err(database)?;
        rows.iter().map(session_from_row).collect()
    }

    async fn revoke_session(&self, user_id: &str, session_id: &str, now: OffsetDateTime) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
                .bind(to_micros(now))
                .bind(session_id)
                .bind(user_id)
                .execute(self.pool())
                .await
                .map_err(database)?;
        Ok(done.rows_affected() == 1)
    }

    async fn revoke_sessions_of_user(
        &self,
        user_id: &str,
        keep: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL AND id IS DISTINCT FROM COALESCE($3, '')",
        )
        .bind(to_micros(now))
        .bind(user_id)
        .bind(keep)
        .execute(self.pool())
        .await
        .map_err(database)?;
        Ok(done.rows_affected())
    }

    async fn revoke_sessions_in_org(
        &self,
        org_id: &str,
        user_id: &str,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE sessions SET revoked_at = $1 WHERE org_id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(to_micros(now))
        .bind(org_id)
        .bind(user_id)
        .execute(self.pool())
        .await
        .map_err(database)?;
        Ok(done.rows_affected())
    }

    async fn create_api_key(&self, key: &ApiKeyRecord, secret_hash: &[u8]) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO api_keys (id, org_id, name, role, prefix, secret_hash, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&key.id)
        .bind(&key.org_id)
        .bind(&key.name)
        .bind(&key.role)
        .bind(&key.prefix)
        .bind(secret_hash)
        .bind(&key.created_by)
        .bind(to_micros(key.created_at))
        .execute(self.pool())
        .await
        .map_err(database)?;
        Ok(())
    }

    async fn use_api_key(&self, secret_hash: &[u8], now: OffsetDateTime) -> Result<Option<ActiveApiKey>, StoreError> {
        let sql = format!(
            "SELECT {API_KEY_COLUMNS}, m.role AS creator_role FROM api_keys k
             JOIN memberships m ON m.org_id = k.org_id AND m.user_id = k.created_by
             WHERE k.secret_hash = $1 AND k.revoked_at IS NULL"
        );
        let row = sqlx::query(&sql).bind(secret_hash).fetch_optional(self.pool()).await.map_err(database)?;
        let Some(row) = row else { return Ok(None) };
        let key = api_key_from_row(&row)?;
        let now_micros = to_micros(now);
        let stale = key.last_used_at.is_none_or(|at| now_micros - to_micros(at) >= API_KEY_TOUCH_INTERVAL_MICROS);
        if stale {
            sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
                .bind(now_micros)
                .bind(&key.id)
                .execute(self.pool())
                .await
                .map_err(database)?;
        }
        Ok(Some(ActiveApiKey { creator_role: column(&row, "creator_role")?, key }))
    }

    async fn api_keys(&self, org_id: &str) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let sql =
            format!("SELECT {API_KEY_COLUMNS} FROM api_keys k WHERE k.org_id = $1 ORDER BY k.created_at DESC, k.id");
        let rows = sqlx::query(&sql).bind(org_id).fetch_all(self.pool()).await.map_err(database)?;
        rows.iter().map(api_key_from_row).collect()
    }

    async fn revoke_api_key(&self, org_id: &str, key_id: &str, now: OffsetDateTime) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE org_id = $2 AND id = $3 AND revoked_at IS NULL")
                .bind(to_micros(now))
                .bind(org_id)
                .bind(key_id)
                .execute(self.pool())
                .await
                .map_err(database)?;
        Ok(done.rows_affected() == 1)
    }

    async fn claim_idempotency(
        &self,
        principal: &str,
        key: &str,
        request_hash: &[u8],
        now: OffsetDateTime,
        expire_before: OffsetDateTime,
    ) -> Result<IdempotencyState, StoreError> {
        let mut tx = self.pool().begin().await.map_err(database)?;
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(to_micros(expire_before))
            .execute(&mut *tx)
            .await
            .map_err(database)?;
        let claimed = sqlx::query(
            "INSERT INTO idempotency_keys (principal, key, request_hash, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (principal, key) DO NOTHING",
        )
        .bind(principal)
        .bind(key)
        .bind(request_hash)
        .bind(to_micros(now))
        .execute(&mut *tx)
        .await
        .map_err(database)?
        .rows_affected()
            == 1;
        let state = if claimed {
            IdempotencyState::Claimed
        } else {
            let row = sqlx::query(
                "SELECT request_hash, status, content_type, body FROM idempotency_keys WHERE principal = $1 AND key = $2",
            )
            .bind(principal)
            .bind(key)
            .fetch_one(&mut *tx)
            .await
            .map_err(database)?;
            let request_hash: Vec<u8> = column(&row, "request_hash")?;
            match column::<Option<i64>>(&row, "status")? {
                None => IdempotencyState::InFlight { request_hash },
                Some(status) => IdempotencyState::Completed {
                    request_hash,
                    status: u16::try_from(status)
                        .map_err(|_| StoreError::Corrupt(format!("idempotent status {status}")))?,
                    content_type: column(&row, "content_type")?,
                    body: column::<Option<Vec<u8>>>(&row, "body")?.unwrap_or_default(),
                },
            }
        };
        tx.commit().await.map_err(database)?;
        Ok(state)
    }

    async fn complete_idempotency(
        &self,
        principal: &str,
        key: &str,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE idempotency_keys SET status = $1, content_type = $2, body = $3 WHERE principal = $4 AND key = $5",
        )
        .bind(i64::from(status))
        .bind(content_type)
        .bind(body)
        .bind(principal)
        .bind(key)
        .execute(self.pool())
        .await
        .map_err(database)?;
        Ok(())
    }

    async fn release_idempotency(&self, principal: &str, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2 AND status IS NULL")
            .bind(principal)
            .bind(key)
            .execute(self.pool())
            .await
            .map_err(database)?;
        Ok(())
    }
}
