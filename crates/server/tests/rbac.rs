//! Every endpoint for every role, with the expected status. Objects a request changes are made
//! fresh for each call, so one role's call never decides another's outcome.

mod common;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use common::{Api, Session};

const ROLES: [&str; 5] = ["owner", "admin", "consultant", "viewer", "guest"];

/// What a row needs made before it runs.
#[derive(Debug, Clone, Copy)]
enum Fresh {
    Nothing,
    Engagement,
    EngagementWithMember,
    Item,
    TrashedItem,
    Category,
    Template,
    ApiKey,
    Member,
    Outsider,
}

struct Row {
    method: Method,
    path: &'static str,
    body: Value,
    fresh: Fresh,
    /// Expected status for owner, admin, consultant, viewer, guest.
    expect: [u16; 5],
}

fn row(method: Method, path: &'static str, body: Value, fresh: Fresh, expect: [u16; 5]) -> Row {
    Row { method, path, body, fresh, expect }
}

fn table() -> Vec<Row> {
    use Fresh as F;
    use Method as M;
    let none = Value::Null;
    vec![
        row(M::GET, "/api/v1/me", none.clone(), F::Nothing, [200; 5]),
        row(M::GET, "/api/v1/sessions", none.clone(), F::Nothing, [200; 5]),
        row(M::DELETE, "/api/v1/sessions/ses_0000", none.clone(), F::Nothing, [404; 5]),
        row(M::GET, "/api/v1/organization", none.clone(), F::Nothing, [200; 5]),
        row(M::PATCH, "/api/v1/organization", json!({"retention_days": 90}), F::Nothing, [200, 200, 403, 403, 403]),
        row(M::POST, "/api/v1/organizations", json!({"name": "Side Practice"}), F::Nothing, [201; 5]),
        row(M::GET, "/api/v1/members", none.clone(), F::Nothing, [200, 200, 200, 200, 403]),
        row(
            M::POST,
            "/api/v1/members",
            json!({"email": "{outsider_email}", "role": "viewer"}),
            F::Outsider,
            [201, 201, 403, 403, 403],
        ),
        row(M::PATCH, "/api/v1/members/{member}", json!({"role": "viewer"}), F::Member, [200, 200, 403, 403, 403]),
        row(M::DELETE, "/api/v1/members/{member}", none.clone(), F::Member, [204, 204, 403, 403, 403]),
        row(M::GET, "/api/v1/engagements", none.clone(), F::Nothing, [200; 5]),
        row(
            M::POST,
            "/api/v1/engagements",
            json!({"name": "New", "client": "Acme"}),
            F::Nothing,
            [201, 201, 201, 403, 403],
        ),
        row(M::GET, "/api/v1/engagements/{shared_engagement}", none.clone(), F::Nothing, [200; 5]),
        row(M::GET, "/api/v1/engagements/{engagement}", none.clone(), F::Engagement, [200, 200, 200, 200, 404]),
        row(
            M::PATCH,
            "/api/v1/engagements/{engagement}",
            json!({"name": "Renamed"}),
            F::Engagement,
            [200, 200, 200, 403, 403],
        ),
        row(M::DELETE, "/api/v1/engagements/{engagement}", none.clone(), F::Engagement, [204, 204, 204, 403, 403]),
        row(
            M::POST,
            "/api/v1/engagements/{engagement}/transitions",
            json!({"to": "proposal"}),
            F::Engagement,
            [200, 200, 200, 403, 403],
        ),
        row(M::GET, "/api/v1/engagements/{shared_engagement}/members", none.clone(), F::Nothing, [200; 5]),
        row(
            M::POST,
            "/api/v1/engagements/{engagement}/members",
            json!({"user_id": "{consultant_id}"}),
            F::Engagement,
            [201, 201, 201, 403, 403],
        ),
        row(
            M::DELETE,
            "/api/v1/engagements/{engagement}/members/{consultant_id}",
            none.clone(),
            F::EngagementWithMember,
            [204, 204, 204, 403, 403],
        ),
        row(M::GET, "/api/v1/items", none.clone(), F::Nothing, [200; 5]),
        row(
            M::POST,
            "/api/v1/items",
            json!({"kind": "note", "title": "A note"}),
            F::Nothing,
            [201, 201, 201, 403, 403],
        ),
        row(M::GET, "/api/v1/items/{shared_item}", none.clone(), F::Nothing, [200; 5]),
        row(M::GET, "/api/v1/items/{item}", none.clone(), F::Item, [200, 200, 200, 200, 404]),
        row(M::PATCH, "/api/v1/items/{item}", json!({"title": "Edited"}), F::Item, [200, 200, 200, 403, 403]),
        row(M::DELETE, "/api/v1/items/{item}", none.clone(), F::Item, [204, 204, 204, 403, 403]),
        row(M::GET, "/api/v1/items/{shared_item}/versions", none.clone(), F::Nothing, [200; 5]),
        row(M::GET, "/api/v1/items/{shared_item}/versions/1", none.clone(), F::Nothing, [200; 5]),
        row(M::POST, "/api/v1/items/{item}/restore-version", json!({"version": 1}), F::Item, [200, 200, 200, 403, 403]),
        row(
            M::POST,
            "/api/v1/items/{item}/transitions",
            json!({"to": "in_review"}),
            F::Item,
            [200, 200, 200, 403, 403],
        ),
        row(M::POST, "/api/v1/items/{item}/restore", none.clone(), F::TrashedItem, [200, 200, 200, 403, 403]),
        row(M::GET, "/api/v1/trash", none.clone(), F::Nothing, [200; 5]),
        row(M::GET, "/api/v1/categories", none.clone(), F::Nothing, [200, 200, 200, 200, 403]),
        row(M::POST, "/api/v1/categories", json!({"name": "{unique}"}), F::Nothing, [201, 201, 201, 403, 403]),
        row(
            M::PATCH,
            "/api/v1/categories/{category}",
            json!({"name": "{unique}"}),
            F::Category,
            [200, 200, 200, 403, 403],
        ),
        row(M::DELETE, "/api/v1/categories/{category}", none.clone(), F::Category, [204, 204, 204, 403, 403]),
        row(M::GET, "/api/v1/tags", none.clone(), F::Nothing, [200, 200, 200, 200, 403]),
        row(M::GET, "/api/v1/templates", none.clone(), F::Nothing, [200, 200, 200, 200, 403]),
        row(
            M::POST,
            "/api/v1/templates",
            json!({"name": "{unique}", "body": "Hi {{who}}", "default_kind": "note"}),
            F::Nothing,
            [201, 201, 201, 403, 403],
        ),
        row(M::GET, "/api/v1/templates/{template}", none.clone(), F::Template, [200, 200, 200, 200, 403]),
        row(
            M::PATCH,
            "/api/v1/templates/{template}",
            json!({"body": "Hello {{who}}"}),
            F::Template,
            [200, 200, 200, 403, 403],
        ),
        row(M::DELETE, "/api/v1/templates/{template}", none.clone(), F::Template, [204, 204, 204, 403, 403]),
        row(
            M::POST,
            "/api/v1/templates/{template}/instantiate",
            json!({"title": "From template", "values": {"who": "you"}}),
            F::Template,
            [201, 201, 201, 403, 403],
        ),
        row(M::GET, "/api/v1/api-keys", none.clone(), F::Nothing, [200, 200, 403, 403, 403]),
        row(
            M::POST,
            "/api/v1/api-keys",
            json!({"name": "CI", "role": "viewer"}),
            F::Nothing,
            [201, 201, 403, 403, 403],
        ),
        row(M::DELETE, "/api/v1/api-keys/{api_key}", none.clone(), F::ApiKey, [204, 204, 403, 403, 403]),
        row(M::GET, "/api/v1/events", none.clone(), F::Nothing, [200, 200, 403, 403, 403]),
        row(M::GET, "/api/v1/search?q=shared", none.clone(), F::Nothing, [200; 5]),
        row(M::GET, "/api/v1/search/history", none.clone(), F::Nothing, [200; 5]),
        row(M::DELETE, "/api/v1/search/history", none.clone(), F::Nothing, [204; 5]),
        row(M::POST, "/api/v1/items/{item}/summary", json!({}), F::Item, [200, 200, 200, 200, 403]),
        row(M::POST, "/api/v1/ask", json!({"question": "shared"}), F::Nothing, [200, 200, 200, 200, 403]),
        row(
            M::POST,
            "/api/v1/engagements/{engagement}/risk-assessment",
            json!({}),
            F::Engagement,
            [200, 200, 200, 200, 403],
        ),
        row(M::GET, "/api/v1/ai/usage", none.clone(), F::Nothing, [200, 200, 403, 403, 403]),
        row(M::POST, "/api/v1/items/{item}/tag-suggestions", json!({}), F::Item, [200, 200, 200, 200, 403]),
        row(
            M::POST,
            "/api/v1/templates/{template}/draft",
            json!({"engagement_id": "{shared_engagement}"}),
            F::Template,
            [200, 200, 200, 200, 403],
        ),
        row(
            M::POST,
            "/api/v1/auth/password",
            json!({"current_password": common::PASSWORD, "new_password": common::PASSWORD}),
            F::Nothing,
            [204; 5],
        ),
        row(M::POST, "/api/v1/auth/logout", none.clone(), F::Nothing, [204; 5]),
    ]
}

