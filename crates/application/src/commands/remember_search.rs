//! Adds a query to the caller's search history. A search box that searches as the user types
//! sends "ris", "risk", "risk reg": a query that extends or shortens the previous one within
//! [`TYPING_WINDOW`] replaces it, so the history holds what the user meant to look for.

use time::Duration;

use crate::{App, AppError, Credential, Principal, Store};

/// How long after a query a refinement of it counts as the same search being typed.
pub const TYPING_WINDOW: Duration = Duration::seconds(30);

impl<S: Store> App<S> {
    /// Remembers `query` for the person behind `principal`. Searches made with an API key are
    /// a program's, not a person's, and are not remembered.
    pub async fn remember_search(&self, principal: &Principal, query: &str) -> Result<(), AppError> {
        if matches!(principal.credential, Credential::ApiKey { .. }) {
            return Ok(());
        }
        let query = query.split_whitespace().collect::<Vec<_>>().join(" ");
        if query.is_empty() {
            return Ok(());
        }
        let (org, user) = (principal.ctx.org.as_str(), principal.ctx.actor.as_str());
        let now = self.clock.now();
        let history = self.store.search_history(org, user).await?;
        let supersedes = history.first().filter(|latest| {
            let (older, newer) = (latest.query.to_lowercase(), query.to_lowercase());
            now - latest.searched_at <= TYPING_WINDOW && (newer.starts_with(&older) || older.starts_with(&newer))
        });
        let supersedes = supersedes.map(|latest| latest.query.as_str());
        self.store.record_search(org, user, &query, now, supersedes).await?;
        Ok(())
    }

    /// Forgets the caller's search history in the organization it acts in.
    pub async fn clear_search_history(&self, principal: &Principal) -> Result<u64, AppError> {
        let ctx = &principal.ctx;
        Ok(self.store.clear_search_history(ctx.org.as_str(), ctx.actor.as_str()).await?)
    }
}
