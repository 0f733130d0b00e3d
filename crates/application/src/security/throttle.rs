//! Fixed-window counters keyed by a string (an account, an IP, a principal): login throttling
//! and request rate limits share this one mechanism. A slot is reserved before the guarded work
//! runs, so concurrent callers can never exceed the limit between a check and a count.
#![expect(clippy::disallowed_types, reason = "the std Mutex is held for one map operation, never across an await")]

use std::collections::HashMap;
use std::sync::Mutex;

use time::{Duration, OffsetDateTime};

/// How many events a key may have per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window: Duration,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: OffsetDateTime,
    count: u32,
}

/// Refusal: the key is over its limit until the window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds to wait, at least one (the `Retry-After` header's value).
    pub fn seconds(self) -> u64 {
        u64::try_from(self.0.whole_seconds()).unwrap_or(0).max(1)
    }
}

/// Counters for many keys under one limit. Idle keys are forgotten as windows expire.
#[derive(Debug)]
pub struct Throttle {
    limit: Limit,
    windows: Mutex<HashMap<String, Window>>,
}

/// Keys kept before expired windows are swept, so memory stays bounded under a flood of keys.
const SWEEP_AT: usize = 10_000;

impl Throttle {
    pub fn new(limit: Limit) -> Self {
        Self { limit, windows: Mutex::new(HashMap::new()) }
    }

    /// Takes one slot of `key`'s window, or says how long until one frees up.
    pub fn acquire(&self, key: &str, now: OffsetDateTime) -> Result<(), RetryAfter> {
        let mut windows = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() >= SWEEP_AT {
            let window = self.limit.window;
            windows.retain(|_, w| now - w.started < window);
        }
        let entry = windows.entry(key.to_owned()).or_insert(Window { started: now, count: 0 });
        if now - entry.started >= self.limit.window {
            *entry = Window { started: now, count: 0 };
        }
        if entry.count >= self.limit.max {
            return Err(RetryAfter(entry.started + self.limit.window - now));
        }
        entry.count += 1;
        Ok(())
    }

    /// Gives back a slot taken by [`acquire`](Self::acquire) (the guarded attempt succeeded and
    /// should not count against the key).
    pub fn release(&self, key: &str) {
        let mut windows = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(window) = windows.get_mut(key) {
            window.count = window.count.saturating_sub(1);
        }
    }

    /// Whether `key` is over its limit now, without taking a slot.
    pub fn check(&self, key: &str, now: OffsetDateTime) -> Result<(), RetryAfter> {
        let windows = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match windows.get(key) {
            Some(w) if now - w.started < self.limit.window && w.count >= self.limit.max => {
                Err(RetryAfter(w.started + self.limit.window - now))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> Throttle {
        Throttle::new(Limit { max: 3, window: Duration::minutes(15) })
    }

    #[test]
    fn refuses_past_the_limit_until_the_window_ends() {
        let t = throttle();
        let start = OffsetDateTime::UNIX_EPOCH;
        for _ in 0..3 {
            t.acquire("a", start).expect("within limit");
        }
        assert_eq!(t.acquire("a", start + Duration::minutes(5)), Err(RetryAfter(Duration::minutes(10))));
        t.acquire("b", start).expect("other keys are independent");
        t.acquire("a", start + Duration::minutes(15)).expect("a new window");
    }

    #[test]
    fn released_slots_do_not_count() {
        let t = throttle();
        let now = OffsetDateTime::UNIX_EPOCH;
        for _ in 0..10 {
            t.acquire("a", now).expect("released each time");
            t.release("a");
        }
        assert!(t.check("a", now).is_ok());
    }

    #[test]
    fn concurrent_acquires_never_exceed_the_limit() {
        let t = std::sync::Arc::new(throttle());
        let granted: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..32)
                .map(|_| {
                    let t = t.clone();
                    scope.spawn(move || t.acquire("a", OffsetDateTime::UNIX_EPOCH).is_ok())
                })
                .collect();
            handles.into_iter().map(|h| usize::from(h.join().unwrap_or(false))).sum()
        });
        assert_eq!(granted, 3);
    }
}
