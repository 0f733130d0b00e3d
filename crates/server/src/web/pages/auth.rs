//! Signing up, in and out, and switching organization.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use application::commands::log_in::LogIn;
use application::commands::sign_up::SignUp;
use application::{AppError, Store};

use super::form;
use crate::AppState;
use crate::limits::ClientIp;
use crate::web::session::{self, CsrfToken, cleared_cookies, safe_next, session_cookies, with_cookies};
use crate::web::{Chrome, FieldErrors, Page, WebError, render, render_with, see_other};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Option<Chrome>,
    csrf: String,
    email: String,
    next: String,
    errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupPage {
    chrome: Option<Chrome>,
    csrf: String,
    form: SignupForm,
    errors: FieldErrors,
}

#[derive(Debug, Default, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// `GET /login`.
pub async fn login_form(csrf: axum::Extension<CsrfToken>, Query(query): Query<NextQuery>) -> Response {
    render(&LoginPage {
        chrome: None,
        csrf: csrf.0.0,
        email: String::new(),
        next: safe_next(query.next.as_deref()),
        errors: FieldErrors::default(),
    })
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers.get(axum::http::header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// `POST /login`.
pub async fn log_in<S: Store>(
    State(state): State<AppState<S>>,
    csrf: axum::Extension<CsrfToken>,
    ClientIp(client_ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let input: LoginForm = form(&body)?;
    let next = safe_next(input.next.as_deref());
    let attempt = LogIn {
        email: input.email.clone(),
        password: input.password,
        organization: None,
        client_ip,
        user_agent: user_agent(&headers),
    };
    match state.app.log_in(attempt).await {
        Ok(tokens) => Ok(with_cookies(
            see_other(&next),
            session_cookies(&headers, &tokens, state.app.security_settings().session_ttl),
        )),
        Err(error @ (AppError::Unauthenticated(_) | AppError::Forbidden(_) | AppError::Throttled(_))) => {
            let mut errors = FieldErrors::default();
            errors.push("", error.to_string());
            let status = match error {
                AppError::Throttled(_) => axum::http::StatusCode::TOO_MANY_REQUESTS,
                _ => axum::http::StatusCode::UNAUTHORIZED,
            };
            Ok(render_with(status, &LoginPage { chrome: None, csrf: csrf.0.0, email: input.email, next, errors }))
        }
        Err(error) => Err(error.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
struct SignupForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    organization_name: String,
}

/// `GET /signup`.
pub async fn signup_form(csrf: axum::Extension<CsrfToken>) -> Response {
    render(&SignupPage { chrome: None, csrf: csrf.0.0, form: SignupForm::default(), errors: FieldErrors::default() })
}

/// `POST /signup`: creates the user and their organization, and signs them in.
pub async fn sign_up<S: Store>(
    State(state): State<AppState<S>>,
    csrf: axum::Extension<CsrfToken>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let input: SignupForm = form(&body)?;
    // Every field is checked up front, so that the page shows all problems at once (and the
    // two names, both `name` to the domain, each next to its own field).
    let mut errors = FieldErrors::default();
    let checks = [
        ("name", domain::text::Name::parse(&input.name).err().map(AppError::from)),
        ("email", domain::email::Email::parse(&input.email).err().map(AppError::from)),
        (
            "password",
            application::security::passwords::check_strength(
                &input.password,
                &[&input.email, &input.name, &input.organization_name],
            )
            .err(),
        ),
        ("organization_name", domain::text::Name::parse(&input.organization_name).err().map(AppError::from)),
    ];
    for (field, error) in checks {
        if let Some(AppError::Domain(domain::DomainError::Validation { message, .. })) = error {
            errors.push(field, message);
        }
    }
    if !errors.is_empty() {
        let form = SignupForm { password: String::new(), ..input };
        return Ok(render_with(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            &SignupPage { chrome: None, csrf: csrf.0.0, form, errors },
        ));
    }
    let attempt = SignUp {
        email: input.email.clone(),
        password: input.password.clone(),
        name: input.name.clone(),
        organization_name: input.organization_name.clone(),
        user_agent: user_agent(&headers),
        request_id: None,
    };
    match state.app.sign_up(attempt).await {
        Ok(signed_up) => Ok(with_cookies(
            see_other("/"),
            session_cookies(&headers, &signed_up.tokens, state.app.security_settings().session_ttl),
        )),
        Err(error) => {
            let fields = [("email", "email"), ("password", "password"), ("name", "name")];
            let errors = FieldErrors::from_app_error(error, &fields)?;
            // The password is never sent back into the page.
            let form = SignupForm { password: String::new(), ..input };
            Ok(render_with(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                &SignupPage { chrome: None, csrf: csrf.0.0, form, errors },
            ))
        }
    }
}

/// `POST /logout`: revokes the session, forgets its cookies.
pub async fn log_out<S: Store>(
    State(state): State<AppState<S>>,
    page: Page,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    state.app.log_out(&page.principal).await?;
    Ok(with_cookies(see_other("/login"), cleared_cookies(&headers)))
}

#[derive(Debug, Deserialize)]
struct SwitchForm {
    organization_id: String,
}

/// `POST /switch-organization`: refreshes the session into another of the caller's
/// organizations.
pub async fn switch_organization<S: Store>(
    State(state): State<AppState<S>>,
    _page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let input: SwitchForm = form(&body)?;
    let refresh = session::cookie(&headers, session::REFRESH_COOKIE)
        .ok_or_else(|| WebError::Forbidden("Your session has ended; sign in again.".to_owned()))?;
    let tokens = state.app.refresh_session(&refresh, Some(input.organization_id)).await?;
    Ok(with_cookies(see_other("/"), session_cookies(&headers, &tokens, state.app.security_settings().session_ttl)))
}
