//! Search through the real router: the index follows writes promptly, ranks with
//! highlights and facets, tolerates typos and prefixes, never shows what the caller may not
//! read, and answers every query with results or a 422.

mod common;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::{Value, json};

use common::{Api, Session};

/// How long a write may take to become searchable here. The product's target is one second
/// (bench-measured, not yet); under CI's load (a parallel suite fsyncing beside a cold build)
/// the first index commit took longer, so the tests allow three rather than flake.
const SEARCHABLE_WITHIN: Duration = Duration::from_secs(3);

fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

async fn search(api: &Api, who: &Session, query: &str) -> Value {
    api.get(&format!("/api/v1/search?{query}")).token(&who.access).send().await.expect(StatusCode::OK).body
}

fn ids(reply: &Value) -> Vec<String> {
    reply["data"].as_array().expect("hits").iter().map(|hit| hit["id"].as_str().expect("id").to_owned()).collect()
}

/// How long a write may take to become searchable by meaning here: embedding takes CPU
/// seconds, more in a test build beside a parallel suite.
const EMBEDDED_WITHIN: Duration = Duration::from_secs(30);

/// Searches until `check` holds, failing after [`SEARCHABLE_WITHIN`].
async fn eventually(api: &Api, who: &Session, query: &str, check: impl Fn(&Value) -> bool) -> Value {
    eventually_within(SEARCHABLE_WITHIN, api, who, query, check).await
}

