//! Inline projections on PostgreSQL: each domain event updates the core read models inside the
//! append's transaction (the same rules as the SQLite adapter's projections). Times come from
//! the event's `recorded_at`, so a replay rebuilds identical rows.

use sqlx::PgConnection;

use domain::DomainEvent;
use domain::category::CategoryEvent;
use domain::engagement::EngagementEvent;
use domain::item::{ItemContent, ItemEvent};
use domain::organization::OrganizationEvent;
use domain::template::{TemplateDefinition, TemplateEvent};
use domain::user::UserEvent;
use store::{RecordedEvent, StoreError};

use crate::error::{database, signed};
use crate::rows::to_micros;

/// Every core read-model table, in a stable order (replay truncates them, dumps list them).
pub(crate) const READ_MODEL_TABLES: [&str; 12] = [
    "organizations",
    "users",
    "memberships",
    "engagements",
    "engagement_members",
    "items",
    "item_versions",
    "item_categories",
    "categories",
    "templates",
    "tags",
    "item_counts",
];

/// Aggregates whose events this module projects; other streams (tests, future modules) pass by.
const PROJECTED: [&str; 6] = ["organization.", "user.", "engagement.", "item.", "category.", "template."];

/// Runs one statement with its bound values on the transaction's connection.
macro_rules! exec {
    ($conn:expr, $sql:expr $(, $value:expr)* $(,)?) => {
        sqlx::query($sql)$(.bind($value))*.execute(&mut *$conn).await.map_err(database)
    };
}

/// What every projection needs to know about the event besides its payload.
struct Context<'a> {
    aggregate_id: &'a str,
    stream_version: i64,
    at: i64,
}

/// Applies one recorded event to the read models.
pub(crate) async fn project(conn: &mut PgConnection, event: &RecordedEvent) -> Result<(), StoreError> {
    if !PROJECTED.iter().any(|prefix| event.event_type.starts_with(prefix)) {
        return Ok(());
    }
    let decoded = DomainEvent::decode(&event.event_type, event.schema_version, &event.payload)
        .map_err(|e| StoreError::Invalid(format!("event {}: {e}", event.event_type)))?;
    let aggregate_id = event.stream_id.as_str().split_once('-').map_or("", |(_, id)| id);
    let cx = Context { aggregate_id, stream_version: signed(event.stream_version)?, at: to_micros(event.recorded_at) };
    match &decoded {
        DomainEvent::Organization(e) => organization(conn, &cx, e).await,
        DomainEvent::User(e) => user(conn, &cx, e).await,
        DomainEvent::Engagement(e) => engagement(conn, &cx, e).await,
        DomainEvent::Item(e) => item(conn, &cx, e).await,
        DomainEvent::Category(e) => category(conn, &cx, e).await,
        DomainEvent::Template(e) => template(conn, &cx, e).await,
    }
}

async fn organization(conn: &mut PgConnection, cx: &Context<'_>, event: &OrganizationEvent) -> Result<(), StoreError> {
    use OrganizationEvent as E;
    let org = cx.aggregate_id;
    match event {
        E::Created { id, name, owner } => {
            exec!(
                conn,
                "INSERT INTO organizations (id, name, stream_version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)",
                id.as_str(),
                name.as_str(),
                cx.stream_version,
                cx.at,
                cx.at
            )?;
            exec!(
                conn,
                "INSERT INTO memberships (org_id, user_id, role, created_at, updated_at) VALUES ($1, $2, 'owner', $3, $4)",
                id.as_str(),
                owner.as_str(),
                cx.at,
                cx.at
            )?;
            return Ok(());
        }
        E::Renamed { name } => {
            exec!(conn, "UPDATE organizations SET name = $1 WHERE id = $2", name.as_str(), org)?;
        }
        E::SettingsChanged { settings } => {
            let budget = settings.ai_monthly_budget_cents.map(signed).transpose()?;
            exec!(
                conn,
                "UPDATE organizations SET ai_monthly_budget_cents = $1, retention_days = $2, ai_store_transcripts = $3 \
                 WHERE id = $4",
                budget,
                settings.retention_days.map(i64::from),
                settings.ai_store_transcripts,
                org
            )?;
        }
        E::DeletionScheduled { effective_at } => {
            exec!(
                conn,
                "UPDATE organizations SET deletion_scheduled_for = $1 WHERE id = $2",
                to_micros(*effective_at),
                org
            )?;
        }
        E::DeletionCancelled => {
            exec!(conn, "UPDATE organizations SET deletion_scheduled_for = NULL WHERE id = $1", org)?;
        }
        E::MemberAdded { user, role } => {
            exec!(
                conn,
                "INSERT INTO memberships (org_id, user_id, role, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)",
                org,
                user.as_str(),
                role.as_str(),
                cx.at,
                cx.at
            )?;
        }
        E::MemberRoleChanged { user, role } => {
            exec!(
                conn,
                "UPDATE memberships SET role = $1, updated_at = $2 WHERE org_id = $3 AND user_id = $4",
                role.as_str(),
                cx.at,
                org,
                user.as_str()
            )?;
        }
        E::MemberRemoved { user } => {
            exec!(conn, "DELETE FROM memberships WHERE org_id = $1 AND user_id = $2", org, user.as_str())?;
        }
    }
    exec!(
        conn,
        "UPDATE organizations SET stream_version = $1, updated_at = $2 WHERE id = $3",
        cx.stream_version,
        cx.at,
        org
    )?;
    Ok(())
}

