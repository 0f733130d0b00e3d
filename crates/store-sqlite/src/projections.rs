//! Inline projections: each domain event updates the core read models inside the append's
//! transaction, so a client reads its own writes. Replay runs the same code over the log.
//! Times come from the event's `recorded_at`, so a replay rebuilds identical rows.

use rusqlite::{Connection, OptionalExtension, params};

use domain::DomainEvent;
use domain::category::CategoryEvent;
use domain::engagement::EngagementEvent;
use domain::item::{ItemContent, ItemEvent};
use domain::organization::OrganizationEvent;
use domain::template::{TemplateDefinition, TemplateEvent};
use domain::user::UserEvent;
use store::{RecordedEvent, StoreError};

use crate::error::{signed, sqlite};
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

/// Whether events of this type feed the read models.
pub(crate) fn is_projected(event_type: &str) -> bool {
    PROJECTED.iter().any(|prefix| event_type.starts_with(prefix))
}

/// Applies one recorded event to the read models.
pub(crate) fn project(conn: &Connection, event: &RecordedEvent) -> Result<(), StoreError> {
    if !is_projected(&event.event_type) {
        return Ok(());
    }
    let decoded = DomainEvent::decode(&event.event_type, event.schema_version, &event.payload)
        .map_err(|e| StoreError::Invalid(format!("event {}: {e}", event.event_type)))?;
    let aggregate_id = event.stream_id.as_str().split_once('-').map_or("", |(_, id)| id);
    let cx = Context { aggregate_id, stream_version: signed(event.stream_version)?, at: to_micros(event.recorded_at) };
    match &decoded {
        DomainEvent::Organization(e) => organization(conn, &cx, e),
        DomainEvent::User(e) => user(conn, &cx, e),
        DomainEvent::Engagement(e) => engagement(conn, &cx, e),
        DomainEvent::Item(e) => item(conn, &cx, e),
        DomainEvent::Category(e) => category(conn, &cx, e),
        DomainEvent::Template(e) => template(conn, &cx, e),
    }
}

