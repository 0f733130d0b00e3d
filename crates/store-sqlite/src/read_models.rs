//! Queries over the projected tables. Every tenant query filters by organization.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use store::read_model::{
    CategoryView, EngagementView, ItemVersionView, ItemView, MembershipView, OrganizationView, TagCount, TemplateView,
    UserView,
};
use store::{ReadModels, StoreError};

use crate::SqliteStore;
use crate::error::{database, unsigned};
use crate::rows::from_micros;

fn get<'r, T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>>(
    row: &'r SqliteRow,
    column: &str,
) -> Result<T, StoreError> {
    row.try_get(column).map_err(|e| StoreError::Corrupt(format!("read model column {column}: {e}")))
}

fn json_list(raw: &str, column: &str) -> Result<Vec<String>, StoreError> {
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
                deletion_scheduled_for: optional_time(get(&row, "deletion_scheduled_for")?)?,
                created_at: from_micros(get(&row, "created_at")?)?,
                updated_at: from_micros(get(&row, "updated_at")?)?,
            })
        })
        .transpose()
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<UserView>, StoreError> {
        let normalized = email.trim().to_lowercase();
        let row = sqlx::query("SELECT id, email, display_name FROM users WHERE email = ?")
            .bind(normalized)
            .fetch_optional(self.reads())
            .await
            .map_err(database)?;
        row.map(|row| {
            Ok(UserView { id: get(&row, "id")?, email: get(&row, "email")?, display_name: get(&row, "display_name")? })
        })
        .transpose()
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
        }))
    }

    async fn item(&self, org: &str, id: &str) -> Result<Option<ItemView>, StoreError> {
        let row = sqlx::query("SELECT * FROM items WHERE org_id = ? AND id = ?")
            .bind(org)
            .bind(id)
            .fetch_optional(self.reads())
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
                categories: json_list(&get::<String>(&row, "categories")?, "categories")?,
                tags: json_list(&get::<String>(&row, "tags")?, "tags")?,
                metadata: get(&row, "metadata")?,
                version: u32::try_from(get::<i64>(&row, "version")?)
                    .map_err(|_| StoreError::Corrupt("item version".to_owned()))?,
                supersedes: get(&row, "supersedes")?,
                superseded_by: get(&row, "superseded_by")?,
                trashed_at: optional_time(get(&row, "trashed_at")?)?,
            })
        })
        .transpose()
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
        self.org_rows("SELECT id, name, default_kind FROM templates WHERE org_id = ? ORDER BY name", org, |row| {
            Ok(TemplateView { id: get(row, "id")?, name: get(row, "name")?, default_kind: get(row, "default_kind")? })
        })
        .await
    }

    async fn tags(&self, org: &str) -> Result<Vec<TagCount>, StoreError> {
        self.org_rows("SELECT tag, item_count FROM tags WHERE org_id = ? ORDER BY tag", org, |row| {
            Ok(TagCount { tag: get(row, "tag")?, item_count: unsigned(get(row, "item_count")?, "item_count")? })
        })
        .await
    }
}
