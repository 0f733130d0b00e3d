//! Knowledge items: the filtered list, the Markdown editor (with live preview and "new from
//! template"), the item page with its status transitions, version history with diffs and
//! restore, and the trash.

use std::collections::BTreeMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use application::commands::create_item::{CreateItem, ItemDraft};
use application::commands::instantiate_template::InstantiateTemplate;
use application::security::permissions::Permission;
use application::{Store, TenantContext};
use domain::item::{ItemKind, ItemStatus};
use store::read_model::{ItemFilter, ItemSummary, ItemView};

use super::{filled, form};
use crate::AppState;
use crate::pagination::{encode_keyset, page_request};
use crate::web::{Chrome, FieldErrors, Page, WebError, label, markdown, render, render_with, see_other, when};

/// An item in a list.
#[derive(Debug)]
pub struct ItemRow {
    pub id: String,
    pub title: String,
    pub kind_label: String,
    pub status: String,
    pub status_label: String,
    pub tags: Vec<String>,
    pub updated: String,
}

impl From<ItemSummary> for ItemRow {
    fn from(item: ItemSummary) -> Self {
        Self {
            kind_label: label(&item.kind),
            status_label: label(&item.status),
            id: item.id,
            title: item.title,
            status: item.status,
            tags: item.tags,
            updated: when(item.updated_at),
        }
    }
}

/// Choices for a `<select>`: (value, label).
type Options = Vec<(String, String)>;

pub(super) fn kind_options() -> Options {
    ItemKind::ALL.iter().map(|k| (k.as_str().to_owned(), label(k.as_str()))).collect()
}

fn status_options() -> Options {
    ItemStatus::ALL.iter().map(|s| (s.as_str().to_owned(), label(s.as_str()))).collect()
}

/// The category tree, flattened in order, each name indented by its depth.
async fn category_options<S: Store>(state: &AppState<S>, ctx: &TenantContext) -> Result<Options, WebError> {
    let (_, categories) = state.app.category_tree(ctx).await?;
    Ok(super::categories::choices(&categories))
}

pub(super) async fn engagement_options<S: Store>(
    state: &AppState<S>,
    ctx: &TenantContext,
) -> Result<Options, WebError> {
    let found = state
        .app
        .list_engagements(
            ctx,
            store::read_model::EngagementFilter::default(),
            &page_request(Some(100), None, Some("title"))?,
        )
        .await?;
    Ok(found.rows.into_iter().map(|e| (e.id, format!("{} ({})", e.name, e.client))).collect())
}

#[derive(Template)]
#[template(path = "items.html")]
struct ListPage {
    chrome: Option<Chrome>,
    title: &'static str,
    rows: Vec<ItemRow>,
    total: u64,
    query: ListQuery,
    engagements: Options,
    categories: Options,
    kinds: Options,
    statuses: Options,
    next: Option<String>,
    trash: bool,
    can_write: bool,
}

#[derive(Debug, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    engagement: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    sort: String,
    #[serde(default, skip_serializing)]
    cursor: String,
}

/// `GET /items`.
pub async fn list<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    Query(query): Query<ListQuery>,
) -> Result<Response, WebError> {
    list_page(&state, &page, query, false).await
}

/// `GET /trash`.
pub async fn trash_list<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    Query(query): Query<ListQuery>,
) -> Result<Response, WebError> {
    list_page(&state, &page, query, true).await
}

