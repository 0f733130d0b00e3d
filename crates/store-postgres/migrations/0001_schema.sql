-- The whole schema on PostgreSQL: the same tables as the SQLite migrations 0001 to 0008, in
-- PostgreSQL's types. Times are microseconds since the Unix epoch (UTC); every text column
-- sorts bytewise (collation "C"), as SQLite does, so both backends page identically.

-- The append-only event log (DESIGN section 2, rule 2).
CREATE TABLE events (
    position        BIGINT  PRIMARY KEY,
    stream_id       TEXT    COLLATE "C" NOT NULL,
    stream_version  BIGINT  NOT NULL,
    event_type      TEXT    COLLATE "C" NOT NULL,
    schema_version  BIGINT  NOT NULL,
    payload         TEXT    NOT NULL, -- kept byte for byte: the hash chain covers it
    metadata        TEXT    NOT NULL,
    org_id          TEXT    COLLATE "C",
    recorded_at     BIGINT  NOT NULL,
    hash            BYTEA   NOT NULL, -- SHA-256 over the previous hash and this row's content
    UNIQUE (stream_id, stream_version)
);
CREATE INDEX events_org_position ON events (org_id, position);

-- The chain's tail, one row. Every append locks it (SELECT ... FOR UPDATE) before it takes
-- positions, so appends commit in position order: a subscriber that has seen position N
-- will never later find a smaller one committed (see ADR 0011).
CREATE TABLE event_head (
    singleton   BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    position    BIGINT  NOT NULL,
    hash        BYTEA   NOT NULL
);
INSERT INTO event_head (singleton, position, hash) VALUES (TRUE, 0, decode(repeat('00', 32), 'hex'));

CREATE TABLE subscription_checkpoints (
    subscriber  TEXT    COLLATE "C" PRIMARY KEY,
    position    BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);

-- Core read models, projected inline in the append transaction.
CREATE TABLE organizations (
    id                      TEXT    COLLATE "C" PRIMARY KEY,
    name                    TEXT    COLLATE "C" NOT NULL,
    ai_monthly_budget_cents BIGINT,
    retention_days          BIGINT,
    deletion_scheduled_for  BIGINT,
    ai_store_transcripts    BOOLEAN NOT NULL DEFAULT FALSE,
    stream_version          BIGINT  NOT NULL,
    created_at              BIGINT  NOT NULL,
    updated_at              BIGINT  NOT NULL
);

CREATE TABLE users (
    id              TEXT    COLLATE "C" PRIMARY KEY,
    email           TEXT    COLLATE "C" NOT NULL,
    display_name    TEXT    COLLATE "C" NOT NULL,
    stream_version  BIGINT  NOT NULL,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    CONSTRAINT users_email_unique UNIQUE (email)
);

