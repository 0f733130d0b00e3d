//! The shape every aggregate shares, so the application layer can run any of them the same way.

use crate::DomainError;

/// A consistency boundary: one event stream, one state folded from it.
pub trait Aggregate: Default + Clone + std::fmt::Debug {
    /// What a caller asks of the aggregate.
    type Command;
    /// What happened, as recorded in the event log.
    type Event: Clone + std::fmt::Debug;

    /// The stream-name prefix, e.g. `engagement` for `engagement-eng_01J...`.
    const STREAM_CATEGORY: &'static str;

    /// Decides what happens when `command` meets the current state. Pure: no IO, no clock.
    fn decide(&self, command: Self::Command) -> Result<Vec<Self::Event>, DomainError>;

    /// Folds one event into the state. Never fails: events are facts already accepted.
    fn apply(&mut self, event: &Self::Event);

    /// Folds a whole history, oldest first.
    fn from_events<'a>(events: impl IntoIterator<Item = &'a Self::Event>) -> Self
    where
        Self::Event: 'a,
    {
        let mut state = Self::default();
        for event in events {
            state.apply(event);
        }
        state
    }
}

/// Given / when / then harness for aggregate tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::Aggregate;
    use crate::DomainError;

    /// Past events, then one command, then the expected events or error.
    pub(crate) struct Scenario<A: Aggregate> {
        state: A,
        outcome: Option<Result<Vec<A::Event>, DomainError>>,
    }

    impl<A: Aggregate> Scenario<A>
    where
        A::Event: PartialEq,
    {
        pub(crate) fn given(events: Vec<A::Event>) -> Self {
            Self { state: A::from_events(&events), outcome: None }
        }

        pub(crate) fn state(&self) -> A {
            self.state.clone()
        }

        pub(crate) fn when(mut self, command: A::Command) -> Self {
            self.outcome = Some(self.state.decide(command));
            self
        }

        pub(crate) fn then(self, expected: Vec<A::Event>) {
            match self.outcome {
                Some(Ok(events)) => assert_eq!(events, expected),
                other => panic!("expected events {expected:?}, got {other:?}"),
            }
        }

        pub(crate) fn then_error(self, predicate: impl Fn(&DomainError) -> bool) {
            match self.outcome {
                Some(Err(error)) => assert!(predicate(&error), "unexpected error: {error:?}"),
                other => panic!("expected an error, got {other:?}"),
            }
        }

        pub(crate) fn then_conflict(self) {
            self.then_error(|e| matches!(e, DomainError::Conflict(_)));
        }
    }
}
