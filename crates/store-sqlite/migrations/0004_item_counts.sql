-- Item counts by the list filters a total can be answered from (organization, trash, status,
-- kind, engagement), kept exact by triggers on `items` in the same transaction as every change.
-- A list's total is a sum over a few of these rows instead of a count over the items.
CREATE TABLE item_counts (
    org_id          TEXT    NOT NULL,
    trashed         INTEGER NOT NULL,
    status          TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    engagement_id   TEXT    NOT NULL, -- '' for items outside any engagement
    item_count      INTEGER NOT NULL,
    PRIMARY KEY (org_id, trashed, status, kind, engagement_id)
) STRICT;