async fn user(conn: &mut PgConnection, cx: &Context<'_>, event: &UserEvent) -> Result<(), StoreError> {
    match event {
        UserEvent::Registered { id, email, display_name } => {
            exec!(
                conn,
                "INSERT INTO users (id, email, display_name, stream_version, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                id.as_str(),
                email.as_str(),
                display_name.as_str(),
                cx.stream_version,
                cx.at,
                cx.at
            )?;
        }
        UserEvent::Renamed { display_name } => {
            exec!(
                conn,
                "UPDATE users SET display_name = $1, stream_version = $2, updated_at = $3 WHERE id = $4",
                display_name.as_str(),
                cx.stream_version,
                cx.at,
                cx.aggregate_id
            )?;
        }
    }
    Ok(())
}

async fn engagement(conn: &mut PgConnection, cx: &Context<'_>, event: &EngagementEvent) -> Result<(), StoreError> {
    use EngagementEvent as E;
    let id = cx.aggregate_id;
    match event {
        E::Created { id, org, name, client, description, nda_required } => {
            exec!(
                conn,
                "INSERT INTO engagements (org_id, id, name, client, description, nda_required, phase, held_from, \
                 stream_version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'discovery', NULL, $7, $8, $9)",
                org.as_str(),
                id.as_str(),
                name.as_str(),
                client.as_str(),
                description.as_str(),
                *nda_required,
                cx.stream_version,
                cx.at,
                cx.at
            )?;
            return Ok(());
        }
        E::DetailsUpdated { name, client, description, nda_required } => {
            exec!(
                conn,
                "UPDATE engagements SET name = $1, client = $2, description = $3, nda_required = $4 WHERE id = $5",
                name.as_str(),
                client.as_str(),
                description.as_str(),
                *nda_required,
                id
            )?;
        }
        E::PhaseChanged { from, to } => {
            let held_from = (*to == domain::engagement::EngagementPhase::OnHold).then_some(from.as_str());
            exec!(conn, "UPDATE engagements SET phase = $1, held_from = $2 WHERE id = $3", to.as_str(), held_from, id)?;
        }
        E::MemberAdded { user } => {
            exec!(
                conn,
                "INSERT INTO engagement_members (org_id, engagement_id, user_id, added_at) \
                 SELECT org_id, id, $1, $2 FROM engagements WHERE id = $3",
                user.as_str(),
                cx.at,
                id
            )?;
        }
        E::MemberRemoved { user } => {
            exec!(conn, "DELETE FROM engagement_members WHERE engagement_id = $1 AND user_id = $2", id, user.as_str())?;
        }
        E::Deleted => {
            exec!(conn, "DELETE FROM engagement_members WHERE engagement_id = $1", id)?;
            exec!(conn, "DELETE FROM engagements WHERE id = $1", id)?;
            return Ok(());
        }
    }
    exec!(
        conn,
        "UPDATE engagements SET stream_version = $1, updated_at = $2 WHERE id = $3",
        cx.stream_version,
        cx.at,
        id
    )?;
    Ok(())
}

fn json_list<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    serde_json::Value::from(values.into_iter().collect::<Vec<_>>()).to_string()
}

fn content_columns(content: &ItemContent) -> (String, String, String) {
    (
        json_list(content.categories.iter().map(|c| c.as_str())),
        json_list(content.tags.iter().map(|t| t.as_str())),
        content.metadata.to_json(),
    )
}

/// Adds `delta` to the count of each tag, dropping tags that reach zero.
async fn count_tags(conn: &mut PgConnection, org: &str, tags: &[String], delta: i64) -> Result<(), StoreError> {
    for tag in tags {
        exec!(
            conn,
            "INSERT INTO tags (org_id, tag, item_count) VALUES ($1, $2, $3) \
             ON CONFLICT (org_id, tag) DO UPDATE SET item_count = tags.item_count + excluded.item_count",
            org,
            tag.as_str(),
            delta
        )?;
    }
    if delta < 0 {
        exec!(conn, "DELETE FROM tags WHERE org_id = $1 AND item_count <= 0", org)?;
    }
    Ok(())
}

