//! A circuit breaker per model: after `failures` calls in a row fail, the model is skipped for
//! a cool-down; then one trial call is let through (half-open). Its success closes the breaker,
//! its failure opens it again for another cool-down.

#![expect(clippy::disallowed_types, reason = "the std Mutex is held for one state change, never across an await")]

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The breaker's state as callers see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

#[derive(Debug)]
struct Inner {
    consecutive_failures: u32,
    open_until: Option<Instant>,
    trial_running: bool,
}

/// One model's breaker.
#[derive(Debug)]
pub struct Breaker {
    threshold: u32,
    cool_down: Duration,
    inner: Mutex<Inner>,
}

/// Permission to make one call; report how it went with [`Breaker::succeeded`] or
/// [`Breaker::failed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permit {
    trial: bool,
}

impl Breaker {
    pub fn new(threshold: u32, cool_down: Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            cool_down,
            inner: Mutex::new(Inner { consecutive_failures: 0, open_until: None, trial_running: false }),
        }
    }

    /// The state at `now`.
    pub fn state(&self, now: Instant) -> BreakerState {
        let inner = self.lock();
        match inner.open_until {
            None => BreakerState::Closed,
            Some(until) if now < until => BreakerState::Open,
            Some(_) => BreakerState::HalfOpen,
        }
    }

    /// A permit to call at `now`, or `None` while the breaker is open (or half-open with its
    /// one trial call already running).
    pub fn try_acquire(&self, now: Instant) -> Option<Permit> {
        let mut inner = self.lock();
        match inner.open_until {
            None => Some(Permit { trial: false }),
            Some(until) if now < until => None,
            Some(_) if inner.trial_running => None,
            Some(_) => {
                inner.trial_running = true;
                Some(Permit { trial: true })
            }
        }
    }

    /// The call succeeded: the breaker closes.
    pub fn succeeded(&self, _permit: Permit) {
        let mut inner = self.lock();
        *inner = Inner { consecutive_failures: 0, open_until: None, trial_running: false };
    }

    /// The call failed at `now`: a failed trial, or the threshold reached, opens the breaker.
    pub fn failed(&self, permit: Permit, now: Instant) {
        let mut inner = self.lock();
        inner.consecutive_failures = inner.consecutive_failures.saturating_add(1);
        if permit.trial || inner.consecutive_failures >= self.threshold {
            inner.open_until = Some(now + self.cool_down);
            inner.trial_running = false;
            tracing::warn!(failures = inner.consecutive_failures, "circuit breaker opened");
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_the_threshold_half_opens_after_the_cool_down_and_closes_on_success() {
        let breaker = Breaker::new(3, Duration::from_secs(30));
        let t0 = Instant::now();
        for _ in 0..2 {
            let permit = breaker.try_acquire(t0).expect("closed");
            breaker.failed(permit, t0);
        }
        assert_eq!(breaker.state(t0), BreakerState::Closed);
        let permit = breaker.try_acquire(t0).expect("closed");
        breaker.failed(permit, t0);
        assert_eq!(breaker.state(t0), BreakerState::Open);
        assert!(breaker.try_acquire(t0 + Duration::from_secs(29)).is_none());

        let later = t0 + Duration::from_secs(30);
        assert_eq!(breaker.state(later), BreakerState::HalfOpen);
        let trial = breaker.try_acquire(later).expect("one trial");
        assert!(breaker.try_acquire(later).is_none(), "only one trial at a time");
        breaker.failed(trial, later);
        assert_eq!(breaker.state(later), BreakerState::Open, "a failed trial opens it again");

        let again = later + Duration::from_secs(30);
        let trial = breaker.try_acquire(again).expect("another trial");
        breaker.succeeded(trial);
        assert_eq!(breaker.state(again), BreakerState::Closed);
    }
}
