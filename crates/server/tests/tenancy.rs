//! Tenant isolation: organization B's principal on organization A's ids gets 404 on every
//! endpoint that takes an id, and A's data is unchanged afterwards.

mod common;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use common::Api;

#[tokio::test]
async fn another_organizations_ids_are_not_found_and_untouched() {
    let api = Api::new().await;
    let a = api.sign_up("alice").await;
    let b = api.sign_up("bob").await;
    let a_colleague = api.member(&a, "consultant").await;

    let engagement = api.create(&a, "/api/v1/engagements", json!({"name": "Secret deal", "client": "Acme"})).await;
    api.post(&format!("/api/v1/engagements/{engagement}/members"))
        .token(&a.access)
        .json(json!({"user_id": a_colleague.user_id}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let item =
        api.create(&a, "/api/v1/items", json!({"kind": "note", "title": "Secret", "engagement_id": engagement})).await;
    let trashed = api.create(&a, "/api/v1/items", json!({"kind": "note", "title": "Trashed"})).await;
    api.delete(&format!("/api/v1/items/{trashed}")).token(&a.access).send().await.expect(StatusCode::NO_CONTENT);
    let category = api.create(&a, "/api/v1/categories", json!({"name": "Strategy"})).await;
    let template = api
        .create(
            &a,
            "/api/v1/templates",
            json!({"name": "Brief", "body": "Dear {{client}}", "default_kind": "document"}),
        )
        .await;
    let key = api.create(&a, "/api/v1/api-keys", json!({"name": "CI", "role": "viewer"})).await;

    let paths = [
        format!("/api/v1/engagements/{engagement}"),
        format!("/api/v1/items/{item}"),
        format!("/api/v1/items/{item}/versions"),
        "/api/v1/trash".to_owned(),
        "/api/v1/categories".to_owned(),
        format!("/api/v1/templates/{template}"),
        "/api/v1/api-keys".to_owned(),
        "/api/v1/members".to_owned(),
    ];
    let snapshot = async |api: &Api| {
        let mut seen = Vec::new();
        for path in &paths {
            seen.push(api.get(path).token(&a.access).send().await.expect(StatusCode::OK).body);
        }
        seen
    };
    let a_session = api.get("/api/v1/sessions").token(&a.access).send().await.body["data"][0]["id"]
        .as_str()
        .expect("session")
        .to_owned();
    let before = snapshot(&api).await;

    let member = &a_colleague.user_id;
    let attempts: Vec<(Method, String, Value)> = vec![
        (Method::GET, format!("/api/v1/engagements/{engagement}"), Value::Null),
        (Method::PATCH, format!("/api/v1/engagements/{engagement}"), json!({"name": "Stolen"})),
        (Method::DELETE, format!("/api/v1/engagements/{engagement}"), Value::Null),
        (Method::POST, format!("/api/v1/engagements/{engagement}/transitions"), json!({"to": "proposal"})),
        (Method::GET, format!("/api/v1/engagements/{engagement}/members"), Value::Null),
        (Method::POST, format!("/api/v1/engagements/{engagement}/members"), json!({"user_id": b.user_id})),
        (Method::DELETE, format!("/api/v1/engagements/{engagement}/members/{member}"), Value::Null),
        (Method::GET, format!("/api/v1/items/{item}"), Value::Null),
        (Method::PATCH, format!("/api/v1/items/{item}"), json!({"title": "Stolen"})),
        (Method::DELETE, format!("/api/v1/items/{item}"), Value::Null),
        (Method::GET, format!("/api/v1/items/{item}/versions"), Value::Null),
        (Method::GET, format!("/api/v1/items/{item}/versions/1"), Value::Null),
        (Method::POST, format!("/api/v1/items/{item}/restore-version"), json!({"version": 1})),
        (Method::POST, format!("/api/v1/items/{item}/transitions"), json!({"to": "in_review"})),
        (Method::POST, format!("/api/v1/items/{trashed}/restore"), Value::Null),
        (Method::POST, format!("/api/v1/items/{item}/summary"), json!({})),
        (Method::POST, format!("/api/v1/items/{item}/tag-suggestions"), json!({})),
        (Method::POST, format!("/api/v1/templates/{template}/draft"), json!({"engagement_id": engagement})),
        (Method::POST, format!("/api/v1/engagements/{engagement}/risk-assessment"), json!({})),
        (Method::POST, "/api/v1/ask".to_owned(), json!({"question": "secret", "engagement_id": engagement})),
        (Method::PATCH, format!("/api/v1/categories/{category}"), json!({"name": "Stolen"})),
        (Method::DELETE, format!("/api/v1/categories/{category}"), Value::Null),
        (Method::GET, format!("/api/v1/templates/{template}"), Value::Null),
        (Method::PATCH, format!("/api/v1/templates/{template}"), json!({"name": "Stolen"})),
        (Method::DELETE, format!("/api/v1/templates/{template}"), Value::Null),
        (
            Method::POST,
            format!("/api/v1/templates/{template}/instantiate"),
            json!({"title": "x", "values": {"client": "y"}}),
        ),
        (Method::DELETE, format!("/api/v1/api-keys/{key}"), Value::Null),
        (Method::DELETE, format!("/api/v1/sessions/{a_session}"), Value::Null),
        (Method::PATCH, format!("/api/v1/members/{member}"), json!({"role": "viewer"})),
        (Method::DELETE, format!("/api/v1/members/{member}"), Value::Null),
        (Method::POST, "/api/v1/items".to_owned(), json!({"kind": "note", "title": "x", "engagement_id": engagement})),
        (Method::POST, "/api/v1/items".to_owned(), json!({"kind": "note", "title": "x", "categories": [category]})),
        (Method::POST, "/api/v1/categories".to_owned(), json!({"name": "x", "parent_id": category})),
    ];
    let mut failures = Vec::new();
    for (method, path, body) in attempts {
        let mut call = api.call(method.clone(), &path).token(&b.access);
        if !body.is_null() {
            call = call.json(body);
        }
        let reply = call.send().await;
        if reply.status != StatusCode::NOT_FOUND {
            failures.push(format!("{method} {path}: {} {}", reply.status, reply.body));
        }
    }
    assert!(failures.is_empty(), "not 404:\n{}", failures.join("\n"));

    // B's own lists show none of A's data.
    for path in
        ["/api/v1/items", "/api/v1/engagements", "/api/v1/trash", "/api/v1/tags", "/api/v1/templates", "/api/v1/events"]
    {
        let reply = api.get(path).token(&b.access).send().await.expect(StatusCode::OK);
        for secret in [&engagement, &item, &trashed, &template, &category] {
            assert!(!reply.body.to_string().contains(secret.as_str()), "{path} leaks {secret}");
        }
    }
    assert_eq!(snapshot(&api).await, before, "A's data changed");
}
