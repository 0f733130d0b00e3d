//! Who a bearer credential belongs to: an access token (JWT of a live session) or an API key.
//! The role comes from the membership now, so revocations and role changes apply at once.

use domain::ids::{OrgId, UserId};

use crate::security::{stored_role as role, tokens};
use crate::{App, AppError, Credential, Principal, Store, TenantContext};

const INVALID_TOKEN: &str = "the access token is invalid, expired or revoked";

fn ids(org: &str, user: &str) -> Result<(OrgId, UserId), AppError> {
    let corrupt = |e: domain::DomainError| AppError::Store(store::StoreError::Corrupt(e.to_string()));
    Ok((OrgId::parse(org).map_err(corrupt)?, UserId::parse(user).map_err(corrupt)?))
}

impl<S: Store> App<S> {
    /// The principal behind `bearer`, or `Unauthenticated`.
    pub async fn authenticate(&self, bearer: &str, request_id: Option<String>) -> Result<Principal, AppError> {
        let now = self.clock.now();
        let cache = &self.security.authenticated;
        if bearer.starts_with(tokens::API_KEY_PREFIX) {
            let hash = tokens::secret_hash(bearer);
            let cache_key = hex::encode(&hash);
            if let Some(principal) = cache.get(&cache_key, now) {
                return Ok(with_request_id(principal, request_id));
            }
            let Some(active) = self.store.use_api_key(&hash, now).await? else {
                return Err(AppError::Unauthenticated("the API key is invalid or revoked".to_owned()));
            };
            let (org, actor) = ids(&active.key.org_id, &active.key.created_by)?;
            // The key acts with its own role, never above its creator's current one.
            let role = role(&active.key.role)?.max(role(&active.creator_role)?);
            let principal = Principal {
                ctx: TenantContext { org, actor, role, request_id },
                credential: Credential::ApiKey { key_id: active.key.id },
            };
            cache.put(cache_key, principal.clone(), now, i64::MAX);
            return Ok(principal);
        }
        let claims =
            self.security.key.verify(bearer).ok_or_else(|| AppError::Unauthenticated(INVALID_TOKEN.to_owned()))?;
        if claims.exp <= tokens::unix(now) {
            return Err(AppError::Unauthenticated("the access token has expired; refresh it".to_owned()));
        }
        let cache_key = format!("{}:{}:{}", claims.sid, claims.sub, claims.org);
        if let Some(principal) = cache.get(&cache_key, now) {
            return Ok(with_request_id(principal, request_id));
        }
        let session = self
            .store
            .active_session(&claims.sid, now)
            .await?
            .filter(|s| s.user_id == claims.sub && s.org_id == claims.org)
            .ok_or_else(|| AppError::Unauthenticated(INVALID_TOKEN.to_owned()))?;
        let (org, actor) = ids(&session.org_id, &session.user_id)?;
        let principal = Principal {
            ctx: TenantContext { org, actor, role: role(&session.role)?, request_id },
            credential: Credential::Session { session_id: session.session_id },
        };
        cache.put(cache_key, principal.clone(), now, claims.exp);
        Ok(principal)
    }

    /// Forgets every cached authentication: access changed somewhere.
    pub(crate) fn access_changed(&self) {
        self.security.authenticated.clear();
    }
}

fn with_request_id(mut principal: Principal, request_id: Option<String>) -> Principal {
    principal.ctx.request_id = request_id;
    principal
}
