//! Cookie sessions and CSRF protection for the web UI.
//!
//! A browser session is an API session: signing in opens one (it shows under `/sessions` and is
//! revoked the same ways), its access token and refresh token travel in HttpOnly, SameSite=Lax
//! cookies (Secure unless the site is served on localhost), and an expired access token is
//! refreshed transparently, rotating the refresh token. Every POST must carry, in its `csrf`
//! field, the token of the `consailt_csrf` cookie (a double-submit token); [`csrf`] checks it
//! before any handler runs, so no form can forget it.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use cookie::{Cookie, SameSite};

use application::commands::log_in::Tokens;
use application::{AppError, Principal, Store};

use super::{Chrome, MAX_FORM_BYTES, WebError};
use crate::AppState;

pub const ACCESS_COOKIE: &str = "consailt_access";
pub const REFRESH_COOKIE: &str = "consailt_refresh";
pub const CSRF_COOKIE: &str = "consailt_csrf";
/// The form field (or `X-CSRF-Token` header, for scripts) that must repeat the CSRF cookie.
pub const CSRF_FIELD: &str = "csrf";
const CSRF_HEADER: &str = "x-csrf-token";

/// The value of cookie `name` in the request, if any.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

/// Whether cookies may go without `Secure`: the site is on this machine (plain HTTP is then
/// fine); anywhere else the browser must be talking TLS.
fn local(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    let name =
        host.rsplit_once(':').filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit())).map_or(host, |(n, _)| n);
    matches!(name, "localhost" | "127.0.0.1" | "[::1]") || name.ends_with(".localhost")
}

