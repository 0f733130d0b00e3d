//! What the application needs from the outside world: storage, a clock and an id source.

use time::OffsetDateTime;

/// Storage: the event log, the read models it projects, security state, search history and the
/// AI cost ledger.
pub trait Store:
    store::EventStore
    + store::ReadModels
    + store::auth::AuthStore
    + store::search_history::SearchHistory
    + store::ai_ledger::AiLedger
{
}
impl<T> Store for T where
    T: store::EventStore
        + store::ReadModels
        + store::auth::AuthStore
        + store::search_history::SearchHistory
        + store::ai_ledger::AiLedger
{
}

/// The current time; injected so tests drive it.
pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

/// The system's UTC clock.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// Mints the unique, time-ordered suffix of new ids.
pub trait IdGenerator: Send + Sync {
    fn next_suffix(&self) -> String;
}

/// ULID suffixes: unique and sortable by creation time.
#[derive(Debug, Clone, Copy)]
pub struct UlidGenerator;

impl IdGenerator for UlidGenerator {
    fn next_suffix(&self) -> String {
        ulid::Ulid::new().to_string()
    }
}
