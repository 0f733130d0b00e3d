-- The AI cost ledger (store::ai_ledger): one row per model call, never the prompt or the
-- answer. Not derived from the event log: replay leaves it alone.
CREATE TABLE ai_calls (
    id              INTEGER PRIMARY KEY,
    org_id          TEXT    NOT NULL,
    user_id         TEXT    NOT NULL,
    task            TEXT    NOT NULL,
    model           TEXT    NOT NULL,
    provider        TEXT    NOT NULL,
    input_tokens    INTEGER NOT NULL,
    output_tokens   INTEGER NOT NULL,
    cost_microcents INTEGER NOT NULL, -- millionths of a cent
    latency_ms      INTEGER NOT NULL,
    status          TEXT    NOT NULL,
    fallback        INTEGER NOT NULL,
    cache_hit       INTEGER NOT NULL,
    at              INTEGER NOT NULL  -- microseconds since the Unix epoch
) STRICT;

CREATE INDEX ai_calls_by_time ON ai_calls (org_id, at);
