//! What the instances of a cluster share through Redis (`CONSAILT_REDIS_URL`, ADR 0012): the
//! rate-limit counters, so that a limit of N per minute is N for the whole cluster.
//!
//! Redis is optional and never a single point of failure. The connection is opened on first
//! use; while Redis cannot be reached every call fails fast with [`CountersUnreachable`] and
//! the caller counts in its own process (see `application::security::throttle::RateLimiter`).
//! The outage is logged once, reconnection is tried at most once per
//! [`RedisConfig::retry_interval`], and the recovery is logged once too.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use redis::AsyncConnectionConfig;
use redis::aio::MultiplexedConnection;
use sha2::{Digest, Sha256};

use application::security::throttle::{CountersFuture, CountersUnreachable, Limit, RetryAfter, SharedCounters};

/// Where Redis is and how patiently to talk to it.
#[derive(Debug, Clone)]
pub struct RedisConfig {
    /// `redis://[user:password@]host:port[/db]` (plain TCP: TLS to Redis is not built in).
    pub url: String,
    /// Prefix of every key, so several deployments (or tests) can share one Redis.
    pub prefix: String,
    /// Longest wait for a connection or an answer before counting locally.
    pub timeout: Duration,
    /// How long to count locally after a failed connection before trying again.
    pub retry_interval: Duration,
}

impl RedisConfig {
    /// A configuration for `url` with the defaults: prefix `consailt`, 250 ms timeout, 1 s
    /// between reconnection attempts.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            prefix: "consailt".to_owned(),
            timeout: Duration::from_millis(250),
            retry_interval: Duration::from_secs(1),
        }
    }
}

/// Takes a slot of a fixed window: the first slot starts the window (its expiry), a refused
/// attempt does not count. Returns `{granted, milliseconds left in the window}`.
const ACQUIRE: &str = r"
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
if count > tonumber(ARGV[2]) then
  redis.call('DECR', KEYS[1])
  return {0, ttl}
end
return {1, ttl}
";

/// Gives a slot back, never below zero and never to a window that has ended.
const RELEASE: &str = r"
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then
  redis.call('DECR', KEYS[1])
end
return count
";

/// Rate-limit counters in Redis, shared by every instance configured with the same URL and
/// prefix.
pub struct RedisCounters {
    client: redis::Client,
    config: RedisConfig,
    /// The open connection (multiplexed: clones share it), if any.
    link: tokio::sync::Mutex<Link>,
    /// Whether the last attempt failed; flips are what get logged.
    down: AtomicBool,
    acquire: redis::Script,
    release: redis::Script,
}

#[derive(Default)]
struct Link {
    connection: Option<MultiplexedConnection>,
    /// No connection attempt before this instant (set after a failure).
    quiet_until: Option<Instant>,
}

impl std::fmt::Debug for RedisCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCounters")
            .field("redis", &describe(&self.config.url))
            .field("prefix", &self.config.prefix)
            .field("down", &self.down.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// `redis://host:port/db`, without user or password, for logs.
pub fn describe(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("redis", url));
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{host}")
}

impl RedisCounters {
    /// Counters at `config.url`. Only the URL is checked here: the connection opens on first
    /// use, so an instance starts (counting locally) while Redis is down.
    pub fn new(config: RedisConfig) -> Result<Self, String> {
        if !(config.url.starts_with("redis://") || config.url.starts_with("redis+unix://")) {
            return Err(format!("unsupported Redis URL {:?}; expected redis://HOST:PORT", describe(&config.url)));
        }
        let client = redis::Client::open(config.url.as_str())
            .map_err(|e| format!("invalid Redis URL {:?}: {e}", describe(&config.url)))?;
        Ok(Self {
            client,
            config,
            link: tokio::sync::Mutex::default(),
            down: AtomicBool::new(false),
            acquire: redis::Script::new(ACQUIRE),
            release: redis::Script::new(RELEASE),
        })
    }

    /// Whether Redis answers now (for `consailt doctor` and logs at start).
    pub async fn ping(&self) -> Result<(), CountersUnreachable> {
        let mut connection = self.connection().await?;
        let answer: Result<String, _> = redis::cmd("PING").query_async(&mut connection).await;
        self.settle(answer).await.map(drop)
    }

