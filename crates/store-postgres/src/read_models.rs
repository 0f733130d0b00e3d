//! Queries over the projected tables. Every tenant query filters by organization.

use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

use store::read_model::{
    CategoryView, EngagementFilter, EngagementSummary, EngagementView, ItemFilter, ItemSummary, ItemVersionContent,
    ItemVersionView, ItemView, Keyset, KeysetValue, MembershipView, OrganizationView, Page, PageRequest, SortKey,
    TagCount, TemplateView, UserMembership, UserView,
};
use store::{ReadModels, RecordedEvent, StoreError};

use crate::PostgresStore;
use crate::error::{database, unsigned};
use crate::rows::{EVENT_COLUMNS, event_from_row, from_micros};

fn get<'r, T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>>(
    row: &'r PgRow,
    column: &str,
) -> Result<T, StoreError> {
    row.try_get(column).map_err(|e| StoreError::Corrupt(format!("read model column {column}: {e}")))
}

fn json_list(row: &PgRow, column: &str) -> Result<Vec<String>, StoreError> {
    let raw: String = get(row, column)?;
    serde_json::from_str(&raw).map_err(|e| StoreError::Corrupt(format!("read model column {column}: {e}")))
}

fn time_of(row: &PgRow, column: &str) -> Result<time::OffsetDateTime, StoreError> {
    from_micros(get(row, column)?)
}

fn optional_time(row: &PgRow, column: &str) -> Result<Option<time::OffsetDateTime>, StoreError> {
    get::<Option<i64>>(row, column)?.map(from_micros).transpose()
}

fn version(row: &PgRow, column: &str) -> Result<u32, StoreError> {
    let value: i64 = get(row, column)?;
    u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("item version {value}")))
}

fn template_from_row(row: &PgRow) -> Result<TemplateView, StoreError> {
    Ok(TemplateView {
        id: get(row, "id")?,
        name: get(row, "name")?,
        body: get(row, "body")?,
        default_kind: get(row, "default_kind")?,
        default_category: get(row, "default_category_id")?,
        default_tags: json_list(row, "default_tags")?,
        stream_version: unsigned(get(row, "stream_version")?, "stream_version")?,
        created_at: time_of(row, "created_at")?,
        updated_at: time_of(row, "updated_at")?,
    })
}

type Filter<'f> = dyn Fn(&mut QueryBuilder<'_, Postgres>) + Sync + 'f;

impl PostgresStore {
    async fn org_rows<T>(
        &self,
        sql: &str,
        org: &str,
        map: impl Fn(&PgRow) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let rows = sqlx::query(sql).bind(org).fetch_all(self.pool()).await.map_err(database)?;
        rows.iter().map(map).collect()
    }

    async fn user_where(&self, column: &str, value: &str) -> Result<Option<UserView>, StoreError> {
        let row = sqlx::query(&format!("SELECT id, email, display_name FROM users WHERE {column} = $1"))
            .bind(value)
            .fetch_optional(self.pool())
            .await
            .map_err(database)?;
        row.map(|row| {
            Ok(UserView { id: get(&row, "id")?, email: get(&row, "email")?, display_name: get(&row, "display_name")? })
        })
        .transpose()
    }

