//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` annotations and
//! the request and response types; served at `/api/v1/openapi.json` and browsable at
//! `/api/docs`. A test checks that every documented operation is routed.

use axum::Json;
use axum::response::{Html, IntoResponse, Response};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, RefOr};
use utoipa::{Modify, OpenApi};

use domain::engagement::EngagementPhase;
use domain::item::{ItemKind, ItemStatus};
use domain::role::Role;

use crate::routes;

/// The API's document.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Consailt API",
        version = "1",
        description = "Organizations, engagements and the knowledge base of a consulting practice. \
            Authenticate with `Authorization: Bearer <access token or API key>`. Errors share one \
            envelope; lists page with `limit` and `cursor`; single resources carry an `ETag` and \
            honour `If-None-Match` and `If-Match`; `POST` honours `Idempotency-Key`."
    ),
    paths(
        routes::auth::sign_up,
        routes::auth::log_in,
        routes::auth::refresh,
        routes::auth::log_out,
        routes::auth::change_password,
        routes::me::me,
        routes::me::sessions,
        routes::me::revoke_session,
        routes::organization::get,
        routes::organization::patch,
        routes::organization::create,
        routes::members::list,
        routes::members::add,
        routes::members::change_role,
        routes::members::remove,
        routes::engagements::list,
        routes::engagements::create,
        routes::engagements::get,
        routes::engagements::patch,
        routes::engagements::delete,
        routes::engagements::transition,
        routes::engagements::members,
        routes::engagements::add_member,
        routes::engagements::remove_member,
        routes::items::list,
        routes::search::search,
        routes::search::history,
        routes::search::clear_history,
        routes::ai::summary,
        routes::ai::ask,
        routes::ai::risk_assessment,
        routes::ai::draft,
        routes::ai::tag_suggestions,
        routes::ai::usage,
        routes::items::trash,
        routes::items::create,
        routes::items::get,
        routes::items::patch,
        routes::items::delete,
        routes::items::restore,
        routes::items::transition,
        routes::items::versions,
        routes::items::version,
        routes::items::restore_version,
        routes::categories::list,
        routes::categories::create,
        routes::categories::patch,
        routes::categories::delete,
        routes::categories::tags,
        routes::templates::list,
        routes::templates::create,
        routes::templates::get,
        routes::templates::patch,
        routes::templates::delete,
        routes::templates::instantiate,
        routes::api_keys::list,
        routes::api_keys::create,
        routes::api_keys::revoke,
        routes::events::list,
        openapi_json,
    ),
    components(schemas(crate::error::ErrorEnvelope)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "auth", description = "Sign-up, sign-in, tokens and sessions"),
        (name = "organization", description = "The caller's organization and its members"),
        (name = "engagements", description = "Client engagements"),
        (name = "items", description = "The knowledge base"),
        (name = "taxonomy", description = "Categories, tags and templates"),
        (name = "search", description = "Full-text search with highlights and facets, and the caller's search history"),
        (name = "ai", description = "AI help over the knowledge base: summaries, cited answers and risk checklists (JSON or Server-Sent Events), with every model call in the usage ledger"),
        (name = "admin", description = "API keys and the audit trail"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.description = Some("An access token (JWT) from sign-in, or an API key (`csk_...`)".to_owned());
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

fn string_enum<'a>(values: impl IntoIterator<Item = &'a str>) -> RefOr<Schema> {
    let values: Vec<&str> = values.into_iter().collect();
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(values)).into()
}

fn array_of(item: ObjectBuilder, max_items: usize, nullable: bool) -> RefOr<Schema> {
    let mut array = ArrayBuilder::new().items(item).max_items(Some(max_items));
    if nullable {
        array = array.schema_type(SchemaType::from_iter([Type::Array, Type::Null]));
    }
    array.into()
}

fn category_id() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String).pattern(Some(r"^cat_[0-9A-Za-z]{1,64}$"))
}

fn tag() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(domain::tag::Tag::MAX_CHARS))
        .pattern(Some(r"^[^,\x00-\x1f\x7f-\x9f]*[^\s,\x00-\x1f\x7f-\x9f][^,\x00-\x1f\x7f-\x9f]*$"))
}

/// An item's categories.
pub fn category_ids() -> RefOr<Schema> {
    array_of(category_id(), domain::item::MAX_CATEGORIES_PER_ITEM, false)
}

/// An item's categories, or null to keep them.
pub fn nullable_category_ids() -> RefOr<Schema> {
    array_of(category_id(), domain::item::MAX_CATEGORIES_PER_ITEM, true)
}

/// Tags.
pub fn tags() -> RefOr<Schema> {
    array_of(tag(), domain::tag::MAX_TAGS_PER_ITEM, false)
}

/// Tags, or null to keep them.
pub fn nullable_tags() -> RefOr<Schema> {
    array_of(tag(), domain::tag::MAX_TAGS_PER_ITEM, true)
}

/// The sort keys of sorted lists.
pub fn sort_keys() -> RefOr<Schema> {
    string_enum(crate::pagination::SORT_KEYS)
}

/// The schema of an item kind (from the domain's list).
pub fn item_kind() -> RefOr<Schema> {
    string_enum(ItemKind::ALL.iter().map(|k| k.as_str()))
}

/// The schema of an item status.
pub fn item_status() -> RefOr<Schema> {
    string_enum(ItemStatus::ALL.iter().map(|s| s.as_str()))
}

/// The schema of an engagement phase.
pub fn engagement_phase() -> RefOr<Schema> {
    string_enum(EngagementPhase::ALL.iter().map(|p| p.as_str()))
}

/// The schema of a role.
pub fn role() -> RefOr<Schema> {
    string_enum(Role::ALL.iter().map(|r| r.as_str()))
}

/// The document as JSON.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "admin",
    security(()),
    responses((status = 200, description = "This OpenAPI document", content_type = "application/json"))
)]
pub async fn openapi_json() -> Json<Document> {
    Json(ApiDoc::openapi())
}

/// A browsable page of the document, rendered on the server (no script, no CDN).
pub async fn docs() -> Response {
    let document = ApiDoc::openapi();
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Consailt API</title>\
         <style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}\
         code{background:#f2f2f2;padding:.1rem .3rem;border-radius:3px}h2{margin-top:2rem}\
         .op{margin:.4rem 0}.m{display:inline-block;width:4.5rem;font-weight:600}\
         @media(prefers-color-scheme:dark){body{background:#16181c;color:#e8e8e8}code{background:#2a2d33}}</style>\
         </head><body><h1>Consailt API</h1>",
    );
    if let Some(description) = &document.info.description {
        html.push_str(&format!("<p>{}</p>", escape(description)));
    }
    html.push_str(
        "<p>The machine-readable document: <a href=\"/api/v1/openapi.json\"><code>/api/v1/openapi.json</code></a>.</p>",
    );
    for (path, item) in &document.paths.paths {
        html.push_str(&format!("<h2><code>{}</code></h2>", escape(path)));
        let operations = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PATCH", &item.patch),
            ("PUT", &item.put),
            ("DELETE", &item.delete),
        ];
        for (method, operation) in operations {
            let Some(operation) = operation else { continue };
            let summary = operation.summary.as_deref().or(operation.description.as_deref()).unwrap_or("");
            html.push_str(&format!("<div class=\"op\"><span class=\"m\">{method}</span>{}</div>", escape(summary)));
        }
    }
    html.push_str("</body></html>");
    let mut response = Html(html).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_SECURITY_POLICY,
        axum::http::HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"),
    );
    response
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
