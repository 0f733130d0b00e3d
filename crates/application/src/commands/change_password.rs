//! Changes the caller's password; every other session of the user is revoked.

use crate::security::passwords;
use crate::{App, AppError, Credential, Principal, Store};

/// Input of [`App::change_password`].
#[derive(Clone)]
pub struct ChangePassword {
    pub current_password: String,
    pub new_password: String,
}

impl std::fmt::Debug for ChangePassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChangePassword([redacted])")
    }
}

impl<S: Store> App<S> {
    pub async fn change_password(&self, principal: &Principal, input: ChangePassword) -> Result<(), AppError> {
        let user_id = principal.ctx.actor.as_str();
        let user = self.store.user(user_id).await?.ok_or_else(|| AppError::NotFound("user not found".to_owned()))?;
        let stored = self.store.password_hash(user_id).await?.unwrap_or_default();
        if !passwords::verify(input.current_password, stored).await? {
            return Err(AppError::Domain(domain::DomainError::validation(
                "current_password",
                "does not match your current password",
            )));
        }
        passwords::check_strength(&input.new_password, &[&user.email, &user.display_name])?;
        let hash = passwords::hash(input.new_password).await?;
        let now = self.clock.now();
        self.store.set_password_hash(user_id, &hash, now).await?;
        let keep = match &principal.credential {
            Credential::Session { session_id } => Some(session_id.as_str()),
            Credential::ApiKey { .. } => None,
        };
        let revoked = self.store.revoke_sessions_of_user(user_id, keep, now).await?;
        self.access_changed();
        tracing::info!(user_id, revoked, "password changed");
        Ok(())
    }
}
