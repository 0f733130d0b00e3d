//! Signs a user in with email and password, opening a session in one of their organizations.
//! Failed attempts are throttled per account and per client address; an unknown email and a
//! wrong password get the same answer after the same work.

use store::auth::{NewSession, SessionRecord};

use crate::security::passwords;
use crate::security::tokens::{self, AccessClaims};
use crate::{App, AppError, Store};

/// Input of [`App::log_in`].
#[derive(Debug, Clone)]
pub struct LogIn {
    pub email: String,
    pub password: String,
    /// The organization to act in; the oldest membership when absent.
    pub organization: Option<String>,
    /// The client's address, for the per-address throttle.
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A session's tokens, as handed to the client once.
#[derive(Clone, PartialEq, Eq)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds the access token is valid for.
    pub expires_in: u64,
    pub session_id: String,
    pub user_id: String,
    pub org_id: String,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens").field("session_id", &self.session_id).finish_non_exhaustive()
    }
}

const INVALID_LOGIN: &str = "invalid email or password";

impl<S: Store> App<S> {
    pub async fn log_in(&self, input: LogIn) -> Result<Tokens, AppError> {
        let now = self.clock.now();
        let account_key = input.email.trim().to_lowercase();
        let ip_key = input.client_ip.clone().unwrap_or_default();
        let security = &self.security;
        security.ip_throttle.acquire(&ip_key, now).await.map_err(AppError::Throttled)?;
        if let Err(wait) = security.account_throttle.acquire(&account_key, now).await {
            security.ip_throttle.release(&ip_key).await;
            return Err(AppError::Throttled(wait));
        }
        let user = self.store.user_by_email(&account_key).await?;
        let stored = match &user {
            Some(user) => self.store.password_hash(&user.id).await?,
            None => None,
        };
        let stored = match stored {
            Some(hash) => hash,
            None => self.decoy_hash().await?,
        };
        let matches = passwords::verify(input.password, stored).await?;
        let Some(user) = user.filter(|_| matches) else {
            tracing::info!("login failed");
            return Err(AppError::Unauthenticated(INVALID_LOGIN.to_owned()));
        };
        security.account_throttle.release(&account_key).await;
        security.ip_throttle.release(&ip_key).await;
        let memberships = self.store.memberships_of_user(&user.id).await?;
        let org = match &input.organization {
            Some(wanted) => memberships.iter().find(|m| &m.org_id == wanted),
            None => memberships.first(),
        };
        let Some(org) = org else {
            return Err(AppError::Forbidden("you are not a member of that organization".to_owned()));
        };
        let org_id = org.org_id.clone();
        tracing::info!(user_id = %user.id, org_id = %org_id, "login succeeded");
        self.open_session(&user.id, &org_id, input.user_agent).await
    }

    async fn decoy_hash(&self) -> Result<String, AppError> {
        self.security
            .decoy_hash
            .get_or_try_init(|| async {
                let decoy = tokens::new_refresh_token()?;
                passwords::hash(decoy).await
            })
            .await
            .cloned()
    }

    /// Opens a session for a member and issues its first tokens.
    pub(crate) async fn open_session(
        &self,
        user_id: &str,
        org_id: &str,
        user_agent: Option<String>,
    ) -> Result<Tokens, AppError> {
        let now = self.clock.now();
        let refresh_token = tokens::new_refresh_token()?;
        let session = SessionRecord {
            id: format!("ses_{}", self.ids.next_suffix()),
            user_id: user_id.to_owned(),
            org_id: org_id.to_owned(),
            created_at: now,
            last_used_at: now,
            expires_at: now + self.security.settings.session_ttl,
            revoked_at: None,
            user_agent: user_agent.map(|ua| ua.chars().take(256).collect()),
        };
        self.store
            .create_session(NewSession { session: session.clone(), refresh_hash: tokens::secret_hash(&refresh_token) })
            .await?;
        self.issue_tokens(&session, refresh_token)
    }

    /// Signs an access token for `session` and pairs it with `refresh_token`.
    pub(crate) fn issue_tokens(&self, session: &SessionRecord, refresh_token: String) -> Result<Tokens, AppError> {
        let now = self.clock.now();
        let ttl = self.security.settings.access_ttl;
        let claims = AccessClaims {
            sub: session.user_id.clone(),
            org: session.org_id.clone(),
            sid: session.id.clone(),
            iat: tokens::unix(now),
            exp: tokens::unix(now + ttl),
        };
        Ok(Tokens {
            access_token: self.security.key.sign(&claims)?,
            refresh_token,
            expires_in: u64::try_from(ttl.whole_seconds()).unwrap_or(0),
            session_id: session.id.clone(),
            user_id: session.user_id.clone(),
            org_id: session.org_id.clone(),
        })
    }
}
