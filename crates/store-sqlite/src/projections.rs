//! Inline projections: each domain event updates the core read models inside the append's
//! transaction, so a client reads its own writes. Replay runs the same code over the log.
//! Times come from the event's `recorded_at`, so a replay rebuilds identical rows.

use sqlx::SqliteConnection;

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

/// Aggregates whose events this module projects; other streams (tests, future modules) pass by.
const PROJECTED: [&str; 6] = ["organization.", "user.", "engagement.", "item.", "category.", "template."];

/// What every projection needs to know about the event besides its payload.
struct Context<'a> {
    /// The aggregate id: the stream name after its category prefix.
    aggregate_id: &'a str,
    stream_version: i64,
    at: i64,
}

/// Events whose projection can refuse the command: a unique email or template name, a category
/// deleted while an item was filed in it. Only commands carrying one need a savepoint of their
/// own in a group commit.
const REFUSABLE: [&str; 3] = ["user.", "template.", "category."];

/// Whether the projection of events of this type can refuse them (see [`REFUSABLE`]).
pub(crate) fn can_refuse(event_type: &str) -> bool {
    REFUSABLE.iter().any(|prefix| event_type.starts_with(prefix))
}

/// Whether events of this type feed the read models.
pub(crate) fn is_projected(event_type: &str) -> bool {
    PROJECTED.iter().any(|prefix| event_type.starts_with(prefix))
}

