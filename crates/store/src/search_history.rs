//! The search-history port: the queries each user ran in an organization, most recent first.
//! Like the security state it is private to its user, churns and must be erasable, so it is
//! kept beside the event log rather than in it (ADR 0004).

use std::future::Future;

use time::OffsetDateTime;

use crate::StoreError;

/// Queries kept per user and organization; recording one more forgets the oldest.
pub const HISTORY_LEN: usize = 50;

/// One remembered query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRecord {
    pub query: String,
    pub searched_at: OffsetDateTime,
}

/// Where search history lives. Every method is scoped to one user in one organization.
pub trait SearchHistory: Send + Sync + 'static {
    /// Remembers `query` as searched at `at` (a query already remembered moves to the top),
    /// forgetting `supersedes` when given: the shorter query the user was typing on the way to
    /// this one. Keeps at most [`HISTORY_LEN`] queries.
    fn record_search(
        &self,
        org_id: &str,
        user_id: &str,
        query: &str,
        at: OffsetDateTime,
        supersedes: Option<&str>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The remembered queries, most recent first.
    fn search_history(
        &self,
        org_id: &str,
        user_id: &str,
    ) -> impl Future<Output = Result<Vec<SearchRecord>, StoreError>> + Send;

    /// Forgets every remembered query; returns how many there were.
    fn clear_search_history(&self, org_id: &str, user_id: &str)
    -> impl Future<Output = Result<u64, StoreError>> + Send;
}
