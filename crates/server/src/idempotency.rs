//! `Idempotency-Key` on authenticated `POST`s, scoped to the principal: a retry with the same
//! key and body gets the first response again and the effect happens once (also under many
//! concurrent retries: the database's primary key admits one claim); the same key with another
//! body is a 422; a retry while the first request still runs is a 409.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use application::{Principal, Store};
use store::auth::{AuthStore, IdempotencyState};

use crate::AppState;
use crate::error::{ApiError, ErrorCode};

/// The request header.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Marks a response that shows a secret once (a new API key). Its body is never stored: a
/// retry with the same key gets a 409 naming what was created, not the secret again.
#[derive(Debug, Clone)]
pub struct ShowsSecretOnce {
    /// What the first request created, for the retry's message.
    pub created: String,
}

/// How long a key is remembered.
const KEY_TTL: time::Duration = time::Duration::hours(24);

pub async fn idempotency<S: Store>(State(state): State<AppState<S>>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(key) = request.headers().get(IDEMPOTENCY_KEY) else { return next.run(request).await };
    let key = match key.to_str() {
        Ok(key) if (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) => key.to_owned(),
        _ => return ApiError::field("Idempotency-Key", "must be 1 to 255 visible ASCII characters").into_response(),
    };
    let Some(principal) = request.extensions().get::<Arc<Principal>>().map(|p| p.key()) else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, crate::MAX_BODY_BYTES).await else {
        return ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("the request body is larger than {} bytes", crate::MAX_BODY_BYTES),
        )
        .into_response();
    };
    let fingerprint = {
        let mut hash = Sha256::new();
        // The path below the API's root, as fingerprints stored while the API was a nested
        // router were made of: a retry across an upgrade still matches its first attempt.
        let path = parts.uri.path();
        hash.update(path.strip_prefix("/api/v1").unwrap_or(path).as_bytes());
        hash.update(b"\n");
        hash.update(parts.uri.query().unwrap_or_default().as_bytes());
        hash.update(b"\n");
        hash.update(&bytes);
        hash.finalize().to_vec()
    };
    let store = state.app.store();
    let now = state.app.now();
    let claim = store.claim_idempotency(&principal, &key, &fingerprint, now, now - KEY_TTL).await;
    let claim = match claim {
        Ok(claim) => claim,
        Err(error) => return ApiError::from(application::AppError::from(error)).into_response(),
    };
    let mismatch = || {
        ApiError::field("Idempotency-Key", "was already used with a different request; use a new key").into_response()
    };
    match claim {
        IdempotencyState::InFlight { request_hash } if request_hash != fingerprint => mismatch(),
        IdempotencyState::InFlight { .. } => ApiError::new(
            ErrorCode::Conflict,
            "a request with this Idempotency-Key is still being processed; retry shortly",
        )
        .into_response(),
        IdempotencyState::Completed { request_hash, .. } if request_hash != fingerprint => mismatch(),
        IdempotencyState::Completed { status, content_type, body, .. } => {
            let mut response = (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body).into_response();
            if let Some(value) = content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
                response.headers_mut().insert(header::CONTENT_TYPE, value);
            }
            response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
            response
        }
        IdempotencyState::Claimed => {
            let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
            remember(store, &principal, &key, response).await
        }
    }
}

/// Stores the first response of a claimed key (a server error releases the key instead, so a
/// retry runs again) and returns it.
async fn remember<S: AuthStore>(store: &S, principal: &str, key: &str, response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    if parts.status.is_server_error() {
        if let Err(error) = store.release_idempotency(principal, key).await {
            tracing::error!(%error, "cannot release an idempotency key");
        }
        return Response::from_parts(parts, body);
    }
    if let Some(secret) = parts.extensions.get::<ShowsSecretOnce>() {
        let replay = ApiError::new(
            ErrorCode::Conflict,
            format!(
                "this Idempotency-Key already created {}; its secret was shown once and is not stored",
                secret.created
            ),
        );
        let stored = to_bytes(replay.render(None).into_body(), usize::MAX).await.unwrap_or_default();
        if let Err(error) =
            store.complete_idempotency(principal, key, replay.status.as_u16(), Some("application/json"), &stored).await
        {
            tracing::error!(%error, "cannot store an idempotent response");
        }
        return Response::from_parts(parts, body);
    }
    // Error bodies are rendered by the request-id middleware from the ApiError extension.
    let bytes = match parts.extensions.get::<ApiError>() {
        Some(error) => to_bytes(error.render(None).into_body(), usize::MAX).await.unwrap_or_default(),
        None => match to_bytes(body, usize::MAX).await {
            Ok(bytes) => bytes,
            Err(error) => {
                tracing::error!(%error, "cannot buffer a response for idempotency");
                let _ = store.release_idempotency(principal, key).await;
                return ApiError::internal().into_response();
            }
        },
    };
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if let Err(error) = store.complete_idempotency(principal, key, parts.status.as_u16(), content_type, &bytes).await {
        tracing::error!(%error, "cannot store an idempotent response");
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes))
}
