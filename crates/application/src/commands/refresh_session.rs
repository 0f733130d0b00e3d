//! Exchanges a refresh token for new tokens, rotating it. Reuse of a rotated token revokes the
//! whole session; a retry within the grace period gets the token the first attempt produced.

use store::auth::{RefreshOutcome, RefreshRequest};

use super::log_in::Tokens;
use crate::security::tokens;
use crate::{App, AppError, Store};

const INVALID_REFRESH: &str = "the refresh token is invalid, expired or revoked";

impl<S: Store> App<S> {
    /// Rotates `refresh_token`; `organization` moves the session into another organization of
    /// the user.
    pub async fn refresh_session(&self, refresh_token: &str, organization: Option<String>) -> Result<Tokens, AppError> {
        if !refresh_token.starts_with(tokens::REFRESH_TOKEN_PREFIX) || refresh_token.len() > 128 {
            return Err(AppError::Unauthenticated(INVALID_REFRESH.to_owned()));
        }
        let now = self.clock.now();
        let successor = self.security.key.successor(refresh_token)?;
        let organization_changed = organization.is_some();
        let outcome = self
            .store
            .refresh(RefreshRequest {
                token_hash: tokens::secret_hash(refresh_token),
                successor_hash: tokens::secret_hash(&successor),
                now,
                grace: self.security.settings.refresh_grace,
                switch_org: organization,
                expires_at: now + self.security.settings.session_ttl,
            })
            .await?;
        let session = match outcome {
            RefreshOutcome::Rotated { session } | RefreshOutcome::AlreadyRotated { session } => session,
            RefreshOutcome::Reused => {
                self.access_changed();
                return Err(AppError::Unauthenticated(
                    "this refresh token was already used; the session is revoked, sign in again".to_owned(),
                ));
            }
            RefreshOutcome::Invalid => return Err(AppError::Unauthenticated(INVALID_REFRESH.to_owned())),
        };
        // A member removed from the organization cannot refresh into it.
        if organization_changed {
            // Access tokens of the session's previous organization must stop at once.
            self.access_changed();
        }
        if self.store.active_session(&session.id, now).await?.is_none() {
            self.store.revoke_session(&session.user_id, &session.id, now).await?;
            self.access_changed();
            return Err(AppError::Unauthenticated(INVALID_REFRESH.to_owned()));
        }
        self.issue_tokens(&session, successor)
    }
}
