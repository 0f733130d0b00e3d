//! Queries over the projected tables. Every tenant query filters by organization.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use rusqlite::types::ValueRef;
use sqlx::Sqlite;

use store::read_model::{
    CategoryView, EngagementFilter, EngagementSummary, EngagementView, ItemFilter, ItemSummary, ItemVersionContent,
    ItemVersionView, ItemView, Keyset, KeysetValue, MembershipView, OrganizationView, Page, PageRequest, RenderedJson,
    SortKey, TagCount, TemplateView, UserMembership, UserView,
};
use store::{ReadModels, RecordedEvent, StoreError};

use crate::SqliteStore;
use crate::error::{database, sqlite, unsigned};
use crate::rows::{EVENT_COLUMNS, event_from_row, from_micros};

fn get<'r, T: sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>>(
    row: &'r SqliteRow,
    column: &str,
) -> Result<T, StoreError> {
    row.try_get(column).map_err(|e| StoreError::Corrupt(format!("read model column {column}: {e}")))
}

fn json_list(raw: &str, column: &str) -> Result<Vec<String>, StoreError> {
    // Most items have no categories or no tags; the parser costs ~500 instructions even then.
    if raw == "[]" {
        return Ok(Vec::new());
    }
    serde_json::from_str(raw).map_err(|e| StoreError::Corrupt(format!("read model column {column}: {e}")))
}

fn optional_time(micros: Option<i64>) -> Result<Option<time::OffsetDateTime>, StoreError> {
    micros.map(from_micros).transpose()
}

impl SqliteStore {
    /// Runs a query whose one parameter is the organization and maps every row.
    async fn org_rows<T>(
        &self,
        sql: &str,
        org: &str,
        map: impl Fn(&SqliteRow) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let rows = sqlx::query(sql).bind(org).fetch_all(self.reads()).await.map_err(database)?;
        rows.iter().map(map).collect()
    }
}

fn template_from_row(row: &SqliteRow) -> Result<TemplateView, StoreError> {
    Ok(TemplateView {
        id: get(row, "id")?,
        name: get(row, "name")?,
        body: get(row, "body")?,
        default_kind: get(row, "default_kind")?,
        default_category: get(row, "default_category_id")?,
        default_tags: json_list(&get::<String>(row, "default_tags")?, "default_tags")?,
        stream_version: unsigned(get(row, "stream_version")?, "stream_version")?,
        created_at: from_micros(get(row, "created_at")?)?,
        updated_at: from_micros(get(row, "updated_at")?)?,
    })
}

fn json_array(values: &[String]) -> String {
    serde_json::Value::from(values.to_vec()).to_string()
}

impl SqliteStore {
    /// The user whose unique `column` (`id` or `email`) holds `value`.
    async fn user_where(&self, column: &str, value: &str) -> Result<Option<UserView>, StoreError> {
        let row = sqlx::query(&format!("SELECT id, email, display_name FROM users WHERE {column} = ?"))
            .bind(value)
            .fetch_optional(self.reads())
            .await
            .map_err(database)?;
        row.map(|row| {
            Ok(UserView { id: get(&row, "id")?, email: get(&row, "email")?, display_name: get(&row, "display_name")? })
        })
        .transpose()
    }

