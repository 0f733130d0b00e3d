//! The Redis counters against the local Redis (`CONSAILT_TEST_REDIS_URL`): one limit for every
//! instance, released slots, windows that end, and an outage through a proxy the test cuts.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use application::security::throttle::{Limit, RateLimiter, SharedCounters};
use cluster_redis::{RedisConfig, RedisCounters};
use test_support::{CuttableProxy, redis_url};
use tracing_subscriber::layer::SubscriberExt;

fn counters(url: &str, prefix: &str) -> Arc<RedisCounters> {
    let mut config = RedisConfig::new(url);
    config.prefix = prefix.to_owned();
    config.retry_interval = Duration::from_millis(100);
    Arc::new(RedisCounters::new(config).expect("a valid URL"))
}

/// A key prefix no other test (or run) uses.
fn prefix() -> String {
    format!("test-{}", ulid::Ulid::new())
}

fn per_minute(max: u32) -> Limit {
    Limit { max, window: time::Duration::minutes(1) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_limit_holds_for_every_instance_under_concurrency() {
    let prefix = prefix();
    let instances = [counters(&redis_url(), &prefix), counters(&redis_url(), &prefix)];
    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..40 {
        let counters = Arc::clone(&instances[i % 2]);
        attempts.spawn(async move { counters.acquire("http-ip:10.0.0.1", per_minute(10)).await });
    }
    let mut granted = 0;
    while let Some(attempt) = attempts.join_next().await {
        match attempt.expect("the task ran").expect("Redis answers") {
            Ok(()) => granted += 1,
            Err(wait) => assert!(wait.0 > time::Duration::ZERO && wait.0 <= time::Duration::minutes(1), "{wait:?}"),
        }
    }
    assert_eq!(granted, 10, "two instances together grant the limit once");
    instances[0].acquire("http-ip:10.0.0.2", per_minute(10)).await.expect("answers").expect("other keys are separate");
    let elsewhere = counters(&redis_url(), &format!("{prefix}-other"));
    elsewhere.acquire("http-ip:10.0.0.1", per_minute(10)).await.expect("answers").expect("other prefixes are separate");
}

#[tokio::test]
async fn released_slots_are_free_for_every_instance_and_windows_end() {
    let prefix = prefix();
    let (a, b) = (counters(&redis_url(), &prefix), counters(&redis_url(), &prefix));
    let limit = Limit { max: 2, window: time::Duration::milliseconds(400) };
    a.acquire("login-account:x", limit).await.expect("answers").expect("first");
    b.acquire("login-account:x", limit).await.expect("answers").expect("second");
    assert!(a.acquire("login-account:x", limit).await.expect("answers").is_err(), "full");
    b.release("login-account:x").await.expect("answers");
    a.acquire("login-account:x", limit).await.expect("answers").expect("the released slot");
    let refused = b.acquire("login-account:x", limit).await.expect("answers").expect_err("full again");
    assert!(refused.0 <= time::Duration::milliseconds(400), "refusals do not extend the window: {refused:?}");
    tokio::time::sleep(Duration::from_millis(450)).await;
    b.acquire("login-account:x", limit).await.expect("answers").expect("a new window");
    for _ in 0..3 {
        a.release("login-account:never-taken").await.expect("answers");
    }
    a.acquire("login-account:never-taken", per_minute(1))
        .await
        .expect("answers")
        .expect("releases never go below zero");
    assert!(a.acquire("login-account:never-taken", per_minute(1)).await.expect("answers").is_err());
}

/// Counts this crate's warnings and notices.
#[derive(Clone, Default)]
struct LogCount {
    warnings: Arc<AtomicUsize>,
    notices: Arc<AtomicUsize>,
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for LogCount {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if !event.metadata().target().starts_with("cluster_redis") {
            return;
        }
        match *event.metadata().level() {
            tracing::Level::WARN => self.warnings.fetch_add(1, Ordering::SeqCst),
            tracing::Level::INFO => self.notices.fetch_add(1, Ordering::SeqCst),
            _ => 0,
        };
    }
}

#[tokio::test]
async fn an_outage_falls_back_to_local_counts_fast_logs_once_and_recovers() {
    let logs = LogCount::default();
    let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry().with(logs.clone()));
    let upstream = redis_url();
    let address = upstream.trim_start_matches("redis://").split('/').next().expect("host and port").to_owned();
    let upstream_address = tokio::net::lookup_host(address).await.expect("resolves").next().expect("an address");
    let proxy = CuttableProxy::start(upstream_address).await.expect("proxy");
    let prefix = prefix();
    let through_proxy = counters(&format!("redis://{}", proxy.address()), &prefix);
    let direct = counters(&upstream, &prefix);
    let shared: Arc<dyn SharedCounters> = through_proxy.clone();
    let limiter = RateLimiter::new("http-ip", per_minute(3), Some(shared));
    let now = time::OffsetDateTime::now_utc();

    limiter.acquire("a", now).await.expect("first");
    limiter.acquire("a", now).await.expect("second");
    direct.acquire("http-ip:a", per_minute(3)).await.expect("answers").expect("third, by another instance");
    assert!(limiter.acquire("a", now).await.is_err(), "the limit is the cluster's");

    proxy.cut();
    let started = Instant::now();
    for _ in 0..3 {
        limiter.acquire("b", now).await.expect("counted locally");
    }
    assert!(limiter.acquire("b", now).await.is_err(), "the local count still enforces the limit");
    for _ in 0..20 {
        let _ = limiter.acquire("c", now).await;
    }
    assert!(started.elapsed() < Duration::from_secs(2), "an outage costs no waiting: {:?}", started.elapsed());
    assert!(through_proxy.ping().await.is_err(), "Redis is out of reach");
    assert_eq!(logs.warnings.load(Ordering::SeqCst), 1, "the outage is logged once");
    // Another instance fills key d in Redis meanwhile; this one has counted nothing for it.
    for _ in 0..3 {
        direct.acquire("http-ip:d", per_minute(3)).await.expect("answers").expect("slot");
    }

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(5);
    while through_proxy.ping().await.is_err() {
        assert!(Instant::now() < deadline, "Redis is reachable again after the retry interval");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(limiter.acquire("d", now).await.is_err(), "back on the cluster's counts");
    assert_eq!(logs.notices.load(Ordering::SeqCst), 1, "the recovery is logged once");
    assert_eq!(logs.warnings.load(Ordering::SeqCst), 1);
}
