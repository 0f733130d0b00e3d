-- Security state (ADR 0004): not event-sourced, never replayed, secrets only as hashes.
-- Times are microseconds since the Unix epoch (UTC).
CREATE TABLE credentials (
    user_id         TEXT    PRIMARY KEY,
    password_hash   TEXT    NOT NULL, -- argon2id PHC string
    updated_at      INTEGER NOT NULL
) STRICT;

-- A session is one refresh-token family, bound to a user and the organization it acts in.
CREATE TABLE sessions (
    id              TEXT    PRIMARY KEY,
    user_id         TEXT    NOT NULL,
    org_id          TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    last_used_at    INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    revoked_at      INTEGER,
    user_agent      TEXT
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id, created_at);

CREATE TABLE refresh_tokens (
    token_hash      BLOB    PRIMARY KEY, -- SHA-256 of the opaque token
    session_id      TEXT    NOT NULL,
    issued_at       INTEGER NOT NULL,
    rotated_at      INTEGER              -- set once: a second presentation after this is reuse
) STRICT;
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE api_keys (
    id              TEXT    PRIMARY KEY,
    org_id          TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    role            TEXT    NOT NULL,
    prefix          TEXT    NOT NULL,
    secret_hash     BLOB    NOT NULL UNIQUE, -- SHA-256 of the whole key (it carries 256 random bits)
    created_by      TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    last_used_at    INTEGER,
    revoked_at      INTEGER
) STRICT;
CREATE INDEX api_keys_org ON api_keys (org_id, created_at);

CREATE TABLE idempotency_keys (
    principal       TEXT    NOT NULL,
    key             TEXT    NOT NULL,
    request_hash    BLOB    NOT NULL,
    status          INTEGER,             -- NULL while the first request runs
    content_type    TEXT,
    body            BLOB,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (principal, key)
) STRICT;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Read-model indexes for the API's sorted, filtered lists.
CREATE INDEX items_org_updated ON items (org_id, trashed_at, updated_at, id);
CREATE INDEX items_org_created ON items (org_id, created_at, id);
CREATE INDEX engagements_org_updated ON engagements (org_id, updated_at, id);
