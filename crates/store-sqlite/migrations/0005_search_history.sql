-- The queries each user ran in an organization (store::search_history). Not derived from the
-- event log: replay leaves it alone. At most 50 rows per user and organization.
CREATE TABLE search_history (
    org_id      TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    query       TEXT    NOT NULL,
    searched_at INTEGER NOT NULL, -- microseconds since the Unix epoch
    PRIMARY KEY (org_id, user_id, query)
) STRICT, WITHOUT ROWID;

CREATE INDEX search_history_recent ON search_history (org_id, user_id, searched_at DESC);

CREATE TRIGGER search_history_bounded AFTER INSERT ON search_history
BEGIN
    DELETE FROM search_history
    WHERE org_id = NEW.org_id AND user_id = NEW.user_id AND query NOT IN (
        SELECT query FROM search_history
        WHERE org_id = NEW.org_id AND user_id = NEW.user_id
        ORDER BY searched_at DESC, query
        LIMIT 50
    );
END;