/// Runs one statement through the connection's cache of prepared statements.
fn run(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<usize, StoreError> {
    conn.prepare_cached(sql).and_then(|mut statement| statement.execute(params)).map_err(sqlite)
}

fn organization(conn: &Connection, cx: &Context<'_>, event: &OrganizationEvent) -> Result<(), StoreError> {
    use OrganizationEvent as E;
    let org = cx.aggregate_id;
    match event {
        E::Created { id, name, owner } => {
            run(
                conn,
                "INSERT INTO organizations (id, name, ai_monthly_budget_cents, retention_days, deletion_scheduled_for, \
                 stream_version, created_at, updated_at) VALUES (?, ?, NULL, NULL, NULL, ?, ?, ?)",
                params![id.as_str(), name.as_str(), cx.stream_version, cx.at, cx.at],
            )?;
            run(
                conn,
                "INSERT INTO memberships (org_id, user_id, role, created_at, updated_at) VALUES (?, ?, 'owner', ?, ?)",
                params![id.as_str(), owner.as_str(), cx.at, cx.at],
            )?;
            return Ok(());
        }
        E::Renamed { name } => {
            run(conn, "UPDATE organizations SET name = ? WHERE id = ?", params![name.as_str(), org])?;
        }
        E::SettingsChanged { settings } => {
            let budget = settings.ai_monthly_budget_cents.map(signed).transpose()?;
            run(
                conn,
                "UPDATE organizations SET ai_monthly_budget_cents = ?, retention_days = ?, ai_store_transcripts = ? \
                 WHERE id = ?",
                params![budget, settings.retention_days.map(i64::from), settings.ai_store_transcripts, org],
            )?;
        }
        E::DeletionScheduled { effective_at } => {
            run(
                conn,
                "UPDATE organizations SET deletion_scheduled_for = ? WHERE id = ?",
                params![to_micros(*effective_at), org],
            )?;
        }
        E::DeletionCancelled => {
            run(conn, "UPDATE organizations SET deletion_scheduled_for = NULL WHERE id = ?", params![org])?;
        }
        E::MemberAdded { user, role } => {
            run(
                conn,
                "INSERT INTO memberships (org_id, user_id, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                params![org, user.as_str(), role.as_str(), cx.at, cx.at],
            )?;
        }
        E::MemberRoleChanged { user, role } => {
            run(
                conn,
                "UPDATE memberships SET role = ?, updated_at = ? WHERE org_id = ? AND user_id = ?",
                params![role.as_str(), cx.at, org, user.as_str()],
            )?;
        }
        E::MemberRemoved { user } => {
            run(conn, "DELETE FROM memberships WHERE org_id = ? AND user_id = ?", params![org, user.as_str()])?;
        }
    }
    run(
        conn,
        "UPDATE organizations SET stream_version = ?, updated_at = ? WHERE id = ?",
        params![cx.stream_version, cx.at, org],
    )?;
    Ok(())
}

fn user(conn: &Connection, cx: &Context<'_>, event: &UserEvent) -> Result<(), StoreError> {
    match event {
        UserEvent::Registered { id, email, display_name } => {
            run(
                conn,
                "INSERT INTO users (id, email, display_name, stream_version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                params![id.as_str(), email.as_str(), display_name.as_str(), cx.stream_version, cx.at, cx.at],
            )?;
        }
        UserEvent::Renamed { display_name } => {
            run(
                conn,
                "UPDATE users SET display_name = ?, stream_version = ?, updated_at = ? WHERE id = ?",
                params![display_name.as_str(), cx.stream_version, cx.at, cx.aggregate_id],
            )?;
        }
    }
    Ok(())
}

fn engagement(conn: &Connection, cx: &Context<'_>, event: &EngagementEvent) -> Result<(), StoreError> {
    use EngagementEvent as E;
    let id = cx.aggregate_id;
    match event {
        E::Created { id, org, name, client, description, nda_required } => {
            run(
                conn,
                "INSERT INTO engagements (org_id, id, name, client, description, nda_required, phase, held_from, \
                 stream_version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'discovery', NULL, ?, ?, ?)",
                params![
                    org.as_str(),
                    id.as_str(),
                    name.as_str(),
                    client.as_str(),
                    description.as_str(),
                    *nda_required,
                    cx.stream_version,
                    cx.at,
                    cx.at
                ],
            )?;
            return Ok(());
        }
        E::DetailsUpdated { name, client, description, nda_required } => {
            run(
                conn,
                "UPDATE engagements SET name = ?, client = ?, description = ?, nda_required = ? WHERE id = ?",
                params![name.as_str(), client.as_str(), description.as_str(), *nda_required, id],
            )?;
        }
        E::PhaseChanged { from, to } => {
            let held_from = (*to == domain::engagement::EngagementPhase::OnHold).then_some(from.as_str());
            run(
                conn,
                "UPDATE engagements SET phase = ?, held_from = ? WHERE id = ?",
                params![to.as_str(), held_from, id],
            )?;
        }
        E::MemberAdded { user } => {
            run(
                conn,
                "INSERT INTO engagement_members (org_id, engagement_id, user_id, added_at) \
                 SELECT org_id, id, ?, ? FROM engagements WHERE id = ?",
                params![user.as_str(), cx.at, id],
            )?;
        }
        E::MemberRemoved { user } => {
            run(
                conn,
                "DELETE FROM engagement_members WHERE engagement_id = ? AND user_id = ?",
                params![id, user.as_str()],
            )?;
        }
        E::Deleted => {
            run(conn, "DELETE FROM engagement_members WHERE engagement_id = ?", params![id])?;
            run(conn, "DELETE FROM engagements WHERE id = ?", params![id])?;
            return Ok(());
        }
    }
    run(
        conn,
        "UPDATE engagements SET stream_version = ?, updated_at = ? WHERE id = ?",
        params![cx.stream_version, cx.at, id],
    )?;
    Ok(())
}

pub(crate) fn json_list<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    serde_json::Value::from(values.into_iter().collect::<Vec<_>>()).to_string()
}

pub(crate) fn content_columns(content: &ItemContent) -> (String, String, String) {
    (
        json_list(content.categories.iter().map(|c| c.as_str())),
        json_list(content.tags.iter().map(|t| t.as_str())),
        content.metadata.to_json(),
    )
}

