CREATE TRIGGER items_counted_insert AFTER INSERT ON items BEGIN
    INSERT INTO item_counts (org_id, trashed, status, kind, engagement_id, item_count)
    VALUES (NEW.org_id, NEW.trashed_at IS NOT NULL, NEW.status, NEW.kind, COALESCE(NEW.engagement_id, ''), 1)
    ON CONFLICT (org_id, trashed, status, kind, engagement_id) DO UPDATE SET item_count = item_count + 1;
END;

CREATE TRIGGER items_counted_delete AFTER DELETE ON items BEGIN
    UPDATE item_counts SET item_count = item_count - 1
    WHERE org_id = OLD.org_id AND trashed = (OLD.trashed_at IS NOT NULL) AND status = OLD.status
      AND kind = OLD.kind AND engagement_id = COALESCE(OLD.engagement_id, '');
    DELETE FROM item_counts
    WHERE org_id = OLD.org_id AND trashed = (OLD.trashed_at IS NOT NULL) AND status = OLD.status
      AND kind = OLD.kind AND engagement_id = COALESCE(OLD.engagement_id, '') AND item_count = 0;
END;

CREATE TRIGGER items_counted_update AFTER UPDATE OF org_id, trashed_at, status, kind, engagement_id ON items
WHEN OLD.org_id != NEW.org_id OR (OLD.trashed_at IS NULL) != (NEW.trashed_at IS NULL) OR OLD.status != NEW.status
  OR OLD.kind != NEW.kind OR COALESCE(OLD.engagement_id, '') != COALESCE(NEW.engagement_id, '')
BEGIN
    UPDATE item_counts SET item_count = item_count - 1
    WHERE org_id = OLD.org_id AND trashed = (OLD.trashed_at IS NOT NULL) AND status = OLD.status
      AND kind = OLD.kind AND engagement_id = COALESCE(OLD.engagement_id, '');
    DELETE FROM item_counts
    WHERE org_id = OLD.org_id AND trashed = (OLD.trashed_at IS NOT NULL) AND status = OLD.status
      AND kind = OLD.kind AND engagement_id = COALESCE(OLD.engagement_id, '') AND item_count = 0;
    INSERT INTO item_counts (org_id, trashed, status, kind, engagement_id, item_count)
    VALUES (NEW.org_id, NEW.trashed_at IS NOT NULL, NEW.status, NEW.kind, COALESCE(NEW.engagement_id, ''), 1)
    ON CONFLICT (org_id, trashed, status, kind, engagement_id) DO UPDATE SET item_count = item_count + 1;
END;
