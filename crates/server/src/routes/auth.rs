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
#[derive(Debug, Serialize, utoipa::ToSchema)]
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

/// What sign-up made: the user, their organization, and a session's tokens.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SignUpResponse {
    pub user: super::me::UserResponse,
    pub organization: super::organization::OrganizationResponse,
    #[serde(flatten)]
    pub tokens: TokenResponse,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignUpRequest {
    #[schema(max_length = 254, pattern = r"^\s*[^@\s\x00-\x1f]{1,64}@[^@\s.\x00-\x1f]+(\.[^@\s.\x00-\x1f]+)+\s*$")]
    email: String,
    #[schema(min_length = 12, max_length = 256)]
    password: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    name: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    organization_name: String,
}

/// Leaves the secrets out.
impl std::fmt::Debug for SignUpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignUpRequest")
            .field("email", &self.email)
            .field("name", &self.name)
            .field("organization_name", &self.organization_name)
            .finish_non_exhaustive()
    }
}

/// `POST /auth/signup`: a user, their organization, and a session.
#[utoipa::path(
    post,
    path = "/api/v1/auth/signup",
    tag = "auth",
    summary = "Sign up: a user, their organization, and a session",
    security(()),
    request_body = SignUpRequest,
    responses((status = 201, description = "Signed up", body = SignUpResponse), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn sign_up<S: Store>(
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
    let user = signed_up.user;
    let body = SignUpResponse {
        user: super::me::UserResponse { id: user.id, email: user.email, name: user.display_name },
        organization: signed_up.organization.into(),
        tokens: signed_up.tokens.into(),
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    email: String,
    #[schema(max_length = 256)]
    password: String,
    #[schema(pattern = r"^org_[0-9A-Za-z]{1,64}$")]
    organization_id: Option<String>,
}

/// Leaves the secrets out.
impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("email", &self.email)
            .field("organization_id", &self.organization_id)
            .finish_non_exhaustive()
    }
}

/// `POST /auth/login`.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    summary = "Sign in with email and password",
    security(()),
    request_body = LoginRequest,
    responses((status = 200, description = "Signed in", body = TokenResponse), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn log_in<S: Store>(
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

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[schema(max_length = 128)]
    refresh_token: String,
    #[schema(pattern = r"^org_[0-9A-Za-z]{1,64}$")]
    organization_id: Option<String>,
}

/// Leaves the secrets out.
impl std::fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshRequest").field("organization_id", &self.organization_id).finish_non_exhaustive()
    }
}

/// `POST /auth/refresh`: rotates the refresh token.
#[utoipa::path(
    post,
    path = "/api/v1/auth/refresh",
    tag = "auth",
    summary = "Exchange a refresh token for new tokens (rotation)",
    security(()),
    request_body = RefreshRequest,
    responses((status = 200, description = "New tokens", body = TokenResponse), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn refresh<S: Store>(
    State(state): State<AppState<S>>,
    Body(input): Body<RefreshRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    Ok(Json(state.app.refresh_session(&input.refresh_token, input.organization_id).await?.into()))
}

/// `POST /auth/logout`: ends the caller's session.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    tag = "auth",
    summary = "End the calling session",
    responses((status = 204, description = "Signed out"), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn log_out<S: Store>(
    State(state): State<AppState<S>>,
    who: Authorized<perm::Authenticated>,
) -> Result<StatusCode, ApiError> {
    state.app.log_out(&who.0).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    current_password: String,
    #[schema(min_length = 12, max_length = 256)]
    new_password: String,
}

/// Leaves the secrets out.
impl std::fmt::Debug for PasswordRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordRequest").finish_non_exhaustive()
    }
}

/// `POST /auth/password`: changes the password and revokes every other session.
#[utoipa::path(
    post,
    path = "/api/v1/auth/password",
    tag = "auth",
    summary = "Change the password; every other session ends",
    request_body = PasswordRequest,
    responses((status = 204, description = "Changed"), (status = "default", description = "An error, in the envelope", body = crate::error::ErrorEnvelope))
)]
pub async fn change_password<S: Store>(
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
