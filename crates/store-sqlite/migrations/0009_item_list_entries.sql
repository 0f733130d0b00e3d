-- Each item keeps its list entry rendered: the JSON object `GET /items` returns for it, kept by
-- SQLite in a stored generated column, so that every write of the row (all seven projection
-- statements, replay included) renders it and a list page is a concatenation of stored text.
-- The object is byte for byte what serde_json makes of `store::read_model::ItemSummary` (the
-- contract test `item_list_entries_render_their_summaries` holds both to it): keys in field
-- order, the same string escaping, and timestamps in RFC 3339 as the `time` crate writes them
-- (UTC, `Z`, the fraction of a second without trailing zeros, none when it is zero).
-- SQLite cannot add a stored column to a table, so `items` is rebuilt with its indexes and the
-- count triggers (https://www.sqlite.org/lang_altertable.html#otheralter).
CREATE TABLE items_rebuilt (
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
    updated_at      INTEGER NOT NULL,
    list_entry      TEXT GENERATED ALWAYS AS (json_object(
        'id', id,
        'kind', kind,
        'status', status,
        'title', title,
        'engagement_id', engagement_id,
        'author_id', author_id,
        'categories', json(categories),
        'tags', json(tags),
        'version', version,
        'trashed_at', CASE WHEN trashed_at IS NOT NULL THEN
            strftime('%Y-%m-%dT%H:%M:%S', (trashed_at - ((trashed_at % 1000000) + 1000000) % 1000000) / 1000000, 'unixepoch')
            || CASE WHEN trashed_at % 1000000 = 0 THEN ''
                    ELSE '.' || rtrim(printf('%06d', ((trashed_at % 1000000) + 1000000) % 1000000), '0') END
            || 'Z' END,
        'created_at',
            strftime('%Y-%m-%dT%H:%M:%S', (created_at - ((created_at % 1000000) + 1000000) % 1000000) / 1000000, 'unixepoch')
            || CASE WHEN created_at % 1000000 = 0 THEN ''
                    ELSE '.' || rtrim(printf('%06d', ((created_at % 1000000) + 1000000) % 1000000), '0') END
            || 'Z',
        'updated_at',
            strftime('%Y-%m-%dT%H:%M:%S', (updated_at - ((updated_at % 1000000) + 1000000) % 1000000) / 1000000, 'unixepoch')
            || CASE WHEN updated_at % 1000000 = 0 THEN ''
                    ELSE '.' || rtrim(printf('%06d', ((updated_at % 1000000) + 1000000) % 1000000), '0') END
            || 'Z'
    )) STORED
) STRICT;
INSERT INTO items_rebuilt (org_id, id, kind, engagement_id, author_id, title, body, categories, tags, metadata,
                           status, version, supersedes, superseded_by, trashed_at, stream_version, created_at,
                           updated_at)
SELECT org_id, id, kind, engagement_id, author_id, title, body, categories, tags, metadata, status, version,
       supersedes, superseded_by, trashed_at, stream_version, created_at, updated_at
FROM items;
DROP TABLE items;
ALTER TABLE items_rebuilt RENAME TO items;
CREATE INDEX items_org ON items (org_id, id);
CREATE INDEX items_engagement ON items (org_id, engagement_id);
CREATE INDEX items_org_updated ON items (org_id, trashed_at, updated_at, id);
CREATE INDEX items_org_created ON items (org_id, created_at, id);
