//! The dashboard: recently edited items, engagements by phase, the team's recent activity.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use application::Store;
use application::security::permissions::Permission;
use domain::engagement::EngagementPhase;
use store::read_model::{EngagementFilter, ItemFilter, PageRequest, SortKey};

use crate::AppState;
use crate::web::pages::items::ItemRow;
use crate::web::{Chrome, Page, WebError, label, render, when};

/// Engagements of one phase: how many, and the most recently changed few.
struct PhaseColumn {
    phase: String,
    label: String,
    total: u64,
    engagements: Vec<(String, String, String)>,
}

/// One event of the audit trail, as a line of activity.
struct Activity {
    what: String,
    object: String,
    link: Option<String>,
    actor: String,
    at: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Option<Chrome>,
    recent: Vec<ItemRow>,
    phases: Vec<PhaseColumn>,
    activity: Option<Vec<Activity>>,
    can_write: bool,
}

fn newest(limit: u32) -> PageRequest {
    PageRequest { sort: SortKey::UpdatedAt, descending: true, limit, after: None }
}

/// `GET /`.
pub async fn show<S: Store>(State(state): State<AppState<S>>, page: Page) -> Result<Response, WebError> {
    let ctx = page.ctx();
    let recent = if page.can(Permission::ReadItems) {
        state
            .app
            .list_items(ctx, ItemFilter::default(), &newest(8))
            .await?
            .rows
            .into_iter()
            .map(ItemRow::from)
            .collect()
    } else {
        Vec::new()
    };
    let mut phases = Vec::new();
    if page.can(Permission::ReadEngagements) {
        for phase in EngagementPhase::ALL {
            let filter = EngagementFilter { phase: Some(phase.as_str().to_owned()), ..EngagementFilter::default() };
            let found = state.app.list_engagements(ctx, filter, &newest(5)).await?;
            phases.push(PhaseColumn {
                phase: phase.as_str().to_owned(),
                label: label(phase.as_str()),
                total: found.total,
                engagements: found.rows.into_iter().map(|e| (e.id, e.name, e.client)).collect(),
            });
        }
    }
    let activity = if page.can(Permission::ReadAuditTrail) {
        let names = super::member_names(&state, &page).await?;
        let events = state.app.recent_events(ctx, 12).await?;
        let mut titles = std::collections::HashMap::new();
        for event in &events {
            if let Some((kind, id)) = object_of(&event.object)
                && !titles.contains_key(id)
            {
                let title = match kind {
                    "item" => state.app.get_item(ctx, id).await.ok().map(|i| i.title),
                    "engagement" => state.app.get_engagement(ctx, id).await.ok().map(|e| e.name),
                    _ => None,
                };
                titles.insert(id.to_owned(), title);
            }
        }
        Some(
            events
                .into_iter()
                .map(|event| {
                    let target = object_of(&event.object);
                    let title = target.and_then(|(_, id)| titles.get(id).cloned().flatten());
                    Activity {
                        what: describe(&event.event_type),
                        link: target.filter(|_| title.is_some()).map(|(kind, id)| format!("/{kind}s/{id}")),
                        object: title.unwrap_or_default(),
                        actor: event
                            .actor
                            .map(|id| names.get(&id).cloned().unwrap_or(id))
                            .unwrap_or_else(|| "The system".to_owned()),
                        at: when(event.recorded_at),
                    }
                })
                .collect(),
        )
    } else {
        None
    };
    Ok(render(&DashboardPage {
        chrome: Some(page.chrome("dashboard")),
        recent,
        phases,
        activity,
        can_write: page.can(Permission::WriteItems),
    }))
}

/// `item.status_changed` → `item status changed`.
fn describe(event_type: &str) -> String {
    event_type.replace(['.', '_'], " ")
}

/// The kind and id of a stream that has a page (`item-itm_...` → `("item", "itm_...")`).
fn object_of(stream: &str) -> Option<(&str, &str)> {
    stream.split_once('-').filter(|(kind, _)| matches!(*kind, "item" | "engagement"))
}