    /// One page of `table` in the requested order, continuing after the cursor, with the exact
    /// count of matching rows, read in one snapshot. `columns` are the table columns the page
    /// needs, `id` first (read by position in `map`); `conditions` appends the `WHERE` clause
    /// (the organization first); `total` appends a scalar expression counting the matching rows.
    fn keyset_page<T>(
        &self,
        table: &str,
        columns: &str,
        page: &PageRequest,
        conditions: impl Fn(&mut Sql),
        total: impl Fn(&mut Sql),
        map: impl Fn(&rusqlite::Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Page<T>, StoreError> {
        let query = keyset_query(table, columns, page, conditions);
        let sort_value = columns.split(',').count();
        let mut count = Sql::new("SELECT ".to_owned());
        total(&mut count);
        self.inner.readers.snapshot(|conn| {
            let total: i64 = count.row(conn, |row| row.get(0))?;
            let mut statement = conn.prepare_cached(&query.text).map_err(sqlite)?;
            let mut rows = statement.query(rusqlite::params_from_iter(&query.params)).map_err(sqlite)?;
            let limit = page.limit as usize;
            let mut mapped = Vec::with_capacity(limit);
            let mut next = None;
            let mut last: Option<Keyset> = None;
            while let Some(row) = rows.next().map_err(sqlite)? {
                if mapped.len() == limit {
                    next = last.take();
                    break;
                }
                // Only the page's last row can continue it: the others' keys are never read.
                if mapped.len() + 1 == limit {
                    let value = match row.get_ref(sort_value).map_err(sqlite)? {
                        ValueRef::Text(text) => KeysetValue::Text(String::from_utf8_lossy(text).into_owned()),
                        ValueRef::Integer(micros) => KeysetValue::Micros(micros),
                        other => return Err(StoreError::Corrupt(format!("sort value {other:?} in {table}"))),
                    };
                    last = Some(Keyset { value, id: row.get(0).map_err(sqlite)? });
                }
                mapped.push(map(row)?);
            }
            Ok(Page { rows: mapped, next, total: unsigned(total, "count")? })
        })
    }

    /// One page of items matching `filter` (see [`SqliteStore::keyset_page`] for `columns` and
    /// `map`), its total from the `item_counts` projection where the filter allows.
    fn items_page<T>(
        &self,
        org: &str,
        filter: &ItemFilter,
        page: &PageRequest,
        columns: &str,
        map: impl Fn(&rusqlite::Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Page<T>, StoreError> {
        // Totals come from the `item_counts` projection unless a category or tag narrows the
        // list, which only a count over the items can answer.
        let total = |query: &mut Sql| {
            if filter.category.is_some() || filter.tag.is_some() {
                query.push("COUNT(*) FROM items");
                item_conditions(org, filter)(query);
                return;
            }
            query.push("COALESCE(SUM(item_count), 0) FROM item_counts WHERE org_id = ").bind(org.to_owned());
            query.push(" AND trashed = ").bind(i64::from(filter.trashed));
            for (column, value) in [("status", &filter.status), ("kind", &filter.kind)] {
                if let Some(value) = value {
                    query.push(&format!(" AND {column} = ")).bind(value.clone());
                }
            }
            if let Some(engagement) = &filter.engagement {
                query.push(" AND engagement_id = ").bind(engagement.clone());
            }
            if let Some(visible) = &filter.engagements_visible {
                query.push(" AND engagement_id IN (SELECT value FROM json_each(").bind(json_array(visible)).push("))");
            }
        };
        self.keyset_page("items", columns, page, item_conditions(org, filter), total, map)
    }
}

/// The statement of one keyset page (see [`SqliteStore::keyset_page`]): `limit + 1` rows, the
/// extra one saying whether another page follows, each ending with its sort value.
fn keyset_query(table: &str, columns: &str, page: &PageRequest, conditions: impl Fn(&mut Sql)) -> Sql {
    let column = match page.sort {
        SortKey::UpdatedAt => "updated_at",
        SortKey::CreatedAt => "created_at",
        SortKey::Title => match table {
            "engagements" => "name",
            _ => "title",
        },
    };
    let (direction, comparison) = if page.descending { ("DESC", "<") } else { ("ASC", ">") };
    // Assembled piece by piece: `format!` cost a list page more than its SQL text is worth.
    let mut query = Sql::new(String::with_capacity(256));
    query.push("SELECT ").push(columns).push(", ").push(column).push(" AS sort_value FROM ").push(table);
    conditions(&mut query);
    if let Some(after) = &page.after {
        query.push(" AND (").push(column).push(", id) ").push(comparison).push(" (");
        match &after.value {
            KeysetValue::Micros(micros) => query.bind(*micros),
            KeysetValue::Text(text) => query.bind(text.clone()),
        };
        query.push(", ").bind(after.id.clone()).push(")");
    }
    query.push(" ORDER BY ").push(column).push(" ").push(direction).push(", id ").push(direction).push(" LIMIT ");
    query.bind(i64::from(page.limit) + 1);
    query
}

/// The `WHERE` clause of the items matching `filter` in `org`.
fn item_conditions<'a>(org: &'a str, filter: &'a ItemFilter) -> impl Fn(&mut Sql) + 'a {
    move |query: &mut Sql| {
        query.push(" WHERE org_id = ").bind(org.to_owned());
        query.push(if filter.trashed { " AND trashed_at IS NOT NULL" } else { " AND trashed_at IS NULL" });
        for (column, value) in
            [("engagement_id", &filter.engagement), ("status", &filter.status), ("kind", &filter.kind)]
        {
            if let Some(value) = value {
                query.push(&format!(" AND {column} = ")).bind(value.clone());
            }
        }
        if let Some(category) = &filter.category {
            query
                .push(" AND id IN (SELECT item_id FROM item_categories WHERE org_id = ")
                .bind(org.to_owned())
                .push(" AND category_id = ")
                .bind(category.clone())
                .push(")");
        }
        if let Some(tag) = &filter.tag {
            query.push(" AND EXISTS (SELECT 1 FROM json_each(items.tags) WHERE value = ").bind(tag.clone()).push(")");
        }
        if let Some(visible) = &filter.engagements_visible {
            query.push(" AND engagement_id IN (SELECT value FROM json_each(").bind(json_array(visible)).push("))");
        }
    }
}

/// The columns of a page of rendered list entries. The entry is read as the expression that
/// migration 0010 indexes, so the default order (newest changes first) reads a page from
/// `items_org_updated` alone; the column itself would send SQLite to every row of the table.
const LIST_ENTRY_COLUMNS: &str = "id, list_entry || ''";

/// A statement being assembled: its text and the values bound to its `?` placeholders.
struct Sql {
    text: String,
    params: Vec<rusqlite::types::Value>,
}

impl Sql {
    fn new(text: String) -> Self {
        Self { text, params: Vec::new() }
    }

    fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    fn bind(&mut self, value: impl Into<rusqlite::types::Value>) -> &mut Self {
        self.text.push('?');
        self.params.push(value.into());
        self
    }

    /// Runs the statement and maps its one row.
    fn row<T>(
        &self,
        conn: &rusqlite::Connection,
        map: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        conn.prepare_cached(&self.text)
            .and_then(|mut statement| statement.query_row(rusqlite::params_from_iter(&self.params), map))
            .map_err(sqlite)
    }
}

/// A stored JSON list of strings (categories, tags) at `index`, named `column` in errors.
fn json_column(row: &rusqlite::Row<'_>, index: usize, column: &str) -> Result<Vec<String>, StoreError> {
    let raw = row.get_ref(index).and_then(|value| value.as_str().map_err(Into::into)).map_err(sqlite)?;
    json_list(raw, column)
}

fn version(value: i64) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("item version {value}")))
}

impl ReadModels for SqliteStore {
    async fn organization(&self, org: &str) -> Result<Option<OrganizationView>, StoreError> {
        let row = sqlx::query("SELECT * FROM organizations WHERE id = ?")
            .bind(org)
            .fetch_optional(self.reads())
            .await
            .map_err(database)?;
        row.map(|row| {
            Ok(OrganizationView {
                id: get(&row, "id")?,
                name: get(&row, "name")?,
                ai_monthly_budget_cents: get::<Option<i64>>(&row, "ai_monthly_budget_cents")?
                    .map(|v| unsigned(v, "budget"))
                    .transpose()?,
                retention_days: get::<Option<i64>>(&row, "retention_days")?.and_then(|v| u32::try_from(v).ok()),
                ai_store_transcripts: get::<i64>(&row, "ai_store_transcripts")? != 0,
                deletion_scheduled_for: optional_time(get(&row, "deletion_scheduled_for")?)?,
                created_at: from_micros(get(&row, "created_at")?)?,
                updated_at: from_micros(get(&row, "updated_at")?)?,
            })
        })
        .transpose()
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<UserView>, StoreError> {
        let normalized = email.trim().to_lowercase();
        self.user_where("email", &normalized).await
    }

    async fn members(&self, org: &str) -> Result<Vec<MembershipView>, StoreError> {
        self.org_rows("SELECT user_id, role FROM memberships WHERE org_id = ? ORDER BY user_id", org, |row| {
            Ok(MembershipView { user_id: get(row, "user_id")?, role: get(row, "role")? })
        })
        .await
    }

    async fn engagement(&self, org: &str, id: &str) -> Result<Option<EngagementView>, StoreError> {
        let row = sqlx::query("SELECT * FROM engagements WHERE org_id = ? AND id = ?")
            .bind(org)
            .bind(id)
            .fetch_optional(self.reads())
            .await
            .map_err(database)?;
        let Some(row) = row else { return Ok(None) };
        let members: Vec<String> = sqlx::query_scalar(
            "SELECT user_id FROM engagement_members WHERE org_id = ? AND engagement_id = ? ORDER BY user_id",
        )
        .bind(org)
        .bind(id)
        .fetch_all(self.reads())
        .await
        .map_err(database)?;
        Ok(Some(EngagementView {
            id: get(&row, "id")?,
            name: get(&row, "name")?,
            client: get(&row, "client")?,
            description: get(&row, "description")?,
            nda_required: get(&row, "nda_required")?,
            phase: get(&row, "phase")?,
            members,
            stream_version: unsigned(get(&row, "stream_version")?, "stream_version")?,
            created_at: from_micros(get(&row, "created_at")?)?,
            updated_at: from_micros(get(&row, "updated_at")?)?,
        }))
    }

    async fn item(&self, org: &str, id: &str) -> Result<Option<ItemView>, StoreError> {
        const ITEM: &str = "SELECT id, kind, status, title, body, engagement_id, author_id, categories, tags, \
            metadata, version, supersedes, superseded_by, trashed_at, stream_version, created_at, updated_at \
            FROM items WHERE org_id = ? AND id = ?";
        self.inner.readers.read(|conn| {
            let mut statement = conn.prepare_cached(ITEM).map_err(sqlite)?;
            let mut rows = statement.query([org, id]).map_err(sqlite)?;
            let Some(row) = rows.next().map_err(sqlite)? else {
                return Ok(None);
            };
            let column = |index: usize| row.get(index).map_err(sqlite);
            Ok(Some(ItemView {
                id: column(0)?,
                kind: column(1)?,
                status: column(2)?,
                title: column(3)?,
                body: column(4)?,
                engagement_id: row.get(5).map_err(sqlite)?,
                author_id: column(6)?,
                categories: json_column(row, 7, "categories")?,
                tags: json_column(row, 8, "tags")?,
                metadata: column(9)?,
                version: version(row.get(10).map_err(sqlite)?)?,
                supersedes: row.get(11).map_err(sqlite)?,
                superseded_by: row.get(12).map_err(sqlite)?,
                trashed_at: optional_time(row.get(13).map_err(sqlite)?)?,
                stream_version: unsigned(row.get(14).map_err(sqlite)?, "stream_version")?,
                created_at: from_micros(row.get(15).map_err(sqlite)?)?,
                updated_at: from_micros(row.get(16).map_err(sqlite)?)?,
            }))
        })
    }

    async fn item_versions(&self, org: &str, id: &str) -> Result<Vec<ItemVersionView>, StoreError> {
        let rows = sqlx::query(
            "SELECT version, title, author_id, created_at FROM item_versions WHERE org_id = ? AND item_id = ? ORDER BY version",
        )
        .bind(org)
        .bind(id)
        .fetch_all(self.reads())
        .await
        .map_err(database)?;
        rows.iter()
            .map(|row| {
                Ok(ItemVersionView {
                    version: u32::try_from(get::<i64>(row, "version")?)
                        .map_err(|_| StoreError::Corrupt("version".to_owned()))?,
                    title: get(row, "title")?,
                    author_id: get(row, "author_id")?,
                    created_at: from_micros(get(row, "created_at")?)?,
                })
            })
            .collect()
    }

    async fn items_in_category(&self, org: &str, category: &str) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar("SELECT item_id FROM item_categories WHERE org_id = ? AND category_id = ? ORDER BY item_id")
            .bind(org)
            .bind(category)
            .fetch_all(self.reads())
            .await
            .map_err(database)
    }