/// Adds `delta` to the count of each tag, dropping tags that reach zero.
fn count_tags(conn: &Connection, org: &str, tags: &[String], delta: i64) -> Result<(), StoreError> {
    for tag in tags {
        run(
            conn,
            "INSERT INTO tags (org_id, tag, item_count) VALUES (?, ?, ?) \
             ON CONFLICT (org_id, tag) DO UPDATE SET item_count = item_count + excluded.item_count",
            params![org, tag.as_str(), delta],
        )?;
    }
    if delta < 0 {
        run(conn, "DELETE FROM tags WHERE org_id = ? AND item_count <= 0", params![org])?;
    }
    Ok(())
}

/// The projected item's organization, tags and whether it sits in the trash.
fn item_row(conn: &Connection, id: &str) -> Result<(String, Vec<String>, bool), StoreError> {
    let row: Option<(String, String, Option<i64>)> = conn
        .prepare_cached("SELECT org_id, tags, trashed_at FROM items WHERE id = ?")
        .and_then(|mut statement| statement.query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional())
        .map_err(sqlite)?;
    let (org, tags, trashed) =
        row.ok_or_else(|| StoreError::Corrupt(format!("item {id} has events but no read-model row")))?;
    let tags: Vec<String> =
        serde_json::from_str(&tags).map_err(|e| StoreError::Corrupt(format!("item {id} tags: {e}")))?;
    Ok((org, tags, trashed.is_some()))
}

fn file_in_categories(conn: &Connection, org: &str, id: &str, content: &ItemContent) -> Result<(), StoreError> {
    run(conn, "DELETE FROM item_categories WHERE item_id = ?", params![id])?;
    for category in &content.categories {
        run(
            conn,
            "INSERT INTO item_categories (org_id, item_id, category_id) VALUES (?, ?, ?)",
            params![org, id, category.as_str()],
        )?;
    }
    Ok(())
}

#[expect(clippy::too_many_arguments, reason = "one argument per column of an item version row")]
fn insert_version(
    conn: &Connection,
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
        "INSERT INTO item_versions (org_id, item_id, version, title, body, categories, tags, metadata, author_id, \
         restored_from, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![
            org,
            id,
            i64::from(version),
            content.title.as_str(),
            content.body.as_str(),
            categories,
            tags,
            metadata,
            author,
            restored_from.map(i64::from),
            at
        ],
    )?;
    Ok(())
}

fn item(conn: &Connection, cx: &Context<'_>, event: &ItemEvent) -> Result<(), StoreError> {
    use ItemEvent as E;
    let id = cx.aggregate_id;
    match event {
        E::Created { id, org, author, kind, engagement, content, supersedes } => {
            let (categories, tags, metadata) = content_columns(content);
            run(
                conn,
                "INSERT INTO items (org_id, id, kind, engagement_id, author_id, title, body, categories, tags, metadata, \
                 status, version, supersedes, superseded_by, trashed_at, stream_version, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'draft', 1, ?, NULL, NULL, ?, ?, ?)",
                params![
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
                ],
            )?;
            insert_version(conn, org.as_str(), id.as_str(), 1, content, author.as_str(), None, cx.at)?;
            file_in_categories(conn, org.as_str(), id.as_str(), content)?;
            let tags: Vec<String> = content.tags.iter().map(|t| t.as_str().to_owned()).collect();
            return count_tags(conn, org.as_str(), &tags, 1);
        }
        E::Edited { version, content, author } | E::VersionRestored { version, content, author, .. } => {
            let restored_from = match event {
                E::VersionRestored { restored_from, .. } => Some(*restored_from),
                _ => None,
            };
            let (org, old_tags, trashed) = item_row(conn, id)?;
            let (categories, tags, metadata) = content_columns(content);
            run(
                conn,
                "UPDATE items SET title = ?, body = ?, categories = ?, tags = ?, metadata = ?, version = ? WHERE id = ?",
                params![
                    content.title.as_str(),
                    content.body.as_str(),
                    categories,
                    tags,
                    metadata,
                    i64::from(*version),
                    id
                ],
            )?;
            insert_version(conn, &org, id, *version, content, author.as_str(), restored_from, cx.at)?;
            file_in_categories(conn, &org, id, content)?;
            if !trashed {
                let new_tags: Vec<String> = content.tags.iter().map(|t| t.as_str().to_owned()).collect();
                let removed: Vec<String> = old_tags.iter().filter(|t| !new_tags.contains(t)).cloned().collect();
                let added: Vec<String> = new_tags.iter().filter(|t| !old_tags.contains(t)).cloned().collect();
                count_tags(conn, &org, &added, 1)?;
                count_tags(conn, &org, &removed, -1)?;
            }
        }
        E::StatusChanged { to, .. } => {
            run(conn, "UPDATE items SET status = ? WHERE id = ?", params![to.as_str(), id])?;
        }
        E::Superseded { by } => {
            run(
                conn,
                "UPDATE items SET status = 'superseded', superseded_by = ? WHERE id = ?",
                params![by.as_str(), id],
            )?;
        }
        E::Trashed { at } => {
            let (org, tags, _) = item_row(conn, id)?;
            run(conn, "UPDATE items SET trashed_at = ? WHERE id = ?", params![to_micros(*at), id])?;
            count_tags(conn, &org, &tags, -1)?;
        }
        E::RestoredFromTrash => {
            let (org, tags, _) = item_row(conn, id)?;
            run(conn, "UPDATE items SET trashed_at = NULL WHERE id = ?", params![id])?;
            count_tags(conn, &org, &tags, 1)?;
        }
        E::Purged => {
            for table_sql in [
                "DELETE FROM item_categories WHERE item_id = ?",
                "DELETE FROM item_versions WHERE item_id = ?",
                "DELETE FROM items WHERE id = ?",
            ] {
                run(conn, table_sql, params![id])?;
            }
            return Ok(());
        }
    }
    run(
        conn,
        "UPDATE items SET stream_version = ?, updated_at = ? WHERE id = ?",
        params![cx.stream_version, cx.at, id],
    )?;
    Ok(())
}

