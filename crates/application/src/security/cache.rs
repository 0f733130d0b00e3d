//! A short-lived cache of authenticated principals, so a request does not pay a database
//! round trip to learn what the previous request with the same credential learned. Every
//! revocation in this process (logout, session revocation, password change, role change,
//! removal, API key revocation) clears it at once; an entry lives at most [`TTL`], which bounds
//! how long a revocation made by another instance can go unseen.
#![expect(clippy::disallowed_types, reason = "the std Mutex is held for one map operation, never across an await")]

use std::collections::HashMap;
use std::sync::Mutex;

use time::{Duration, OffsetDateTime};

use crate::Principal;

/// How long an authentication is reused.
pub const TTL: Duration = Duration::seconds(2);
/// Entries kept before the cache is emptied (bounds memory under a flood of credentials).
const CAPACITY: usize = 10_000;

#[derive(Debug, Default)]
pub struct AuthCache {
    entries: Mutex<HashMap<String, (Principal, OffsetDateTime, i64)>>,
}

impl AuthCache {
    /// The principal cached for `credential` (a session id or a key hash), if still fresh and
    /// the access token's expiry `exp` (seconds) is still ahead.
    pub fn get(&self, credential: &str, now: OffsetDateTime) -> Option<Principal> {
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (principal, cached_at, exp) = entries.get(credential)?;
        (now - *cached_at < TTL && now.unix_timestamp() < *exp).then(|| principal.clone())
    }

    pub fn put(&self, credential: String, principal: Principal, now: OffsetDateTime, exp: i64) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(credential, (principal, now, exp));
    }

    /// Forgets everything: called by every use case that revokes or changes access.
    pub fn clear(&self) {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
    }
}
