//! Engagements: the list with its phase filter, the form to open one, and its page (phase with
//! the allowed transitions, members, items).

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use application::Store;
use application::commands::create_engagement::EngagementDetails;
use application::security::permissions::Permission;
use domain::engagement::EngagementPhase;
use store::read_model::{EngagementFilter, ItemFilter};

use super::{filled, form};
use crate::AppState;
use crate::pagination::{encode_keyset, page_request};
use crate::web::pages::items::ItemRow;
use crate::web::{Chrome, FieldErrors, Page, WebError, label, render, render_with, see_other, when};

struct EngagementRow {
    id: String,
    name: String,
    client: String,
    phase: String,
    phase_label: String,
    updated: String,
}

#[derive(Template)]
#[template(path = "engagements.html")]
struct ListPage {
    chrome: Option<Chrome>,
    rows: Vec<EngagementRow>,
    total: u64,
    phase: String,
    phases: Vec<(String, String)>,
    next: Option<String>,
    can_write: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    phase: Option<String>,
    cursor: Option<String>,
}

fn phase_options() -> Vec<(String, String)> {
    EngagementPhase::ALL.iter().map(|p| (p.as_str().to_owned(), label(p.as_str()))).collect()
}

/// `GET /engagements`.
pub async fn list<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    Query(query): Query<ListQuery>,
) -> Result<Response, WebError> {
    page.require(Permission::ReadEngagements)?;
    let phase = filled(query.phase);
    if let Some(phase) = &phase
        && !EngagementPhase::ALL.iter().any(|p| p.as_str() == phase)
    {
        return Err(WebError::BadRequest(format!("There is no phase called {phase:?}.")));
    }
    let request = page_request(Some(50), filled(query.cursor).as_deref(), None)?;
    let filter = EngagementFilter { phase: phase.clone(), ..EngagementFilter::default() };
    let found = state.app.list_engagements(page.ctx(), filter, &request).await?;
    let next = found.next.map(|k| {
        let cursor = encode_keyset(&k, &request);
        match &phase {
            Some(p) => format!("/engagements?phase={p}&cursor={cursor}"),
            None => format!("/engagements?cursor={cursor}"),
        }
    });
    Ok(render(&ListPage {
        chrome: Some(page.chrome("engagements")),
        rows: found
            .rows
            .into_iter()
            .map(|e| EngagementRow {
                phase_label: label(&e.phase),
                id: e.id,
                name: e.name,
                client: e.client,
                phase: e.phase,
                updated: when(e.updated_at),
            })
            .collect(),
        total: found.total,
        phase: phase.unwrap_or_default(),
        phases: phase_options(),
        next,
        can_write: page.can(Permission::WriteEngagements),
    }))
}

#[derive(Debug, Default, Deserialize)]
struct EngagementForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    client: String,
    #[serde(default)]
    description: String,
    nda_required: Option<String>,
}

#[derive(Template)]
#[template(path = "engagement_form.html")]
struct FormPage {
    chrome: Option<Chrome>,
    form: EngagementForm,
    errors: FieldErrors,
}

/// `GET /engagements/new`.
pub async fn new_form(page: Page) -> Result<Response, WebError> {
    page.require(Permission::WriteEngagements)?;
    Ok(render(&FormPage {
        chrome: Some(page.chrome("engagements")),
        form: EngagementForm::default(),
        errors: FieldErrors::default(),
    }))
}

/// `POST /engagements`.
pub async fn create<S: Store>(State(state): State<AppState<S>>, page: Page, body: Bytes) -> Result<Response, WebError> {
    page.require(Permission::WriteEngagements)?;
    let input: EngagementForm = form(&body)?;
    let mut errors = FieldErrors::default();
    for (field, value) in [("name", &input.name), ("client", &input.client)] {
        if let Err(domain::DomainError::Validation { message, .. }) = domain::text::Name::parse(value) {
            errors.push(field, message);
        }
    }
    if errors.is_empty() {
        let details = EngagementDetails {
            name: input.name.clone(),
            client: input.client.clone(),
            description: input.description.clone(),
            nda_required: input.nda_required.is_some(),
        };
        match state.app.create_engagement(page.ctx(), details).await {
            Ok(created) => return Ok(see_other(&format!("/engagements/{}", created.id))),
            Err(error) => errors = FieldErrors::from_app_error(error, &[("description", "description")])?,
        }
    }
    Ok(render_with(
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        &FormPage { chrome: Some(page.chrome("engagements")), form: input, errors },
    ))
}

