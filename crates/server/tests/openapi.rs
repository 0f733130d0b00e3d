//! The OpenAPI document: served, complete (every documented operation is routed), and locked by
//! a snapshot (`docs/openapi.json`), so a change to the contract shows up in review.

mod common;

use axum::http::{Method, StatusCode};

use common::Api;

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");

#[tokio::test]
async fn the_document_is_served_and_matches_the_snapshot() {
    let api = Api::new().await;
    let served = api.get("/api/v1/openapi.json").send().await.expect(StatusCode::OK);
    assert!(served.body["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{}", served.body["openapi"]);
    let rendered = serde_json::to_string_pretty(&served.body).expect("json") + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(SNAPSHOT, &rendered).expect("write snapshot");
    }
    let snapshot = std::fs::read_to_string(SNAPSHOT).unwrap_or_default();
    assert!(
        snapshot == rendered,
        "docs/openapi.json differs from the served document; review the change, then run \
         UPDATE_SNAPSHOTS=1 cargo nextest run -p server --test openapi"
    );
    let docs = api.get("/api/docs").send().await.expect(StatusCode::OK);
    assert!(String::from_utf8_lossy(&docs.raw).contains("/api/v1/items/{id}/restore-version"));
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let api = Api::new().await;
    let document = api.get("/api/v1/openapi.json").send().await.expect(StatusCode::OK).body;
    let paths = document["paths"].as_object().expect("paths");
    let mut operations = 0;
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("path item") {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let concrete = path.replace("{n}", "1").replace('{', "x_").replace('}', "");
            let reply = api.call(method.clone(), &concrete).send().await;
            assert!(
                !matches!(reply.status, StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED)
                    || reply.code() != "NOT_FOUND" && reply.code() != "METHOD_NOT_ALLOWED",
                "{method} {path} is documented but not routed: {}",
                reply.status
            );
            let public = operation["security"]
                .as_array()
                .is_some_and(|s| s.iter().all(|r| r.as_object().is_some_and(|o| o.is_empty())));
            if !public {
                assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {path} answers without credentials");
            }
            operations += 1;
        }
    }
    assert_eq!(operations, 60, "every route of the API is documented");
}

/// List entries are rendered by the read model, not serialized from the schema's type: the
/// document must still name exactly the fields an entry has.
#[tokio::test]
async fn item_list_entries_have_the_documented_fields() {
    let api = Api::new().await;
    let owner = api.sign_up("lists").await;
    api.create(&owner, "/api/v1/items", serde_json::json!({"kind": "note", "title": "Listed", "tags": ["a"]})).await;
    let document = api.get("/api/v1/openapi.json").send().await.expect(StatusCode::OK).body;
    let schema = &document["components"]["schemas"]["ItemListEntry"];
    let mut documented: Vec<&String> = schema["properties"].as_object().expect("properties").keys().collect();
    let list = api.get("/api/v1/items").token(&owner.access).send().await.expect(StatusCode::OK).body;
    let mut served: Vec<&String> = list["data"][0].as_object().expect("an entry").keys().collect();
    documented.sort();
    served.sort();
    assert_eq!(documented, served);
    let required: Vec<&str> =
        schema["required"].as_array().expect("required").iter().filter_map(|name| name.as_str()).collect();
    for name in &required {
        assert!(!list["data"][0][name].is_null(), "{name} is required but null");
    }
}
