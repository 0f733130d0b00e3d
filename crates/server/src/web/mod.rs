//! The web UI: server-rendered pages (askama templates, checked at compile time) over the same
//! application services and permission table as the API. Sessions live in HttpOnly cookies
//! ([`session`]); every form carries a CSRF token checked before any handler runs. Pages work
//! without JavaScript; `assets/app.js` adds search-as-you-type and the editor's live preview.

pub mod assets;
pub mod markdown;
pub mod pages;
pub mod session;

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use application::security::permissions::Permission;
use application::{AppError, Principal, Store, TenantContext};
use store::StoreError;

use crate::AppState;

/// Form bodies may carry a whole item (1 MiB of Markdown, percent-encoded).
const MAX_FORM_BYTES: usize = 4 * 1024 * 1024;

/// What pages may load: only this server's own assets, nothing inline.
const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The web UI's routes, served at `/` beside the API.
pub fn router<S: Store>(state: AppState<S>) -> Router {
    let public = Router::new()
        .route("/login", get(pages::auth::login_form).post(pages::auth::log_in::<S>))
        .route("/signup", get(pages::auth::signup_form).post(pages::auth::sign_up::<S>));
    let protected = Router::new()
        .route("/", get(pages::dashboard::show::<S>))
        .route("/logout", post(pages::auth::log_out::<S>))
        .route("/switch-organization", post(pages::auth::switch_organization::<S>))
        .route("/engagements", get(pages::engagements::list::<S>).post(pages::engagements::create::<S>))
        .route("/engagements/new", get(pages::engagements::new_form))
        .route("/engagements/{id}", get(pages::engagements::show::<S>))
        .route("/engagements/{id}/transitions", post(pages::engagements::transition::<S>))
        .route("/engagements/{id}/members", post(pages::engagements::add_member::<S>))
        .route("/engagements/{id}/members/{user_id}/remove", post(pages::engagements::remove_member::<S>))
        .route("/items", get(pages::items::list::<S>).post(pages::items::create::<S>))
        .route("/items/new", get(pages::items::new_form::<S>))
        .route("/items/{id}", get(pages::items::show::<S>).post(pages::items::update::<S>))
        .route("/items/{id}/edit", get(pages::items::edit_form::<S>))
        .route("/items/{id}/transitions", post(pages::items::transition::<S>))
        .route("/items/{id}/history", get(pages::items::history::<S>))
        .route("/items/{id}/restore-version", post(pages::items::restore_version::<S>))
        .route("/items/{id}/trash", post(pages::items::trash::<S>))
        .route("/items/{id}/restore", post(pages::items::restore::<S>))
        .route("/trash", get(pages::items::trash_list::<S>))
        .route("/preview", post(pages::items::preview))
        .route("/search", get(pages::search::results::<S>))
        .route("/search/suggest", get(pages::search::suggest::<S>))
        .route("/categories", get(pages::categories::show::<S>).post(pages::categories::create::<S>))
        .route("/categories/{id}", post(pages::categories::update::<S>))
        .route("/categories/{id}/delete", post(pages::categories::delete::<S>))
        .route("/templates", get(pages::templates::list::<S>).post(pages::templates::create::<S>))
        .route("/templates/new", get(pages::templates::new_form::<S>))
        .route("/templates/{id}", get(pages::templates::edit_form::<S>).post(pages::templates::update::<S>))
        .route("/templates/{id}/delete", post(pages::templates::delete::<S>))
        .route("/admin", get(pages::admin::show::<S>))
        .route("/admin/members", post(pages::admin::add_member::<S>))
        .route("/admin/members/{user_id}/role", post(pages::admin::change_role::<S>))
        .route("/admin/members/{user_id}/remove", post(pages::admin::remove_member::<S>))
        .route("/admin/api-keys", post(pages::admin::create_key::<S>))
        .route("/admin/api-keys/{id}/revoke", post(pages::admin::revoke_key::<S>))
        .route("/admin/sessions/{id}/revoke", post(pages::admin::revoke_session::<S>))
        .route("/admin/audit", get(pages::admin::audit::<S>))
        .route("/admin/ai-usage", get(pages::assistant::usage::<S>))
        .route("/ask", get(pages::assistant::ask_form::<S>).post(pages::assistant::ask::<S>))
        .route("/items/{id}/summary", post(pages::assistant::summary::<S>))
        .route("/engagements/{id}/risks", post(pages::assistant::risks::<S>))
        .route("/templates/{id}/draft", post(pages::assistant::draft::<S>))
        .route("/items/{id}/tag-suggestions", post(pages::assistant::tag_suggestions::<S>))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), session::require::<S>));
    public
        .merge(protected)
        .route("/assets/{name}", get(assets::serve))
        .route_layer(axum::middleware::from_fn(session::csrf))
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .with_state(state)
}

