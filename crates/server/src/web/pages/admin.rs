//! Administration: members and roles, API keys (the secret shown once), the caller's sessions
//! with revoke, and the audit trail. The same permission table and owner rule as the API.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use application::commands::create_api_key::CreateApiKey;
use application::security::permissions::Permission;
use application::{Credential, Store};
use domain::role::Role;

use super::form;
use crate::AppState;
use crate::web::{Chrome, FieldErrors, Page, WebError, label, render, render_with, see_other, when};

/// Events per page of the audit trail.
const AUDIT_PAGE: u32 = 50;

struct MemberRow {
    user_id: String,
    name: String,
    email: String,
    role: String,
    is_me: bool,
}

struct KeyRow {
    id: String,
    name: String,
    role: String,
    prefix: String,
    created: String,
    last_used: String,
}

struct SessionRow {
    id: String,
    agent: String,
    created: String,
    last_used: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    chrome: Option<Chrome>,
    members: Vec<MemberRow>,
    roles: Vec<(String, String)>,
    keys: Vec<KeyRow>,
    sessions: Vec<SessionRow>,
    can_manage_members: bool,
    can_manage_keys: bool,
    can_read_audit: bool,
    can_read_ai_usage: bool,
    /// A key just created: its name and secret, shown this once.
    new_key: Option<(String, String)>,
    errors: FieldErrors,
    new_member_email: String,
}

fn roles() -> Vec<(String, String)> {
    Role::ALL.iter().map(|r| (r.as_str().to_owned(), label(r.as_str()))).collect()
}

/// `GET /admin`.
pub async fn show<S: Store>(State(state): State<AppState<S>>, page: Page) -> Result<Response, WebError> {
    admin_page(&state, &page, None, FieldErrors::default(), String::new(), axum::http::StatusCode::OK).await
}

async fn admin_page<S: Store>(
    state: &AppState<S>,
    page: &Page,
    new_key: Option<(String, String)>,
    errors: FieldErrors,
    new_member_email: String,
    status: axum::http::StatusCode,
) -> Result<Response, WebError> {
    let ctx = page.ctx();
    let me = ctx.actor.as_str();
    let members = if page.can(Permission::ReadMembers) {
        state
            .app
            .list_members_with_users(ctx)
            .await?
            .into_iter()
            .map(|(member, user)| MemberRow {
                is_me: member.user_id == me,
                name: user.as_ref().map(|u| u.display_name.clone()).unwrap_or_default(),
                email: user.map(|u| u.email).unwrap_or_default(),
                user_id: member.user_id,
                role: member.role,
            })
            .collect()
    } else {
        Vec::new()
    };
    let can_manage_keys = page.can(Permission::ManageApiKeys);
    let keys = if can_manage_keys {
        state
            .app
            .list_api_keys(&page.principal)
            .await?
            .into_iter()
            .filter(|k| k.revoked_at.is_none())
            .map(|k| KeyRow {
                id: k.id,
                name: k.name,
                role: label(&k.role),
                prefix: k.prefix,
                created: when(k.created_at),
                last_used: k.last_used_at.map(when).unwrap_or_else(|| "never".to_owned()),
            })
            .collect()
    } else {
        Vec::new()
    };
    let current = match &page.principal.credential {
        Credential::Session { session_id } => Some(session_id.as_str()),
        Credential::ApiKey { .. } => None,
    };
    let now = state.app.now();
    let sessions = state
        .app
        .list_sessions(&page.principal)
        .await?
        .into_iter()
        .filter(|s| s.revoked_at.is_none() && s.expires_at > now && s.org_id == ctx.org.as_str())
        .map(|s| SessionRow {
            current: current == Some(s.id.as_str()),
            agent: s.user_agent.unwrap_or_else(|| "unknown client".to_owned()),
            created: when(s.created_at),
            last_used: when(s.last_used_at),
            id: s.id,
        })
        .collect();
    Ok(render_with(
        status,
        &AdminPage {
            chrome: Some(page.chrome("admin")),
            members,
            roles: roles(),
            keys,
            sessions,
            can_manage_members: page.can(Permission::ManageMembers),
            can_manage_keys,
            can_read_audit: page.can(Permission::ReadAuditTrail),
            can_read_ai_usage: page.can(Permission::ReadAiUsage),
            new_key,
            errors,
            new_member_email,
        },
    ))
}