    /// One page of `table` in keyset order, with the total the `total` query counts. Both run
    /// in one repeatable-read transaction, so the total matches the page.
    async fn keyset_page<T>(
        &self,
        table: &str,
        columns: &str,
        page: &PageRequest,
        conditions: &Filter<'_>,
        total: &Filter<'_>,
        map: impl Fn(&PgRow) -> Result<T, StoreError>,
    ) -> Result<Page<T>, StoreError> {
        let column = match page.sort {
            SortKey::UpdatedAt => "updated_at",
            SortKey::CreatedAt => "created_at",
            SortKey::Title if table == "engagements" => "name",
            SortKey::Title => "title",
        };
        let (direction, comparison) = if page.descending { ("DESC", "<") } else { ("ASC", ">") };
        let mut query = QueryBuilder::new(format!("SELECT {columns}, {column} AS sort_value FROM {table}"));
        conditions(&mut query);
        if let Some(after) = &page.after {
            query.push(format!(" AND ({column}, id) {comparison} ("));
            match &after.value {
                KeysetValue::Micros(micros) => query.push_bind(*micros),
                KeysetValue::Text(text) => query.push_bind(text.clone()),
            };
            query.push(", ").push_bind(after.id.clone()).push(")");
        }
        query.push(format!(" ORDER BY {column} {direction}, id {direction} LIMIT "));
        query.push_bind(i64::from(page.limit) + 1);
        let mut count = QueryBuilder::new("SELECT ");
        total(&mut count);
        let mut tx = self.pool().begin().await.map_err(database)?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut *tx)
            .await
            .map_err(database)?;
        let total: i64 = count.build_query_scalar().fetch_one(&mut *tx).await.map_err(database)?;
        let rows = query.build().fetch_all(&mut *tx).await.map_err(database)?;
        tx.commit().await.map_err(database)?;
        let limit = page.limit as usize;
        let next = if rows.len() > limit {
            let last = &rows[limit - 1];
            let value = if column.ends_with("_at") {
                KeysetValue::Micros(get(last, "sort_value")?)
            } else {
                KeysetValue::Text(get(last, "sort_value")?)
            };
            Some(Keyset { value, id: get(last, "id")? })
        } else {
            None
        };
        let mapped = rows.iter().take(limit).map(map).collect::<Result<Vec<_>, _>>()?;
        Ok(Page { rows: mapped, next, total: unsigned(total, "count")? })
    }
}

