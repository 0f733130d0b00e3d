//! Fixed-window counters keyed by a string (an account, an IP, a principal): login throttling
//! and request rate limits share this one mechanism. A slot is reserved before the guarded work
//! runs, so concurrent callers can never exceed the limit between a check and a count.
//!
//! A [`RateLimiter`] counts in this process ([`Throttle`]) unless it is given
//! [`SharedCounters`] (Redis), which every instance of a cluster shares; while those cannot be
//! reached it counts locally, so an outage loosens limits to per-instance but never blocks.
#![expect(clippy::disallowed_types, reason = "the std Mutex is held for one map operation, never across an await")]

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

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
        // A known key (every request but a client's first) is looked up without copying it.
        let entry = match windows.get_mut(key) {
            Some(entry) => entry,
            None => windows.entry(key.to_owned()).or_insert(Window { started: now, count: 0 }),
        };
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

/// The shared counters could not be reached (or answered an error); the caller counts locally.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("shared rate-limit counters unreachable: {0}")]
pub struct CountersUnreachable(pub String);

/// A boxed future of a [`SharedCounters`] call.
pub type CountersFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, CountersUnreachable>> + Send + 'a>>;

/// Fixed-window counters kept outside the process and shared by every instance (the port that
/// the Redis adapter implements). Keys are already scoped by the limiter that uses them.
pub trait SharedCounters: Send + Sync + fmt::Debug {
    /// Takes one slot of `key`'s window under `limit`, or says how long until one frees up.
    fn acquire<'a>(&'a self, key: &'a str, limit: Limit) -> CountersFuture<'a, Result<(), RetryAfter>>;

    /// Gives back a slot taken by [`acquire`](Self::acquire).
    fn release<'a>(&'a self, key: &'a str) -> CountersFuture<'a, ()>;
}

/// One named limit, counted in the shared counters when there are any and they answer, and in
/// this process otherwise.
#[derive(Debug)]
pub struct RateLimiter {
    /// Scopes this limiter's keys in the shared counters (`login-account`, `http-ip`, ...).
    name: &'static str,
    limit: Limit,
    local: Throttle,
    shared: Option<Arc<dyn SharedCounters>>,
}

impl RateLimiter {
    pub fn new(name: &'static str, limit: Limit, shared: Option<Arc<dyn SharedCounters>>) -> Self {
        Self { name, limit, local: Throttle::new(limit), shared }
    }

    /// Takes one slot of `key`'s window, or says how long until one frees up.
    pub async fn acquire(&self, key: &str, now: OffsetDateTime) -> Result<(), RetryAfter> {
        if let Some(shared) = &self.shared
            && let Ok(decision) = shared.acquire(&self.scoped(key), self.limit).await
        {
            return decision;
        }
        self.local.acquire(key, now)
    }

    /// Gives back a slot taken by [`acquire`](Self::acquire) (the guarded attempt succeeded).
    pub async fn release(&self, key: &str) {
        if let Some(shared) = &self.shared
            && shared.release(&self.scoped(key)).await.is_ok()
        {
            return;
        }
        self.local.release(key);
    }

    fn scoped(&self, key: &str) -> String {
        format!("{}:{key}", self.name)
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
        let t = Arc::new(throttle());
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

    /// Shared counters that answer from a throttle of their own, or fail while `down`.
    #[derive(Debug, Default)]
    struct FakeCounters {
        counted: Mutex<Vec<String>>,
        down: std::sync::atomic::AtomicBool,
    }

    impl SharedCounters for FakeCounters {
        fn acquire<'a>(&'a self, key: &'a str, limit: Limit) -> CountersFuture<'a, Result<(), RetryAfter>> {
            Box::pin(async move {
                if self.down.load(std::sync::atomic::Ordering::SeqCst) {
                    return Err(CountersUnreachable("down".into()));
                }
                let mut counted = self.counted.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if counted.iter().filter(|k| *k == key).count() >= limit.max as usize {
                    return Ok(Err(RetryAfter(limit.window)));
                }
                counted.push(key.to_owned());
                Ok(Ok(()))
            })
        }

        fn release<'a>(&'a self, key: &'a str) -> CountersFuture<'a, ()> {
            Box::pin(async move {
                let mut counted = self.counted.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if let Some(at) = counted.iter().position(|k| k == key) {
                    counted.remove(at);
                }
                Ok(())
            })
        }
    }

    #[tokio::test]
    async fn limiters_sharing_counters_hold_one_limit_and_fall_back_to_local_counts() {
        let shared = Arc::new(FakeCounters::default());
        let limit = Limit { max: 3, window: Duration::minutes(1) };
        let counters: Arc<dyn SharedCounters> = shared.clone();
        let a = RateLimiter::new("http-ip", limit, Some(counters.clone()));
        let b = RateLimiter::new("http-ip", limit, Some(counters));
        let now = OffsetDateTime::UNIX_EPOCH;
        a.acquire("10.0.0.1", now).await.expect("first");
        b.acquire("10.0.0.1", now).await.expect("second");
        a.acquire("10.0.0.1", now).await.expect("third");
        assert!(b.acquire("10.0.0.1", now).await.is_err(), "the limit holds across both limiters");
        b.release("10.0.0.1").await;
        a.acquire("10.0.0.1", now).await.expect("a released slot is free for every limiter");
        assert_eq!(shared.counted.lock().map(|c| c[0].clone()).ok().as_deref(), Some("http-ip:10.0.0.1"));

        shared.down.store(true, std::sync::atomic::Ordering::SeqCst);
        for _ in 0..3 {
            a.acquire("10.0.0.1", now).await.expect("counted locally while the shared counters are down");
        }
        assert!(a.acquire("10.0.0.1", now).await.is_err(), "the local count enforces the limit per instance");
    }
}
