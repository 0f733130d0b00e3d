//! The organization's API keys (never their secrets).

use store::auth::ApiKeyRecord;

use crate::{App, AppError, Principal, Store};

impl<S: Store> App<S> {
    pub async fn list_api_keys(&self, principal: &Principal) -> Result<Vec<ApiKeyRecord>, AppError> {
        Ok(self.store.api_keys(principal.ctx.org.as_str()).await?)
    }
}
