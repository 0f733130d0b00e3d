//! Authentication and authorization at the edge. The [`authenticate`] middleware turns a bearer
//! credential into a [`Principal`] (rate-limited per principal); the [`Authorized`] extractor
//! checks the route's permission, so a handler that compiles has been authorized.

use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use application::security::permissions::Permission;
use application::{Principal, Store};

use crate::AppState;
use crate::error::{ApiError, ErrorCode};
use crate::request_id::RequestId;

/// Middleware for every protected route: authenticates the bearer credential and applies the
/// per-principal rate limit.
pub async fn authenticate<S: Store>(State(state): State<AppState<S>>, mut request: Request, next: Next) -> Response {
    let Some(bearer) = bearer(&request) else {
        return ApiError::new(
            ErrorCode::Unauthenticated,
            "send an access token or API key as `Authorization: Bearer ...`",
        )
        .into_response();
    };
    let request_id = request.extensions().get::<RequestId>().map(|id| id.0.clone());
    let principal = match state.app.authenticate(&bearer, request_id).await {
        Ok(principal) => principal,
        Err(error) => return ApiError::from(error).into_response(),
    };
    if let Err(wait) = state.limits.per_principal.acquire(&principal.key(), state.app.now()).await {
        return ApiError {
            retry_after: Some(wait.seconds()),
            ..ApiError::new(ErrorCode::RateLimited, "rate limit of this credential exceeded")
        }
        .into_response();
    }
    request.extensions_mut().insert(Arc::new(principal));
    next.run(request).await
}

fn bearer(request: &Request) -> Option<String> {
    let value = request.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && token.len() <= 4096).then(|| token.to_owned())
}

/// A route's permission, named by a marker type.
pub trait Requirement {
    const PERMISSION: Option<Permission>;
}

/// The markers: `Authorized<perm::WriteItems>`.
pub mod perm {
    use super::{Permission, Requirement};

    macro_rules! markers {
        ($($name:ident),* $(,)?) => {$(
            #[doc = concat!("Requires [`Permission::", stringify!($name), "`].")]
            #[derive(Debug)]
            pub struct $name;
            impl Requirement for $name {
                const PERMISSION: Option<Permission> = Some(Permission::$name);
            }
        )*};
    }
    markers!(
        ReadOrganization,
        ManageOrganization,
        ReadMembers,
        ManageMembers,
        ReadEngagements,
        WriteEngagements,
        ReadItems,
        WriteItems,
        ReadTaxonomy,
        WriteTaxonomy,
        ManageApiKeys,
        ReadAuditTrail,
        UseAi,
        ReadAiUsage,
    );

    /// Any authenticated principal, whatever its role (its own profile and sessions).
    #[derive(Debug)]
    pub struct Authenticated;
    impl Requirement for Authenticated {
        const PERMISSION: Option<Permission> = None;
    }
}

/// An authenticated principal holding `P`'s permission.
#[derive(Debug)]
pub struct Authorized<P>(pub Arc<Principal>, PhantomData<P>);

impl<P> Authorized<P> {
    pub fn ctx(&self) -> &application::TenantContext {
        &self.0.ctx
    }
}

impl<S: Send + Sync, P: Requirement> FromRequestParts<S> for Authorized<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let principal = parts
            .extensions
            .get::<Arc<Principal>>()
            .cloned()
            .ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated, "authentication required"))?;
        if let Some(permission) = P::PERMISSION
            && !principal.can(permission)
        {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                format!("the {} role does not have the {} permission", principal.role(), permission.as_str()),
            ));
        }
        Ok(Self(principal, PhantomData))
    }
}
