//! The category tree: create, rename, move and delete (items of a deleted category can be moved
//! to another one).

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;

use application::Store;
use application::security::permissions::Permission;
use store::read_model::CategoryView;

use super::{filled, form};
use crate::AppState;
use crate::web::{Chrome, FieldErrors, Page, WebError, render_with, see_other};

/// A category in tree order, with its depth.
struct Node {
    id: String,
    name: String,
    depth: usize,
    parent: String,
}

#[derive(Template)]
#[template(path = "categories.html")]
struct TreePage {
    chrome: Option<Chrome>,
    nodes: Vec<Node>,
    /// Every category as a choice: (id, indented name).
    choices: Vec<(String, String)>,
    version: u64,
    can_write: bool,
    errors: FieldErrors,
}

fn tree(categories: &[CategoryView]) -> Vec<Node> {
    fn walk(parent: Option<&str>, depth: usize, all: &[CategoryView], out: &mut Vec<Node>) {
        let mut children: Vec<_> = all.iter().filter(|c| c.parent_id.as_deref() == parent).collect();
        children.sort_by_key(|c| c.name.to_lowercase());
        for child in children {
            out.push(Node {
                id: child.id.clone(),
                name: child.name.clone(),
                depth,
                parent: child.parent_id.clone().unwrap_or_default(),
            });
            walk(Some(&child.id), depth + 1, all, out);
        }
    }
    let mut nodes = Vec::with_capacity(categories.len());
    walk(None, 0, categories, &mut nodes);
    nodes
}

/// The tree as `<select>` choices, each name indented by its depth.
pub fn choices(categories: &[CategoryView]) -> Vec<(String, String)> {
    tree(categories).into_iter().map(|n| (n.id, format!("{}{}", "\u{2003}".repeat(n.depth), n.name))).collect()
}

async fn tree_page<S: Store>(
    state: &AppState<S>,
    page: &Page,
    errors: FieldErrors,
    status: axum::http::StatusCode,
) -> Result<Response, WebError> {
    page.require(Permission::ReadTaxonomy)?;
    let (version, categories) = state.app.category_tree(page.ctx()).await?;
    Ok(render_with(
        status,
        &TreePage {
            chrome: Some(page.chrome("categories")),
            choices: choices(&categories),
            nodes: tree(&categories),
            version,
            can_write: page.can(Permission::WriteTaxonomy),
            errors,
        },
    ))
}

/// `GET /categories`.
pub async fn show<S: Store>(State(state): State<AppState<S>>, page: Page) -> Result<Response, WebError> {
    tree_page(&state, &page, FieldErrors::default(), axum::http::StatusCode::OK).await
}

#[derive(Debug, Deserialize)]
struct CategoryForm {
    #[serde(default)]
    name: String,
    parent: Option<String>,
    /// The tree's version the form was rendered from.
    version: Option<u64>,
    reassign_to: Option<String>,
}

async fn done_or_errors<S: Store>(
    state: &AppState<S>,
    page: &Page,
    result: Result<application::commands::Changed, application::AppError>,
) -> Result<Response, WebError> {
    match result {
        Ok(_) => Ok(see_other("/categories")),
        Err(error) => {
            let errors = FieldErrors::from_app_error(error, &[("name", "name")])?;
            tree_page(state, page, errors, axum::http::StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// `POST /categories`.
pub async fn create<S: Store>(State(state): State<AppState<S>>, page: Page, body: Bytes) -> Result<Response, WebError> {
    page.require(Permission::WriteTaxonomy)?;
    let input: CategoryForm = form(&body)?;
    let parent = filled(input.parent);
    let result = state.app.create_category(page.ctx(), &input.name, parent.as_deref()).await;
    done_or_errors(&state, &page, result).await
}

/// `POST /categories/{id}`: renames it and moves it under another parent (or to the top).
pub async fn update<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    page.require(Permission::WriteTaxonomy)?;
    let input: CategoryForm = form(&body)?;
    let ctx = page.ctx();
    let (_, categories) = state.app.category_tree(ctx).await?;
    let current = categories.iter().find(|c| c.id == id).ok_or(WebError::NotFound)?;
    let parent = filled(input.parent);
    let mut expected = input.version;
    if current.name != input.name.trim() {
        match state.app.rename_category(ctx, &id, &input.name, expected).await {
            Ok(done) => expected = Some(done.version),
            Err(error) => return done_or_errors(&state, &page, Err(error)).await,
        }
    }
    if current.parent_id != parent {
        let result = state.app.move_category(ctx, &id, parent.as_deref(), expected).await;
        return done_or_errors(&state, &page, result).await;
    }
    Ok(see_other("/categories"))
}

/// `POST /categories/{id}/delete`.
pub async fn delete<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    page.require(Permission::WriteTaxonomy)?;
    let input: CategoryForm = form(&body)?;
    let target = filled(input.reassign_to);
    let result = state.app.delete_category(page.ctx(), &id, target.as_deref(), input.version).await;
    done_or_errors(&state, &page, result).await
}
