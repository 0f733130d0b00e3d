//! How every command runs: load the stream, fold it, decide, append at the loaded version.
//! A conflict means someone else appended in between: when the caller did not pin a version
//! the command is decided again on the fresh state; otherwise the conflict is surfaced.

use std::future::Future;

use domain::event::{AggregateEvent, EVENT_SCHEMA_VERSION};
use domain::ids::OrgId;
use domain::{Aggregate, DomainError, DomainEvent};
use store::{Commit, CommitReceipt, EventMetadata, ExpectedVersion, NewEvent, StoreError, StreamAppend, StreamId};
use time::OffsetDateTime;

use crate::{App, AppError, Store};

/// Attempts for a command whose caller did not pin a version. Under group commit each round of
/// racing writers on one stream lets one of them through, so this bounds the writers that can
/// race on one stream without surfacing a conflict.
const MAX_ATTEMPTS: usize = 16;

/// An aggregate loaded from its stream.
#[derive(Debug, Clone)]
pub struct Loaded<A> {
    pub stream: StreamId,
    pub version: u64,
    pub state: A,
}

impl<A> Loaded<A> {
    fn expected(&self) -> ExpectedVersion {
        if self.version == 0 { ExpectedVersion::NoStream } else { ExpectedVersion::Exactly(self.version) }
    }
}

/// The outcome of a single-stream command.
#[derive(Debug, Clone, Copy)]
pub struct Executed {
    /// The stream version after the command (unchanged when it decided nothing).
    pub version: u64,
    /// When its events were recorded; `None` when it decided nothing.
    pub recorded_at: Option<OffsetDateTime>,
}

/// Aggregates that belong to one organization.
pub(crate) trait Tenanted {
    fn org(&self) -> Option<&OrgId>;
}

impl Tenanted for domain::organization::Organization {
    fn org(&self) -> Option<&OrgId> {
        self.id.as_ref()
    }
}
impl Tenanted for domain::engagement::Engagement {
    fn org(&self) -> Option<&OrgId> {
        self.org.as_ref()
    }
}
impl Tenanted for domain::item::KnowledgeItem {
    fn org(&self) -> Option<&OrgId> {
        self.org.as_ref()
    }
}
impl Tenanted for domain::category::CategoryTree {
    fn org(&self) -> Option<&OrgId> {
        self.org.as_ref()
    }
}
impl Tenanted for domain::template::Template {
    fn org(&self) -> Option<&OrgId> {
        self.org.as_ref()
    }
}
/// Users are global: they belong to no organization.
impl Tenanted for domain::user::User {
    fn org(&self) -> Option<&OrgId> {
        None
    }
}

/// Encodes aggregate events for the log.
pub(crate) fn encode<E: AggregateEvent>(events: Vec<E>) -> Vec<NewEvent> {
    events
        .into_iter()
        .map(|event| {
            let (event_type, payload) = event.into_domain().encode();
            NewEvent { event_type, schema_version: EVENT_SCHEMA_VERSION, payload }
        })
        .collect()
}

/// Stages events for a loaded aggregate, expecting the version it was loaded at.
pub(crate) fn stage<A: Aggregate>(loaded: &Loaded<A>, events: Vec<A::Event>) -> StreamAppend
where
    A::Event: AggregateEvent,
{
    StreamAppend { stream: loaded.stream.clone(), expected: loaded.expected(), events: encode(events) }
}

impl<S: Store> App<S> {
    /// Loads an aggregate by id (an empty state at version 0 when the stream does not exist).
    pub(crate) async fn load<A>(&self, id: &str) -> Result<Loaded<A>, AppError>
    where
        A: Aggregate,
        A::Event: AggregateEvent,
    {
        let stream = StreamId::new(A::STREAM_CATEGORY, id);
        let recorded = self.store.read_stream(&stream).await?;
        let mut state = A::default();
        for event in &recorded {
            let decoded = DomainEvent::decode(&event.event_type, event.schema_version, &event.payload)
                .map_err(|e| StoreError::Corrupt(format!("{stream} version {}: {e}", event.stream_version)))?;
            let event = A::Event::from_domain(decoded)
                .ok_or_else(|| StoreError::Corrupt(format!("{stream} holds a foreign event {}", event.event_type)))?;
            state.apply(&event);
        }
        Ok(Loaded { stream, version: recorded.len() as u64, state })
    }

