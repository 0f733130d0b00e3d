//! Resource behaviour through the API: conditional requests, idempotent POSTs, pagination,
//! versions and trash, templates, guests, the audit trail.

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::json;

use common::Api;

#[tokio::test]
async fn etags_answer_304_and_if_match_prevents_lost_updates() {
    let api = Api::new().await;
    let ada = api.sign_up("ada").await;
    let created = api
        .post("/api/v1/items")
        .token(&ada.access)
        .json(json!({"kind": "note", "title": "v1", "tags": ["Risk", " risk "]}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(created.body["tags"], json!(["risk"]));
    let id = created.body["id"].as_str().expect("id").to_owned();
    let etag = created.header("etag").expect("etag").to_owned();
    let path = format!("/api/v1/items/{id}");

    let fetched = api.get(&path).token(&ada.access).send().await.expect(StatusCode::OK);
    assert_eq!(fetched.header("etag"), Some(etag.as_str()));
    api.get(&path).token(&ada.access).header("if-none-match", &etag).send().await.expect(StatusCode::NOT_MODIFIED);

    // Two clients edit from the same version: the second is refused, not silently lost.
    let first =
        api.patch(&path).token(&ada.access).header("if-match", &etag).json(json!({"title": "mine"})).send().await;
    let first = first.expect(StatusCode::OK);
    let second =
        api.patch(&path).token(&ada.access).header("if-match", &etag).json(json!({"title": "theirs"})).send().await;
    assert_eq!((second.status, second.code()), (StatusCode::PRECONDITION_FAILED, "PRECONDITION_FAILED"));
    let current = api.get(&path).token(&ada.access).send().await.expect(StatusCode::OK);
    assert_eq!(current.body["title"], "mine");
    assert_eq!(current.body["version"], 2);
    assert_ne!(first.header("etag"), Some(etag.as_str()));
    api.delete(&path).token(&ada.access).header("if-match", &etag).send().await.expect(StatusCode::PRECONDITION_FAILED);
    api.patch(&path)
        .token(&ada.access)
        .header("if-match", "nonsense")
        .json(json!({}))
        .send()
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);

    // The same holds for engagements, templates and categories.
    let engagement = api
        .post("/api/v1/engagements")
        .token(&ada.access)
        .json(json!({"name": "Audit", "client": "Acme"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let (eid, etag) = (engagement.body["id"].as_str().expect("id"), engagement.header("etag").expect("etag"));
    let path = format!("/api/v1/engagements/{eid}");
    api.patch(&path)
        .token(&ada.access)
        .header("if-match", etag)
        .json(json!({"client": "Acme Ltd"}))
        .send()
        .await
        .expect(StatusCode::OK);
    api.patch(&path)
        .token(&ada.access)
        .header("if-match", etag)
        .json(json!({"client": "Other"}))
        .send()
        .await
        .expect(StatusCode::PRECONDITION_FAILED);

    let tree = api.get("/api/v1/categories").token(&ada.access).send().await.expect(StatusCode::OK);
    let tree_tag = tree.header("etag").expect("etag").to_owned();
    let category = api.create(&ada, "/api/v1/categories", json!({"name": "Strategy"})).await;
    api.patch(&format!("/api/v1/categories/{category}"))
        .token(&ada.access)
        .header("if-match", &tree_tag)
        .json(json!({"name": "Strategy 2"}))
        .send()
        .await
        .expect(StatusCode::PRECONDITION_FAILED);
}

/// A create answers the item without reading it back; it must answer exactly what a read does.
#[tokio::test]
async fn a_created_item_answers_what_reading_it_answers() {
    let api = Api::new().await;
    let ada = api.sign_up("ada").await;
    let category = api.create(&ada, "/api/v1/categories", json!({"name": "Strategy"})).await;
    let engagement = api.create(&ada, "/api/v1/engagements", json!({"name": "Audit", "client": "Acme"})).await;
    let bodies = [
        json!({"kind": "note", "title": "Plain", "body": ""}),
        json!({
            "kind": "deliverable",
            "title": "  Full  ",
            "body": "Body with ünïcode and \"quotes\"",
            "engagement_id": engagement,
            "categories": [category],
            "tags": ["Risk", " risk ", "Zeta", "alpha"],
            "metadata": {"zeta": [1, 2.5, null], "alpha": {"b": true, "a": "x"}, "client_ref": "A-1"}
        }),
    ];
    for body in bodies {
        let created = api.post("/api/v1/items").token(&ada.access).json(body).send().await.expect(StatusCode::CREATED);
        let id = created.body["id"].as_str().expect("id");
        let read = api.get(&format!("/api/v1/items/{id}")).token(&ada.access).send().await.expect(StatusCode::OK);
        assert_eq!(String::from_utf8_lossy(&created.raw), String::from_utf8_lossy(&read.raw));
        assert_eq!(created.header("etag"), read.header("etag"));
    }
}

#[tokio::test]
async fn idempotent_posts_run_once_even_under_concurrent_retries() {
    let api = Arc::new(Api::new().await);
    let ada = api.sign_up("ada").await;
    let body = json!({"kind": "note", "title": "exactly once"});
    let retries = (0..100).map(|_| {
        let (api, token, body) = (api.clone(), ada.access.clone(), body.clone());
        tokio::spawn(async move {
            api.post("/api/v1/items").token(&token).header("idempotency-key", "create-1").json(body).send().await
        })
    });
    let replies: Vec<_> = futures_util::future::join_all(retries).await.into_iter().map(|r| r.expect("task")).collect();
    let created: Vec<_> = replies.iter().filter(|r| r.status == StatusCode::CREATED).collect();
    assert!(!created.is_empty());
    assert!(
        replies.iter().all(|r| r.status == StatusCode::CREATED || r.status == StatusCode::CONFLICT),
        "only replays or 409 while running"
    );
    let ids: std::collections::BTreeSet<_> = created.iter().map(|r| r.body["id"].to_string()).collect();
    assert_eq!(ids.len(), 1, "every replay answers the first response");
    let list = api.get("/api/v1/items").token(&ada.access).send().await.expect(StatusCode::OK);
    assert_eq!(list.body["total"], 1);

    let replay =
        api.post("/api/v1/items").token(&ada.access).header("idempotency-key", "create-1").json(body).send().await;
    assert_eq!(replay.expect(StatusCode::CREATED).header("idempotent-replayed"), Some("true"));
    let other = api
        .post("/api/v1/items")
        .token(&ada.access)
        .header("idempotency-key", "create-1")
        .json(json!({"kind": "note", "title": "different"}))
        .send()
        .await;
    assert_eq!((other.status, other.code()), (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR"));

    // Keys are scoped to the principal: another user's same key is a new request.
    let bob = api.sign_up("bob").await;
    api.post("/api/v1/items")
        .token(&bob.access)
        .header("idempotency-key", "create-1")
        .json(json!({"kind": "note", "title": "exactly once"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let bobs = api.get("/api/v1/items").token(&bob.access).send().await.expect(StatusCode::OK);
    assert_eq!(bobs.body["total"], 1);
}

#[tokio::test]
async fn lists_page_with_cursors_filters_and_exact_totals() {
    let api = Api::new().await;
    let ada = api.sign_up("ada").await;
    let engagement = api.create(&ada, "/api/v1/engagements", json!({"name": "Audit", "client": "Acme"})).await;
    for n in 0..7 {
        let mut body =
            json!({"kind": if n % 2 == 0 { "note" } else { "document" }, "title": format!("item {n}"), "tags": ["q3"]});
        if n < 3 {
            body["engagement_id"] = json!(engagement);
        }
        api.create(&ada, "/api/v1/items", body).await;
        api.t.clock.advance(time::Duration::seconds(1));
    }
    let mut titles = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/items?limit=3&sort=title&cursor={c}"),
            None => "/api/v1/items?limit=3&sort=title".to_owned(),
        };
        let page = api.get(&path).token(&ada.access).send().await.expect(StatusCode::OK);
        assert_eq!(page.body["total"], 7);
        titles.extend(
            page.body["data"].as_array().expect("data").iter().map(|i| i["title"].as_str().expect("title").to_owned()),
        );
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(titles, (0..7).map(|n| format!("item {n}")).collect::<Vec<_>>());

    let newest = api.get("/api/v1/items?limit=1").token(&ada.access).send().await.expect(StatusCode::OK);
    assert_eq!(newest.body["data"][0]["title"], "item 6", "default sort: most recently updated first");
    let cursor = newest.body["next_cursor"].as_str().expect("more");
    api.get(&format!("/api/v1/items?sort=title&cursor={cursor}"))
        .token(&ada.access)
        .send()
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);

    for (query, total) in [
        (format!("engagement={engagement}"), 3),
        ("kind=document".to_owned(), 3),
        ("tag=Q3".to_owned(), 7),
        ("status=published".to_owned(), 0),
    ] {
        let page = api.get(&format!("/api/v1/items?{query}")).token(&ada.access).send().await.expect(StatusCode::OK);
        assert_eq!(page.body["total"], total, "{query}");
    }
    let engagements =
        api.get("/api/v1/engagements?phase=discovery").token(&ada.access).send().await.expect(StatusCode::OK);
    assert_eq!(engagements.body["total"], 1);
}

#[tokio::test]
async fn versions_transitions_trash_and_templates() {
    let api = Api::new().await;
    let ada = api.sign_up("ada").await;
    let id =
        api.create(&ada, "/api/v1/items", json!({"kind": "deliverable", "title": "Report v1", "body": "first"})).await;
    let path = format!("/api/v1/items/{id}");
    api.patch(&path).token(&ada.access).json(json!({"body": "second"})).send().await.expect(StatusCode::OK);
    let restored = api
        .post(&format!("{path}/restore-version"))
        .token(&ada.access)
        .json(json!({"version": 1}))
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!((restored.body["body"].as_str(), restored.body["version"].as_u64()), (Some("first"), Some(3)));
    let versions = api.get(&format!("{path}/versions")).token(&ada.access).send().await.expect(StatusCode::OK);
    assert_eq!(versions.body["data"].as_array().map(Vec::len), Some(3));
    let v2 = api.get(&format!("{path}/versions/2")).token(&ada.access).send().await.expect(StatusCode::OK);
    assert_eq!(v2.body["body"], "second");
    api.get(&format!("{path}/versions/9")).token(&ada.access).send().await.expect(StatusCode::NOT_FOUND);
    api.get(&format!("{path}/versions/x")).token(&ada.access).send().await.expect(StatusCode::UNPROCESSABLE_ENTITY);

    let illegal =
        api.post(&format!("{path}/transitions")).token(&ada.access).json(json!({"to": "archived"})).send().await;
    assert_eq!((illegal.status, illegal.code()), (StatusCode::CONFLICT, "CONFLICT"));
    assert!(illegal.body["error"]["message"].as_str().unwrap_or("").contains("allowed: in_review"), "{}", illegal.body);
    api.post(&format!("{path}/transitions"))
        .token(&ada.access)
        .json(json!({"to": "in_review"}))
        .send()
        .await
        .expect(StatusCode::OK);
    let in_review = api.get("/api/v1/items?status=in_review").token(&ada.access).send().await.expect(StatusCode::OK);
    assert_eq!(
        (in_review.body["total"].as_u64(), in_review.body["data"][0]["id"].as_str()),
        (Some(1), Some(id.as_str()))
    );
    let drafts =
        api.get("/api/v1/items?status=draft&kind=deliverable").token(&ada.access).send().await.expect(StatusCode::OK);
    assert_eq!(drafts.body["total"], 0, "the count moved with the status");

    api.delete(&path).token(&ada.access).send().await.expect(StatusCode::NO_CONTENT);
    let trash = api.get("/api/v1/trash").token(&ada.access).send().await.expect(StatusCode::OK);
    assert_eq!(trash.body["data"][0]["id"], id.as_str());
    assert_eq!(api.get("/api/v1/items").token(&ada.access).send().await.body["total"], 0);
    api.post(&format!("{path}/restore")).token(&ada.access).send().await.expect(StatusCode::OK);
    assert_eq!(api.get("/api/v1/items").token(&ada.access).send().await.body["total"], 1);

    let template = api.create(&ada, "/api/v1/templates", json!({"name": "Brief", "body": "Dear {{client}}, {{ask}}", "default_kind": "document", "default_tags": ["brief"]})).await;
    let missing = api
        .post(&format!("/api/v1/templates/{template}/instantiate"))
        .token(&ada.access)
        .json(json!({"title": "x", "values": {"client": "Acme"}}))
        .send()
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", missing.body);
    let item = api
        .post(&format!("/api/v1/templates/{template}/instantiate"))
        .token(&ada.access)
        .json(json!({"title": "Brief for Acme", "values": {"client": "Acme", "ask": "hello"}}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    assert_eq!((item.body["body"].as_str(), item.body["kind"].as_str()), (Some("Dear Acme, hello"), Some("document")));
    let duplicate = api
        .post("/api/v1/templates")
        .token(&ada.access)
        .json(json!({"name": "brief", "body": "x", "default_kind": "note"}))
        .send()
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);

    let tags = api.get("/api/v1/tags").token(&ada.access).send().await.expect(StatusCode::OK);
    assert_eq!(tags.body["data"], json!([{"tag": "brief", "count": 1}]));

    let engagement = api.create(&ada, "/api/v1/engagements", json!({"name": "Audit", "client": "Acme"})).await;
    api.create(&ada, "/api/v1/items", json!({"kind": "note", "title": "x", "engagement_id": engagement})).await;
    let refused = api.delete(&format!("/api/v1/engagements/{engagement}")).token(&ada.access).send().await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "an engagement with items is not deleted");
}

#[tokio::test]
async fn guests_see_only_their_engagements() {
    let api = Api::new().await;
    let owner = api.sign_up("owner").await;
    let guest = api.member(&owner, "guest").await;
    let theirs = api.create(&owner, "/api/v1/engagements", json!({"name": "Theirs", "client": "Client"})).await;
    let other = api.create(&owner, "/api/v1/engagements", json!({"name": "Other", "client": "Rival"})).await;
    api.post(&format!("/api/v1/engagements/{theirs}/members"))
        .token(&owner.access)
        .json(json!({"user_id": guest.user_id}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let visible =
        api.create(&owner, "/api/v1/items", json!({"kind": "note", "title": "Shared", "engagement_id": theirs})).await;
    let hidden =
        api.create(&owner, "/api/v1/items", json!({"kind": "note", "title": "Internal", "engagement_id": other})).await;
    let loose = api.create(&owner, "/api/v1/items", json!({"kind": "note", "title": "Loose"})).await;

    let engagements = api.get("/api/v1/engagements").token(&guest.access).send().await.expect(StatusCode::OK);
    assert_eq!(engagements.body["total"], 1);
    assert_eq!(engagements.body["data"][0]["id"], theirs.as_str());
    let items = api.get("/api/v1/items").token(&guest.access).send().await.expect(StatusCode::OK);
    assert_eq!(items.body["total"], 1);
    api.get(&format!("/api/v1/items/{visible}")).token(&guest.access).send().await.expect(StatusCode::OK);
    for id in [&hidden, &loose] {
        api.get(&format!("/api/v1/items/{id}")).token(&guest.access).send().await.expect(StatusCode::NOT_FOUND);
    }
    api.get(&format!("/api/v1/engagements/{other}")).token(&guest.access).send().await.expect(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_audit_trail_pages_through_the_organizations_events() {
    let api = Api::new().await;
    let ada = api.sign_up("ada").await;
    api.create(&ada, "/api/v1/engagements", json!({"name": "Audit", "client": "Acme"})).await;
    let page = api.get("/api/v1/events?limit=2").token(&ada.access).send().await.expect(StatusCode::OK);
    let entries = page.body["data"].as_array().expect("data");
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["event_type"], "organization.created");
    let after = page.body["next_cursor"].as_str().expect("more");
    let rest = api.get(&format!("/api/v1/events?after={after}")).token(&ada.access).send().await.expect(StatusCode::OK);
    let all = api.get("/api/v1/events").token(&ada.access).send().await.expect(StatusCode::OK);
    let all = all.body["data"].as_array().expect("entries").clone();
    let paged: Vec<_> = entries.iter().chain(rest.body["data"].as_array().expect("entries")).cloned().collect();
    assert_eq!(paged, all, "pages add up to the whole trail");
    let created = all.iter().find(|e| e["event_type"] == "engagement.created").expect("the engagement's creation");
    assert_eq!(created["actor"], ada.user_id.as_str());
    assert!(created["request_id"].as_str().is_some_and(|id| id.starts_with("req_")));
    api.get("/api/v1/events?limit=0").token(&ada.access).send().await.expect(StatusCode::UNPROCESSABLE_ENTITY);
}
