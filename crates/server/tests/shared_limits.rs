//! Rate limits across instances (issue 6): with Redis configured, two instances enforce one
//! limit between them; without it, each enforces its own. Runs against the local Redis
//! (`test_support::redis_url`), each test under a key prefix of its own.

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::json;

use application::SecuritySettings;
use application::security::throttle::{Limit, SharedCounters};
use cluster_redis::{RedisConfig, RedisCounters};
use common::Api;
use server::HttpSettings;
use test_support::{TestApp, redis_url};

/// Counters in the local Redis that only this test's instances share.
fn counters() -> Arc<dyn SharedCounters> {
    let mut config = RedisConfig::new(redis_url());
    config.prefix = format!("test-{}", ulid::Ulid::new());
    Arc::new(RedisCounters::new(config).expect("a valid URL"))
}

/// Statuses of `n` requests to `/healthz`, alternating between the instances.
async fn round_robin(instances: &[Api], n: usize) -> Vec<StatusCode> {
    let mut statuses = Vec::new();
    for i in 0..n {
        statuses.push(instances[i % instances.len()].get("/healthz").send().await.status);
    }
    statuses
}

fn count(statuses: &[StatusCode], status: StatusCode) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

#[tokio::test]
async fn with_redis_a_limit_is_the_clusters_and_without_it_each_instances() {
    let per_ip = Limit { max: 6, window: time::Duration::minutes(1) };
    let shared = HttpSettings { per_ip, shared_counters: Some(counters()), ..Default::default() };
    let cluster = [Api::over_with(TestApp::new().await, &shared), Api::over_with(TestApp::new().await, &shared)];
    let statuses = round_robin(&cluster, 10).await;
    assert_eq!(count(&statuses, StatusCode::OK), 6, "{statuses:?}");
    assert_eq!(count(&statuses, StatusCode::TOO_MANY_REQUESTS), 4, "{statuses:?}");
    let limited = cluster[1].get("/healthz").send().await.expect(StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.code(), "RATE_LIMITED");
    assert!(limited.header("retry-after").is_some_and(|s| s.parse::<u64>().is_ok_and(|s| (1..=60).contains(&s))));

    let local = HttpSettings { per_ip, ..Default::default() };
    let separate = [Api::over_with(TestApp::new().await, &local), Api::over_with(TestApp::new().await, &local)];
    let statuses = round_robin(&separate, 10).await;
    assert_eq!(count(&statuses, StatusCode::OK), 10, "without Redis each instance counts its own: {statuses:?}");
}

#[tokio::test]
async fn failed_logins_are_counted_for_the_cluster() {
    let security = SecuritySettings {
        login_per_account: Limit { max: 4, window: time::Duration::minutes(15) },
        shared_counters: Some(counters()),
        ..SecuritySettings::default()
    };
    let cluster = [
        Api::over(TestApp::new().await.with_security(security.clone())),
        Api::over(TestApp::new().await.with_security(security)),
    ];
    let mut statuses = Vec::new();
    for i in 0..6 {
        let attempt = json!({"email": "target@example.com", "password": format!("guess-{i}-guess-guess")});
        statuses.push(cluster[i % 2].post("/api/v1/auth/login").json(attempt).send().await.status);
    }
    assert_eq!(count(&statuses, StatusCode::UNAUTHORIZED), 4, "{statuses:?}");
    assert_eq!(&statuses[4..], [StatusCode::TOO_MANY_REQUESTS; 2], "{statuses:?}");
}