    /// Loads an aggregate of the caller's organization; another organization's is "not found".
    pub(crate) async fn load_in<A>(&self, org: &OrgId, id: &str, what: &str) -> Result<Loaded<A>, AppError>
    where
        A: Aggregate + Tenanted,
        A::Event: AggregateEvent,
    {
        let loaded = self.load::<A>(id).await?;
        match loaded.state.org() {
            Some(owner) if owner == org => Ok(loaded),
            _ => Err(AppError::NotFound(format!("{what} {id} not found"))),
        }
    }

    /// Commits staged appends atomically.
    pub(crate) async fn commit(
        &self,
        appends: Vec<StreamAppend>,
        metadata: EventMetadata,
    ) -> Result<CommitReceipt, AppError> {
        Ok(self.store.commit(Commit { appends, metadata }).await?)
    }

    /// Runs a command that spans streams: `attempt` loads what it needs and returns the appends
    /// to commit together and the command's result. A conflict runs it again on fresh state.
    pub(crate) async fn execute_across<T, F, Fut>(&self, metadata: EventMetadata, mut attempt: F) -> Result<T, AppError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<(Vec<StreamAppend>, T), AppError>>,
    {
        let mut tries = 0;
        loop {
            tries += 1;
            let (appends, result) = attempt().await?;
            match self.commit(appends, metadata.clone()).await {
                Ok(_) => return Ok(result),
                Err(AppError::Store(StoreError::Conflict { expected, actual, .. })) if tries >= MAX_ATTEMPTS => {
                    let expected = match expected {
                        ExpectedVersion::Exactly(version) => version,
                        ExpectedVersion::NoStream | ExpectedVersion::Any => 0,
                    };
                    return Err(AppError::VersionConflict { expected, actual });
                }
                Err(AppError::Store(StoreError::Conflict { .. })) => {
                    tracing::debug!(attempt = tries, "version conflict across streams, deciding again");
                }
                Err(other) => return Err(other),
            }
        }
    }

    /// Runs the command creating a new aggregate under a freshly generated `id`: it decides on
    /// the empty state without reading the stream, and the commit expects no stream, so an id
    /// that somehow exists already is a conflict rather than a second creation.
    pub(crate) async fn execute_new<A>(
        &self,
        id: &str,
        metadata: EventMetadata,
        decide: impl FnOnce(&A) -> Result<Vec<A::Event>, DomainError>,
    ) -> Result<Executed, AppError>
    where
        A: Aggregate,
        A::Event: AggregateEvent,
    {
        let fresh = Loaded { stream: StreamId::new(A::STREAM_CATEGORY, id), version: 0, state: A::default() };
        let events = decide(&fresh.state)?;
        let count = events.len() as u64;
        match self.commit(vec![stage(&fresh, events)], metadata).await {
            Ok(receipt) => Ok(Executed { version: count, recorded_at: Some(receipt.recorded_at) }),
            Err(AppError::Store(StoreError::Conflict { actual, .. })) => {
                Err(AppError::VersionConflict { expected: 0, actual })
            }
            Err(other) => Err(other),
        }
    }

    /// Runs a single-stream command. `org` scopes it to a tenant (an existing aggregate of
    /// another organization is "not found"); `expected` pins the version the caller saw.
    pub(crate) async fn execute<A>(
        &self,
        id: &str,
        org: Option<&OrgId>,
        expected: Option<u64>,
        metadata: EventMetadata,
        decide: impl Fn(&A) -> Result<Vec<A::Event>, DomainError>,
    ) -> Result<Executed, AppError>
    where
        A: Aggregate + Tenanted,
        A::Event: AggregateEvent,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let loaded = self.load::<A>(id).await?;
            if let (Some(org), Some(owner)) = (org, loaded.state.org())
                && owner != org
            {
                return Err(AppError::NotFound(format!("{} {id} not found", A::STREAM_CATEGORY)));
            }
            if let Some(expected) = expected
                && expected != loaded.version
            {
                return Err(AppError::VersionConflict { expected, actual: loaded.version });
            }
            let events = decide(&loaded.state)?;
            if events.is_empty() {
                return Ok(Executed { version: loaded.version, recorded_at: None });
            }
            let count = events.len() as u64;
            match self.commit(vec![stage(&loaded, events)], metadata.clone()).await {
                Ok(receipt) => {
                    return Ok(Executed { version: loaded.version + count, recorded_at: Some(receipt.recorded_at) });
                }
                Err(AppError::Store(StoreError::Conflict { actual, .. })) => {
                    if expected.is_some() || attempt >= MAX_ATTEMPTS {
                        return Err(AppError::VersionConflict { expected: loaded.version, actual });
                    }
                    tracing::debug!(stream = %loaded.stream, attempt, "version conflict, deciding again");
                }
                Err(other) => return Err(other),
            }
        }
    }
}
