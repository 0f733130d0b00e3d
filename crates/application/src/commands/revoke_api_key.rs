//! Revokes an API key of the organization; it stops authenticating at once.

use crate::{App, AppError, Principal, Store};

impl<S: Store> App<S> {
    pub async fn revoke_api_key(&self, principal: &Principal, key_id: &str) -> Result<(), AppError> {
        let org = principal.ctx.org.as_str();
        if self.store.revoke_api_key(org, key_id, self.clock.now()).await? {
            self.access_changed();
            tracing::info!(key_id, org_id = org, "api key revoked");
            return Ok(());
        }
        match self.store.api_keys(org).await?.iter().any(|k| k.id == key_id) {
            true => Ok(()),
            false => Err(AppError::NotFound(format!("api key {key_id} not found"))),
        }
    }
}