/// The projected item's organization, tags and whether it sits in the trash.
async fn item_row(conn: &mut PgConnection, id: &str) -> Result<(String, Vec<String>, bool), StoreError> {
    let row: Option<(String, String, Option<i64>)> =
        sqlx::query_as("SELECT org_id, tags, trashed_at FROM items WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(database)?;
    let (org, tags, trashed) =
        row.ok_or_else(|| StoreError::Corrupt(format!("item {id} has events but no read-model row")))?;
    let tags: Vec<String> =
        serde_json::from_str(&tags).map_err(|e| StoreError::Corrupt(format!("item {id} tags: {e}")))?;
    Ok((org, tags, trashed.is_some()))
}

async fn file_in_categories(
    conn: &mut PgConnection,
    org: &str,
    id: &str,
    content: &ItemContent,
) -> Result<(), StoreError> {
    exec!(conn, "DELETE FROM item_categories WHERE item_id = $1", id)?;
    for category in &content.categories {
        exec!(
            conn,
            "INSERT INTO item_categories (org_id, item_id, category_id) VALUES ($1, $2, $3)",
            org,
            id,
            category.as_str()
        )?;
    }
    Ok(())
}

/// One row of `item_versions`.
struct Version<'a> {
    org: &'a str,
    id: &'a str,
    version: u32,
    content: &'a ItemContent,
    author: &'a str,
    restored_from: Option<u32>,
    at: i64,
}

async fn insert_version(conn: &mut PgConnection, v: Version<'_>) -> Result<(), StoreError> {
    let (categories, tags, metadata) = content_columns(v.content);
    exec!(
        conn,
        "INSERT INTO item_versions (org_id, item_id, version, title, body, categories, tags, metadata, author_id, \
         restored_from, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        v.org,
        v.id,
        i64::from(v.version),
        v.content.title.as_str(),
        v.content.body.as_str(),
        categories,
        tags,
        metadata,
        v.author,
        v.restored_from.map(i64::from),
        v.at
    )?;
    Ok(())
}

async fn item(conn: &mut PgConnection, cx: &Context<'_>, event: &ItemEvent) -> Result<(), StoreError> {
    use ItemEvent as E;
    let id = cx.aggregate_id;
    match event {
        E::Created { id, org, author, kind, engagement, content, supersedes } => {
            let (categories, tags, metadata) = content_columns(content);
            exec!(
                conn,
                "INSERT INTO items (org_id, id, kind, engagement_id, author_id, title, body, categories, tags, metadata, \
                 status, version, supersedes, superseded_by, trashed_at, stream_version, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'draft', 1, $11, NULL, NULL, $12, $13, $14)",
                org.as_str(),
                id.as_str(),
                kind.as_str(),
                engagement.as_ref().map(|e| e.as_str()),
                author.as_str(),
                content.title.as_str(),
                content.body.as_str(),
                categories,
                tags,
                metadata,
                supersedes.as_ref().map(|s| s.as_str()),
                cx.stream_version,
                cx.at,
                cx.at
            )?;
            let version = Version {
                org: org.as_str(),
                id: id.as_str(),
                version: 1,
                content,
                author: author.as_str(),
                restored_from: None,
                at: cx.at,
            };
            insert_version(conn, version).await?;
            file_in_categories(conn, org.as_str(), id.as_str(), content).await?;
            let tags: Vec<String> = content.tags.iter().map(|t| t.as_str().to_owned()).collect();
            return count_tags(conn, org.as_str(), &tags, 1).await;
        }
        E::Edited { version, content, author } | E::VersionRestored { version, content, author, .. } => {
            let restored_from = match event {
                E::VersionRestored { restored_from, .. } => Some(*restored_from),
                _ => None,
            };
            let (org, old_tags, trashed) = item_row(conn, id).await?;
            let (categories, tags, metadata) = content_columns(content);
            exec!(
                conn,
                "UPDATE items SET title = $1, body = $2, categories = $3, tags = $4, metadata = $5, version = $6 \
                 WHERE id = $7",
                content.title.as_str(),
                content.body.as_str(),
                categories,
                tags,
                metadata,
                i64::from(*version),
                id
            )?;
            let row = Version {
                org: &org,
                id,
                version: *version,
                content,
                author: author.as_str(),
                restored_from,
                at: cx.at,
            };
            insert_version(conn, row).await?;
            file_in_categories(conn, &org, id, content).await?;
            if !trashed {
                let new_tags: Vec<String> = content.tags.iter().map(|t| t.as_str().to_owned()).collect();
                let removed: Vec<String> = old_tags.iter().filter(|t| !new_tags.contains(t)).cloned().collect();
                let added: Vec<String> = new_tags.iter().filter(|t| !old_tags.contains(t)).cloned().collect();
                count_tags(conn, &org, &added, 1).await?;
                count_tags(conn, &org, &removed, -1).await?;
            }
        }
        E::StatusChanged { to, .. } => {
            exec!(conn, "UPDATE items SET status = $1 WHERE id = $2", to.as_str(), id)?;
        }
        E::Superseded { by } => {
            exec!(conn, "UPDATE items SET status = 'superseded', superseded_by = $1 WHERE id = $2", by.as_str(), id)?;
        }
        E::Trashed { at } => {
            let (org, tags, _) = item_row(conn, id).await?;
            exec!(conn, "UPDATE items SET trashed_at = $1 WHERE id = $2", to_micros(*at), id)?;
            count_tags(conn, &org, &tags, -1).await?;
        }
        E::RestoredFromTrash => {
            let (org, tags, _) = item_row(conn, id).await?;
            exec!(conn, "UPDATE items SET trashed_at = NULL WHERE id = $1", id)?;
            count_tags(conn, &org, &tags, 1).await?;
        }
        E::Purged => {
            exec!(conn, "DELETE FROM item_categories WHERE item_id = $1", id)?;
            exec!(conn, "DELETE FROM item_versions WHERE item_id = $1", id)?;
            exec!(conn, "DELETE FROM items WHERE id = $1", id)?;
            return Ok(());
        }
    }
    exec!(conn, "UPDATE items SET stream_version = $1, updated_at = $2 WHERE id = $3", cx.stream_version, cx.at, id)?;
    Ok(())
}