fn set_cookie(headers: &HeaderMap, name: &'static str, value: String, max_age: Option<time::Duration>) -> HeaderValue {
    let mut builder = Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(if name == CSRF_COOKIE { SameSite::Strict } else { SameSite::Lax })
        .secure(!local(headers));
    if let Some(age) = max_age {
        builder = builder.max_age(age);
    }
    HeaderValue::from_str(&builder.build().to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The `Set-Cookie` headers that store a session's tokens.
pub fn session_cookies(headers: &HeaderMap, tokens: &Tokens, session_ttl: time::Duration) -> Vec<HeaderValue> {
    let access_age = time::Duration::seconds(i64::try_from(tokens.expires_in).unwrap_or(0));
    vec![
        set_cookie(headers, ACCESS_COOKIE, tokens.access_token.clone(), Some(access_age)),
        set_cookie(headers, REFRESH_COOKIE, tokens.refresh_token.clone(), Some(session_ttl)),
    ]
}

/// The `Set-Cookie` headers that forget the session.
pub fn cleared_cookies(headers: &HeaderMap) -> Vec<HeaderValue> {
    [ACCESS_COOKIE, REFRESH_COOKIE]
        .into_iter()
        .map(|name| set_cookie(headers, name, String::new(), Some(time::Duration::ZERO)))
        .collect()
}

/// `response` with `cookies` added.
pub fn with_cookies(mut response: Response, cookies: Vec<HeaderValue>) -> Response {
    for cookie in cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The CSRF token of this request, for its forms.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

fn new_csrf_token() -> Result<String, AppError> {
    let bytes = application::security::tokens::random_bytes::<32>()?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// Equal strings, compared in time independent of where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Middleware for every web route: makes sure the browser holds a CSRF cookie, and refuses a
/// POST whose form (or `X-CSRF-Token` header) does not repeat it. Form bodies are buffered
/// here, within [`MAX_FORM_BYTES`].
pub async fn csrf(request: Request, next: Next) -> Response {
    let held = cookie(request.headers(), CSRF_COOKIE).filter(|t| t.len() == 43);
    let (token, fresh) = match held.clone() {
        Some(token) => (token, false),
        None => match new_csrf_token() {
            Ok(token) => (token, true),
            Err(error) => return WebError::from(error).into_response(),
        },
    };
    let mut request = request;
    if request.method() == Method::POST {
        request = match checked_post(request, held.as_deref()).await {
            Ok(request) => request,
            Err(error) => return error.into_response(),
        };
    }
    let set = fresh.then(|| set_cookie(request.headers(), CSRF_COOKIE, token.clone(), None));
    request.extensions_mut().insert(CsrfToken(token));
    let response = next.run(request).await;
    with_cookies(response, set.into_iter().collect())
}

async fn checked_post(request: Request, held: Option<&str>) -> Result<Request, WebError> {
    let form = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
    });
    if !form {
        return Err(WebError::UnsupportedMediaType);
    }
    let header_token = request.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES).await.map_err(|_| WebError::PayloadTooLarge)?;
    let sent = header_token.or_else(|| {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
            .ok()?
            .into_iter()
            .find(|(name, _)| name == CSRF_FIELD)
            .map(|(_, value)| value)
    });
    match (held, sent) {
        (Some(held), Some(sent)) if same(held, &sent) => Ok(Request::from_parts(parts, Body::from(bytes))),
        _ => Err(WebError::Csrf),
    }
}

/// Middleware for signed-in pages: authenticates the session cookies (refreshing an expired
/// access token), loads the page frame, and sends anyone else to the sign-in page.
pub async fn require<S: Store>(State(state): State<AppState<S>>, mut request: Request, next: Next) -> Response {
    let headers = request.headers().clone();
    let (principal, cookies) = match authenticate(&state, &headers).await {
        Ok(Some(found)) => found,
        Ok(None) => return to_login(&request),
        Err(error) => return error.into_response(),
    };
    if let Err(wait) = state.limits.per_principal.acquire(&principal.key(), state.app.now()).await {
        return WebError::Unavailable(format!("Too many requests; try again in {} seconds.", wait.seconds()))
            .into_response();
    }
    let csrf = request.extensions().get::<CsrfToken>().map(|t| t.0.clone()).unwrap_or_default();
    let chrome = match chrome(&state, &principal, csrf).await {
        Ok(chrome) => chrome,
        Err(error) => return error.into_response(),
    };
    request.extensions_mut().insert(Arc::new(principal));
    request.extensions_mut().insert(chrome);
    with_cookies(next.run(request).await, cookies)
}

/// The principal behind the session cookies, with the cookies to set when they were
/// refreshed; `None` when there is no live session.
async fn authenticate<S: Store>(
    state: &AppState<S>,
    headers: &HeaderMap,
) -> Result<Option<(Principal, Vec<HeaderValue>)>, WebError> {
    if let Some(access) = cookie(headers, ACCESS_COOKIE) {
        match state.app.authenticate(&access, None).await {
            Ok(principal) => return Ok(Some((principal, Vec::new()))),
            Err(AppError::Unauthenticated(_)) => {}
            Err(error) => return Err(error.into()),
        }
    }
    let Some(refresh) = cookie(headers, REFRESH_COOKIE) else { return Ok(None) };
    let tokens = match state.app.refresh_session(&refresh, None).await {
        Ok(tokens) => tokens,
        Err(AppError::Unauthenticated(_) | AppError::Forbidden(_)) => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    let principal = state.app.authenticate(&tokens.access_token, None).await?;
    Ok(Some((principal, session_cookies(headers, &tokens, state.app.security_settings().session_ttl))))
}

async fn chrome<S: Store>(state: &AppState<S>, principal: &Principal, csrf: String) -> Result<Chrome, WebError> {
    let me = state.app.get_user(principal.ctx.actor.as_str()).await?;
    let org_id = principal.ctx.org.as_str().to_owned();
    let org_name = me.memberships.iter().find(|m| m.org_id == org_id).map(|m| m.org_name.clone()).unwrap_or_default();
    Ok(Chrome {
        user_name: me.user.display_name,
        other_orgs: me.memberships.into_iter().filter(|m| m.org_id != org_id).map(|m| (m.org_id, m.org_name)).collect(),
        org_id,
        org_name,
        role: principal.role().to_string(),
        csrf,
        section: "",
        can_use_ai: principal.can(application::security::permissions::Permission::UseAi),
    })
}

/// Sends the browser to the sign-in page, back here afterwards (GET only), forgetting a dead
/// session's cookies.
fn to_login(request: &Request) -> Response {
    let back = (request.method() == Method::GET)
        .then(|| request.uri().path_and_query().map(|p| p.as_str().to_owned()))
        .flatten()
        .filter(|p| p != "/");
    let location = match back {
        Some(path) => format!("/login?next={}", percent_encode(&path)),
        None => "/login".to_owned(),
    };
    let clear =
        if cookie(request.headers(), REFRESH_COOKIE).is_some() || cookie(request.headers(), ACCESS_COOKIE).is_some() {
            cleared_cookies(request.headers())
        } else {
            Vec::new()
        };
    with_cookies(Redirect::to(&location).into_response(), clear)
}

fn percent_encode(text: &str) -> String {
    serde_urlencoded::to_string([("", text)]).map(|s| s.trim_start_matches('=').to_owned()).unwrap_or_default()
}

/// Where to go after signing in: a path on this site only (never another origin).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => path.to_owned(),
        _ => "/".to_owned(),
    }
}