async fn list_page<S: Store>(
    state: &AppState<S>,
    page: &Page,
    query: ListQuery,
    trash: bool,
) -> Result<Response, WebError> {
    page.require(Permission::ReadItems)?;
    let ctx = page.ctx();
    let status = filled(Some(query.status.clone()));
    if let Some(status) = &status
        && !ItemStatus::ALL.iter().any(|s| s.as_str() == status)
    {
        return Err(WebError::BadRequest(format!("There is no status called {status:?}.")));
    }
    let kind = filled(Some(query.kind.clone()));
    if let Some(kind) = &kind
        && !ItemKind::ALL.iter().any(|k| k.as_str() == kind)
    {
        return Err(WebError::BadRequest(format!("There is no kind called {kind:?}.")));
    }
    let sort = filled(Some(query.sort.clone()));
    let request = page_request(Some(50), filled(Some(query.cursor.clone())).as_deref(), sort.as_deref())?;
    let filter = ItemFilter {
        engagement: filled(Some(query.engagement.clone())),
        category: filled(Some(query.category.clone())),
        tag: filled(Some(query.tag.clone())).map(|t| t.to_lowercase()),
        status,
        kind,
        trashed: trash,
        engagements_visible: None,
    };
    let found = state.app.list_items(ctx, filter, &request).await?;
    let path = if trash { "/trash" } else { "/items" };
    let next = found.next.map(|k| {
        let filters = serde_urlencoded::to_string(&query).unwrap_or_default();
        format!("{path}?{filters}&cursor={}", encode_keyset(&k, &request))
    });
    let (engagements, categories) = if page.can(Permission::ReadEngagements) {
        (engagement_options(state, ctx).await?, category_options(state, ctx).await?)
    } else {
        (Vec::new(), category_options(state, ctx).await?)
    };
    Ok(render(&ListPage {
        chrome: Some(page.chrome(if trash { "trash" } else { "items" })),
        title: if trash { "Trash" } else { "Knowledge" },
        rows: found.rows.into_iter().map(ItemRow::from).collect(),
        total: found.total,
        query,
        engagements,
        categories,
        kinds: kind_options(),
        statuses: status_options(),
        next,
        trash,
        can_write: page.can(Permission::WriteItems),
    }))
}

/// The editor's fields, as typed (kept when the form comes back with errors).
#[derive(Debug, Default, Deserialize)]
struct ItemForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    engagement: String,
    #[serde(default)]
    category: String,
    /// Comma-separated.
    #[serde(default)]
    tags: String,
    /// The item's stream version the edit started from (lost-update protection).
    version: Option<u64>,
}

#[derive(Template)]
#[template(path = "item_form.html")]
struct EditorPage {
    chrome: Option<Chrome>,
    /// `None` for a new item.
    id: Option<String>,
    form: ItemForm,
    errors: FieldErrors,
    kinds: Options,
    engagements: Options,
    categories: Options,
    templates: Options,
    /// The organization's tags, most used first: the tag picker's choices.
    known_tags: Vec<String>,
}

/// A template being filled in: its placeholders as form fields.
#[derive(Template)]
#[template(path = "item_from_template.html")]
struct FromTemplatePage {
    chrome: Option<Chrome>,
    template_id: String,
    template_name: String,
    title: String,
    engagement: String,
    values: Vec<(String, String)>,
    errors: FieldErrors,
    engagements: Options,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewQuery {
    engagement: Option<String>,
    template: Option<String>,
}

/// `GET /items/new`, or with `?template=` the form that fills that template's placeholders.
pub async fn new_form<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    Query(query): Query<NewQuery>,
) -> Result<Response, WebError> {
    page.require(Permission::WriteItems)?;
    let ctx = page.ctx();
    let engagement = filled(query.engagement).unwrap_or_default();
    if let Some(template) = filled(query.template) {
        let template = state.app.get_template(ctx, &template).await?;
        let placeholders = domain::template::TemplateBody::parse(&template.body)
            .map_err(|e| WebError::Internal(format!("stored template does not parse: {e}")))?;
        return Ok(render(&FromTemplatePage {
            chrome: Some(page.chrome("items")),
            template_id: template.id,
            template_name: template.name,
            title: String::new(),
            engagement,
            values: placeholders.placeholders().iter().map(|p| (p.clone(), String::new())).collect(),
            errors: FieldErrors::default(),
            engagements: engagement_options(&state, ctx).await?,
        }));
    }
    let form = ItemForm { kind: ItemKind::Note.as_str().to_owned(), engagement, ..ItemForm::default() };
    editor(&state, &page, None, form, FieldErrors::default(), StatusCode::OK).await
}