#[derive(Debug, Deserialize)]
struct AddMemberForm {
    #[serde(default)]
    email: String,
    role: Role,
}

/// `POST /admin/members`: adds an existing user by email.
pub async fn add_member<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    body: Bytes,
) -> Result<Response, WebError> {
    page.require(Permission::ManageMembers)?;
    let input: AddMemberForm = form(&body)?;
    let added = match state.app.find_user_by_email(input.email.trim()).await {
        Ok(user) => state.app.add_member(page.ctx(), &user.id, input.role).await.map(|_| ()),
        Err(error) => Err(error),
    };
    match added {
        Ok(()) => Ok(see_other("/admin")),
        Err(application::AppError::NotFound(_)) => {
            let mut errors = FieldErrors::default();
            errors.push("email", "belongs to no user; they need to sign up first");
            admin_page(&state, &page, None, errors, input.email, axum::http::StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(error) => {
            let errors = FieldErrors::from_app_error(error, &[("email", "email")])?;
            admin_page(&state, &page, None, errors, input.email, axum::http::StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Debug, Deserialize)]
struct RoleForm {
    role: Role,
}

/// `POST /admin/members/{user_id}/role`.
pub async fn change_role<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    Path(user_id): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    page.require(Permission::ManageMembers)?;
    let input: RoleForm = form(&body)?;
    let ctx = page.ctx();
    state.app.change_member_role(ctx, &user_id, input.role).await?;
    Ok(see_other("/admin"))
}

/// `POST /admin/members/{user_id}/remove`.
pub async fn remove_member<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    Path(user_id): Path<String>,
) -> Result<Response, WebError> {
    page.require(Permission::ManageMembers)?;
    let ctx = page.ctx();
    state.app.remove_member(ctx, &user_id).await?;
    Ok(see_other("/admin"))
}

#[derive(Debug, Deserialize)]
struct KeyForm {
    #[serde(default)]
    name: String,
    role: Role,
}

/// `POST /admin/api-keys`: creates a key and shows its secret on this one page.
pub async fn create_key<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    body: Bytes,
) -> Result<Response, WebError> {
    page.require(Permission::ManageApiKeys)?;
    let input: KeyForm = form(&body)?;
    match state.app.create_api_key(&page.principal, CreateApiKey { name: input.name, role: input.role }).await {
        Ok(created) => {
            let shown = Some((created.key.name, created.secret));
            admin_page(&state, &page, shown, FieldErrors::default(), String::new(), axum::http::StatusCode::CREATED)
                .await
        }
        Err(error) => {
            let errors = FieldErrors::from_app_error(error, &[("name", "key_name")])?;
            admin_page(&state, &page, None, errors, String::new(), axum::http::StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// `POST /admin/api-keys/{id}/revoke`.
pub async fn revoke_key<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    page.require(Permission::ManageApiKeys)?;
    state.app.revoke_api_key(&page.principal, &id).await?;
    Ok(see_other("/admin"))
}

/// `POST /admin/sessions/{id}/revoke`: signs that session out (this one too, if chosen).
pub async fn revoke_session<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    state.app.revoke_session(&page.principal, &id).await?;
    Ok(see_other("/admin"))
}

struct AuditRow {
    position: u64,
    what: String,
    object: String,
    actor: String,
    at: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Option<Chrome>,
    rows: Vec<AuditRow>,
    next: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    after: Option<u64>,
}

/// `GET /admin/audit?after=`: the organization's event log, oldest first, a page at a time.
pub async fn audit<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    Query(query): Query<AuditQuery>,
) -> Result<Response, WebError> {
    page.require(Permission::ReadAuditTrail)?;
    let ctx = page.ctx();
    let entries = state.app.list_events(ctx, query.after.unwrap_or(0), AUDIT_PAGE).await?;
    let names = super::member_names(&state, &page).await?;
    let next = (entries.len() == AUDIT_PAGE as usize).then(|| entries.last().map(|e| e.position)).flatten();
    Ok(render(&AuditPage {
        chrome: Some(page.chrome("admin")),
        rows: entries
            .into_iter()
            .map(|e| AuditRow {
                position: e.position,
                what: e.event_type,
                object: e.object,
                actor: e.actor.map(|id| names.get(&id).cloned().unwrap_or(id)).unwrap_or_else(|| "system".to_owned()),
                at: when(e.recorded_at),
            })
            .collect(),
        next,
    }))
}