#[derive(Template)]
#[template(path = "engagement.html")]
struct ShowPage {
    chrome: Option<Chrome>,
    id: String,
    name: String,
    client: String,
    description: String,
    nda_required: bool,
    phase: String,
    transitions: Vec<(String, String)>,
    /// (user id, name).
    members: Vec<(String, String)>,
    /// Members of the organization who are not on the engagement: (user id, name and role).
    candidates: Vec<(String, String)>,
    can_write: bool,
    items: Vec<ItemRow>,
    items_total: u64,
    can_write_items: bool,
}

/// `GET /engagements/{id}`.
pub async fn show<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    page.require(Permission::ReadEngagements)?;
    let ctx = page.ctx();
    let engagement = state.app.get_engagement(ctx, &id).await?;
    let transitions = state
        .app
        .engagement_transitions(ctx, &id)
        .await?
        .into_iter()
        .map(|p| (p.as_str().to_owned(), label(p.as_str())))
        .collect();
    let users =
        if page.can(Permission::ReadMembers) { state.app.list_members_with_users(ctx).await? } else { Vec::new() };
    let name_of = |id: &str| {
        users
            .iter()
            .find(|(m, _)| m.user_id == id)
            .and_then(|(_, user)| user.as_ref().map(|u| u.display_name.clone()))
            .unwrap_or_else(|| id.to_owned())
    };
    let members = engagement.members.iter().map(|id| (id.clone(), name_of(id))).collect();
    let can_write = page.can(Permission::WriteEngagements);
    let candidates = users
        .iter()
        .filter(|(m, _)| can_write && !engagement.members.contains(&m.user_id))
        .map(|(m, user)| {
            let name = user.as_ref().map_or(m.user_id.as_str(), |u| u.display_name.as_str());
            (m.user_id.clone(), format!("{name} ({})", m.role))
        })
        .collect();
    let (items, items_total) = if page.can(Permission::ReadItems) {
        let filter = ItemFilter { engagement: Some(id.clone()), ..ItemFilter::default() };
        let found = state.app.list_items(ctx, filter, &page_request(Some(50), None, None)?).await?;
        (found.rows.into_iter().map(ItemRow::from).collect(), found.total)
    } else {
        (Vec::new(), 0)
    };
    Ok(render(&ShowPage {
        chrome: Some(page.chrome("engagements")),
        phase: label(&engagement.phase),
        id: engagement.id,
        name: engagement.name,
        client: engagement.client,
        description: engagement.description,
        nda_required: engagement.nda_required,
        transitions,
        members,
        candidates,
        can_write,
        items,
        items_total,
        can_write_items: page.can(Permission::WriteItems),
    }))
}

#[derive(Debug, Deserialize)]
struct TransitionForm {
    to: EngagementPhase,
}

/// `POST /engagements/{id}/transitions`.
pub async fn transition<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    page.require(Permission::WriteEngagements)?;
    let input: TransitionForm = form(&body)?;
    state.app.get_engagement(page.ctx(), &id).await?;
    state.app.transition_engagement(page.ctx(), &id, input.to).await?;
    Ok(see_other(&format!("/engagements/{id}")))
}

#[derive(Debug, Deserialize)]
struct MemberForm {
    user_id: String,
}

/// `POST /engagements/{id}/members`: puts a member of the organization on the engagement (a
/// guest then sees it and its items).
pub async fn add_member<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    page.require(Permission::WriteEngagements)?;
    let input: MemberForm = form(&body)?;
    state.app.get_engagement(page.ctx(), &id).await?;
    state.app.member_role(page.ctx(), &input.user_id).await?;
    state.app.add_engagement_member(page.ctx(), &id, &input.user_id).await?;
    Ok(see_other(&format!("/engagements/{id}")))
}

/// `POST /engagements/{id}/members/{user_id}/remove`.
pub async fn remove_member<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<Response, WebError> {
    page.require(Permission::WriteEngagements)?;
    state.app.get_engagement(page.ctx(), &id).await?;
    state.app.remove_engagement_member(page.ctx(), &id, &user_id).await?;
    Ok(see_other(&format!("/engagements/{id}")))
}