fn category(conn: &Connection, cx: &Context<'_>, event: &CategoryEvent) -> Result<(), StoreError> {
    use CategoryEvent as E;
    match event {
        E::Created { org, id, name, parent } => {
            run(
                conn,
                "INSERT INTO categories (org_id, id, name, parent_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                params![org.as_str(), id.as_str(), name.as_str(), parent.as_ref().map(|p| p.as_str()), cx.at, cx.at],
            )?;
        }
        E::Renamed { id, name } => {
            run(
                conn,
                "UPDATE categories SET name = ?, updated_at = ? WHERE id = ?",
                params![name.as_str(), cx.at, id.as_str()],
            )?;
        }
        E::Moved { id, to, .. } => {
            run(
                conn,
                "UPDATE categories SET parent_id = ?, updated_at = ? WHERE id = ?",
                params![to.as_ref().map(|p| p.as_str()), cx.at, id.as_str()],
            )?;
        }
        E::Deleted { id, .. } => {
            // The items were moved in the same commit; an item filed here meanwhile refuses the delete.
            let still_filed: i64 = conn
                .prepare_cached("SELECT COUNT(*) FROM item_categories WHERE category_id = ?")
                .and_then(|mut statement| statement.query_row([id.as_str()], |r| r.get(0)))
                .map_err(sqlite)?;
            if still_filed > 0 {
                return Err(StoreError::Rejected(format!("category {id} still holds {still_filed} items")));
            }
            run(conn, "DELETE FROM categories WHERE id = ?", params![id.as_str()])?;
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

fn template(conn: &Connection, cx: &Context<'_>, event: &TemplateEvent) -> Result<(), StoreError> {
    match event {
        TemplateEvent::Created { id, org, definition } => {
            let (body, category, tags) = template_columns(definition);
            run(
                conn,
                "INSERT INTO templates (org_id, id, name, body, default_kind, default_category_id, default_tags, \
                 stream_version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                params![
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
                ],
            )?;
        }
        TemplateEvent::Updated { definition } => {
            let (body, category, tags) = template_columns(definition);
            run(
                conn,
                "UPDATE templates SET name = ?, body = ?, default_kind = ?, default_category_id = ?, default_tags = ?, \
                 stream_version = ?, updated_at = ? WHERE id = ?",
                params![
                    definition.name.as_str(),
                    body,
                    definition.default_kind.as_str(),
                    category,
                    tags,
                    cx.stream_version,
                    cx.at,
                    cx.aggregate_id
                ],
            )?;
        }
        TemplateEvent::Deleted => {
            run(conn, "DELETE FROM templates WHERE id = ?", params![cx.aggregate_id])?;
        }
    }
    Ok(())
}