    fn key(&self, scoped: &str) -> String {
        let scope = scoped.split_once(':').map_or("limit", |(scope, _)| scope);
        // Hashed: client addresses and emails are not copied into Redis, and keys stay short.
        let digest = Sha256::digest(scoped.as_bytes());
        format!("{}:limit:{scope}:{}", self.config.prefix, hex::encode(&digest[..16]))
    }

    /// The open connection, or a new one; fails at once while a recent attempt failed.
    /// Callers arriving while a connection is being opened wait for it (at most the timeout).
    async fn connection(&self) -> Result<MultiplexedConnection, CountersUnreachable> {
        let mut link = self.link.lock().await;
        if let Some(connection) = &link.connection {
            return Ok(connection.clone());
        }
        if link.quiet_until.is_some_and(|until| Instant::now() < until) {
            return Err(CountersUnreachable("Redis did not answer recently; retrying shortly".to_owned()));
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.config.timeout))
            .set_response_timeout(Some(self.config.timeout));
        match self.client.get_multiplexed_async_connection_with_config(&config).await {
            Ok(connection) => {
                link.connection = Some(connection.clone());
                link.quiet_until = None;
                Ok(connection)
            }
            Err(error) => {
                link.quiet_until = Some(Instant::now() + self.config.retry_interval);
                self.went_down(&error);
                Err(CountersUnreachable(error.to_string()))
            }
        }
    }

    /// Passes a command's result on, noting an outage (and dropping the connection) or a
    /// recovery.
    async fn settle<T>(&self, result: redis::RedisResult<T>) -> Result<T, CountersUnreachable> {
        match result {
            Ok(value) => {
                if self.down.swap(false, Ordering::SeqCst) {
                    tracing::info!(redis = %describe(&self.config.url), "Redis answers again; rate limits hold for the whole cluster");
                }
                Ok(value)
            }
            Err(error) => {
                let mut link = self.link.lock().await;
                link.connection = None;
                link.quiet_until = Some(Instant::now() + self.config.retry_interval);
                drop(link);
                self.went_down(&error);
                Err(CountersUnreachable(error.to_string()))
            }
        }
    }

    fn went_down(&self, error: &redis::RedisError) {
        if !self.down.swap(true, Ordering::SeqCst) {
            tracing::warn!(
                redis = %describe(&self.config.url),
                %error,
                "Redis is unreachable; rate limits are counted per instance until it answers again"
            );
        }
    }
}

impl SharedCounters for RedisCounters {
    fn acquire<'a>(&'a self, key: &'a str, limit: Limit) -> CountersFuture<'a, Result<(), RetryAfter>> {
        Box::pin(async move {
            let mut connection = self.connection().await?;
            let window_ms = i64::try_from(limit.window.whole_milliseconds()).unwrap_or(i64::MAX).max(1);
            let answer: redis::RedisResult<(i64, i64)> =
                self.acquire.key(self.key(key)).arg(window_ms).arg(limit.max).invoke_async(&mut connection).await;
            let (granted, left_ms) = self.settle(answer).await?;
            if granted == 1 { Ok(Ok(())) } else { Ok(Err(RetryAfter(time::Duration::milliseconds(left_ms.max(1))))) }
        })
    }

    fn release<'a>(&'a self, key: &'a str) -> CountersFuture<'a, ()> {
        Box::pin(async move {
            let mut connection = self.connection().await?;
            let answer: redis::RedisResult<i64> = self.release.key(self.key(key)).invoke_async(&mut connection).await;
            self.settle(answer).await.map(drop)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_never_show_the_password() {
        assert_eq!(describe("redis://app:secret@cache:6380/2"), "redis://cache:6380/2");
        assert_eq!(describe("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
    }

    #[test]
    fn only_redis_urls_are_accepted() {
        assert!(RedisCounters::new(RedisConfig::new("http://cache:6379")).is_err());
        assert!(RedisCounters::new(RedisConfig::new("redis://cache:6379")).is_ok());
    }

    #[test]
    fn keys_are_scoped_hashed_and_prefixed() {
        let counters = RedisCounters::new(RedisConfig::new("redis://127.0.0.1:6379")).expect("valid URL");
        let key = counters.key("login-account:someone@example.com");
        assert!(key.starts_with("consailt:limit:login-account:"), "{key}");
        assert!(!key.contains("example.com"), "{key}");
        assert_ne!(key, counters.key("login-account:other@example.com"));
    }
}