/// Searches until `check` holds, failing after `within`.
async fn eventually_within(
    within: Duration,
    api: &Api,
    who: &Session,
    query: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let reply = search(api, who, query).await;
        if check(&reply) {
            return reply;
        }
        assert!(Instant::now() < deadline, "search {query:?} did not reach the expected state in time: {reply}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A guest of `owner`'s organization, a member of engagement "Shared" but not of "Private".
async fn guest_of_one_engagement(api: &Api, owner: &Session) -> (Session, String, String) {
    let guest = api.member(owner, "guest").await;
    let shared = api.create(owner, "/api/v1/engagements", json!({"name": "Shared", "client": "Acme"})).await;
    let private = api.create(owner, "/api/v1/engagements", json!({"name": "Private", "client": "Initech"})).await;
    api.post(&format!("/api/v1/engagements/{shared}/members"))
        .token(&owner.access)
        .json(json!({"user_id": guest.user_id}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    (guest, shared, private)
}

async fn item(api: &Api, who: &Session, body: Value) -> String {
    api.create(who, "/api/v1/items", body).await
}

#[tokio::test]
async fn a_new_item_is_found_promptly_with_highlights_and_facets() {
    let api = Api::searching().await;
    let ada = api.sign_up("ada").await;
    let id = item(
        &api,
        &ada,
        json!({"kind": "note", "title": "Quarterly review", "body": "We discussed the risks of the database migration and the staffing plan.", "tags": ["risk"]}),
    )
    .await;
    item(&api, &ada, json!({"kind": "document", "title": "Office lunch", "body": "Pizza on Fridays."})).await;

    let reply = eventually(&api, &ada, "q=migrations", |r| ids(r) == [id.as_str()]).await;
    let hit = &reply["data"][0];
    assert!(hit["snippet"].as_str().expect("snippet").contains("<b>migration</b>"), "{hit}");
    assert_eq!(hit["signals"], json!(["fulltext"]));
    assert_eq!(reply["total"], 1);
    assert_eq!(reply["facets"]["tag"], json!([{"value": "risk", "count": 1}]));
    assert_eq!(reply["facets"]["kind"], json!([{"value": "note", "count": 1}]));
    assert_eq!(ids(&search(&api, &ada, "q=migrati").await), [id.as_str()], "a word being typed past its stem");

    // A title match outranks a body match.
    let titled = item(&api, &ada, json!({"kind": "note", "title": "Pizza supplier", "body": "Contract terms."})).await;
    let reply = eventually(&api, &ada, "q=pizza", |r| ids(r).len() == 2).await;
    assert_eq!(ids(&reply)[0], titled);
}

#[tokio::test]
async fn edits_trash_and_restore_show_in_results_promptly() {
    let api = Api::searching().await;
    let ada = api.sign_up("ada").await;
    let id = item(&api, &ada, json!({"kind": "note", "title": "Vendor shortlist", "body": "Three vendors."})).await;
    eventually(&api, &ada, "q=vendor", |r| ids(r) == [id.as_str()]).await;

    api.patch(&format!("/api/v1/items/{id}"))
        .token(&ada.access)
        .json(json!({"title": "Supplier shortlist"}))
        .send()
        .await
        .expect(StatusCode::OK);
    eventually(&api, &ada, "q=supplier", |r| ids(r) == [id.as_str()]).await;

    api.delete(&format!("/api/v1/items/{id}")).token(&ada.access).send().await.expect(StatusCode::NO_CONTENT);
    eventually(&api, &ada, "q=supplier", |r| ids(r).is_empty()).await;

    api.post(&format!("/api/v1/items/{id}/restore")).token(&ada.access).send().await.expect(StatusCode::OK);
    eventually(&api, &ada, "q=supplier", |r| ids(r) == [id.as_str()]).await;
}

#[tokio::test]
async fn typos_prefixes_phrases_and_filters_match() {
    let api = Api::searching().await;
    let ada = api.sign_up("ada").await;
    let engagement = api.create(&ada, "/api/v1/engagements", json!({"name": "Audit", "client": "Acme"})).await;
    let cloud = item(
        &api,
        &ada,
        json!({"kind": "note", "title": "Cloud infrastructure costs", "body": "Reserved instances save money.", "engagement_id": engagement}),
    )
    .await;
    let other = item(
        &api,
        &ada,
        json!({"kind": "lesson_learned", "title": "Infrastructure money pit", "body": "Cloud costs grew."}),
    )
    .await;
    eventually(&api, &ada, "q=infrastructure", |r| ids(r).len() == 2).await;

    assert_eq!(ids(&search(&api, &ada, "q=infrastrcture").await).len(), 2, "one typo is tolerated");
    assert_eq!(ids(&search(&api, &ada, "q=infrastr").await).len(), 2, "the last word matches as a prefix");
    assert_eq!(ids(&search(&api, &ada, &format!("q={}", encode("\"cloud infrastructure\""))).await), [cloud.as_str()]);
    assert_eq!(ids(&search(&api, &ada, &format!("q=cloud&engagement={engagement}")).await), [cloud.as_str()]);
    assert_eq!(ids(&search(&api, &ada, "q=cloud&kind=lesson_learned").await), [other.as_str()]);
    assert_eq!(ids(&search(&api, &ada, "q=cloud&status=draft").await).len(), 2);
    assert!(ids(&search(&api, &ada, "q=cloud&status=published").await).is_empty());

    // Paging walks the ranking without repeats.
    let first = search(&api, &ada, "q=cloud&limit=1").await;
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second = search(&api, &ada, &format!("q=cloud&limit=1&cursor={cursor}")).await;
    assert_ne!(ids(&first), ids(&second));
    assert!(second["next_cursor"].is_null());
}

#[tokio::test]
async fn a_guest_finds_only_items_of_its_engagements_and_no_one_sees_another_organization() {
    let api = Api::searching().await;
    let owner = api.sign_up("owner").await;
    let (guest, shared, private) = guest_of_one_engagement(&api, &owner).await;
    let visible = item(&api, &owner, json!({"kind": "note", "title": "Roadmap draft", "engagement_id": shared})).await;
    item(&api, &owner, json!({"kind": "note", "title": "Roadmap secret", "engagement_id": private})).await;
    item(&api, &owner, json!({"kind": "note", "title": "Roadmap internal"})).await;
    eventually(&api, &owner, "q=roadmap", |r| ids(r).len() == 3).await;

    let reply = search(&api, &guest, "q=roadmap").await;
    assert_eq!(ids(&reply), [visible]);
    assert_eq!(reply["total"], 1, "facet and total counts see no more than the hits");

    let stranger = api.sign_up("stranger").await;
    item(&api, &stranger, json!({"kind": "note", "title": "Roadmap of theirs"})).await;
    eventually(&api, &stranger, "q=roadmap", |r| ids(r).len() == 1).await;
}

#[tokio::test]
async fn every_query_gets_results_or_a_422_never_a_500() {
    let api = Api::searching().await;
    let ada = api.sign_up("ada").await;
    item(&api, &ada, json!({"kind": "note", "title": "The state of the art", "body": "And of the rest."})).await;
    eventually(&api, &ada, "q=art", |r| ids(r).len() == 1).await;

    for query in ["+\"unclosed -(", "title:art AND", "🚀 launch 🚀", "the of and", "a*b?c~2^", "\\", "::::"] {
        search(&api, &ada, &format!("q={}", encode(query))).await;
    }
    let nested = format!("{}art{}", "(".repeat(400), ")".repeat(400));
    search(&api, &ada, &format!("q={}", encode(&nested))).await;
    search(&api, &ada, &format!("q={}", encode(&"art state rest ".repeat(60)))).await;
    let too_long = "word ".repeat(2_000);
    for query in [format!("q={}", encode(&too_long)), "q=".to_owned(), "q=%20%20".to_owned(), String::new()] {
        let reply = api.get(&format!("/api/v1/search?{query}")).token(&ada.access).send().await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{query:.40}: {}", reply.body);
    }
    let refused =
        ["q=art&sort=title", "q=art&limit=0", "q=art&limit=101", "q=art&cursor=bm90LWEtY3Vyc29y", "q=art&kind=memo"];
    for query in refused.iter().chain(&["q=art&mode=keywords"]) {
        let reply = api.get(&format!("/api/v1/search?{query}")).token(&ada.access).send().await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {}", reply.body);
    }
    search(&api, &ada, "q=art&mode=fulltext").await;
    // This server runs no embedder: a semantic search says so, a hybrid one ranks by words
    // and says why.
    let reply = api.get("/api/v1/search?q=art&mode=semantic").token(&ada.access).send().await;
    assert_eq!(reply.expect(StatusCode::SERVICE_UNAVAILABLE).code(), "UNAVAILABLE");
    let reply = search(&api, &ada, "q=art&mode=hybrid").await;
    assert_eq!(reply["mode"], "fulltext");
    assert!(reply["degraded"].as_str().expect("a reason").contains("semantic search"), "{reply}");
    assert_eq!(ids(&search(&api, &ada, "q=art").await).len(), 1);
    api.get("/api/v1/search?q=art").send().await.expect(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_rebuilt_index_answers_like_the_incremental_one() {
    let api = Api::searching().await;
    let ada = api.sign_up("ada").await;
    // More events than the indexer reads at a time (1,000), so that the rebuild stages pages
    // before it commits, and trashes that reach items staged a page earlier.
    let mut ids = Vec::new();
    for n in 0..1_050 {
        let body = json!({"kind": "note", "title": format!("Workshop notes {n}"), "body": format!("Topic {} of the workshop series", n % 7)});
        ids.push(item(&api, &ada, body).await);
    }
    for id in ids.iter().step_by(5) {
        api.delete(&format!("/api/v1/items/{id}")).token(&ada.access).send().await.expect(StatusCode::NO_CONTENT);
    }
    let incremental = eventually(&api, &ada, "q=workshop&limit=100", |r| r["total"] == 840).await;
    let incremental_ids = every_match(&api, &ada, "q=workshop").await;
    let index = api.index.as_ref().expect("index");
    search::indexer::rebuild(&api.t.store, index, |_| {}).await.expect("rebuild");
    let rebuilt = search(&api, &ada, "q=workshop&limit=100").await;
    // The same matches; the order of equal scores follows segment layout, which differs.
    assert_eq!(every_match(&api, &ada, "q=workshop").await, incremental_ids);
    assert_eq!(incremental_ids.len(), 840);
    assert_eq!(rebuilt["total"], incremental["total"]);
    assert_eq!(rebuilt["facets"], incremental["facets"]);
}

/// The ids of every match of `query`, page after page, sorted.
async fn every_match(api: &Api, who: &Session, query: &str) -> Vec<String> {
    let mut all = Vec::new();
    let mut page = search(api, who, &format!("{query}&limit=100")).await;
    loop {
        all.extend(ids(&page));
        let Some(cursor) = page["next_cursor"].as_str() else { break };
        page = search(api, who, &format!("{query}&limit=100&cursor={cursor}")).await;
    }
    all.sort();
    all
}

async fn history(api: &Api, who: &Session) -> Vec<String> {
    let reply = api.get("/api/v1/search/history").token(&who.access).send().await.expect(StatusCode::OK);
    reply.body["data"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["query"].as_str().expect("query").to_owned())
        .collect()
}

/// Waits for the history (written off the request path) to read `expected`.
async fn history_becomes(api: &Api, who: &Session, expected: &[&str]) {
    let deadline = Instant::now() + SEARCHABLE_WITHIN;
    loop {
        let seen = history(api, who).await;
        if seen == expected {
            return;
        }
        assert!(Instant::now() < deadline, "history is {seen:?}, expected {expected:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn search_history_keeps_what_each_person_searched_and_can_be_cleared() {
    let api = Api::searching().await;
    let ada = api.sign_up("ada").await;
    let bob = api.sign_up("bob").await;
    // Typing "ris", "risk", "risk register" leaves one entry: the query the user arrived at.
    for typed in ["ris", "risk", "risk%20register"] {
        search(&api, &ada, &format!("q={typed}")).await;
        history_becomes(&api, &ada, &[&typed.replace("%20", " ")]).await;
    }
    // Later, another search is a new entry; repeating an old one moves it to the top.
    api.t.clock.advance(time::Duration::minutes(5));
    search(&api, &ada, "q=pricing").await;
    history_becomes(&api, &ada, &["pricing", "risk register"]).await;
    api.t.clock.advance(time::Duration::minutes(5));
    search(&api, &ada, "q=risk%20%20register").await;
    history_becomes(&api, &ada, &["risk register", "pricing"]).await;
    // Further pages and API keys are not remembered; other people have their own history.
    let key = api
        .post("/api/v1/api-keys")
        .token(&ada.access)
        .json(json!({"name": "script", "role": "viewer"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let key = key.body["secret"].as_str().expect("secret").to_owned();
    api.get("/api/v1/search?q=automated").token(&key).send().await.expect(StatusCode::OK);
    assert!(history(&api, &bob).await.is_empty(), "bob searched nothing");
    search(&api, &bob, "q=onboarding").await;
    history_becomes(&api, &bob, &["onboarding"]).await;
    assert_eq!(history(&api, &ada).await, ["risk register", "pricing"]);

    api.delete("/api/v1/search/history").token(&ada.access).send().await.expect(StatusCode::NO_CONTENT);
    assert!(history(&api, &ada).await.is_empty());
    assert_eq!(history(&api, &bob).await, ["onboarding"], "clearing is per person");
    // At most fifty entries: the oldest go.
    let mut ada = ada;
    for n in 0..55 {
        api.t.clock.advance(time::Duration::minutes(1));
        if n % 10 == 0 {
            ada = api.log_in(&ada.email, None).await; // access tokens live 15 minutes
        }
        search(&api, &ada, &format!("q=topic{n}")).await;
        let deadline = Instant::now() + SEARCHABLE_WITHIN;
        while history(&api, &ada).await.first() != Some(&format!("topic{n}")) {
            assert!(Instant::now() < deadline, "topic{n} was not remembered");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let kept = history(&api, &ada).await;
    assert_eq!(kept.len(), 50);
    assert_eq!(kept.last().map(String::as_str), Some("topic5"));
}

fn signals(reply: &Value, hit: usize) -> Value {
    reply["data"][hit]["signals"].clone()
}

#[tokio::test]
async fn items_are_found_by_meaning_and_hybrid_ranking_uses_both_signals() {
    let api = Api::searching_semantically().await;
    let ada = api.sign_up("ada").await;
    let migration = item(
        &api,
        &ada,
        json!({"kind": "note", "title": "Cloud migration plan", "body": "We will move the client's on-premise databases to AWS in three waves.", "tags": ["infra"]}),
    )
    .await;
    item(&api, &ada, json!({"kind": "note", "title": "Team offsite", "body": "Hiking, then dinner by the lake."}))
        .await;
    item(
        &api,
        &ada,
        json!({"kind": "document", "title": "Invoice reminder", "body": "Payment terms are thirty days."}),
    )
    .await;

    // No word in common with the plan: only its meaning matches.
    let query = format!("mode=semantic&q={}", encode("transferring records to a hosted provider"));
    let reply = eventually_within(EMBEDDED_WITHIN, &api, &ada, &query, |r| !ids(r).is_empty()).await;
    assert_eq!(ids(&reply), [migration.as_str()], "only what is related: {reply}");
    assert_eq!(reply["mode"], "semantic");
    assert_eq!(signals(&reply, 0), json!(["semantic"]));
    assert!(reply["data"][0]["snippet"].as_str().expect("snippet").contains("on-premise databases"), "{reply}");
    assert_eq!(reply["facets"]["tag"], json!([{"value": "infra", "count": 1}]));
    let scores: Vec<f64> =
        reply["data"].as_array().expect("hits").iter().map(|h| h["score"].as_f64().expect("score")).collect();
    assert!(scores.windows(2).all(|pair| pair[0] >= pair[1]), "{scores:?}");

    // Hybrid (the default): the plan matches by words and by meaning, and leads.
    let reply = search(&api, &ada, "q=cloud%20migration").await;
    assert_eq!(reply["mode"], "hybrid");
    assert_eq!(reply["degraded"], Value::Null);
    assert_eq!(ids(&reply)[0], migration);
    assert_eq!(signals(&reply, 0), json!(["fulltext", "semantic"]));
    assert_eq!(reply["data"][0]["title_highlighted"], "<b>Cloud</b> <b>migration</b> plan");
    // The body has none of the words: the snippet is the passage that matched by meaning.
    assert!(reply["data"][0]["snippet"].as_str().expect("snippet").contains("on-premise"), "{reply}");
    // Items unrelated by words and by meaning are not padding the results.
    assert_eq!(ids(&reply), [migration.as_str()], "{reply}");

    // Filters hold in every mode.
    let bills = format!("mode=semantic&q={}", encode("when must the customer pay the bill"));
    let reply = search(&api, &ada, &bills).await;
    assert_eq!(reply["data"][0]["title"], "Invoice reminder", "{reply}");
    let filtered = search(&api, &ada, &format!("{bills}&kind=note")).await;
    assert!(filtered["data"].as_array().expect("hits").iter().all(|hit| hit["kind"] == "note"), "{filtered}");

    // Queries of any shape get results or a 422 by meaning too.
    for odd in ["+\"unclosed -(", "🚀 launch 🚀", "the of and", "\\", "::::"] {
        search(&api, &ada, &format!("mode=semantic&q={}", encode(odd))).await;
        search(&api, &ada, &format!("mode=hybrid&q={}", encode(odd))).await;
    }
}

#[tokio::test]
async fn search_by_meaning_follows_edits_and_trash_and_never_shows_a_guest_more() {
    let api = Api::searching_semantically().await;
    let owner = api.sign_up("owner").await;
    let (guest, shared, private) = guest_of_one_engagement(&api, &owner).await;
    let body = "Interviews with the warehouse staff about picking errors and late shipments.";
    let visible = item(
        &api,
        &owner,
        json!({"kind": "note", "title": "Logistics findings", "body": body, "engagement_id": shared}),
    )
    .await;
    let secret = item(
        &api,
        &owner,
        json!({"kind": "note", "title": "Logistics findings", "body": body, "engagement_id": private}),
    )
    .await;
    let query = format!("mode=semantic&q={}", encode("problems in the distribution centre"));
    eventually_within(EMBEDDED_WITHIN, &api, &owner, &query, |r| ids(r).len() == 2).await;
    let reply = search(&api, &guest, &query).await;
    assert_eq!(ids(&reply), [visible.as_str()]);
    assert_eq!(reply["total"], 1);
    assert_eq!(ids(&search(&api, &guest, &query.replace("semantic", "hybrid")).await), [visible.as_str()]);

    // An edit is embedded again; a trashed item leaves the results.
    api.patch(&format!("/api/v1/items/{secret}"))
        .token(&owner.access)
        .json(json!({"title": "Choir rehearsal", "body": "Sopranos and altos practise the Bach cantata on Thursday."}))
        .send()
        .await
        .expect(StatusCode::OK);
    let music = format!("mode=semantic&q={}", encode("singing classical music"));
    eventually_within(EMBEDDED_WITHIN, &api, &owner, &music, |r| ids(r).first() == Some(&secret)).await;
    api.delete(&format!("/api/v1/items/{visible}")).token(&owner.access).send().await.expect(StatusCode::NO_CONTENT);
    eventually(&api, &owner, &query, |r| !ids(r).contains(&visible)).await;
    assert!(ids(&search(&api, &guest, &query).await).is_empty());
}

#[tokio::test]
async fn a_filtered_search_by_meaning_looks_past_nearer_items_the_filter_excludes() {
    let api = Api::searching_semantically().await;
    let ada = api.sign_up("ada").await;
    // More near misses than a ranking looks at (100), none of them tagged.
    for i in 0..110 {
        let body = format!("Reminder {i}: the customer must pay the invoice within thirty days.");
        item(&api, &ada, json!({"kind": "note", "title": format!("Invoice reminder {i}"), "body": body})).await;
    }
    let tagged = item(
        &api,
        &ada,
        json!({"kind": "note", "title": "Cash flow", "body": "Late payments strain the client's cash flow.", "tags": ["finance"]}),
    )
    .await;
    // Embedded in log order: once the last item is found by meaning, all are.
    let last = format!("mode=semantic&q={}", encode("late payments hurt cash flow"));
    eventually_within(EMBEDDED_WITHIN, &api, &ada, &last, |r| ids(r).first() == Some(&tagged)).await;
    let query = format!("mode=semantic&q={}", encode("when must the customer pay the bill"));
    let unfiltered = search(&api, &ada, &query).await;
    assert_eq!(unfiltered["total"], 100, "a full ranking of near misses: {unfiltered}");
    let filtered = search(&api, &ada, &format!("{query}&tag=finance")).await;
    assert_eq!(ids(&filtered), [tagged.as_str()], "{filtered}");
    let hybrid = search(&api, &ada, &format!("{}&tag=finance", query.replace("semantic", "hybrid"))).await;
    assert_eq!(ids(&hybrid), [tagged.as_str()], "{hybrid}");
}