    async fn categories(&self, org: &str) -> Result<Vec<CategoryView>, StoreError> {
        self.org_rows("SELECT id, name, parent_id FROM categories WHERE org_id = ? ORDER BY name, id", org, |row| {
            Ok(CategoryView { id: get(row, "id")?, name: get(row, "name")?, parent_id: get(row, "parent_id")? })
        })
        .await
    }

    async fn templates(&self, org: &str) -> Result<Vec<TemplateView>, StoreError> {
        self.org_rows("SELECT * FROM templates WHERE org_id = ? ORDER BY name", org, template_from_row).await
    }

    async fn template(&self, org: &str, id: &str) -> Result<Option<TemplateView>, StoreError> {
        let row = sqlx::query("SELECT * FROM templates WHERE org_id = ? AND id = ?")
            .bind(org)
            .bind(id)
            .fetch_optional(self.reads())
            .await
            .map_err(database)?;
        row.as_ref().map(template_from_row).transpose()
    }

    async fn user(&self, id: &str) -> Result<Option<UserView>, StoreError> {
        self.user_where("id", id).await
    }

    async fn memberships_of_user(&self, user: &str) -> Result<Vec<UserMembership>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.org_id, o.name, m.role FROM memberships m JOIN organizations o ON o.id = m.org_id
             WHERE m.user_id = ? ORDER BY m.created_at, m.org_id",
        )
        .bind(user)
        .fetch_all(self.reads())
        .await
        .map_err(database)?;
        rows.iter()
            .map(|row| {
                Ok(UserMembership { org_id: get(row, "org_id")?, org_name: get(row, "name")?, role: get(row, "role")? })
            })
            .collect()
    }

    async fn engagements_of_member(&self, org: &str, user: &str) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar(
            "SELECT engagement_id FROM engagement_members WHERE org_id = ? AND user_id = ? ORDER BY engagement_id",
        )
        .bind(org)
        .bind(user)
        .fetch_all(self.reads())
        .await
        .map_err(database)
    }

    async fn list_engagements(
        &self,
        org: &str,
        filter: &EngagementFilter,
        page: &PageRequest,
    ) -> Result<Page<EngagementSummary>, StoreError> {
        let conditions = |query: &mut Sql| {
            query.push(" WHERE org_id = ").bind(org.to_owned());
            if let Some(phase) = &filter.phase {
                query.push(" AND phase = ").bind(phase.clone());
            }
            if let Some(only) = &filter.only {
                query.push(" AND id IN (SELECT value FROM json_each(").bind(json_array(only)).push("))");
            }
        };
        let total = |query: &mut Sql| {
            query.push("COUNT(*) FROM engagements");
            conditions(query);
        };
        let columns = "id, name, client, phase, nda_required, updated_at";
        self.keyset_page("engagements", columns, page, conditions, total, |row| {
            let column = |index: usize| row.get(index).map_err(sqlite);
            Ok(EngagementSummary {
                id: column(0)?,
                name: column(1)?,
                client: column(2)?,
                phase: column(3)?,
                nda_required: row.get::<_, i64>(4).map_err(sqlite)? != 0,
                updated_at: from_micros(row.get(5).map_err(sqlite)?)?,
            })
        })
    }

    async fn list_items(
        &self,
        org: &str,
        filter: &ItemFilter,
        page: &PageRequest,
    ) -> Result<Page<ItemSummary>, StoreError> {
        let columns = "id, kind, status, title, engagement_id, author_id, categories, tags, version, trashed_at, \
                       created_at, updated_at";
        self.items_page(org, filter, page, columns, |row| {
            let column = |index: usize| row.get(index).map_err(sqlite);
            Ok(ItemSummary {
                id: column(0)?,
                kind: column(1)?,
                status: column(2)?,
                title: column(3)?,
                engagement_id: row.get(4).map_err(sqlite)?,
                author_id: column(5)?,
                categories: json_column(row, 6, "categories")?,
                tags: json_column(row, 7, "tags")?,
                version: version(row.get(8).map_err(sqlite)?)?,
                trashed_at: optional_time(row.get(9).map_err(sqlite)?)?,
                created_at: from_micros(row.get(10).map_err(sqlite)?)?,
                updated_at: from_micros(row.get(11).map_err(sqlite)?)?,
            })
        })
    }

    /// Reads the entries the `list_entry` column keeps rendered (migration 0009), from the list
    /// index where the order allows (migration 0010).
    async fn list_item_entries(
        &self,
        org: &str,
        filter: &ItemFilter,
        page: &PageRequest,
    ) -> Result<Page<RenderedJson>, StoreError> {
        self.items_page(org, filter, page, LIST_ENTRY_COLUMNS, |row| Ok(RenderedJson(row.get(1).map_err(sqlite)?)))
    }

    async fn item_version(&self, org: &str, id: &str, version: u32) -> Result<Option<ItemVersionContent>, StoreError> {
        let row = sqlx::query("SELECT * FROM item_versions WHERE org_id = ? AND item_id = ? AND version = ?")
            .bind(org)
            .bind(id)
            .bind(i64::from(version))
            .fetch_optional(self.reads())
            .await
            .map_err(database)?;
        row.map(|row| {
            Ok(ItemVersionContent {
                version,
                title: get(&row, "title")?,
                body: get(&row, "body")?,
                categories: json_list(&get::<String>(&row, "categories")?, "categories")?,
                tags: json_list(&get::<String>(&row, "tags")?, "tags")?,
                metadata: get(&row, "metadata")?,
                author_id: get(&row, "author_id")?,
                restored_from: get::<Option<i64>>(&row, "restored_from")?.and_then(|v| u32::try_from(v).ok()),
                created_at: from_micros(get(&row, "created_at")?)?,
            })
        })
        .transpose()
    }

    async fn org_events(&self, org: &str, after: u64, limit: u32) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql =
            format!("SELECT {EVENT_COLUMNS} FROM events WHERE org_id = ? AND position > ? ORDER BY position LIMIT ?");
        let rows = sqlx::query(&sql)
            .bind(org)
            .bind(i64::try_from(after).unwrap_or(i64::MAX))
            .bind(i64::from(limit))
            .fetch_all(self.reads())
            .await
            .map_err(database)?;
        rows.iter().map(event_from_row).collect()
    }

    async fn recent_org_events(&self, org: &str, limit: u32) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE org_id = ? ORDER BY position DESC LIMIT ?");
        let rows =
            sqlx::query(&sql).bind(org).bind(i64::from(limit)).fetch_all(self.reads()).await.map_err(database)?;
        rows.iter().map(event_from_row).collect()
    }

    async fn tags(&self, org: &str) -> Result<Vec<TagCount>, StoreError> {
        self.org_rows("SELECT tag, item_count FROM tags WHERE org_id = ? ORDER BY tag", org, |row| {
            Ok(TagCount { tag: get(row, "tag")?, item_count: unsigned(get(row, "item_count")?, "item_count")? })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connection to an empty database with every migration applied.
    fn migrated() -> rusqlite::Connection {
        let conn = rusqlite::Connection::open_in_memory().expect("in-memory database");
        for (_, _, sql) in crate::migrations::MIGRATIONS {
            conn.execute_batch(sql).expect("migration");
        }
        conn
    }

    /// The opcodes of `query`'s program that read a column of the `items` table itself.
    fn table_reads(conn: &rusqlite::Connection, query: &Sql) -> Vec<String> {
        let root: i64 = conn
            .query_row("SELECT rootpage FROM sqlite_schema WHERE type = 'table' AND name = 'items'", [], |r| r.get(0))
            .expect("items table");
        let mut explain = conn.prepare(&format!("EXPLAIN {}", query.text)).expect("explain");
        let program: Vec<(i64, String, i64, i64)> = explain
            .query_map(rusqlite::params_from_iter(&query.params), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .expect("program")
            .collect::<Result<_, _>>()
            .expect("opcodes");
        let table_cursors: Vec<i64> =
            program.iter().filter(|(_, op, _, p2)| op == "OpenRead" && *p2 == root).map(|(_, _, p1, _)| *p1).collect();
        program
            .iter()
            .filter(|(_, op, p1, _)| matches!(op.as_str(), "Column" | "Rowid") && table_cursors.contains(p1))
            .map(|(addr, op, _, _)| format!("{addr} {op}"))
            .collect()
    }

    fn newest_first() -> PageRequest {
        PageRequest { sort: SortKey::UpdatedAt, descending: true, limit: 20, after: None }
    }

    #[test]
    fn the_default_item_list_reads_its_entries_from_the_index_alone() {
        let conn = migrated();
        let live = ItemFilter::default();
        let first = keyset_query("items", LIST_ENTRY_COLUMNS, &newest_first(), item_conditions("org", &live));
        assert_eq!(table_reads(&conn, &first), Vec::<String>::new(), "{}", first.text);
        let after = Keyset { value: KeysetValue::Micros(1), id: "item".to_owned() };
        let next = PageRequest { after: Some(after), ..newest_first() };
        let second = keyset_query("items", LIST_ENTRY_COLUMNS, &next, item_conditions("org", &live));
        assert_eq!(table_reads(&conn, &second), Vec::<String>::new(), "{}", second.text);
    }

    #[test]
    fn reading_the_entry_column_itself_would_visit_the_table() {
        // The check above can fail: the plain column is never read from an index.
        let conn = migrated();
        let query =
            keyset_query("items", "id, list_entry", &newest_first(), item_conditions("org", &ItemFilter::default()));
        assert!(!table_reads(&conn, &query).is_empty(), "{}", query.text);
    }
}
