//! The organization's audit trail: its events in log order, with actor, type, time and object.

use store::RecordedEvent;

use crate::{App, AppError, Store, TenantContext};

/// Most audit entries one page returns.
pub const MAX_EVENTS_PAGE: u32 = 500;

/// One entry of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub position: u64,
    pub event_type: String,
    /// The stream the event belongs to: the object it changed.
    pub object: String,
    pub actor: Option<String>,
    pub request_id: Option<String>,
    pub recorded_at: time::OffsetDateTime,
}

impl AuditEntry {
    fn from_event(event: RecordedEvent) -> Self {
        let metadata: serde_json::Value = serde_json::from_str(&event.metadata).unwrap_or_default();
        let text = |key: &str| metadata.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        Self {
            position: event.position,
            object: event.stream_id.as_str().to_owned(),
            actor: text("actor"),
            request_id: text("request_id"),
            event_type: event.event_type,
            recorded_at: event.recorded_at,
        }
    }
}

impl<S: Store> App<S> {
    pub async fn list_events(&self, ctx: &TenantContext, after: u64, limit: u32) -> Result<Vec<AuditEntry>, AppError> {
        let events = self.store.org_events(ctx.org.as_str(), after, limit.clamp(1, MAX_EVENTS_PAGE)).await?;
        Ok(events.into_iter().map(AuditEntry::from_event).collect())
    }

    /// The organization's `limit` most recent events, newest first (a dashboard's activity).
    pub async fn recent_events(&self, ctx: &TenantContext, limit: u32) -> Result<Vec<AuditEntry>, AppError> {
        let events = self.store.recent_org_events(ctx.org.as_str(), limit.clamp(1, MAX_EVENTS_PAGE)).await?;
        Ok(events.into_iter().map(AuditEntry::from_event).collect())
    }
}
