//! The union of every aggregate's events: what the event log stores and projections read.

use serde::{Deserialize, Serialize};

use crate::category::CategoryEvent;
use crate::engagement::EngagementEvent;
use crate::item::ItemEvent;
use crate::organization::OrganizationEvent;
use crate::template::TemplateEvent;
use crate::user::UserEvent;

/// Current schema version of every event payload. Older payloads are upcast on read
/// ([`DomainEvent::decode`]), never rewritten in the log.
pub const EVENT_SCHEMA_VERSION: u32 = 1;

/// Any domain event, tagged by its aggregate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "aggregate", content = "event", rename_all = "snake_case")]
pub enum DomainEvent {
    Organization(OrganizationEvent),
    User(UserEvent),
    Engagement(EngagementEvent),
    Item(ItemEvent),
    Category(CategoryEvent),
    Template(TemplateEvent),
}

/// Why a stored event could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("event schema version {found} is newer than this binary supports ({EVENT_SCHEMA_VERSION})")]
    NewerSchema { found: u32 },
    #[error("malformed {event_type} payload: {source}")]
    Malformed { event_type: String, source: serde_json::Error },
}

impl DomainEvent {
    /// Encodes the event for the log: its stable `aggregate.event` name (`item.edited`) and
    /// its JSON payload.
    pub fn encode(&self) -> (String, String) {
        let value = serde_json::to_value(self).unwrap_or_else(|e| unreachable!("domain events always serialize: {e}"));
        let aggregate = value.get("aggregate").and_then(|v| v.as_str()).unwrap_or_default();
        let name = value.pointer("/event/type").and_then(|v| v.as_str()).unwrap_or_default();
        (format!("{aggregate}.{name}"), value.to_string())
    }

    /// Decodes a stored payload, upcasting older schema versions.
    pub fn decode(event_type: &str, schema_version: u32, payload: &str) -> Result<Self, DecodeError> {
        if schema_version > EVENT_SCHEMA_VERSION {
            return Err(DecodeError::NewerSchema { found: schema_version });
        }
        // Version 1 is the only version so far; upcasters for later versions go here.
        serde_json::from_str(payload)
            .map_err(|source| DecodeError::Malformed { event_type: event_type.to_owned(), source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Name;

    #[test]
    fn event_types_name_aggregate_and_event() {
        let event = DomainEvent::User(UserEvent::Renamed { display_name: Name::parse("Ada").expect("valid") });
        let (event_type, payload) = event.encode();
        assert_eq!(event_type, "user.renamed");
        let decoded = DomainEvent::decode(&event_type, 1, &payload).expect("round trip");
        assert_eq!(decoded, event);
        assert!(matches!(DomainEvent::decode(&event_type, 2, &payload), Err(DecodeError::NewerSchema { .. })));
    }
}

/// Converts one aggregate's events to and from [`DomainEvent`], so generic code can load and
/// store any aggregate.
pub trait AggregateEvent: Sized {
    /// Wraps the event for the log.
    fn into_domain(self) -> DomainEvent;
    /// Unwraps an event read from the log; `None` when it belongs to another aggregate.
    fn from_domain(event: DomainEvent) -> Option<Self>;
}

macro_rules! aggregate_event {
    ($variant:ident, $event:ty) => {
        impl AggregateEvent for $event {
            fn into_domain(self) -> DomainEvent {
                DomainEvent::$variant(self)
            }
            fn from_domain(event: DomainEvent) -> Option<Self> {
                match event {
                    DomainEvent::$variant(inner) => Some(inner),
                    _ => None,
                }
            }
        }
    };
}

aggregate_event!(Organization, OrganizationEvent);
aggregate_event!(User, UserEvent);
aggregate_event!(Engagement, EngagementEvent);
aggregate_event!(Item, ItemEvent);
aggregate_event!(Category, CategoryEvent);
aggregate_event!(Template, TemplateEvent);
