//! Templates: the list, and the form that creates or changes one (a Markdown body with
//! `{{placeholders}}`, and the kind, category and tags its items start with).

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use application::Store;
use application::commands::create_template::TemplateInput;
use application::security::permissions::Permission;
use domain::item::ItemKind;

use super::items::{kind_options, tags_of};
use super::{filled, form};
use crate::AppState;
use crate::web::{Chrome, FieldErrors, Page, WebError, label, render, render_with, see_other, when};

struct TemplateRow {
    id: String,
    name: String,
    kind: String,
    placeholders: String,
    updated: String,
}

#[derive(Template)]
#[template(path = "templates.html")]
struct ListPage {
    chrome: Option<Chrome>,
    rows: Vec<TemplateRow>,
    can_write: bool,
}

/// `GET /templates`.
pub async fn list<S: Store>(State(state): State<AppState<S>>, page: Page) -> Result<Response, WebError> {
    page.require(Permission::ReadTaxonomy)?;
    let rows = state
        .app
        .list_templates(page.ctx())
        .await?
        .into_iter()
        .map(|t| TemplateRow {
            placeholders: domain::template::TemplateBody::parse(&t.body)
                .map(|b| b.placeholders().iter().cloned().collect::<Vec<_>>().join(", "))
                .unwrap_or_default(),
            kind: label(&t.default_kind),
            updated: when(t.updated_at),
            id: t.id,
            name: t.name,
        })
        .collect();
    Ok(render(&ListPage {
        chrome: Some(page.chrome("templates")),
        rows,
        can_write: page.can(Permission::WriteTaxonomy),
    }))
}

#[derive(Debug, Default, Deserialize)]
struct TemplateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    tags: String,
    version: Option<u64>,
}

#[derive(Template)]
#[template(path = "template_form.html")]
struct FormPage {
    chrome: Option<Chrome>,
    id: Option<String>,
    form: TemplateForm,
    errors: FieldErrors,
    kinds: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    /// Engagements to draft this template for (an existing template, a caller who may use AI).
    engagements: Vec<(String, String)>,
    /// The engagement preselected for a draft (none).
    draft_engagement: String,
}

async fn form_page<S: Store>(
    state: &AppState<S>,
    page: &Page,
    id: Option<String>,
    form: TemplateForm,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, WebError> {
    let (_, categories) = state.app.category_tree(page.ctx()).await?;
    let engagements = if id.is_some() && page.can(Permission::UseAi) {
        super::items::engagement_options(state, page.ctx()).await?
    } else {
        Vec::new()
    };
    Ok(render_with(
        status,
        &FormPage {
            chrome: Some(page.chrome("templates")),
            id,
            form,
            errors,
            kinds: kind_options(),
            categories: super::categories::choices(&categories),
            engagements,
            draft_engagement: String::new(),
        },
    ))
}

/// `GET /templates/new`.
pub async fn new_form<S: Store>(State(state): State<AppState<S>>, page: Page) -> Result<Response, WebError> {
    page.require(Permission::WriteTaxonomy)?;
    let form = TemplateForm { kind: ItemKind::Note.as_str().to_owned(), ..TemplateForm::default() };
    form_page(&state, &page, None, form, FieldErrors::default(), StatusCode::OK).await
}

/// `GET /templates/{id}`.
pub async fn edit_form<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    page.require(Permission::ReadTaxonomy)?;
    let template = state.app.get_template(page.ctx(), &id).await?;
    let form = TemplateForm {
        name: template.name,
        body: template.body,
        kind: template.default_kind,
        category: template.default_category.unwrap_or_default(),
        tags: template.default_tags.join(", "),
        version: Some(template.stream_version),
    };
    form_page(&state, &page, Some(id), form, FieldErrors::default(), StatusCode::OK).await
}

const FIELDS: &[(&str, &str)] =
    &[("name", "name"), ("body", "body"), ("tags", "tags"), ("default_category", "category")];

fn input(form: &TemplateForm) -> Result<TemplateInput, FieldErrors> {
    let Ok(kind) = serde_json::from_value::<ItemKind>(serde_json::Value::String(form.kind.clone())) else {
        let mut errors = FieldErrors::default();
        errors.push("kind", "must be one of the listed kinds");
        return Err(errors);
    };
    Ok(TemplateInput {
        name: form.name.clone(),
        body: form.body.clone(),
        default_kind: kind,
        default_category: filled(Some(form.category.clone())),
        default_tags: tags_of(&form.tags),
    })
}

/// `POST /templates`.
pub async fn create<S: Store>(State(state): State<AppState<S>>, page: Page, body: Bytes) -> Result<Response, WebError> {
    page.require(Permission::WriteTaxonomy)?;
    let form: TemplateForm = form(&body)?;
    let errors = match input(&form) {
        Ok(template) => match state.app.create_template(page.ctx(), template).await {
            Ok(_) => return Ok(see_other("/templates")),
            Err(error) => FieldErrors::from_app_error(error, FIELDS)?,
        },
        Err(errors) => errors,
    };
    form_page(&state, &page, None, form, errors, StatusCode::UNPROCESSABLE_ENTITY).await
}

/// `POST /templates/{id}`: saves a change; refused when the template changed meanwhile.
pub async fn update<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    page.require(Permission::WriteTaxonomy)?;
    let form: TemplateForm = form(&body)?;
    state.app.get_template(page.ctx(), &id).await?;
    let errors = match input(&form) {
        Ok(template) => match state.app.update_template(page.ctx(), &id, template, form.version).await {
            Ok(_) => return Ok(see_other("/templates")),
            Err(error) => FieldErrors::from_app_error(error, FIELDS)?,
        },
        Err(errors) => errors,
    };
    form_page(&state, &page, Some(id), form, errors, StatusCode::UNPROCESSABLE_ENTITY).await
}

/// `POST /templates/{id}/delete`.
pub async fn delete<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    page.require(Permission::WriteTaxonomy)?;
    state.app.get_template(page.ctx(), &id).await?;
    state.app.delete_template(page.ctx(), &id, None).await?;
    Ok(see_other("/templates"))
}