impl ReadModels for PostgresStore {
    async fn organization(&self, org: &str) -> Result<Option<OrganizationView>, StoreError> {
        let row = sqlx::query("SELECT * FROM organizations WHERE id = $1")
            .bind(org)
            .fetch_optional(self.pool())
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
                ai_store_transcripts: get(&row, "ai_store_transcripts")?,
                deletion_scheduled_for: optional_time(&row, "deletion_scheduled_for")?,
                created_at: time_of(&row, "created_at")?,
                updated_at: time_of(&row, "updated_at")?,
            })
        })
        .transpose()
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<UserView>, StoreError> {
        let normalized = email.trim().to_lowercase();
        self.user_where("email", &normalized).await
    }

    async fn user(&self, id: &str) -> Result<Option<UserView>, StoreError> {
        self.user_where("id", id).await
    }

    async fn members(&self, org: &str) -> Result<Vec<MembershipView>, StoreError> {
        self.org_rows("SELECT user_id, role FROM memberships WHERE org_id = $1 ORDER BY user_id", org, |row| {
            Ok(MembershipView { user_id: get(row, "user_id")?, role: get(row, "role")? })
        })
        .await
    }

    async fn engagement(&self, org: &str, id: &str) -> Result<Option<EngagementView>, StoreError> {
        let row = sqlx::query("SELECT * FROM engagements WHERE org_id = $1 AND id = $2")
            .bind(org)
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(database)?;
        let Some(row) = row else { return Ok(None) };
        let members: Vec<String> = sqlx::query_scalar(
            "SELECT user_id FROM engagement_members WHERE org_id = $1 AND engagement_id = $2 ORDER BY user_id",
        )
        .bind(org)
        .bind(id)
        .fetch_all(self.pool())
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
            created_at: time_of(&row, "created_at")?,
            updated_at: time_of(&row, "updated_at")?,
        }))
    }

    async fn item(&self, org: &str, id: &str) -> Result<Option<ItemView>, StoreError> {
        let row = sqlx::query("SELECT * FROM items WHERE org_id = $1 AND id = $2")
            .bind(org)
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(database)?;
        row.map(|row| {
            Ok(ItemView {
                id: get(&row, "id")?,
                kind: get(&row, "kind")?,
                status: get(&row, "status")?,
                title: get(&row, "title")?,
                body: get(&row, "body")?,
                engagement_id: get(&row, "engagement_id")?,
                author_id: get(&row, "author_id")?,
                categories: json_list(&row, "categories")?,
                tags: json_list(&row, "tags")?,
                metadata: get(&row, "metadata")?,
                version: version(&row, "version")?,
                supersedes: get(&row, "supersedes")?,
                superseded_by: get(&row, "superseded_by")?,
                trashed_at: optional_time(&row, "trashed_at")?,
                stream_version: unsigned(get(&row, "stream_version")?, "stream_version")?,
                created_at: time_of(&row, "created_at")?,
                updated_at: time_of(&row, "updated_at")?,
            })
        })
        .transpose()
    }

    async fn item_versions(&self, org: &str, id: &str) -> Result<Vec<ItemVersionView>, StoreError> {
        let rows = sqlx::query(
            "SELECT version, title, author_id, created_at FROM item_versions WHERE org_id = $1 AND item_id = $2 \
             ORDER BY version",
        )
        .bind(org)
        .bind(id)
        .fetch_all(self.pool())
        .await
        .map_err(database)?;
        rows.iter()
            .map(|row| {
                Ok(ItemVersionView {
                    version: version(row, "version")?,
                    title: get(row, "title")?,
                    author_id: get(row, "author_id")?,
                    created_at: time_of(row, "created_at")?,
                })
            })
            .collect()
    }

    async fn item_version(&self, org: &str, id: &str, version: u32) -> Result<Option<ItemVersionContent>, StoreError> {
        let row = sqlx::query("SELECT * FROM item_versions WHERE org_id = $1 AND item_id = $2 AND version = $3")
            .bind(org)
            .bind(id)
            .bind(i64::from(version))
            .fetch_optional(self.pool())
            .await
            .map_err(database)?;
        row.map(|row| {
            Ok(ItemVersionContent {
                version,
                title: get(&row, "title")?,
                body: get(&row, "body")?,
                categories: json_list(&row, "categories")?,
                tags: json_list(&row, "tags")?,
                metadata: get(&row, "metadata")?,
                author_id: get(&row, "author_id")?,
                restored_from: get::<Option<i64>>(&row, "restored_from")?.and_then(|v| u32::try_from(v).ok()),
                created_at: time_of(&row, "created_at")?,
            })
        })
        .transpose()
    }

    async fn items_in_category(&self, org: &str, category: &str) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar(
            "SELECT item_id FROM item_categories WHERE org_id = $1 AND category_id = $2 ORDER BY item_id",
        )
        .bind(org)
        .bind(category)
        .fetch_all(self.pool())
        .await
        .map_err(database)
    }

    async fn categories(&self, org: &str) -> Result<Vec<CategoryView>, StoreError> {
        self.org_rows("SELECT id, name, parent_id FROM categories WHERE org_id = $1 ORDER BY name, id", org, |row| {
            Ok(CategoryView { id: get(row, "id")?, name: get(row, "name")?, parent_id: get(row, "parent_id")? })
        })
        .await
    }

    async fn templates(&self, org: &str) -> Result<Vec<TemplateView>, StoreError> {
        // SQLite orders the NOCASE name case-insensitively; so does this.
        self.org_rows("SELECT * FROM templates WHERE org_id = $1 ORDER BY lower(name), name", org, template_from_row)
            .await
    }

    async fn template(&self, org: &str, id: &str) -> Result<Option<TemplateView>, StoreError> {
        let row = sqlx::query("SELECT * FROM templates WHERE org_id = $1 AND id = $2")
            .bind(org)
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(database)?;
        row.as_ref().map(template_from_row).transpose()
    }

    async fn memberships_of_user(&self, user: &str) -> Result<Vec<UserMembership>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.org_id, o.name, m.role FROM memberships m JOIN organizations o ON o.id = m.org_id
             WHERE m.user_id = $1 ORDER BY m.created_at, m.org_id",
        )
        .bind(user)
        .fetch_all(self.pool())
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
            "SELECT engagement_id FROM engagement_members WHERE org_id = $1 AND user_id = $2 ORDER BY engagement_id",
        )
        .bind(org)
        .bind(user)
        .fetch_all(self.pool())
        .await
        .map_err(database)
    }

    async fn list_engagements(
        &self,
        org: &str,
        filter: &EngagementFilter,
        page: &PageRequest,
    ) -> Result<Page<EngagementSummary>, StoreError> {
        let conditions = |query: &mut QueryBuilder<'_, Postgres>| {
            query.push(" WHERE org_id = ").push_bind(org.to_owned());
            if let Some(phase) = &filter.phase {
                query.push(" AND phase = ").push_bind(phase.clone());
            }
            if let Some(only) = &filter.only {
                query.push(" AND id = ANY(").push_bind(only.clone()).push(")");
            }
        };
        let total = |query: &mut QueryBuilder<'_, Postgres>| {
            query.push("COUNT(*) FROM engagements");
            conditions(query);
        };
        let columns = "id, name, client, phase, nda_required, updated_at";
        self.keyset_page("engagements", columns, page, &conditions, &total, |row| {
            Ok(EngagementSummary {
                id: get(row, "id")?,
                name: get(row, "name")?,
                client: get(row, "client")?,
                phase: get(row, "phase")?,
                nda_required: get(row, "nda_required")?,
                updated_at: time_of(row, "updated_at")?,
            })
        })
        .await
    }

    async fn list_items(
        &self,
        org: &str,
        filter: &ItemFilter,
        page: &PageRequest,
    ) -> Result<Page<ItemSummary>, StoreError> {
        let conditions = |query: &mut QueryBuilder<'_, Postgres>| {
            query.push(" WHERE org_id = ").push_bind(org.to_owned());
            query.push(if filter.trashed { " AND trashed_at IS NOT NULL" } else { " AND trashed_at IS NULL" });
            for (column, value) in
                [("engagement_id", &filter.engagement), ("status", &filter.status), ("kind", &filter.kind)]
            {
                if let Some(value) = value {
                    query.push(format!(" AND {column} = ")).push_bind(value.clone());
                }
            }
            if let Some(category) = &filter.category {
                query
                    .push(" AND id IN (SELECT item_id FROM item_categories WHERE org_id = ")
                    .push_bind(org.to_owned())
                    .push(" AND category_id = ")
                    .push_bind(category.clone())
                    .push(")");
            }
            if let Some(tag) = &filter.tag {
                query.push(" AND tags::jsonb @> jsonb_build_array(").push_bind(tag.clone()).push("::text)");
            }
            if let Some(visible) = &filter.engagements_visible {
                query.push(" AND engagement_id = ANY(").push_bind(visible.clone()).push(")");
            }
        };
        // Totals come from the `item_counts` projection unless a category or tag narrows the
        // list, which only a count over the items can answer.
        let total = |query: &mut QueryBuilder<'_, Postgres>| {
            if filter.category.is_some() || filter.tag.is_some() {
                query.push("COUNT(*) FROM items");
                conditions(query);
                return;
            }
            query
                .push("COALESCE(SUM(item_count), 0)::BIGINT FROM item_counts WHERE org_id = ")
                .push_bind(org.to_owned());
            query.push(" AND trashed = ").push_bind(filter.trashed);
            for (column, value) in [("status", &filter.status), ("kind", &filter.kind)] {
                if let Some(value) = value {
                    query.push(format!(" AND {column} = ")).push_bind(value.clone());
                }
            }
            if let Some(engagement) = &filter.engagement {
                query.push(" AND engagement_id = ").push_bind(engagement.clone());
            }
            if let Some(visible) = &filter.engagements_visible {
                query.push(" AND engagement_id = ANY(").push_bind(visible.clone()).push(")");
            }
        };
        let columns = "id, kind, status, title, engagement_id, author_id, categories, tags, version, trashed_at, \
                       created_at, updated_at";
        self.keyset_page("items", columns, page, &conditions, &total, |row| {
            Ok(ItemSummary {
                id: get(row, "id")?,
                kind: get(row, "kind")?,
                status: get(row, "status")?,
                title: get(row, "title")?,
                engagement_id: get(row, "engagement_id")?,
                author_id: get(row, "author_id")?,
                categories: json_list(row, "categories")?,
                tags: json_list(row, "tags")?,
                version: version(row, "version")?,
                trashed_at: optional_time(row, "trashed_at")?,
                created_at: time_of(row, "created_at")?,
                updated_at: time_of(row, "updated_at")?,
            })
        })
        .await
    }

    async fn org_events(&self, org: &str, after: u64, limit: u32) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE org_id = $1 AND position > $2 ORDER BY position LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(org)
            .bind(i64::try_from(after).unwrap_or(i64::MAX))
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .map_err(database)?;
        rows.iter().map(event_from_row).collect()
    }

    async fn recent_org_events(&self, org: &str, limit: u32) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE org_id = $1 ORDER BY position DESC LIMIT $2");
        let rows = sqlx::query(&sql).bind(org).bind(i64::from(limit)).fetch_all(self.pool()).await.map_err(database)?;
        rows.iter().map(event_from_row).collect()
    }

    async fn tags(&self, org: &str) -> Result<Vec<TagCount>, StoreError> {
        self.org_rows("SELECT tag, item_count FROM tags WHERE org_id = $1 ORDER BY tag", org, |row| {
            Ok(TagCount { tag: get(row, "tag")?, item_count: unsigned(get(row, "item_count")?, "item_count")? })
        })
        .await
    }
}