/// Applies one recorded event to the read models.
pub(crate) async fn project(conn: &mut SqliteConnection, event: &RecordedEvent) -> Result<(), StoreError> {
    if !is_projected(&event.event_type) {
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

async fn run<'q>(
    conn: &mut SqliteConnection,
    query: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
) -> Result<u64, StoreError> {
    Ok(query.execute(&mut *conn).await.map_err(database)?.rows_affected())
}

async fn organization(
    conn: &mut SqliteConnection,
    cx: &Context<'_>,
    event: &OrganizationEvent,
) -> Result<(), StoreError> {
    use OrganizationEvent as E;
    let org = cx.aggregate_id;
    match event {
        E::Created { id, name, owner } => {
            run(conn, sqlx::query(
                "INSERT INTO organizations (id, name, ai_monthly_budget_cents, retention_days, deletion_scheduled_for, \
                 stream_version, created_at, updated_at) VALUES (?, ?, NULL, NULL, NULL, ?, ?, ?)",
            ).bind(id.as_str()).bind(name.as_str()).bind(cx.stream_version).bind(cx.at).bind(cx.at)).await?;
            run(conn, sqlx::query("INSERT INTO memberships (org_id, user_id, role, created_at, updated_at) VALUES (?, ?, 'owner', ?, ?)")
                .bind(id.as_str()).bind(owner.as_str()).bind(cx.at).bind(cx.at)).await?;
            return Ok(());
        }
        E::Renamed { name } => {
            run(conn, sqlx::query("UPDATE organizations SET name = ? WHERE id = ?").bind(name.as_str()).bind(org))
                .await?;
        }
        E::SettingsChanged { settings } => {
            let budget = settings.ai_monthly_budget_cents.map(signed).transpose()?;
            run(
                conn,
                sqlx::query("UPDATE organizations SET ai_monthly_budget_cents = ?, retention_days = ? WHERE id = ?")
                    .bind(budget)
                    .bind(settings.retention_days.map(i64::from))
                    .bind(org),
            )
            .await?;
        }
        E::DeletionScheduled { effective_at } => {
            run(
                conn,
                sqlx::query("UPDATE organizations SET deletion_scheduled_for = ? WHERE id = ?")
                    .bind(to_micros(*effective_at))
                    .bind(org),
            )
            .await?;
        }
        E::DeletionCancelled => {
            run(conn, sqlx::query("UPDATE organizations SET deletion_scheduled_for = NULL WHERE id = ?").bind(org))
                .await?;
        }
        E::MemberAdded { user, role } => {
            run(
                conn,
                sqlx::query(
                    "INSERT INTO memberships (org_id, user_id, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                )
                .bind(org)
                .bind(user.as_str())
                .bind(role.as_str())
                .bind(cx.at)
                .bind(cx.at),
            )
            .await?;
        }
        E::MemberRoleChanged { user, role } => {
            run(
                conn,
                sqlx::query("UPDATE memberships SET role = ?, updated_at = ? WHERE org_id = ? AND user_id = ?")
                    .bind(role.as_str())
                    .bind(cx.at)
                    .bind(org)
                    .bind(user.as_str()),
            )
            .await?;
        }
        E::MemberRemoved { user } => {
            run(
                conn,
                sqlx::query("DELETE FROM memberships WHERE org_id = ? AND user_id = ?").bind(org).bind(user.as_str()),
            )
            .await?;
        }
    }
    run(
        conn,
        sqlx::query("UPDATE organizations SET stream_version = ?, updated_at = ? WHERE id = ?")
            .bind(cx.stream_version)
            .bind(cx.at)
            .bind(org),
    )
    .await?;
    Ok(())
}

async fn user(conn: &mut SqliteConnection, cx: &Context<'_>, event: &UserEvent) -> Result<(), StoreError> {
    match event {
        UserEvent::Registered { id, email, display_name } => {
            run(conn, sqlx::query(
                "INSERT INTO users (id, email, display_name, stream_version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            ).bind(id.as_str()).bind(email.as_str()).bind(display_name.as_str()).bind(cx.stream_version).bind(cx.at).bind(cx.at)).await?;
        }
        UserEvent::Renamed { display_name } => {
            run(
                conn,
                sqlx::query("UPDATE users SET display_name = ?, stream_version = ?, updated_at = ? WHERE id = ?")
                    .bind(display_name.as_str())
                    .bind(cx.stream_version)
                    .bind(cx.at)
                    .bind(cx.aggregate_id),
            )
            .await?;
        }
    }
    Ok(())
}

async fn engagement(conn: &mut SqliteConnection, cx: &Context<'_>, event: &EngagementEvent) -> Result<(), StoreError> {
    use EngagementEvent as E;
    let id = cx.aggregate_id;
    match event {
        E::Created { id, org, name, client, description, nda_required } => {
            run(
                conn,
                sqlx::query(
                    "INSERT INTO engagements (org_id, id, name, client, description, nda_required, phase, held_from, \
                 stream_version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'discovery', NULL, ?, ?, ?)",
                )
                .bind(org.as_str())
                .bind(id.as_str())
                .bind(name.as_str())
                .bind(client.as_str())
                .bind(description.as_str())
                .bind(*nda_required)
                .bind(cx.stream_version)
                .bind(cx.at)
                .bind(cx.at),
            )
            .await?;
            return Ok(());
        }
        E::DetailsUpdated { name, client, description, nda_required } => {
            run(
                conn,
                sqlx::query(
                    "UPDATE engagements SET name = ?, client = ?, description = ?, nda_required = ? WHERE id = ?",
                )
                .bind(name.as_str())
                .bind(client.as_str())
                .bind(description.as_str())
                .bind(*nda_required)
                .bind(id),
            )
            .await?;
        }
        E::PhaseChanged { from, to } => {
            let held_from = (*to == domain::engagement::EngagementPhase::OnHold).then_some(from.as_str());
            run(
                conn,
                sqlx::query("UPDATE engagements SET phase = ?, held_from = ? WHERE id = ?")
                    .bind(to.as_str())
                    .bind(held_from)
                    .bind(id),
            )
            .await?;
        }
        E::MemberAdded { user } => {
            run(
                conn,
                sqlx::query(
                    "INSERT INTO engagement_members (org_id, engagement_id, user_id, added_at) \
                 SELECT org_id, id, ?, ? FROM engagements WHERE id = ?",
                )
                .bind(user.as_str())
                .bind(cx.at)
                .bind(id),
            )
            .await?;
        }
        E::MemberRemoved { user } => {
            run(
                conn,
                sqlx::query("DELETE FROM engagement_members WHERE engagement_id = ? AND user_id = ?")
                    .bind(id)
                    .bind(user.as_str()),
            )
            .await?;
        }
        E::Deleted => {
            run(conn, sqlx::query("DELETE FROM engagement_members WHERE engagement_id = ?").bind(id)).await?;
            run(conn, sqlx::query("DELETE FROM engagements WHERE id = ?").bind(id)).await?;
            return Ok(());
        }
    }
    run(
        conn,
        sqlx::query("UPDATE engagements SET stream_version = ?, updated_at = ? WHERE id = ?")
            .bind(cx.stream_version)
            .bind(cx.at)
            .bind(id),
    )
    .await?;
    Ok(())
}

pub(crate) fn json_list<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    serde_json::Value::from(values.into_iter().collect::<Vec<_>>()).to_string()
}

pub(crate) fn content_columns(content: &ItemContent) -> (String, String, String) {
    (
        json_list(content.categories.iter().map(|c| c.as_str())),
        json_list(content.tags.iter().map(|t| t.as_str())),
        serde_json::Value::Object(content.metadata.as_map().clone()).to_string(),
    )
}

/// Adds `delta` to the count of each tag, dropping tags that reach zero.
async fn count_tags(conn: &mut SqliteConnection, org: &str, tags: &[String], delta: i64) -> Result<(), StoreError> {
    for tag in tags {
        run(
            conn,
            sqlx::query(
                "INSERT INTO tags (org_id, tag, item_count) VALUES (?, ?, ?) \
             ON CONFLICT (org_id, tag) DO UPDATE SET item_count = item_count + excluded.item_count",
            )
            .bind(org)
            .bind(tag.as_str())
            .bind(delta),
        )
        .await?;
    }
    if delta < 0 {
        run(conn, sqlx::query("DELETE FROM tags WHERE org_id = ? AND item_count <= 0").bind(org)).await?;
    }
    Ok(())
}

/// The projected item's organization, tags and whether it sits in the trash.
async fn item_row(conn: &mut SqliteConnection, id: &str) -> Result<(String, Vec<String>, bool), StoreError> {
    let row: Option<(String, String, Option<i64>)> =
        sqlx::query_as("SELECT org_id, tags, trashed_at FROM items WHERE id = ?")
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
    conn: &mut SqliteConnection,
    org: &str,
    id: &str,
    content: &ItemContent,
) -> Result<(), StoreError> {
    run(conn, sqlx::query("DELETE FROM item_categories WHERE item_id = ?").bind(id)).await?;
    for category in &content.categories {
        run(
            conn,
            sqlx::query("INSERT INTO item_categories (org_id, item_id, category_id) VALUES (?, ?, ?)")
                .bind(org)
                .bind(id)
                .bind(category.as_str()),
        )
        .await?;
    }
    Ok(())
}

#[expect(clippy::too_many_arguments, reason = "one argument per column of an item version row")]
async fn insert_version(
    conn: &mut SqliteConnection,
    org: &str,
    id: &str,
    version: u32,
    content: &ItemContent,
    author: &str,
    restored_from: Option<u32>,
    at: i64,
) -> Result<(), StoreError> {
    let (categories, tags, metadata) = content_columns(content);
    run(
        conn,
        sqlx::query(
            "INSERT INTO item_versions (org_id, item_id, version, title, body, categories, tags, metadata, author_id, \
         restored_from, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(org)
        .bind(id)
        .bind(i64::from(version))
        .bind(content.title.as_str())
        .bind(content.body.as_str())
        .bind(categories)
        .bind(tags)
        .bind(metadata)
        .bind(author)
        .bind(restored_from.map(i64::from))
        .bind(at),
    )
    .await?;
    Ok(())
}

async fn item(conn: &mut SqliteConnection, cx: &Context<'_>, event: &ItemEvent) -> Result<(), StoreError> {
    use ItemEvent as E;
    let id = cx.aggregate_id;
    match event {
        E::Created { id, org, author, kind, engagement, content, supersedes } => {
            let (categories, tags, metadata) = content_columns(content);
            run(conn, sqlx::query(
                "INSERT INTO items (org_id, id, kind, engagement_id, author_id, title, body, categories, tags, metadata, \
                 status, version, supersedes, superseded_by, trashed_at, stream_version, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'draft', 1, ?, NULL, NULL, ?, ?, ?)",
            ).bind(org.as_str()).bind(id.as_str()).bind(kind.as_str()).bind(engagement.as_ref().map(|e| e.as_str()))
                .bind(author.as_str()).bind(content.title.as_str()).bind(content.body.as_str()).bind(categories).bind(tags)
                .bind(metadata).bind(supersedes.as_ref().map(|s| s.as_str())).bind(cx.stream_version).bind(cx.at).bind(cx.at)).await?;
            insert_version(conn, org.as_str(), id.as_str(), 1, content, author.as_str(), None, cx.at).await?;
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
            run(conn, sqlx::query(
                "UPDATE items SET title = ?, body = ?, categories = ?, tags = ?, metadata = ?, version = ? WHERE id = ?",
            ).bind(content.title.as_str()).bind(content.body.as_str()).bind(categories).bind(tags).bind(metadata)
                .bind(i64::from(*version)).bind(id)).await?;
            insert_version(conn, &org, id, *version, content, author.as_str(), restored_from, cx.at).await?;
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
            run(conn, sqlx::query("UPDATE items SET status = ? WHERE id = ?").bind(to.as_str()).bind(id)).await?;
        }
        E::Superseded { by } => {
            run(
                conn,
                sqlx::query("UPDATE items SET status = 'superseded', superseded_by = ? WHERE id = ?")
                    .bind(by.as_str())
                    .bind(id),
            )
            .await?;
        }
        E::Trashed { at } => {
            let (org, tags, _) = item_row(conn, id).await?;
            run(conn, sqlx::query("UPDATE items SET trashed_at = ? WHERE id = ?").bind(to_micros(*at)).bind(id))
                .await?;
            count_tags(conn, &org, &tags, -1).await?;
        }
        E::RestoredFromTrash => {
            let (org, tags, _) = item_row(conn, id).await?;
            run(conn, sqlx::query("UPDATE items SET trashed_at = NULL WHERE id = ?").bind(id)).await?;
            count_tags(conn, &org, &tags, 1).await?;
        }
        E::Purged => {
            for table_sql in [
                "DELETE FROM item_categories WHERE item_id = ?",
                "DELETE FROM item_versions WHERE item_id = ?",
                "DELETE FROM items WHERE id = ?",
            ] {
                run(conn, sqlx::query(table_sql).bind(id)).await?;
            }
            return Ok(());
        }
    }
    run(
        conn,
        sqlx::query("UPDATE items SET stream_version = ?, updated_at = ? WHERE id = ?")
            .bind(cx.stream_version)
            .bind(cx.at)
            .bind(id),
    )
    .await?;
    Ok(())
}

async fn category(conn: &mut SqliteConnection, cx: &Context<'_>, event: &CategoryEvent) -> Result<(), StoreError> {
    use CategoryEvent as E;
    match event {
        E::Created { org, id, name, parent } => {
            run(conn, sqlx::query(
                "INSERT INTO categories (org_id, id, name, parent_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            ).bind(org.as_str()).bind(id.as_str()).bind(name.as_str()).bind(parent.as_ref().map(|p| p.as_str())).bind(cx.at).bind(cx.at)).await?;
        }
        E::Renamed { id, name } => {
            run(
                conn,
                sqlx::query("UPDATE categories SET name = ?, updated_at = ? WHERE id = ?")
                    .bind(name.as_str())
                    .bind(cx.at)
                    .bind(id.as_str()),
            )
            .await?;
        }
        E::Moved { id, to, .. } => {
            run(
                conn,
                sqlx::query("UPDATE categories SET parent_id = ?, updated_at = ? WHERE id = ?")
                    .bind(to.as_ref().map(|p| p.as_str()))
                    .bind(cx.at)
                    .bind(id.as_str()),
            )
            .await?;
        }
        E::Deleted { id, .. } => {
            // The items were moved in the same commit; an item filed here meanwhile refuses the delete.
            let still_filed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM item_categories WHERE category_id = ?")
                .bind(id.as_str())
                .fetch_one(&mut *conn)
                .await
                .map_err(database)?;
            if still_filed > 0 {
                return Err(StoreError::Rejected(format!("category {id} still holds {still_filed} items")));
            }
            run(conn, sqlx::query("DELETE FROM categories WHERE id = ?").bind(id.as_str())).await?;
        }
    }
    Ok(())
}

pub(crate) fn template_columns(definition: &TemplateDefinition) -> (String, Option<&str>, String) {
    let body: String = definition.body.clone().into();
    (
        body,
        definition.default_category.as_ref().map(|c| c.as_str()),
        json_list(definition.default_tags.iter().map(|t| t.as_str())),
    )
}

async fn template(conn: &mut SqliteConnection, cx: &Context<'_>, event: &TemplateEvent) -> Result<(), StoreError> {
    match event {
        TemplateEvent::Created { id, org, definition } => {
            let (body, category, tags) = template_columns(definition);
            run(
                conn,
                sqlx::query(
                    "INSERT INTO templates (org_id, id, name, body, default_kind, default_category_id, default_tags, \
                 stream_version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(org.as_str())
                .bind(id.as_str())
                .bind(definition.name.as_str())
                .bind(body)
                .bind(definition.default_kind.as_str())
                .bind(category)
                .bind(tags)
                .bind(cx.stream_version)
                .bind(cx.at)
                .bind(cx.at),
            )
            .await?;
        }
        TemplateEvent::Updated { definition } => {
            let (body, category, tags) = template_columns(definition);
            run(conn, sqlx::query(
                "UPDATE templates SET name = ?, body = ?, default_kind = ?, default_category_id = ?, default_tags = ?, \
                 stream_version = ?, updated_at = ? WHERE id = ?",
            ).bind(definition.name.as_str()).bind(body).bind(definition.default_kind.as_str()).bind(category).bind(tags)
                .bind(cx.stream_version).bind(cx.at).bind(cx.aggregate_id)).await?;
        }
        TemplateEvent::Deleted => {
            run(conn, sqlx::query("DELETE FROM templates WHERE id = ?").bind(cx.aggregate_id)).await?;
        }
    }
    Ok(())
}
