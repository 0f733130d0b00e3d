//! Sign-up, login, token refresh, logout and password change.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use application::Store;
use application::commands::change_password::ChangePassword;
use application::commands::log_in::{LogIn, Tokens};
use application::commands::sign_up::SignUp;

use crate::AppState;
use crate::auth::{Authorized, perm};
use crate::error::ApiError;
use crate::extract::Body;
use crate::limits::ClientIp;
use crate::request_id::RequestId;

/// Tokens of a session, as every sign-in answers.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub session_id: String,
    pub user_id: String,
    pub organization_id: String,
}

impl From<Tokens> for TokenResponse {
    fn from(t: Tokens) -> Self {
        Self {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            token_type: "Bearer",
            expires_in: t.expires_in,
            session_id: t.session_id,
            user_id: t.user_id,
            organization_id: t.org_id,
        }
    }
}

fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignUpRequest {
    email: String,
    password: String,
    name: String,
    organization_name: String,
}

/// `POST /auth/signup`: a user, their organization, and a session.
pub(crate) async fn sign_up<S: Store>(
    State(state): State<AppState<S>>,
    request_id: Option<axum::Extension<RequestId>>,
    headers: HeaderMap,
    Body(input): Body<SignUpRequest>,
) -> Result<Response, ApiError> {
    let signed_up = state
        .app
        .sign_up(SignUp {
            email: input.email,
            password: input.password,
            name: input.name,
            organization_name: input.organization_name,
            user_agent: user_agent(&headers),
            request_id: request_id.map(|id| id.0.0),
        })
        .await?;
    let (user, tokens) = (signed_up.user, signed_up.tokens);
    let body = serde_json::json!({
        "user": super::me::UserResponse { id: user.id, email: user.email, name: user.display_name },
        "organization": super::organization::OrganizationResponse::from(signed_up.organization),
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "token_type": "Bearer",
        "expires_in": tokens.expires_in,
        "session_id": tokens.session_id,
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginRequest {
    email: String,
    password: String,
    organization_id: Option<String>,
}

/// `POST /auth/login`.
pub(crate) async fn log_in<S: Store>(
    State(state): State<AppState<S>>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Body(input): Body<LoginRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let tokens = state
        .app
        .log_in(LogIn {
            email: input.email,
            password: input.password,
            organization: input.organization_id,
            client_ip: ip,
            user_agent: user_agent(&headers),
        })
        .await?;
    Ok(Json(tokens.into()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefreshRequest {
    refresh_token: String,
    organization_id: Option<String>,
}

/// `POST /auth/refresh`: rotates the refresh token.
pub(crate) async fn refresh<S: Store>(
    State(state): State<AppState<S>>,
    Body(input): Body<RefreshRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    Ok(Json(state.app.refresh_session(&input.refresh_token, input.organization_id).await?.into()))
}

/// `POST /auth/logout`: ends the caller's session.
pub(crate) async fn log_out<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::Authenticated>,
) -> Result<StatusCode, ApiError> {
    state.app.log_out(&who.0).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordRequest {
    current_password: String,
    new_password: String,
}

/// `POST /auth/password`: changes the password and revokes every other session.
pub(crate) async fn change_password<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::Authenticated>,
    Body(input): Body<PasswordRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .change_password(
            &who.0,
            ChangePassword { current_password: input.current_password, new_password: input.new_password },
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
