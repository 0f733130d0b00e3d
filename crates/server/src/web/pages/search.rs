//! Search from the header box: a results page with highlights, facets and filters, and the
//! suggestions fragment that `app.js` shows as you type.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use application::Store;
use application::queries::search_items::SearchItems;
use application::security::permissions::Permission;
use search::hybrid::Mode;

use super::filled;
use crate::AppState;
use crate::routes::search::{MAX_OFFSET, MAX_QUERY_CHARS};
use crate::web::{Chrome, Page, WebError, label, markdown, render};

const PAGE_SIZE: usize = 20;
const SUGGESTIONS: usize = 8;

#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SearchForm {
    #[serde(default)]
    q: String,
    #[serde(default)]
    engagement: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    status: String,
    #[serde(default, skip_serializing)]
    offset: usize,
}

struct Hit {
    id: String,
    title_html: String,
    snippet_html: String,
    kind_label: String,
    status: String,
    status_label: String,
    by_meaning: bool,
}

/// A facet value as a link that narrows the search.
struct FacetLink {
    label: String,
    count: u64,
    href: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "search.html")]
struct ResultsPage {
    chrome: Option<Chrome>,
    form: SearchForm,
    hits: Vec<Hit>,
    total: u64,
    facets: Vec<(&'static str, Vec<FacetLink>)>,
    notice: String,
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "search_suggest.html")]
struct SuggestFragment {
    q: String,
    hits: Vec<Hit>,
    total: u64,
}

async fn run<S: Store>(
    state: &AppState<S>,
    page: &Page,
    form: &SearchForm,
    limit: usize,
) -> Result<(search::SearchPage, Option<String>), WebError> {
    page.require(Permission::ReadItems)?;
    let text = form.q.trim();
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(WebError::BadRequest(format!("A search can be at most {MAX_QUERY_CHARS} characters long.")));
    }
    if form.offset > MAX_OFFSET {
        return Err(WebError::BadRequest(format!("Results go at most {MAX_OFFSET} deep.")));
    }
    let input = SearchItems {
        text: text.to_owned(),
        mode: Mode::Hybrid,
        filters: search::Filters {
            engagement: filled(Some(form.engagement.clone())),
            category: filled(Some(form.category.clone())),
            tag: filled(Some(form.tag.clone())).map(|t| t.to_lowercase()),
            kind: filled(Some(form.kind.clone())),
            status: filled(Some(form.status.clone())),
        },
        limit,
        offset: form.offset,
    };
    let outcome = state.app.search_items(page.ctx(), input).await?;
    if form.offset == 0 {
        crate::routes::search::remember_in_background(&state.app, &page.principal, text);
    }
    Ok((outcome.page, outcome.degraded))
}

fn hits(page: &search::SearchPage) -> Vec<Hit> {
    page.hits
        .iter()
        .map(|hit| Hit {
            id: hit.id.clone(),
            title_html: markdown::highlight(&hit.title_highlighted),
            snippet_html: markdown::highlight(&hit.snippet),
            kind_label: label(&hit.kind),
            status: hit.status.clone(),
            status_label: label(&hit.status),
            by_meaning: hit.signals.semantic && !hit.signals.fulltext,
        })
        .collect()
}

/// `GET /search?q=...`.
pub async fn results<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    Query(form): Query<SearchForm>,
) -> Result<Response, WebError> {
    let chrome = Some(page.chrome(""));
    if form.q.trim().is_empty() {
        return Ok(render(&ResultsPage {
            chrome,
            form,
            hits: Vec::new(),
            total: 0,
            facets: Vec::new(),
            notice: String::new(),
            next: None,
        }));
    }
    let (found, degraded) = run(&state, &page, &form, PAGE_SIZE).await?;
    let link = |field: &str, value: &str| {
        let mut narrowed = form.clone();
        let slot = match field {
            "kind" => &mut narrowed.kind,
            "status" => &mut narrowed.status,
            "tag" => &mut narrowed.tag,
            _ => &mut narrowed.category,
        };
        let active = slot == value;
        *slot = if active { String::new() } else { value.to_owned() };
        (format!("/search?{}", serde_urlencoded::to_string(&narrowed).unwrap_or_default()), active)
    };
    let facet = |field: &'static str, values: &[search::FacetCount]| {
        values
            .iter()
            .map(|v| {
                let (href, active) = link(field, &v.value);
                FacetLink {
                    label: if field == "tag" { v.value.clone() } else { label(&v.value) },
                    count: v.count,
                    href,
                    active,
                }
            })
            .collect::<Vec<_>>()
    };
    let facets = vec![
        ("Kind", facet("kind", &found.facets.kind)),
        ("Status", facet("status", &found.facets.status)),
        ("Tag", facet("tag", &found.facets.tag)),
    ];
    let reached = form.offset + found.hits.len();
    let next = (reached < found.total as usize && reached <= MAX_OFFSET && !found.hits.is_empty())
        .then(|| format!("/search?{}&offset={reached}", serde_urlencoded::to_string(&form).unwrap_or_default()));
    Ok(render(&ResultsPage {
        chrome,
        hits: hits(&found),
        total: found.total,
        facets,
        notice: degraded.map(|why| format!("Matching by words only: {why}")).unwrap_or_default(),
        next,
        form,
    }))
}

/// `GET /search/suggest?q=...`: the first hits as an HTML fragment for the search box.
pub async fn suggest<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    Query(form): Query<SearchForm>,
) -> Result<Response, WebError> {
    if form.q.trim().is_empty() {
        return Ok(render(&SuggestFragment { q: String::new(), hits: Vec::new(), total: 0 }));
    }
    let (found, _) = run(&state, &page, &form, SUGGESTIONS).await?;
    Ok(render(&SuggestFragment { q: form.q.trim().to_owned(), hits: hits(&found), total: found.total }))
}
