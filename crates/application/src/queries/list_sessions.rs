//! The caller's own sessions.

use store::auth::SessionRecord;

use crate::{App, AppError, Principal, Store};

impl<S: Store> App<S> {
    pub async fn list_sessions(&self, principal: &Principal) -> Result<Vec<SessionRecord>, AppError> {
        Ok(self.store.sessions(principal.ctx.actor.as_str()).await?)
    }
}
