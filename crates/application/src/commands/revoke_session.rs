//! Ends one of the caller's own sessions (a lost laptop).

use crate::{App, AppError, Principal, Store};

impl<S: Store> App<S> {
    pub async fn revoke_session(&self, principal: &Principal, session_id: &str) -> Result<(), AppError> {
        let user = principal.ctx.actor.as_str();
        if self.store.revoke_session(user, session_id, self.clock.now()).await? {
            self.access_changed();
            return Ok(());
        }
        match self.store.sessions(user).await?.iter().any(|s| s.id == session_id) {
            true => Ok(()), // already revoked: the goal holds
            false => Err(AppError::NotFound(format!("session {session_id} not found"))),
        }
    }
}
