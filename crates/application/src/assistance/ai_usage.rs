//! The organization's AI usage: calls, tokens and costs by day, task, model and user, and the
//! month's spending against its budget.

use store::ai_ledger::AiUsageRow;
use time::OffsetDateTime;

use super::month_start;
use crate::{App, AppError, Store, TenantContext};

/// Usage over a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AiUsage {
    pub since: OffsetDateTime,
    pub until: OffsetDateTime,
    pub rows: Vec<AiUsageRow>,
    /// This calendar month's spending (UTC), in millionths of a cent.
    pub month_spent_microcents: u64,
    pub monthly_budget_cents: Option<u64>,
}

impl<S: Store> App<S> {
    /// Usage in `[since, until)`; both default to this calendar month so far.
    pub async fn ai_usage(
        &self,
        ctx: &TenantContext,
        since: Option<OffsetDateTime>,
        until: Option<OffsetDateTime>,
    ) -> Result<AiUsage, AppError> {
        let now = self.clock.now();
        let month = month_start(now);
        let since = since.unwrap_or(month);
        let until = until.unwrap_or(now + time::Duration::seconds(1));
        if since >= until {
            return Err(AppError::Domain(domain::DomainError::validation("since", "must be before until")));
        }
        let org = ctx.org.as_str();
        let rows = self.store.ai_usage(org, since, until).await?;
        let month_spent_microcents = self.store.ai_spent_since(org, month).await?;
        let monthly_budget_cents = self.store.organization(org).await?.and_then(|o| o.ai_monthly_budget_cents);
        Ok(AiUsage { since, until, rows, month_spent_microcents, monthly_budget_cents })
    }
}