struct World {
    api: Api,
    owner: Session,
    roles: Vec<Session>,
    shared_engagement: String,
    shared_item: String,
}

async fn world() -> World {
    let api = Api::searching().await;
    let owner = api.sign_up("owner").await;
    let mut roles = vec![owner.clone()];
    for role in &ROLES[1..] {
        roles.push(api.member(&owner, role).await);
    }
    let shared_engagement =
        api.create(&owner, "/api/v1/engagements", json!({"name": "Shared", "client": "Acme"})).await;
    let guest = &roles[4];
    api.post(&format!("/api/v1/engagements/{shared_engagement}/members"))
        .token(&owner.access)
        .json(json!({"user_id": guest.user_id}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let shared_item = api
        .create(&owner, "/api/v1/items", json!({"kind": "note", "title": "Shared", "engagement_id": shared_engagement}))
        .await;
    World { api, owner, roles, shared_engagement, shared_item }
}

impl World {
    async fn prepare(&self, fresh: Fresh) -> Vec<(&'static str, String)> {
        let (api, owner) = (&self.api, &self.owner);
        let consultant = self.roles[2].user_id.clone();
        let mut values = vec![
            ("{shared_engagement}", self.shared_engagement.clone()),
            ("{shared_item}", self.shared_item.clone()),
            ("{consultant_id}", consultant.clone()),
            ("{unique}", format!("n{}", ulid::Ulid::new())),
        ];
        let engagement = || api.create(owner, "/api/v1/engagements", json!({"name": "Fresh", "client": "Acme"}));
        let item = || api.create(owner, "/api/v1/items", json!({"kind": "note", "title": "Fresh"}));
        match fresh {
            Fresh::Nothing => {}
            Fresh::Engagement => values.push(("{engagement}", engagement().await)),
            Fresh::EngagementWithMember => {
                let id = engagement().await;
                api.post(&format!("/api/v1/engagements/{id}/members"))
                    .token(&owner.access)
                    .json(json!({"user_id": consultant}))
                    .send()
                    .await
                    .expect(StatusCode::CREATED);
                values.push(("{engagement}", id));
            }
            Fresh::Item => values.push(("{item}", item().await)),
            Fresh::TrashedItem => {
                let id = item().await;
                api.delete(&format!("/api/v1/items/{id}"))
                    .token(&owner.access)
                    .send()
                    .await
                    .expect(StatusCode::NO_CONTENT);
                values.push(("{item}", id));
            }
            Fresh::Category => {
                let id =
                    api.create(owner, "/api/v1/categories", json!({"name": format!("c{}", ulid::Ulid::new())})).await;
                values.push(("{category}", id));
            }
            Fresh::Template => {
                let body =
                    json!({"name": format!("t{}", ulid::Ulid::new()), "body": "Hi {{who}}", "default_kind": "note"});
                values.push(("{template}", api.create(owner, "/api/v1/templates", body).await));
            }
            Fresh::ApiKey => {
                values.push((
                    "{api_key}",
                    api.create(owner, "/api/v1/api-keys", json!({"name": "k", "role": "viewer"})).await,
                ));
            }
            Fresh::Member => {
                let member = api.member(owner, "consultant").await;
                values.push(("{member}", member.user_id));
            }
            Fresh::Outsider => values.push(("{outsider_email}", api.sign_up("outsider").await.email)),
        }
        values
    }
}

fn fill(text: &str, values: &[(&str, String)]) -> String {
    values.iter().fold(text.to_owned(), |text, (key, value)| text.replace(key, value))
}

#[tokio::test]
async fn every_endpoint_for_every_role() {
    let world = world().await;
    let mut failures = Vec::new();
    for row in table() {
        for (index, role) in ROLES.iter().enumerate() {
            let values = world.prepare(row.fresh).await;
            let path = fill(row.path, &values);
            let mut call = world.api.call(row.method.clone(), &path).token(&world.roles[index].access);
            if !row.body.is_null() {
                let body: Value = serde_json::from_str(&fill(&row.body.to_string(), &values)).expect("json");
                call = call.json(body);
            }
            let reply = call.send().await;
            if reply.status.as_u16() != row.expect[index] {
                failures.push(format!(
                    "{} {} as {role}: {} (expected {}) {}",
                    row.method, row.path, reply.status, row.expect[index], reply.body
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn the_documented_permission_table_is_the_one_in_code() {
    let doc = include_str!("../../../docs/permissions.md");
    let table = application::security::permissions::markdown_table();
    assert!(doc.contains(&table), "docs/permissions.md is out of date; paste this table into it:\n{table}");
}
