//! Several instances on one PostgreSQL database, and PostgreSQL going away while serving
//! (issue 6). These tests always run on PostgreSQL, whichever backend the rest of the suite
//! uses: see `test_support::postgres_url`.

mod common;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::json;

use common::Api;
use storage::StorageConfig;
use test_support::{CuttableProxy, TestApp, fresh_schema, postgres_config, postgres_url};

/// One `consailt serve` instance: its own pool, its own search index, the shared schema.
async fn instance(url: &str, schema: &str) -> Api {
    let dir = tempfile::tempdir().expect("temporary directory");
    let t = TestApp::open(dir, StorageConfig::Postgres(postgres_config(url, schema))).await;
    Api::searching_over(t)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_through_one_instance_is_read_and_found_through_another() {
    let url = postgres_url();
    let schema = fresh_schema("scale");
    let a = instance(&url, &schema).await;
    let b = instance(&url, &schema).await;
    let ada = a.sign_up("ada").await;

    let created = a
        .post("/api/v1/items")
        .token(&ada.access)
        .json(json!({"kind": "note", "title": "Tariff harmonisation memo", "body": "Cross-border tariff findings."}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let id = created.body["id"].as_str().expect("an id").to_owned();
    // At once: the read models are in the shared database.
    let read = b.get(&format!("/api/v1/items/{id}")).token(&ada.access).send().await.expect(StatusCode::OK);
    assert_eq!(read.body["title"], "Tariff harmonisation memo");

    // B's own index catches up from the shared log, woken by A's notification.
    let written = Instant::now();
    loop {
        let found =
            b.get("/api/v1/search?q=tariff&mode=fulltext").token(&ada.access).send().await.expect(StatusCode::OK);
        if found.body["data"].as_array().is_some_and(|hits| hits.iter().any(|hit| hit["id"] == id.as_str())) {
            break;
        }
        assert!(written.elapsed() < Duration::from_secs(1), "B's index did not catch up within a second");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Security state is shared too: a refresh rotated through B is reuse through A.
    let rotated =
        b.post("/api/v1/auth/refresh").json(json!({"refresh_token": ada.refresh})).send().await.expect(StatusCode::OK);
    let newest = rotated.body["refresh_token"].as_str().expect("a refresh token").to_owned();
    tokio::time::sleep(Duration::from_millis(10)).await;
    a.t.clock.advance(time::Duration::minutes(1));
    a.post("/api/v1/auth/refresh")
        .json(json!({"refresh_token": ada.refresh}))
        .send()
        .await
        .expect(StatusCode::UNAUTHORIZED);
    b.t.clock.advance(time::Duration::minutes(1));
    b.post("/api/v1/auth/refresh").json(json!({"refresh_token": newest})).send().await.expect(StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_database_answers_503_quickly_loses_nothing_and_recovers() {
    let url = postgres_url();
    let upstream = url.rsplit_once('@').map_or(url.as_str(), |(_, rest)| rest);
    let upstream = upstream.split('/').next().expect("host:port");
    let proxy = CuttableProxy::start(upstream.parse().expect("a host:port address")).await.expect("proxy");
    let through_proxy = url.replacen(upstream, &proxy.address().to_string(), 1);
    let mut config = postgres_config(&through_proxy, &fresh_schema("outage"));
    config.acquire_timeout = Duration::from_secs(1);
    let dir = tempfile::tempdir().expect("temporary directory");
    let api = Api::over(TestApp::open(dir, StorageConfig::Postgres(config)).await);
    let ada = api.sign_up("ada").await;
    let mut acknowledged = Vec::new();
    for n in 0..5 {
        let reply = api
            .post("/api/v1/items")
            .token(&ada.access)
            .json(json!({"kind": "note", "title": format!("Before the outage {n}"), "body": "kept"}))
            .send()
            .await
            .expect(StatusCode::CREATED);
        acknowledged.push(reply.body["id"].as_str().expect("an id").to_owned());
    }

    proxy.cut();
    let started = Instant::now();
    let refused = api
        .post("/api/v1/items")
        .token(&ada.access)
        .json(json!({"kind": "note", "title": "During the outage", "body": "not acknowledged"}))
        .send()
        .await
        .expect(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.code(), "UNAVAILABLE");
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?} to give up", started.elapsed());
    api.get(&format!("/api/v1/items/{}", acknowledged[0]))
        .token(&ada.access)
        .send()
        .await
        .expect(StatusCode::SERVICE_UNAVAILABLE);
    api.get("/readyz").send().await.expect(StatusCode::SERVICE_UNAVAILABLE);

    proxy.restore();
    let restored = Instant::now();
    while api.get("/readyz").send().await.status != StatusCode::OK {
        assert!(restored.elapsed() < Duration::from_secs(10), "not ready again 10 s after the database returned");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for id in &acknowledged {
        api.get(&format!("/api/v1/items/{id}")).token(&ada.access).send().await.expect(StatusCode::OK);
    }
    api.post("/api/v1/items")
        .token(&ada.access)
        .json(json!({"kind": "note", "title": "After the outage", "body": "served again"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let listed = api.get("/api/v1/items").token(&ada.access).send().await.expect(StatusCode::OK);
    assert_eq!(listed.body["total"], 6, "the five acknowledged items and the one after; nothing from the outage");
}
