//! Consailt's business rules, as pure and synchronous aggregates.
//!
//! Each aggregate answers `decide(state, command) -> Result<Vec<Event>, DomainError>` and folds
//! its events with `apply(state, event)`. No IO, no clock, no randomness: time and ids arrive
//! inside the commands, so every rule is testable as given / when / then.

pub mod aggregate;
pub mod category;
pub mod email;
pub mod engagement;
pub mod error;
pub mod event;
pub mod ids;
pub mod item;
pub mod organization;
pub mod role;
pub mod tag;
pub mod template;
pub mod text;
pub mod user;

pub use aggregate::Aggregate;
pub use error::DomainError;
pub use event::DomainEvent;