/// The frame around every signed-in page: who is signed in, where, and the CSRF token for
/// its forms.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub user_name: String,
    pub org_id: String,
    pub org_name: String,
    pub role: String,
    /// The caller's other organizations, to switch to: (id, name).
    pub other_orgs: Vec<(String, String)>,
    pub csrf: String,
    /// Which section of the navigation is current.
    pub section: &'static str,
    /// Whether the caller may ask the AI assistant (its buttons are shown).
    pub can_use_ai: bool,
}

/// A signed-in request: the principal (as the API would see it) and the page frame.
#[derive(Debug)]
pub struct Page {
    pub principal: Arc<Principal>,
    pub chrome: Chrome,
}

impl Page {
    pub fn ctx(&self) -> &TenantContext {
        &self.principal.ctx
    }

    /// The frame, with `section` marked current in the navigation.
    pub fn chrome(&self, section: &'static str) -> Chrome {
        Chrome { section, ..self.chrome.clone() }
    }

    /// Whether the caller's role holds `permission` (the API's permission table).
    pub fn can(&self, permission: Permission) -> bool {
        self.principal.can(permission)
    }

    /// Refuses unless the caller's role holds `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), WebError> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(WebError::Forbidden(format!(
                "your role ({}) does not allow this: it needs the {} permission",
                self.principal.role(),
                permission.as_str()
            )))
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Page {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let principal = parts.extensions.get::<Arc<Principal>>().cloned();
        let chrome = parts.extensions.get::<Chrome>().cloned();
        match (principal, chrome) {
            (Some(principal), Some(chrome)) => Ok(Self { principal, chrome }),
            _ => Err(WebError::Internal("a page was served without a session".to_owned())),
        }
    }
}

/// Renders a template as an HTML page under the pages' CSP.
pub fn render(template: &impl Template) -> Response {
    render_with(StatusCode::OK, template)
}

/// Renders a template as an HTML page with `status`.
pub fn render_with(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => {
            let mut response = (status, axum::response::Html(html)).into_response();
            response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP));
            response
        }
        Err(error) => {
            tracing::error!(%error, "a page failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// Redirects after a successful form (303: the browser follows with a GET).
pub fn see_other(location: &str) -> Response {
    Redirect::to(location).into_response()
}

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: Option<Chrome>,
    title: &'a str,
    message: &'a str,
}

/// Why a page could not be shown; rendered as an HTML error page with the matching status.
#[derive(Debug)]
pub enum WebError {
    NotFound,
    Forbidden(String),
    /// A form or query this page cannot take (fields are shown again where a form can be).
    BadRequest(String),
    PayloadTooLarge,
    UnsupportedMediaType,
    /// The form's CSRF token is missing or wrong.
    Csrf,
    Conflict(String),
    Unavailable(String),
    Internal(String),
}

impl WebError {
    fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::Forbidden(_) | WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (title, message) = match &self {
            WebError::NotFound => ("Not found", "There is nothing here, or it is not yours to see.".to_owned()),
            WebError::Forbidden(message) => ("Not allowed", message.clone()),
            WebError::BadRequest(message) => ("That did not work", message.clone()),
            WebError::PayloadTooLarge => ("Too large", "The form was too large to accept.".to_owned()),
            WebError::UnsupportedMediaType => ("Not a form", "This address takes HTML forms only.".to_owned()),
            WebError::Csrf => (
                "The form expired",
                "The form was sent without a valid security token (it may have come from another site, or \
                 from a page opened before your cookies were cleared). Go back, reload the page and try again."
                    .to_owned(),
            ),
            WebError::Conflict(message) => ("Not possible now", message.clone()),
            WebError::Unavailable(message) => ("Unavailable", message.clone()),
            WebError::Internal(cause) => {
                tracing::error!(%cause, "web page failed");
                ("Something went wrong", "An internal error occurred; it has been logged.".to_owned())
            }
        };
        render_with(self.status(), &ErrorPage { chrome: None, title, message: &message })
    }
}