async fn category(conn: &mut PgConnection, cx: &Context<'_>, event: &CategoryEvent) -> Result<(), StoreError> {
    use CategoryEvent as E;
    match event {
        E::Created { org, id, name, parent } => {
            exec!(
                conn,
                "INSERT INTO categories (org_id, id, name, parent_id, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                org.as_str(),
                id.as_str(),
                name.as_str(),
                parent.as_ref().map(|p| p.as_str()),
                cx.at,
                cx.at
            )?;
        }
        E::Renamed { id, name } => {
            exec!(
                conn,
                "UPDATE categories SET name = $1, updated_at = $2 WHERE id = $3",
                name.as_str(),
                cx.at,
                id.as_str()
            )?;
        }
        E::Moved { id, to, .. } => {
            exec!(
                conn,
                "UPDATE categories SET parent_id = $1, updated_at = $2 WHERE id = $3",
                to.as_ref().map(|p| p.as_str()),
                cx.at,
                id.as_str()
            )?;
        }
        E::Deleted { id, .. } => {
            // The items were moved in the same commit; an item filed here meanwhile refuses the delete.
            let still_filed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM item_categories WHERE category_id = $1")
                .bind(id.as_str())
                .fetch_one(&mut *conn)
                .await
                .map_err(database)?;
            if still_filed > 0 {
                return Err(StoreError::Rejected(format!("category {id} still holds {still_filed} items")));
            }
            exec!(conn, "DELETE FROM categories WHERE id = $1", id.as_str())?;
        }
    }
    Ok(())
}

fn template_columns(definition: &TemplateDefinition) -> (String, Option<&str>, String) {
    let body: String = definition.body.clone().into();
    (
        body,
        definition.default_category.as_ref().map(|c| c.as_str()),
        json_list(definition.default_tags.iter().map(|t| t.as_str())),
    )
}

async fn template(conn: &mut PgConnection, cx: &Context<'_>, event: &TemplateEvent) -> Result<(), StoreError> {
    match event {
        TemplateEvent::Created { id, org, definition } => {
            let (body, category, tags) = template_columns(definition);
            exec!(
                conn,
                "INSERT INTO templates (org_id, id, name, body, default_kind, default_category_id, default_tags, \
                 stream_version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                org.as_str(),
                id.as_str(),
                definition.name.as_str(),
                body,
                definition.default_kind.as_str(),
                category,
                tags,
                cx.stream_version,
                cx.at,
                cx.at
            )?;
        }
        TemplateEvent::Updated { definition } => {
            let (body, category, tags) = template_columns(definition);
            exec!(
                conn,
                "UPDATE templates SET name = $1, body = $2, default_kind = $3, default_category_id = $4, \
                 default_tags = $5, stream_version = $6, updated_at = $7 WHERE id = $8",
                definition.name.as_str(),
                body,
                definition.default_kind.as_str(),
                category,
                tags,
                cx.stream_version,
                cx.at,
                cx.aggregate_id
            )?;
        }
        TemplateEvent::Deleted => {
            exec!(conn, "DELETE FROM templates WHERE id = $1", cx.aggregate_id)?;
        }
    }
    Ok(())
}
