//! DESIGN section 5 on every error path: the envelope, request ids, body rules, headers.

mod common;

use axum::http::StatusCode;
use serde_json::json;

use common::Api;

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_envelope_with_the_request_id() {
    let api = Api::new().await;
    let reply = api.get("/api/v1/nope").header("x-request-id", "trace-42").send().await.expect(StatusCode::NOT_FOUND);
    assert_eq!(reply.code(), "NOT_FOUND");
    assert_eq!(reply.body["error"]["request_id"], "trace-42");
    assert_eq!(reply.header("x-request-id"), Some("trace-42"));

    let reply = api.delete("/api/v1/auth/login").send().await.expect(StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.code(), "METHOD_NOT_ALLOWED");
    let id = reply.body["error"]["request_id"].as_str().expect("generated id");
    assert!(id.starts_with("req_"), "{id}");
    assert_eq!(reply.header("x-request-id"), Some(id));
}

#[tokio::test]
async fn bodies_are_checked_before_anything_happens() {
    let api = Api::new().await;
    let owner = api.sign_up("ada").await;

    let malformed = api.post("/api/v1/items").token(&owner.access).raw("application/json", "{\"kind\":").send().await;
    assert_eq!((malformed.status, malformed.code()), (StatusCode::BAD_REQUEST, "VALIDATION_ERROR"));

    let wrong_type = api.post("/api/v1/items").token(&owner.access).raw("text/plain", "{}").send().await;
    assert_eq!((wrong_type.status, wrong_type.code()), (StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE"));

    let huge = "x".repeat(server::MAX_BODY_BYTES + 1);
    let too_large = api
        .post("/api/v1/items")
        .token(&owner.access)
        .json(json!({"kind": "note", "title": "t", "body": huge}))
        .send()
        .await;
    assert_eq!((too_large.status, too_large.code()), (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE"));

    let unknown_field = api
        .post("/api/v1/items")
        .token(&owner.access)
        .json(json!({"kind": "note", "title": "t", "author_id": "usr_x"}))
        .send()
        .await;
    assert_eq!((unknown_field.status, unknown_field.code()), (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR"));
    assert!(
        unknown_field.body["error"]["message"].as_str().unwrap_or("").contains("author_id"),
        "{}",
        unknown_field.body
    );

    let wrong_kind =
        api.post("/api/v1/items").token(&owner.access).json(json!({"kind": "poem", "title": "t"})).send().await;
    assert_eq!(wrong_kind.status, StatusCode::UNPROCESSABLE_ENTITY);

    let empty_title =
        api.post("/api/v1/items").token(&owner.access).json(json!({"kind": "note", "title": " "})).send().await;
    assert_eq!(empty_title.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(empty_title.body["error"]["details"][0]["field"], "title");

    let list = api.get("/api/v1/items").token(&owner.access).send().await.expect(StatusCode::OK);
    assert_eq!(list.body["total"], 0, "nothing was created by the refused requests");
}

#[tokio::test]
async fn unknown_filters_and_sort_keys_are_refused() {
    let api = Api::new().await;
    let owner = api.sign_up("ada").await;
    for query in ["colour=red", "sort=author", "limit=0", "limit=101", "status=lost", "cursor=garbage"] {
        let reply = api.get(&format!("/api/v1/items?{query}")).token(&owner.access).send().await;
        assert_eq!((reply.status, reply.code()), (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR"), "{query}");
    }
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let api = Api::new().await;
    for reply in [api.get("/healthz").send().await, api.get("/api/v1/me").send().await] {
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(reply.header("x-frame-options"), Some("DENY"));
        assert!(reply.header("content-security-policy").is_some_and(|v| v.contains("frame-ancestors 'none'")));
        assert!(reply.header("x-request-id").is_some());
    }
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let settings = server::HttpSettings { cors_origins: vec!["https://app.example.com".into()], ..Default::default() };
    let api = Api::with(settings).await;
    let allowed = api.get("/healthz").header("origin", "https://app.example.com").send().await;
    assert_eq!(allowed.header("access-control-allow-origin"), Some("https://app.example.com"));
    let other = api.get("/healthz").header("origin", "https://evil.example").send().await;
    assert_eq!(other.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn a_panic_is_an_internal_error_without_internals() {
    let response = server::error::panic_response(Box::new("secret database path /var/x".to_owned()));
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let error = response.extensions().get::<server::error::ApiError>().expect("rendered by the envelope").clone();
    let body = axum::body::to_bytes(error.render(Some("req_1")).into_body(), usize::MAX).await.expect("body");
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains("\"INTERNAL\"") && text.contains("req_1"), "{text}");
    assert!(!text.contains("secret"), "{text}");
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() {
    let limit = application::security::throttle::Limit { max: 3, window: time::Duration::minutes(1) };
    let api = Api::with(server::HttpSettings { per_principal: limit, ..Default::default() }).await;
    let owner = api.sign_up("ada").await;
    for _ in 0..3 {
        api.get("/api/v1/me").token(&owner.access).send().await.expect(StatusCode::OK);
    }
    let limited = api.get("/api/v1/me").token(&owner.access).send().await.expect(StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.code(), "RATE_LIMITED");
    assert!(limited.header("retry-after").is_some_and(|s| s.parse::<u64>().is_ok_and(|s| (1..=60).contains(&s))));
    api.t.clock.advance(time::Duration::minutes(1));
    api.get("/api/v1/me").token(&owner.access).send().await.expect(StatusCode::OK);
}

#[tokio::test]
async fn requests_are_limited_per_client_address() {
    let limit = application::security::throttle::Limit { max: 5, window: time::Duration::minutes(1) };
    let api = Api::with(server::HttpSettings { per_ip: limit, ..Default::default() }).await;
    for _ in 0..5 {
        api.get("/healthz").send().await.expect(StatusCode::OK);
    }
    let limited = api.get("/api/v1/items").send().await.expect(StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.code(), "RATE_LIMITED");
    assert!(limited.header("retry-after").is_some());
}