impl From<AppError> for WebError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::NotFound(_) => WebError::NotFound,
            AppError::Domain(domain::DomainError::NotFound(_)) => WebError::NotFound,
            AppError::Domain(domain::DomainError::Forbidden(message)) => WebError::Forbidden(message),
            AppError::Domain(other) => WebError::Conflict(other.to_string()),
            AppError::VersionConflict { .. } => {
                WebError::Conflict("Someone changed this in the meantime; reload the page and try again.".to_owned())
            }
            AppError::Rejected(message) => WebError::Conflict(message),
            AppError::Unauthenticated(message) | AppError::Forbidden(message) => WebError::Forbidden(message),
            AppError::Throttled(wait) => {
                WebError::Unavailable(format!("Too many attempts; try again in {} seconds.", wait.seconds()))
            }
            AppError::Store(StoreError::Unavailable(cause)) => {
                tracing::warn!(%cause, "storage unavailable");
                WebError::Unavailable("The database is unavailable; try again shortly.".to_owned())
            }
            AppError::Store(StoreError::Invalid(message)) => WebError::BadRequest(message),
            AppError::Unavailable(message) | AppError::BudgetExceeded(message) => WebError::Unavailable(message),
            AppError::Store(other) => WebError::Internal(format!("{other:?}")),
            AppError::Internal(cause) => WebError::Internal(cause),
        }
    }
}

/// Field errors of a form, shown next to their fields.
#[derive(Debug, Default, Clone)]
pub struct FieldErrors(Vec<(String, String)>);

impl FieldErrors {
    /// The message for `field`, or "" (templates test for emptiness).
    pub fn of(&self, field: &str) -> &str {
        self.0.iter().find(|(f, _)| f == field).map_or("", |(_, m)| m.as_str())
    }

    /// A message about the form as a whole.
    pub fn general(&self) -> &str {
        self.of("")
    }

    pub fn push(&mut self, field: &str, message: impl Into<String>) {
        self.0.push((field.to_owned(), message.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Turns an application error into errors on the form's fields where it names one
    /// (`field_names` maps the domain's field names to the form's), or a general message;
    /// errors that are not about the input are passed on.
    pub fn from_app_error(error: AppError, field_names: &[(&str, &str)]) -> Result<Self, WebError> {
        let mut errors = Self::default();
        match error {
            AppError::Domain(domain::DomainError::Validation { field, message }) => {
                let form_field = field_names.iter().find(|(d, _)| *d == field).map_or("", |(_, f)| *f);
                errors.push(form_field, message);
            }
            AppError::Domain(other @ (domain::DomainError::Conflict(_) | domain::DomainError::RuleViolation(_))) => {
                errors.push("", other.to_string());
            }
            AppError::Rejected(message) | AppError::Unauthenticated(message) => errors.push("", message),
            AppError::Store(StoreError::Invalid(message)) => errors.push("", message),
            AppError::VersionConflict { .. } => {
                errors.push("", "Someone changed this in the meantime; reload the page to see their version.");
            }
            other => return Err(other.into()),
        }
        Ok(errors)
    }
}

/// Dates as people read them: `2026-11-24 14:05` (UTC).
pub fn when(at: time::OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    at.format(&format).unwrap_or_default()
}

/// A wire name as a label: `meeting_notes` → `Meeting notes`.
pub fn label(name: &str) -> String {
    let spaced = name.replace('_', " ");
    let mut chars = spaced.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// An HTML page answering a path that does not exist (the API's paths keep the JSON envelope).
pub fn not_found_page() -> Response {
    WebError::NotFound.into_response()
}

impl From<crate::error::ApiError> for WebError {
    fn from(error: crate::error::ApiError) -> Self {
        use crate::error::ErrorCode;
        match error.code {
            ErrorCode::NotFound => WebError::NotFound,
            ErrorCode::Forbidden | ErrorCode::Unauthenticated => WebError::Forbidden(error.message),
            ErrorCode::Conflict | ErrorCode::PreconditionFailed => WebError::Conflict(error.message),
            ErrorCode::PayloadTooLarge => WebError::PayloadTooLarge,
            ErrorCode::UnsupportedMediaType => WebError::UnsupportedMediaType,
            ErrorCode::RateLimited | ErrorCode::Unavailable | ErrorCode::BudgetExceeded => {
                WebError::Unavailable(error.message)
            }
            ErrorCode::Internal => WebError::Internal(error.message),
            ErrorCode::ValidationError | ErrorCode::MethodNotAllowed => WebError::BadRequest(error.message),
        }
    }
}

/// The CSRF token for a page's forms (templates call this).
pub fn csrf(chrome: &Option<Chrome>) -> &str {
    chrome.as_ref().map_or("", |c| c.csrf.as_str())
}
