//! A seeded random history: many commands of every kind over a few organizations, driven
//! through the application layer so that every projection sees realistic event sequences.
//! Refused commands (illegal transitions, conflicts) are part of the mix and are counted.

use std::collections::BTreeMap;

use application::commands::create_engagement::EngagementDetails;
use application::commands::create_item::{CreateItem, ItemDraft};
use application::commands::create_template::TemplateInput;
use application::commands::instantiate_template::InstantiateTemplate;
use application::{App, AppError, Store, TenantContext};
use domain::engagement::EngagementPhase;
use domain::item::{ItemKind, ItemStatus};
use domain::organization::OrganizationSettings;
use domain::role::Role;

/// What a history run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HistoryStats {
    pub accepted: u64,
    pub refused: u64,
    /// Every item created, with the index of its tenant.
    pub items: Vec<(usize, String)>,
}

/// Ids created so far in one organization, to aim later commands at.
#[derive(Debug, Default)]
struct Known {
    items: Vec<String>,
    engagements: Vec<String>,
    categories: Vec<String>,
    templates: Vec<String>,
}

const TAGS: [&str; 8] = ["strategy", "pricing", "risk", "retail", "ops", "finance", "people", "data"];

fn pick<'a>(rng: &mut fastrand::Rng, list: &'a [String]) -> Option<&'a String> {
    if list.is_empty() { None } else { Some(&list[rng.usize(..list.len())]) }
}

fn draft(rng: &mut fastrand::Rng, known: &Known) -> ItemDraft {
    let tags = (0..rng.usize(0..4)).map(|_| TAGS[rng.usize(..TAGS.len())].to_owned()).collect();
    let categories = pick(rng, &known.categories).into_iter().cloned().collect();
    ItemDraft {
        title: format!("Note {}", rng.u32(..1_000_000)),
        body: format!("Body {} with some words about {}", rng.u64(..), TAGS[rng.usize(..TAGS.len())]),
        categories,
        tags,
        metadata: Some(serde_json::json!({ "source": "history", "n": rng.u32(..100) })),
    }
}

/// Runs `commands` random commands against the given tenants with a fixed seed.
pub async fn run<S: Store>(app: &App<S>, tenants: &[TenantContext], seed: u64, commands: usize) -> HistoryStats {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut known: Vec<Known> = tenants.iter().map(|_| Known::default()).collect();
    let mut stats = HistoryStats::default();
    for _ in 0..commands {
        let t = rng.usize(..tenants.len());
        let outcome = step(app, &tenants[t], &mut known[t], &mut rng).await;
        match outcome {
            Ok(()) => stats.accepted += 1,
            Err(AppError::Store(error)) => panic!("storage failed during the history: {error}"),
            Err(_) => stats.refused += 1,
        }
    }
    for (t, tenant_known) in known.iter().enumerate() {
        stats.items.extend(tenant_known.items.iter().map(|id| (t, id.clone())));
    }
    stats
}

async fn step<S: Store>(
    app: &App<S>,
    ctx: &TenantContext,
    known: &mut Known,
    rng: &mut fastrand::Rng,
) -> Result<(), AppError> {
    match rng.u8(..20) {
        0..=4 => {
            let kind = ItemKind::ALL[rng.usize(..ItemKind::ALL.len())];
            let engagement = if rng.bool() { pick(rng, &known.engagements).cloned() } else { None };
            let supersedes =
                if kind == ItemKind::Deliverable && rng.bool() { pick(rng, &known.items).cloned() } else { None };
            let created =
                app.create_item(ctx, CreateItem { kind, engagement, draft: draft(rng, known), supersedes }).await?;
            known.items.push(created.id);
        }
        5..=7 => {
            let Some(id) = pick(rng, &known.items).cloned() else { return Ok(()) };
            app.edit_item(ctx, &id, draft(rng, known), None).await?;
        }
        8..=10 => {
            let Some(id) = pick(rng, &known.items).cloned() else { return Ok(()) };
            let to = ItemStatus::ALL[rng.usize(..4)];
            app.transition_item(ctx, &id, to).await?;
        }
        11 => {
            let Some(id) = pick(rng, &known.items).cloned() else { return Ok(()) };
            match rng.u8(..3) {
                0 => app.trash_item(ctx, &id, None).await.map(drop)?,
                1 => app.restore_item(ctx, &id).await.map(drop)?,
                _ => app.restore_item_version(ctx, &id, rng.u32(1..4), None).await.map(drop)?,
            }
        }
        12 | 13 => {
            let created = app
                .create_engagement(
                    ctx,
                    EngagementDetails {
                        name: format!("Engagement {}", rng.u32(..1000)),
                        client: format!("Client {}", rng.u32(..50)),
                        description: "Scope and goals".to_owned(),
                        nda_required: rng.bool(),
                    },
                )
                .await?;
            known.engagements.push(created.id);
        }
        14 => {
            let Some(id) = pick(rng, &known.engagements).cloned() else { return Ok(()) };
            let to = EngagementPhase::ALL[rng.usize(..EngagementPhase::ALL.len())];
            app.transition_engagement(ctx, &id, to).await?;
        }
        15 => {
            let parent = if rng.bool() { pick(rng, &known.categories).cloned() } else { None };
            let created = app.create_category(ctx, &format!("Category {}", rng.u32(..40)), parent.as_deref()).await?;
            known.categories.push(created.id);
        }
        16 => {
            let Some(id) = pick(rng, &known.categories).cloned() else { return Ok(()) };
            let target = pick(rng, &known.categories).cloned();
            if rng.bool() {
                app.move_category(ctx, &id, target.as_deref(), None).await?;
            } else {
                app.delete_category(ctx, &id, target.as_deref(), None).await?;
                known.categories.retain(|c| c != &id);
            }
        }
        17 => {
            let created = app
                .create_template(
                    ctx,
                    TemplateInput {
                        name: format!("Template {}", rng.u32(..30)),
                        body: "Meeting with {{client}} on {{date}}".to_owned(),
                        default_kind: ItemKind::MeetingNotes,
                        default_category: None,
                        default_tags: vec!["meeting".to_owned()],
                    },
                )
                .await?;
            known.templates.push(created.id);
        }
        18 => {
            let Some(template) = pick(rng, &known.templates).cloned() else { return Ok(()) };
            let values =
                BTreeMap::from([("client".to_owned(), "Globex".to_owned()), ("date".to_owned(), "today".to_owned())]);
            let created = app
                .instantiate_template(
                    ctx,
                    InstantiateTemplate { template, title: "From template".to_owned(), values, engagement: None },
                )
                .await?;
            known.items.push(created.id);
        }
        _ => {
            let settings = OrganizationSettings {
                ai_monthly_budget_cents: Some(rng.u64(..100_000)),
                retention_days: Some(rng.u32(1..3650)),
                ai_store_transcripts: rng.bool(),
            };
            if rng.bool() {
                app.change_organization_settings(ctx, settings, None).await?;
            } else {
                let role = Role::ALL[rng.usize(..Role::ALL.len())];
                app.change_member_role(ctx, ctx.actor.as_str(), role).await?;
            }
        }
    }
    Ok(())
}
