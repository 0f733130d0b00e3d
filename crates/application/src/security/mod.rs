//! Authentication and authorization shared by every interface: the permission table, password
//! policy and hashing, tokens, throttles, and the authenticated [`Principal`].

pub mod cache;
pub mod passwords;
pub mod permissions;
pub mod throttle;
pub mod tokens;

use std::sync::Arc;

use time::Duration;
use tokio::sync::OnceCell;

use domain::role::Role;

use crate::TenantContext;
use permissions::Permission;
use throttle::{Limit, RateLimiter, SharedCounters};
use tokens::SigningKey;

/// Lifetimes and limits of authentication.
#[derive(Debug, Clone)]
pub struct SecuritySettings {
    /// How long an access token is accepted.
    pub access_ttl: Duration,
    /// How long a session lives without being refreshed.
    pub session_ttl: Duration,
    /// A refresh retried within this long after it rotated gets the same new token.
    pub refresh_grace: Duration,
    /// Failed logins per account.
    pub login_per_account: Limit,
    /// Failed logins per client address.
    pub login_per_ip: Limit,
    /// Counters every instance shares (Redis), so the login limits hold for the cluster;
    /// `None` counts in this process.
    pub shared_counters: Option<Arc<dyn SharedCounters>>,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        Self {
            access_ttl: Duration::minutes(15),
            session_ttl: Duration::days(30),
            refresh_grace: Duration::seconds(10),
            // 10 per 15 minutes: at most 40 evaluated failures per account per hour.
            login_per_account: Limit { max: 10, window: Duration::minutes(15) },
            login_per_ip: Limit { max: 50, window: Duration::minutes(15) },
            shared_counters: None,
        }
    }
}

/// The signing key, settings and throttles of one process.
#[derive(Debug)]
pub struct Security {
    pub(crate) key: SigningKey,
    pub(crate) settings: SecuritySettings,
    pub(crate) account_throttle: RateLimiter,
    pub(crate) ip_throttle: RateLimiter,
    /// A hash verified when the email is unknown, so both failures cost the same time.
    pub(crate) decoy_hash: OnceCell<String>,
    pub(crate) authenticated: cache::AuthCache,
}

impl Security {
    pub fn new(key: SigningKey, settings: SecuritySettings) -> Self {
        Self {
            key,
            account_throttle: RateLimiter::new(
                "login-account",
                settings.login_per_account,
                settings.shared_counters.clone(),
            ),
            ip_throttle: RateLimiter::new("login-ip", settings.login_per_ip, settings.shared_counters.clone()),
            settings,
            decoy_hash: OnceCell::new(),
            authenticated: cache::AuthCache::default(),
        }
    }
}

/// A role as the read models store it; an unknown name means corrupt data.
pub(crate) fn stored_role(name: &str) -> Result<Role, crate::AppError> {
    Role::from_name(name)
        .ok_or_else(|| crate::AppError::Store(store::StoreError::Corrupt(format!("unknown role {name:?}"))))
}

/// How a request authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// An access token of this session.
    Session { session_id: String },
    /// This API key.
    ApiKey { key_id: String },
}

/// An authenticated caller acting in one organization with a role that is current (read at
/// authentication, so a role change or removal takes effect on the next request).
#[derive(Debug, Clone)]
pub struct Principal {
    pub ctx: TenantContext,
    pub credential: Credential,
}

impl Principal {
    /// Whether the principal's role holds `permission`.
    pub fn can(&self, permission: Permission) -> bool {
        permission.granted_to(self.ctx.role)
    }

    /// A stable name of the principal, scoping idempotency keys and rate limits.
    pub fn key(&self) -> String {
        match &self.credential {
            Credential::Session { .. } => format!("{}:{}", self.ctx.org, self.ctx.actor),
            Credential::ApiKey { key_id } => key_id.clone(),
        }
    }

    pub fn role(&self) -> Role {
        self.ctx.role
    }
}
