-- An organization may opt in to keeping the prompts and answers of its AI calls
-- (store::ai_ledger); by default only the accounting record of each call is kept.
ALTER TABLE organizations ADD COLUMN ai_store_transcripts INTEGER NOT NULL DEFAULT 0;

CREATE TABLE ai_transcripts (
    id      INTEGER PRIMARY KEY,
    org_id  TEXT    NOT NULL,
    user_id TEXT    NOT NULL,
    task    TEXT    NOT NULL,
    model   TEXT    NOT NULL,
    prompt  TEXT    NOT NULL, -- as the organization wrote it, before pseudonymization
    answer  TEXT    NOT NULL, -- as the user saw it
    at      INTEGER NOT NULL  -- microseconds since the Unix epoch
) STRICT;

CREATE INDEX ai_transcripts_by_time ON ai_transcripts (org_id, at);
