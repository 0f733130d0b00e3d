//! Creates an API key for the organization. The secret is returned once; only its hash is kept.

use domain::role::Role;
use store::auth::ApiKeyRecord;

use crate::security::tokens;
use crate::{App, AppError, Principal, Store};

/// Longest API key name, in characters.
pub const MAX_API_KEY_NAME_CHARS: usize = 100;

/// Input of [`App::create_api_key`].
#[derive(Debug, Clone)]
pub struct CreateApiKey {
    pub name: String,
    pub role: Role,
}

/// A new key and its secret, which is never shown again.
#[derive(Clone)]
pub struct CreatedApiKey {
    pub key: ApiKeyRecord,
    pub secret: String,
}

impl std::fmt::Debug for CreatedApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedApiKey").field("key", &self.key).finish_non_exhaustive()
    }
}

impl<S: Store> App<S> {
    pub async fn create_api_key(&self, principal: &Principal, input: CreateApiKey) -> Result<CreatedApiKey, AppError> {
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > MAX_API_KEY_NAME_CHARS {
            return Err(AppError::Domain(domain::DomainError::validation(
                "name",
                format!("must be 1 to {MAX_API_KEY_NAME_CHARS} characters"),
            )));
        }
        // Role::ALL is ordered most privileged first: a key never outranks its creator.
        if input.role < principal.role() {
            return Err(AppError::Forbidden(format!(
                "a {} cannot create a key with the {} role",
                principal.role(),
                input.role
            )));
        }
        let secret = tokens::new_api_key()?;
        let key = ApiKeyRecord {
            id: format!("key_{}", self.ids.next_suffix()),
            org_id: principal.ctx.org.to_string(),
            name: name.to_owned(),
            role: input.role.as_str().to_owned(),
            prefix: secret.chars().take(tokens::API_KEY_PREFIX.len() + 6).collect(),
            created_by: principal.ctx.actor.to_string(),
            created_at: self.clock.now(),
            last_used_at: None,
            revoked_at: None,
        };
        self.store.create_api_key(&key, &tokens::secret_hash(&secret)).await?;
        tracing::info!(key_id = %key.id, org_id = %key.org_id, role = %key.role, "api key created");
        Ok(CreatedApiKey { key, secret })
    }
}
