-- Core read models, projected inline in the append transaction. Every row carries its
-- organization (users are global: a user may belong to several organizations).
-- Times are microseconds since the Unix epoch (UTC), taken from the events' recorded_at.
CREATE TABLE organizations (
    id                      TEXT    PRIMARY KEY,
    name                    TEXT    NOT NULL,
    ai_monthly_budget_cents INTEGER,
    retention_days          INTEGER,
    deletion_scheduled_for  INTEGER,
    stream_version          INTEGER NOT NULL,
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
    id              TEXT    PRIMARY KEY,
    email           TEXT    NOT NULL,
    display_name    TEXT    NOT NULL,
    stream_version  INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    CONSTRAINT users_email_unique UNIQUE (email)
) STRICT;

CREATE TABLE memberships (
    org_id      TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    role        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id)
) STRICT;
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE engagements (
    org_id          TEXT    NOT NULL,
    id              TEXT    PRIMARY KEY,
    name            TEXT    NOT NULL,
    client          TEXT    NOT NULL,
    description     TEXT    NOT NULL,
    nda_required    INTEGER NOT NULL,
    phase           TEXT    NOT NULL,
    held_from       TEXT,
    stream_version  INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX engagements_org ON engagements (org_id, id);

CREATE TABLE engagement_members (
    org_id          TEXT    NOT NULL,
    engagement_id   TEXT    NOT NULL,
    user_id         TEXT    NOT NULL,
    added_at        INTEGER NOT NULL,
    PRIMARY KEY (engagement_id, user_id)
) STRICT;

CREATE TABLE items (
    org_id          TEXT    NOT NULL,
    id              TEXT    PRIMARY KEY,
    kind            TEXT    NOT NULL,
    engagement_id   TEXT,
    author_id       TEXT    NOT NULL,
    title           TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    categories      TEXT    NOT NULL, -- JSON array of category ids
    tags            TEXT    NOT NULL, -- JSON array of normalized tags
    metadata        TEXT    NOT NULL, -- JSON object
    status          TEXT    NOT NULL,
    version         INTEGER NOT NULL, -- content version (1 = as created)
    supersedes      TEXT,
    superseded_by   TEXT,
    trashed_at      INTEGER,
    stream_version  INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX items_org ON items (org_id, id);
CREATE INDEX items_engagement ON items (org_id, engagement_id);

CREATE TABLE item_versions (
    org_id      TEXT    NOT NULL,
    item_id     TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    title       TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    categories  TEXT    NOT NULL,
    tags        TEXT    NOT NULL,
    metadata    TEXT    NOT NULL,
    author_id   TEXT    NOT NULL,
    restored_from INTEGER,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (item_id, version)
) STRICT;

CREATE TABLE item_categories (
    org_id      TEXT NOT NULL,
    item_id     TEXT NOT NULL,
    category_id TEXT NOT NULL,
    PRIMARY KEY (item_id, category_id)
) STRICT;
CREATE INDEX item_categories_category ON item_categories (org_id, category_id);

CREATE TABLE categories (
    org_id      TEXT    NOT NULL,
    id          TEXT    PRIMARY KEY,
    name        TEXT    NOT NULL,
    parent_id   TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX categories_org ON categories (org_id, parent_id);

CREATE TABLE templates (
    org_id              TEXT    NOT NULL,
    id                  TEXT    PRIMARY KEY,
    name                TEXT    NOT NULL COLLATE NOCASE,
    body                TEXT    NOT NULL,
    default_kind        TEXT    NOT NULL,
    default_category_id TEXT,
    default_tags        TEXT    NOT NULL,
    stream_version      INTEGER NOT NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    CONSTRAINT templates_name_unique UNIQUE (org_id, name)
) STRICT;

CREATE TABLE tags (
    org_id      TEXT    NOT NULL,
    tag         TEXT    NOT NULL,
    item_count  INTEGER NOT NULL,
    PRIMARY KEY (org_id, tag)
) STRICT;
