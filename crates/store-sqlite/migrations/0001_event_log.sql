-- The append-only event log (DESIGN section 2, rule 2) and subscription checkpoints.
CREATE TABLE events (
    position        INTEGER PRIMARY KEY,
    stream_id       TEXT    NOT NULL,
    stream_version  INTEGER NOT NULL,
    event_type      TEXT    NOT NULL,
    schema_version  INTEGER NOT NULL,
    payload         TEXT    NOT NULL,
    metadata        TEXT    NOT NULL,
    org_id          TEXT,
    recorded_at     INTEGER NOT NULL, -- microseconds since the Unix epoch, UTC
    hash            BLOB    NOT NULL, -- SHA-256 over the previous hash and this row's content
    UNIQUE (stream_id, stream_version)
) STRICT;

CREATE INDEX events_org_position ON events (org_id, position);

CREATE TABLE subscription_checkpoints (
    subscriber  TEXT    PRIMARY KEY,
    position    INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