CREATE TABLE memberships (
    org_id      TEXT    COLLATE "C" NOT NULL,
    user_id     TEXT    COLLATE "C" NOT NULL,
    role        TEXT    COLLATE "C" NOT NULL,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE engagements (
    org_id          TEXT    COLLATE "C" NOT NULL,
    id              TEXT    COLLATE "C" PRIMARY KEY,
    name            TEXT    COLLATE "C" NOT NULL,
    client          TEXT    COLLATE "C" NOT NULL,
    description     TEXT    NOT NULL,
    nda_required    BOOLEAN NOT NULL,
    phase           TEXT    COLLATE "C" NOT NULL,
    held_from       TEXT    COLLATE "C",
    stream_version  BIGINT  NOT NULL,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);
CREATE INDEX engagements_org ON engagements (org_id, id);
CREATE INDEX engagements_org_updated ON engagements (org_id, updated_at, id);

CREATE TABLE engagement_members (
    org_id          TEXT    COLLATE "C" NOT NULL,
    engagement_id   TEXT    COLLATE "C" NOT NULL,
    user_id         TEXT    COLLATE "C" NOT NULL,
    added_at        BIGINT  NOT NULL,
    PRIMARY KEY (engagement_id, user_id)
);

CREATE TABLE items (
    org_id          TEXT    COLLATE "C" NOT NULL,
    id              TEXT    COLLATE "C" PRIMARY KEY,
    kind            TEXT    COLLATE "C" NOT NULL,
    engagement_id   TEXT    COLLATE "C",
    author_id       TEXT    COLLATE "C" NOT NULL,
    title           TEXT    COLLATE "C" NOT NULL,
    body            TEXT    NOT NULL,
    categories      TEXT    NOT NULL, -- JSON array of category ids
    tags            TEXT    NOT NULL, -- JSON array of normalized tags
    metadata        TEXT    NOT NULL, -- JSON object
    status          TEXT    COLLATE "C" NOT NULL,
    version         BIGINT  NOT NULL,
    supersedes      TEXT    COLLATE "C",
    superseded_by   TEXT    COLLATE "C",
    trashed_at      BIGINT,
    stream_version  BIGINT  NOT NULL,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);
CREATE INDEX items_org ON items (org_id, id);
CREATE INDEX items_engagement ON items (org_id, engagement_id);
CREATE INDEX items_org_updated ON items (org_id, trashed_at, updated_at, id);
CREATE INDEX items_org_created ON items (org_id, created_at, id);

CREATE TABLE item_versions (
    org_id          TEXT    COLLATE "C" NOT NULL,
    item_id         TEXT    COLLATE "C" NOT NULL,
    version         BIGINT  NOT NULL,
    title           TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    categories      TEXT    NOT NULL,
    tags            TEXT    NOT NULL,
    metadata        TEXT    NOT NULL,
    author_id       TEXT    COLLATE "C" NOT NULL,
    restored_from   BIGINT,
    created_at      BIGINT  NOT NULL,
    PRIMARY KEY (item_id, version)
);

CREATE TABLE item_categories (
    org_id      TEXT COLLATE "C" NOT NULL,
    item_id     TEXT COLLATE "C" NOT NULL,
    category_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (item_id, category_id)
);
CREATE INDEX item_categories_category ON item_categories (org_id, category_id);

CREATE TABLE categories (
    org_id      TEXT    COLLATE "C" NOT NULL,
    id          TEXT    COLLATE "C" PRIMARY KEY,
    name        TEXT    COLLATE "C" NOT NULL,
    parent_id   TEXT    COLLATE "C",
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);
CREATE INDEX categories_org ON categories (org_id, parent_id);

CREATE TABLE templates (
    org_id              TEXT    COLLATE "C" NOT NULL,
    id                  TEXT    COLLATE "C" PRIMARY KEY,
    name                TEXT    COLLATE "C" NOT NULL,
    body                TEXT    NOT NULL,
    default_kind        TEXT    COLLATE "C" NOT NULL,
    default_category_id TEXT    COLLATE "C",
    default_tags        TEXT    NOT NULL,
    stream_version      BIGINT  NOT NULL,
    created_at          BIGINT  NOT NULL,
    updated_at          BIGINT  NOT NULL
);
-- Names are unique per organization regardless of case, as SQLite's NOCASE does.
CREATE UNIQUE INDEX templates_name_unique ON templates (org_id, lower(name));

CREATE TABLE tags (
    org_id      TEXT    COLLATE "C" NOT NULL,
    tag         TEXT    COLLATE "C" NOT NULL,
    item_count  BIGINT  NOT NULL,
    PRIMARY KEY (org_id, tag)
);

-- Item counts by the list filters a total can be answered from, kept exact by a trigger on
-- `items` in the same transaction as every change (as SQLite migration 0004).
CREATE TABLE item_counts (
    org_id          TEXT    COLLATE "C" NOT NULL,
    trashed         BOOLEAN NOT NULL,
    status          TEXT    COLLATE "C" NOT NULL,
    kind            TEXT    COLLATE "C" NOT NULL,
    engagement_id   TEXT    COLLATE "C" NOT NULL, -- '' for items outside any engagement
    item_count      BIGINT  NOT NULL,
    PRIMARY KEY (org_id, trashed, status, kind, engagement_id)
);

CREATE FUNCTION items_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE item_counts SET item_count = item_count - 1
        WHERE org_id = OLD.org_id AND trashed = (OLD.trashed_at IS NOT NULL) AND status = OLD.status
          AND kind = OLD.kind AND engagement_id = COALESCE(OLD.engagement_id, '');
        DELETE FROM item_counts
        WHERE org_id = OLD.org_id AND trashed = (OLD.trashed_at IS NOT NULL) AND status = OLD.status
          AND kind = OLD.kind AND engagement_id = COALESCE(OLD.engagement_id, '') AND item_count = 0;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO item_counts (org_id, trashed, status, kind, engagement_id, item_count)
        VALUES (NEW.org_id, NEW.trashed_at IS NOT NULL, NEW.status, NEW.kind, COALESCE(NEW.engagement_id, ''), 1)
        ON CONFLICT (org_id, trashed, status, kind, engagement_id)
        DO UPDATE SET item_count = item_counts.item_count + 1;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER items_counted_insert AFTER INSERT ON items FOR EACH ROW EXECUTE FUNCTION items_counted();
CREATE TRIGGER items_counted_delete AFTER DELETE ON items FOR EACH ROW EXECUTE FUNCTION items_counted();
CREATE TRIGGER items_counted_update AFTER UPDATE OF org_id, trashed_at, status, kind, engagement_id ON items
FOR EACH ROW
WHEN (OLD.org_id IS DISTINCT FROM NEW.org_id OR (OLD.trashed_at IS NULL) <> (NEW.trashed_at IS NULL)
      OR OLD.status IS DISTINCT FROM NEW.status OR OLD.kind IS DISTINCT FROM NEW.kind
      OR COALESCE(OLD.engagement_id, '') <> COALESCE(NEW.engagement_id, ''))
EXECUTE FUNCTION items_counted();

-- Security state (ADR 0004): not event-sourced, never replayed, secrets only as hashes.
CREATE TABLE credentials (
    user_id         TEXT    COLLATE "C" PRIMARY KEY,
    password_hash   TEXT    NOT NULL,
    updated_at      BIGINT  NOT NULL
);

CREATE TABLE sessions (
    id              TEXT    COLLATE "C" PRIMARY KEY,
    user_id         TEXT    COLLATE "C" NOT NULL,
    org_id          TEXT    COLLATE "C" NOT NULL,
    created_at      BIGINT  NOT NULL,
    last_used_at    BIGINT  NOT NULL,
    expires_at      BIGINT  NOT NULL,
    revoked_at      BIGINT,
    user_agent      TEXT
);
CREATE INDEX sessions_user ON sessions (user_id, created_at);

CREATE TABLE refresh_tokens (
    token_hash      BYTEA   PRIMARY KEY,
    session_id      TEXT    COLLATE "C" NOT NULL,
    issued_at       BIGINT  NOT NULL,
    rotated_at      BIGINT
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE api_keys (
    id              TEXT    COLLATE "C" PRIMARY KEY,
    org_id          TEXT    COLLATE "C" NOT NULL,
    name            TEXT    NOT NULL,
    role            TEXT    COLLATE "C" NOT NULL,
    prefix          TEXT    NOT NULL,
    secret_hash     BYTEA   NOT NULL UNIQUE,
    created_by      TEXT    COLLATE "C" NOT NULL,
    created_at      BIGINT  NOT NULL,
    last_used_at    BIGINT,
    revoked_at      BIGINT
);
CREATE INDEX api_keys_org ON api_keys (org_id, created_at);

CREATE TABLE idempotency_keys (
    principal       TEXT    COLLATE "C" NOT NULL,
    key             TEXT    COLLATE "C" NOT NULL,
    request_hash    BYTEA   NOT NULL,
    status          BIGINT,
    content_type    TEXT,
    body            BYTEA,
    created_at      BIGINT  NOT NULL,
    PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Search history: at most 50 rows per user and organization (trigger below).
CREATE TABLE search_history (
    org_id      TEXT    COLLATE "C" NOT NULL,
    user_id     TEXT    COLLATE "C" NOT NULL,
    query       TEXT    COLLATE "C" NOT NULL,
    searched_at BIGINT  NOT NULL,
    PRIMARY KEY (org_id, user_id, query)
);
CREATE INDEX search_history_recent ON search_history (org_id, user_id, searched_at DESC);

CREATE FUNCTION search_history_bounded() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM search_history
    WHERE org_id = NEW.org_id AND user_id = NEW.user_id AND query NOT IN (
        SELECT query FROM search_history
        WHERE org_id = NEW.org_id AND user_id = NEW.user_id
        ORDER BY searched_at DESC, query
        LIMIT 50
    );
    RETURN NULL;
END;
$$;
CREATE TRIGGER search_history_bounded AFTER INSERT ON search_history
FOR EACH ROW EXECUTE FUNCTION search_history_bounded();

-- Passage vectors of each live item (packed as in SQLite migration 0006).
CREATE TABLE item_embeddings (
    item_id       TEXT    COLLATE "C" PRIMARY KEY,
    org_id        TEXT    COLLATE "C" NOT NULL,
    engagement_id TEXT    COLLATE "C",
    content_hash  TEXT    NOT NULL,
    passages      BYTEA   NOT NULL,
    dimensions    BIGINT  NOT NULL CHECK (dimensions > 0)
);

-- The AI cost ledger and the opted-in transcripts.
CREATE TABLE ai_calls (
    id              BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          TEXT    COLLATE "C" NOT NULL,
    user_id         TEXT    COLLATE "C" NOT NULL,
    task            TEXT    COLLATE "C" NOT NULL,
    model           TEXT    COLLATE "C" NOT NULL,
    provider        TEXT    NOT NULL,
    input_tokens    BIGINT  NOT NULL,
    output_tokens   BIGINT  NOT NULL,
    cost_microcents BIGINT  NOT NULL,
    latency_ms      BIGINT  NOT NULL,
    status          TEXT    NOT NULL,
    fallback        BOOLEAN NOT NULL,
    cache_hit       BOOLEAN NOT NULL,
    at              BIGINT  NOT NULL
);
CREATE INDEX ai_calls_by_time ON ai_calls (org_id, at);

CREATE TABLE ai_transcripts (
    id      BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id  TEXT    COLLATE "C" NOT NULL,
    user_id TEXT    COLLATE "C" NOT NULL,
    task    TEXT    NOT NULL,
    model   TEXT    NOT NULL,
    prompt  TEXT    NOT NULL,
    answer  TEXT    NOT NULL,
    at      BIGINT  NOT NULL
);
CREATE INDEX ai_transcripts_by_time ON ai_transcripts (org_id, at);
