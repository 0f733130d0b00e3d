-- The passage vectors of each live item (store::embeddings), derived from the event log by
-- the search embedder, whose checkpoint is the row 'search.embeddings' of
-- subscription_checkpoints. Replay leaves them alone: the log they derive from is unchanged.
CREATE TABLE item_embeddings (
    item_id       TEXT    PRIMARY KEY,
    org_id        TEXT    NOT NULL,
    engagement_id TEXT,
    content_hash  TEXT    NOT NULL,
    -- Per passage: start and end (u32 little-endian byte offsets in the body), then the
    -- vector (f32 little-endian). The vector length is the blob's row size less 8.
    passages      BLOB    NOT NULL,
    dimensions    INTEGER NOT NULL CHECK (dimensions > 0)
) STRICT;