async fn editor<S: Store>(
    state: &AppState<S>,
    page: &Page,
    id: Option<String>,
    form: ItemForm,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, WebError> {
    let ctx = page.ctx();
    let templates = if id.is_none() && page.can(Permission::ReadTaxonomy) {
        state.app.list_templates(ctx).await?.into_iter().map(|t| (t.id, t.name)).collect()
    } else {
        Vec::new()
    };
    let mut tags = state.app.list_tags(ctx).await?;
    tags.sort_by(|a, b| b.item_count.cmp(&a.item_count).then_with(|| a.tag.cmp(&b.tag)));
    let known_tags = tags.into_iter().take(30).map(|t| t.tag).collect();
    Ok(render_with(
        status,
        &EditorPage {
            chrome: Some(page.chrome("items")),
            id,
            form,
            errors,
            kinds: kind_options(),
            engagements: engagement_options(state, ctx).await?,
            categories: category_options(state, ctx).await?,
            templates,
            known_tags,
        },
    ))
}

pub(super) fn tags_of(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect()
}

const ITEM_FIELDS: &[(&str, &str)] =
    &[("title", "title"), ("body", "body"), ("tags", "tags"), ("metadata", ""), ("supersedes", "")];

/// `POST /items`: a new draft, typed in the editor or filled in from a template.
pub async fn create<S: Store>(State(state): State<AppState<S>>, page: Page, body: Bytes) -> Result<Response, WebError> {
    page.require(Permission::WriteItems)?;
    let pairs: Vec<(String, String)> = form(&body)?;
    if pairs.iter().any(|(name, _)| name == "template") {
        return create_from_template(&state, &page, pairs).await;
    }
    let input: ItemForm = form(&body)?;
    let Ok(kind) = serde_json::from_value::<ItemKind>(serde_json::Value::String(input.kind.clone())) else {
        let mut errors = FieldErrors::default();
        errors.push("kind", "must be one of the listed kinds");
        return editor(&state, &page, None, input, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let draft = ItemDraft {
        title: input.title.clone(),
        body: input.body.clone(),
        categories: filled(Some(input.category.clone())).into_iter().collect(),
        tags: tags_of(&input.tags),
        metadata: None,
    };
    let request = CreateItem { kind, engagement: filled(Some(input.engagement.clone())), draft, supersedes: None };
    match state.app.create_item(page.ctx(), request).await {
        Ok(created) => Ok(see_other(&format!("/items/{}", created.id))),
        Err(error) => {
            let errors = FieldErrors::from_app_error(error, ITEM_FIELDS)?;
            editor(&state, &page, None, input, errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

async fn create_from_template<S: Store>(
    state: &AppState<S>,
    page: &Page,
    pairs: Vec<(String, String)>,
) -> Result<Response, WebError> {
    let field = |name: &str| pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let values: BTreeMap<String, String> =
        pairs.iter().filter_map(|(n, v)| Some((n.strip_prefix("value.")?.to_owned(), v.clone()))).collect();
    let (template_id, title, engagement) = (field("template"), field("title"), field("engagement"));
    let input = InstantiateTemplate {
        template: template_id.clone(),
        title: title.clone(),
        values: values.clone(),
        engagement: filled(Some(engagement.clone())),
    };
    match state.app.instantiate_template(page.ctx(), input).await {
        Ok(created) => Ok(see_other(&format!("/items/{}", created.id))),
        Err(error) => {
            let errors = FieldErrors::from_app_error(error, &[("title", "title"), ("values", "")])?;
            let template = state.app.get_template(page.ctx(), &template_id).await?;
            Ok(render_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                &FromTemplatePage {
                    chrome: Some(page.chrome("items")),
                    template_id,
                    template_name: template.name,
                    title,
                    engagement,
                    values: values.into_iter().collect(),
                    errors,
                    engagements: engagement_options(state, page.ctx()).await?,
                },
            ))
        }
    }
}

#[derive(Template)]
#[template(path = "item.html")]
struct ShowPage {
    chrome: Option<Chrome>,
    item: ItemView,
    html: String,
    kind_label: String,
    status_label: String,
    engagement: Option<(String, String)>,
    categories: Vec<String>,
    transitions: Options,
    updated: String,
    can_write: bool,
}

/// `GET /items/{id}`.
pub async fn show<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    page.require(Permission::ReadItems)?;
    let ctx = page.ctx();
    let item = state.app.get_item(ctx, &id).await?;
    if item.trashed_at.is_some() {
        return Err(WebError::NotFound);
    }
    let engagement = match &item.engagement_id {
        Some(eng) => state.app.get_engagement(ctx, eng).await.ok().map(|e| (e.id, e.name)),
        None => None,
    };
    let names: BTreeMap<String, String> = category_options(&state, ctx)
        .await?
        .into_iter()
        .map(|(id, name)| (id, name.trim_start_matches('\u{2003}').to_owned()))
        .collect();
    let can_write = page.can(Permission::WriteItems);
    let status = serde_json::from_value::<ItemStatus>(serde_json::Value::String(item.status.clone()))
        .map_err(|e| WebError::Internal(format!("stored status: {e}")))?;
    let transitions = if can_write {
        status.allowed_targets().iter().map(|s| (s.as_str().to_owned(), label(s.as_str()))).collect()
    } else {
        Vec::new()
    };
    Ok(render(&ShowPage {
        chrome: Some(page.chrome("items")),
        html: markdown::render(&item.body),
        kind_label: label(&item.kind),
        status_label: label(&item.status),
        engagement,
        categories: item.categories.iter().map(|c| names.get(c).cloned().unwrap_or_else(|| c.clone())).collect(),
        transitions,
        updated: when(item.updated_at),
        can_write,
        item,
    }))
}

/// `GET /items/{id}/edit`.
pub async fn edit_form<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    page.require(Permission::WriteItems)?;
    let item = state.app.get_item(page.ctx(), &id).await?;
    if item.trashed_at.is_some() {
        return Err(WebError::NotFound);
    }
    let form = ItemForm {
        title: item.title,
        body: item.body,
        kind: item.kind,
        engagement: item.engagement_id.unwrap_or_default(),
        category: item.categories.first().cloned().unwrap_or_default(),
        tags: item.tags.join(", "),
        version: Some(item.stream_version),
    };
    editor(&state, &page, Some(id), form, FieldErrors::default(), StatusCode::OK).await
}

/// `POST /items/{id}`: saves an edit; refused when the item changed since the form was opened.
pub async fn update<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    page.require(Permission::WriteItems)?;
    let input: ItemForm = form(&body)?;
    let current = state.app.get_item(page.ctx(), &id).await?;
    // Categories beyond the first are kept: the editor shows one picker.
    let mut categories: Vec<String> = filled(Some(input.category.clone())).into_iter().collect();
    let kept: Vec<String> = current.categories.iter().skip(1).filter(|c| !categories.contains(c)).cloned().collect();
    categories.extend(kept);
    let draft = ItemDraft {
        title: input.title.clone(),
        body: input.body.clone(),
        categories,
        tags: tags_of(&input.tags),
        metadata: serde_json::from_str(&current.metadata).ok(),
    };
    let expected = input.version.or(Some(current.stream_version));
    match state.app.edit_item(page.ctx(), &id, draft, expected).await {
        Ok(_) => Ok(see_other(&format!("/items/{id}"))),
        Err(error) => {
            let errors = FieldErrors::from_app_error(error, ITEM_FIELDS)?;
            editor(&state, &page, Some(id), input, errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Debug, Deserialize)]
struct TransitionForm {
    to: ItemStatus,
}

/// `POST /items/{id}/transitions`.
pub async fn transition<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    page.require(Permission::WriteItems)?;
    let input: TransitionForm = form(&body)?;
    state.app.get_item(page.ctx(), &id).await?;
    state.app.transition_item(page.ctx(), &id, input.to).await?;
    Ok(see_other(&format!("/items/{id}")))
}

/// A line of a diff: `same`, `added` or `removed`, and the text.
struct DiffLine {
    change: &'static str,
    text: String,
}

struct VersionRow {
    version: u32,
    title: String,
    author: String,
    at: String,
}

#[derive(Template)]
#[template(path = "item_history.html")]
struct HistoryPage {
    chrome: Option<Chrome>,
    id: String,
    title: String,
    current: u32,
    versions: Vec<VersionRow>,
    from: u32,
    to: u32,
    diff: Vec<Vec<DiffLine>>,
    can_write: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    from: Option<u32>,
    to: Option<u32>,
}

/// `GET /items/{id}/history?from=&to=`: the versions, and the diff between two (by default the
/// previous and the current one).
pub async fn history<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    Path(id): Path<String>,
    Query(query): Query<HistoryQuery>,
) -> Result<Response, WebError> {
    page.require(Permission::ReadItems)?;
    let ctx = page.ctx();
    let item = state.app.get_item(ctx, &id).await?;
    let versions = state.app.list_item_versions(ctx, &id).await?;
    let names = super::member_names(&state, &page).await?;
    let to = query.to.unwrap_or(item.version);
    let from = query.from.unwrap_or(to.saturating_sub(1).max(1));
    let old = state.app.get_item_version(ctx, &id, from).await?;
    let new = state.app.get_item_version(ctx, &id, to).await?;
    let (old_text, new_text) = (format!("# {}\n\n{}", old.title, old.body), format!("# {}\n\n{}", new.title, new.body));
    let diff = similar::TextDiff::from_lines(&old_text, &new_text);
    let hunks = diff
        .grouped_ops(3)
        .iter()
        .map(|group| {
            group
                .iter()
                .flat_map(|op| diff.iter_changes(op))
                .map(|change| DiffLine {
                    change: match change.tag() {
                        similar::ChangeTag::Equal => "same",
                        similar::ChangeTag::Insert => "added",
                        similar::ChangeTag::Delete => "removed",
                    },
                    text: change.value().trim_end_matches('\n').to_owned(),
                })
                .collect()
        })
        .collect();
    Ok(render(&HistoryPage {
        chrome: Some(page.chrome("items")),
        title: item.title,
        current: item.version,
        versions: versions
            .into_iter()
            .rev()
            .map(|v| VersionRow {
                author: names.get(&v.author_id).cloned().unwrap_or(v.author_id),
                version: v.version,
                title: v.title,
                at: when(v.created_at),
            })
            .collect(),
        id,
        from,
        to,
        diff: hunks,
        can_write: page.can(Permission::WriteItems) && item.trashed_at.is_none(),
    }))
}

#[derive(Debug, Deserialize)]
struct RestoreVersionForm {
    version: u32,
}

/// `POST /items/{id}/restore-version`: a new version with an old one's content.
pub async fn restore_version<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    page.require(Permission::WriteItems)?;
    let input: RestoreVersionForm = form(&body)?;
    state.app.get_item(page.ctx(), &id).await?;
    state.app.restore_item_version(page.ctx(), &id, input.version, None).await?;
    Ok(see_other(&format!("/items/{id}")))
}

/// `POST /items/{id}/trash`.
pub async fn trash<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    page.require(Permission::WriteItems)?;
    state.app.get_item(page.ctx(), &id).await?;
    state.app.trash_item(page.ctx(), &id, None).await?;
    Ok(see_other("/trash"))
}

/// `POST /items/{id}/restore`: back from the trash.
pub async fn restore<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    page.require(Permission::WriteItems)?;
    state.app.restore_item(page.ctx(), &id).await?;
    Ok(see_other(&format!("/items/{id}")))
}

#[derive(Debug, Deserialize)]
struct PreviewForm {
    #[serde(default)]
    body: String,
}

/// `POST /preview`: Markdown rendered and sanitized, as an HTML fragment (the editor's live
/// preview).
pub async fn preview(page: Page, body: Bytes) -> Result<Response, WebError> {
    page.require(Permission::ReadItems)?;
    let input: PreviewForm = form(&body)?;
    if input.body.len() > domain::item::MAX_BODY_BYTES {
        return Err(WebError::PayloadTooLarge);
    }
    let mut response = markdown::render(&input.body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    Ok(response)
}
