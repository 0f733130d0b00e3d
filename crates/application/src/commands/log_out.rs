//! Ends the caller's session: its access tokens stop working at once, its refresh token too.

use crate::{App, AppError, Credential, Principal, Store};

impl<S: Store> App<S> {
    pub async fn log_out(&self, principal: &Principal) -> Result<(), AppError> {
        let Credential::Session { session_id } = &principal.credential else {
            return Err(AppError::Rejected("an API key has no session to end; revoke the key instead".to_owned()));
        };
        self.store.revoke_session(principal.ctx.actor.as_str(), session_id, self.clock.now()).await?;
        self.access_changed();
        Ok(())
    }
}
