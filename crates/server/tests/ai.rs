//! AI help through the real router: the built-in local provider's cited answers, and an
//! OpenAI-compatible server implemented here (the documented wire format, streamed and not)
//! that records every prompt it receives, to check pseudonymization, fallback, the circuit
//! breaker, budgets, costs, the response cache and streaming over Server-Sent Events.

mod common;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use common::{Api, Session};
use test_support::fake_provider::{Behaviour, FakeProvider};

/// An assistant whose every task goes to `models` in order (`local` may be one of them).
fn assistant(models: Value, route: &[&str]) -> ai::Assistant {
    let routes: serde_json::Map<String, Value> =
        ai::Task::ALL.iter().map(|t| (t.as_str().to_owned(), json!(route))).collect();
    let config: ai::AiConfig = serde_json::from_value(json!({"models": models, "routes": routes})).expect("config");
    ai::Assistant::new(&config, |_| Some("sk-test".to_owned())).expect("valid config")
}

fn remote(base_url: &str, extra: Value) -> Value {
    let mut model = json!({"provider": "openai", "base_url": base_url, "model": "gpt-test", "api_key_env": "TEST_KEY",
                           "retries": 0, "retry_backoff_ms": 1});
    model.as_object_mut().expect("object").extend(extra.as_object().expect("object").clone());
    model
}

async fn create_item(api: &Api, who: &Session, body: Value) -> String {
    let reply = api.post("/api/v1/items").token(&who.access).json(body).send().await.expect(StatusCode::CREATED);
    reply.body["id"].as_str().expect("id").to_owned()
}

async fn create_engagement(api: &Api, who: &Session, client: &str) -> String {
    let reply = api
        .post("/api/v1/engagements")
        .token(&who.access)
        .json(json!({"name": "Pricing review", "client": client}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    reply.body["id"].as_str().expect("id").to_owned()
}

/// A POST as `who` that must answer 200.
async fn post_ok(api: &Api, who: &Session, path: &str, body: Value) -> common::Reply {
    api.post(path).token(&who.access).json(body).send().await.expect(StatusCode::OK)
}

/// Asks until the answer cites something (the index follows writes within moments).
async fn ask_until_cited(api: &Api, who: &Session, body: Value) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let reply = api.post("/api/v1/ask").token(&who.access).json(body.clone()).send().await.expect(StatusCode::OK);
        if !reply.body["citations"].as_array().expect("citations").is_empty() || Instant::now() > deadline {
            return reply.body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_local_provider_answers_summarizes_and_assesses_risks_citing_what_the_items_say() {
    let api = Api::assisting(ai::Assistant::default()).await;
    let owner = api.sign_up("Olga").await;
    let engagement = create_engagement(&api, &owner, "Initech").await;
    let body = "The retainer fee is 12,000 EUR per month. Invoices are due within 30 days. \
                The client keeps adding requirements to the scope of the pricing model.";
    let item = create_item(
        &api,
        &owner,
        json!({"kind": "note", "title": "Commercial terms", "body": body, "engagement_id": engagement}),
    )
    .await;
    create_item(
        &api,
        &owner,
        json!({"kind": "lesson_learned", "title": "Vendor delays", "body": "The vendor integration was delayed by six weeks last year."}),
    )
    .await;

    let answer = ask_until_cited(&api, &owner, json!({"question": "What is the retainer fee?"})).await;
    assert_eq!(answer["model"], "local");
    assert_eq!(answer["extractive"], true);
    assert!(answer["answer"].as_str().expect("text").contains("not generated"), "{answer}");
    let citations = answer["citations"].as_array().expect("citations");
    assert_eq!(citations[0]["item_id"], item.as_str());
    for citation in citations {
        let id = citation["item_id"].as_str().expect("id");
        let cited = api.get(&format!("/api/v1/items/{id}")).token(&owner.access).send().await.expect(StatusCode::OK);
        let passage = citation["passage"].as_str().expect("passage");
        assert!(cited.body["body"].as_str().expect("body").contains(passage), "{passage} is not in item {id}");
    }

    let summary = post_ok(&api, &owner, &format!("/api/v1/items/{item}/summary"), json!({})).await;
    assert!(summary.body["answer"].as_str().expect("text").starts_with("Extractive summary"));

    let risks = post_ok(&api, &owner, &format!("/api/v1/engagements/{engagement}/risk-assessment"), json!({})).await;
    let text = risks.body["answer"].as_str().expect("text");
    assert!(text.contains("Scope:") && text.contains("Dependencies:"), "{text}");
    let cited: Vec<&str> =
        risks.body["citations"].as_array().expect("citations").iter().filter_map(|c| c["title"].as_str()).collect();
    assert!(cited.contains(&"Commercial terms") && cited.contains(&"Vendor delays"), "{cited:?}");

    // Another organization's principal gets 404 on these ids; a viewer may ask, not read usage.
    let stranger = api.sign_up("Sam").await;
    for path in [format!("/api/v1/items/{item}/summary"), format!("/api/v1/engagements/{engagement}/risk-assessment")] {
        api.post(&path).token(&stranger.access).json(json!({})).send().await.expect(StatusCode::NOT_FOUND);
    }
    let viewer = api.member(&owner, "viewer").await;
    api.post("/api/v1/ask").token(&viewer.access).json(json!({"question": "fee?"})).send().await.expect(StatusCode::OK);
    api.get("/api/v1/ai/usage").token(&viewer.access).send().await.expect(StatusCode::FORBIDDEN);

    let usage = api.get("/api/v1/ai/usage").token(&owner.access).send().await.expect(StatusCode::OK);
    let rows = usage.body["data"].as_array().expect("rows");
    assert!(rows.iter().all(|r| r["model"] == "local" && r["cost_microcents"] == 0), "{rows:?}");
    let tasks: Vec<&str> = rows.iter().filter_map(|r| r["task"].as_str()).collect();
    for task in ["knowledge_qa", "quick_summary", "risk_assessment"] {
        assert!(tasks.contains(&task), "{task} not in {tasks:?}");
    }
}

#[tokio::test]
async fn prompts_leave_pseudonymized_and_answers_come_back_restored() {
    let (fake, base_url) = FakeProvider::start(vec![Behaviour::Reply {
        text: "Write to [EMAIL_1] about [CLIENT_1]; card [CARD_1] is on file [1].".to_owned(),
        prompt_tokens: 120,
        completion_tokens: 30,
    }])
    .await;
    let api = Api::assisting(assistant(json!({"remote": remote(&base_url, json!({}))}), &["remote"])).await;
    let owner = api.sign_up("Olga").await;
    let engagement = create_engagement(&api, &owner, "Globex Industries").await;
    let secrets = [
        "Globex Industries",
        "cfo@globex.example",
        "+44 20 7946 0958",
        "GB82 WEST 1234 5698 7654 32",
        "4111 1111 1111 1111",
        "https://deploy:hunter22@git.globex.example/repo",
    ];
    let body = format!(
        "Globex Industries' CFO ({}, {}) pays from {} with card {}. Code lives at {}. Olga approved the terms.",
        secrets[1], secrets[2], secrets[3], secrets[4], secrets[5]
    );
    let item = create_item(
        &api,
        &owner,
        json!({"kind": "note", "title": "Globex Industries billing", "body": body, "engagement_id": engagement}),
    )
    .await;

    let reply = post_ok(&api, &owner, &format!("/api/v1/items/{item}/summary"), json!({})).await;
    assert_eq!(reply.body["model"], "remote");
    assert_eq!(reply.body["extractive"], false);
    assert_eq!(
        reply.body["answer"],
        "Write to cfo@globex.example about Globex Industries; card 4111 1111 1111 1111 is on file [1]."
    );
    assert_eq!(reply.body["citations"][0]["item_id"], item.as_str());

    let requests = fake.requests().await;
    assert_eq!(requests.len(), 1);
    let prompt = requests[0]["messages"].to_string();
    for secret in secrets {
        assert!(!prompt.contains(secret), "{secret} reached the provider: {prompt}");
    }
    assert!(!prompt.contains("hunter22") && !prompt.contains("Olga"), "{prompt}");
    for placeholder in ["[CLIENT_1]", "[PERSON_1]", "[EMAIL_1]", "[PHONE_1]", "[IBAN_1]", "[CARD_1]", "[URL_1]"] {
        assert!(prompt.contains(placeholder), "{placeholder} missing from {prompt}");
    }
    assert_eq!(requests[0]["model"], "gpt-test");
}

#[tokio::test]
async fn a_failing_model_falls_back_and_its_breaker_opens_then_half_opens() {
    let (fake, base_url) = FakeProvider::start(vec![Behaviour::Fail(500)]).await;
    let flaky = remote(&base_url, json!({"breaker_failures": 2, "breaker_cool_down_ms": 300}));
    let api = Api::assisting(assistant(json!({"flaky": flaky}), &["flaky", "local"])).await;
    let owner = api.sign_up("Olga").await;
    let item = create_item(
        &api,
        &owner,
        json!({"kind": "note", "title": "Plan", "body": "The plan has three phases. Phase one maps the market."}),
    )
    .await;
    let summarize = || async {
        let path = format!("/api/v1/items/{item}/summary");
        api.post(&path).token(&owner.access).json(json!({})).send().await.expect(StatusCode::OK).body
    };

    for _ in 0..2 {
        assert_eq!(summarize().await["model"], "local", "a 500 falls back to the next model");
    }
    assert_eq!(fake.requests().await.len(), 2);
    assert_eq!(summarize().await["model"], "local");
    assert_eq!(fake.requests().await.len(), 2, "the open breaker skips the model");

    tokio::time::sleep(Duration::from_millis(350)).await;
    fake.then(Behaviour::Reply { text: "Three phases [1].".to_owned(), prompt_tokens: 5, completion_tokens: 3 }).await;
    assert_eq!(summarize().await["model"], "flaky", "after the cool-down one trial call goes through");
    assert_eq!(fake.requests().await.len(), 3);

    let usage = api.get("/api/v1/ai/usage").token(&owner.access).send().await.expect(StatusCode::OK);
    let flaky_row = usage.body["data"].as_array().expect("rows").iter().find(|r| r["model"] == "flaky").cloned();
    let flaky_row = flaky_row.expect("flaky calls recorded");
    assert_eq!(flaky_row["failures"], 3, "two failed calls and one skipped by the breaker: {flaky_row}");
    assert_eq!(flaky_row["calls"], 4);
}

#[tokio::test]
async fn the_budget_refuses_paid_calls_costs_follow_prices_and_repeats_hit_the_cache() {
    let (fake, base_url) = FakeProvider::start(vec![Behaviour::Reply {
        text: "An answer [1].".to_owned(),
        prompt_tokens: 100,
        completion_tokens: 50,
    }])
    .await;
    // 20,000 cents per million input tokens and 40,000 per million output: 4 cents a call.
    let paid = remote(&base_url, json!({"input_cents_per_million": 20000, "output_cents_per_million": 40000}));
    let api = Api::assisting(assistant(json!({"paid": paid}), &["paid", "local"])).await;
    let owner = api.sign_up("Olga").await;
    api.patch("/api/v1/organization")
        .token(&owner.access)
        .json(json!({"ai_monthly_budget_cents": 5}))
        .send()
        .await
        .expect(StatusCode::OK);
    let mut items = Vec::new();
    for title in ["First", "Second", "Third"] {
        let body = json!({"kind": "note", "title": title, "body": format!("{title} note about pricing and churn.")});
        items.push(create_item(&api, &owner, body).await);
    }
    let summarize = |item: &str, local: bool| {
        let path = format!("/api/v1/items/{item}/summary");
        let call = api.post(&path).token(&owner.access).json(json!({"local": local}));
        async move { call.send().await }
    };

    summarize(&items[0], false).await.expect(StatusCode::OK);
    let again = summarize(&items[0], false).await.expect(StatusCode::OK);
    assert_eq!(again.body["model"], "paid");
    assert_eq!(fake.requests().await.len(), 1, "the same prompt is answered from the cache");
    summarize(&items[1], false).await.expect(StatusCode::OK);

    let refused = summarize(&items[2], false).await.expect(StatusCode::PAYMENT_REQUIRED);
    assert_eq!(refused.code(), "BUDGET_EXCEEDED");
    assert!(refused.body["error"]["message"].as_str().expect("message").contains("local provider"));
    assert_eq!(fake.requests().await.len(), 2, "no paid call past the budget");
    let local = summarize(&items[2], true).await.expect(StatusCode::OK);
    assert_eq!(local.body["model"], "local");

    let usage = api.get("/api/v1/ai/usage").token(&owner.access).send().await.expect(StatusCode::OK);
    assert_eq!(usage.body["month_spent_cents"], 8.0, "{}", usage.body);
    assert_eq!(usage.body["monthly_budget_cents"], 5);
    let rows = usage.body["data"].as_array().expect("rows");
    let paid_row = rows.iter().find(|r| r["model"] == "paid").expect("paid calls");
    assert_eq!(paid_row["cost_microcents"], 8_000_000);
    assert_eq!(paid_row["input_tokens"], 200);
    assert_eq!(paid_row["output_tokens"], 100);
    assert_eq!(paid_row["cache_hits"], 1);
    assert_eq!(paid_row["calls"], 4, "two paid, one cached, one refused: {paid_row}");
    assert_eq!(paid_row["failures"], 1);
}

#[tokio::test]
async fn a_streamed_answer_arrives_incrementally_over_server_sent_events() {
    let pieces = ["Bill ", "[EMA", "IL_1] ", "monthly [1]."].map(str::to_owned).to_vec();
    let (_fake, base_url) =
        FakeProvider::start(vec![Behaviour::Stream { pieces, gap: Duration::from_millis(150) }]).await;
    let api = Api::assisting(assistant(json!({"remote": remote(&base_url, json!({}))}), &["remote"])).await;
    let owner = api.sign_up("Olga").await;
    let item = create_item(
        &api,
        &owner,
        json!({"kind": "note", "title": "Billing", "body": "Send invoices to ap@initech.example every month."}),
    )
    .await;

    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/items/{item}/summary"))
        .header(header::AUTHORIZATION, format!("Bearer {}", owner.access))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({"stream": true}).to_string()))
        .expect("request");
    let started = Instant::now();
    let response = api.router.clone().oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "text/event-stream");
    let mut frames = response.into_body().into_data_stream();
    let mut text = String::new();
    let mut arrivals = Vec::new();
    while let Some(frame) = frames.next().await {
        let frame = frame.expect("frame");
        arrivals.push(started.elapsed());
        text.push_str(std::str::from_utf8(&frame).expect("utf-8"));
    }
    let events: Vec<(&str, Value)> = text
        .split("\n\n")
        .filter_map(|block| {
            let name = block.lines().find_map(|l| l.strip_prefix("event: "))?;
            let data = block.lines().find_map(|l| l.strip_prefix("data: "))?;
            Some((name, serde_json::from_str(data).expect("JSON data")))
        })
        .collect();
    let deltas: String =
        events.iter().filter(|(name, _)| *name == "delta").map(|(_, d)| d["text"].as_str().expect("text")).collect();
    assert_eq!(deltas, "Bill ap@initech.example monthly [1].", "placeholders are restored even when split");
    assert!(events.iter().filter(|(name, _)| *name == "delta").count() >= 3, "{events:?}");
    let (last, done) = events.last().expect("events");
    assert_eq!(*last, "done");
    assert_eq!(done["answer"], "Bill ap@initech.example monthly [1].");
    assert_eq!(done["citations"][0]["item_id"], item.as_str());
    let first_to_last = *arrivals.last().expect("frames") - arrivals[0];
    assert!(first_to_last >= Duration::from_millis(300), "the pieces arrived together: {arrivals:?}");
}

#[tokio::test]
async fn templates_are_drafted_from_an_engagement_and_tags_suggested() {
    let (fake, base_url) = FakeProvider::start(vec![Behaviour::Reply {
        text: "- Pricing\n- churn analysis, #Retention.\n- pricing".to_owned(),
        prompt_tokens: 40,
        completion_tokens: 8,
    }])
    .await;
    let models = json!({"tagger": remote(&base_url, json!({}))});
    let routes = json!({"realtime": ["tagger", "local"]});
    let config: ai::AiConfig = serde_json::from_value(json!({"models": models, "routes": routes})).expect("config");
    let api = Api::assisting(ai::Assistant::new(&config, |_| Some("k".into())).expect("assistant")).await;
    let owner = api.sign_up("Olga").await;
    let engagement = create_engagement(&api, &owner, "Initech").await;
    let body = "The budget is capped at 80,000 EUR. The steering committee meets every Friday.";
    let item = create_item(
        &api,
        &owner,
        json!({"kind": "note", "title": "Budget", "body": body, "engagement_id": engagement, "tags": ["pricing"]}),
    )
    .await;
    let template = api
        .create(
            &owner,
            "/api/v1/templates",
            json!({"name": "Status", "body": "Dear {{ client }},\nBudget: {{budget}}\nNext: {{next_steps}}", "default_kind": "document"}),
        )
        .await;

    let draft =
        post_ok(&api, &owner, &format!("/api/v1/templates/{template}/draft"), json!({"engagement_id": engagement}))
            .await;
    let text = draft.body["answer"].as_str().expect("draft");
    assert!(text.contains("Dear Initech,"), "{text}");
    assert!(text.contains("Budget: The budget is capped at 80,000 EUR. [1]"), "{text}");
    assert!(text.contains("Next: [to be completed: next steps]"), "{text}");
    assert_eq!(draft.body["citations"][0]["item_id"], item.as_str());

    let tags = post_ok(&api, &owner, &format!("/api/v1/items/{item}/tag-suggestions"), json!({})).await;
    assert_eq!(tags.body["model"], "tagger");
    assert_eq!(tags.body["tags"], json!(["churn analysis", "retention"]), "normalized, without the item's own tags");
    let prompt = fake.requests().await[0]["messages"].to_string();
    assert!(prompt.contains("Existing tags: pricing"), "{prompt}");

    let local = post_ok(&api, &owner, &format!("/api/v1/items/{item}/tag-suggestions"), json!({"local": true})).await;
    assert_eq!(local.body["extractive"], true);
}

#[tokio::test]
async fn a_slow_model_times_out_into_the_fallback_and_the_bulkhead_bounds_concurrency() {
    let slow = Behaviour::Slow { wait: Duration::from_millis(600), text: "late".to_owned() };
    let (_slow_fake, slow_url) = FakeProvider::start(vec![slow]).await;
    let steady = Behaviour::Slow { wait: Duration::from_millis(100), text: "On time [1].".to_owned() };
    let (steady_fake, steady_url) = FakeProvider::start(vec![steady]).await;
    let models = json!({
        "slow": remote(&slow_url, json!({"timeout_ms": 150})),
        "steady": remote(&steady_url, json!({"max_concurrency": 1})),
    });
    let routes = json!({"quick_summary": ["slow", "local"], "knowledge_qa": ["steady"]});
    let config: ai::AiConfig = serde_json::from_value(json!({"models": models, "routes": routes})).expect("config");
    let api = Api::assisting(ai::Assistant::new(&config, |_| Some("k".into())).expect("assistant")).await;
    let owner = api.sign_up("Olga").await;
    let item =
        create_item(&api, &owner, json!({"kind": "note", "title": "Plan", "body": "The plan has three phases."})).await;

    let started = Instant::now();
    let summary = post_ok(&api, &owner, &format!("/api/v1/items/{item}/summary"), json!({})).await;
    assert_eq!(summary.body["model"], "local", "a call past its timeout falls back");
    assert!(started.elapsed() < Duration::from_millis(550), "the timeout cut the wait: {:?}", started.elapsed());

    let asks = (0..4).map(|i| post_ok(&api, &owner, "/api/v1/ask", json!({"question": format!("phases {i}?")})));
    for reply in futures_util::future::join_all(asks).await {
        assert_eq!(reply.body["model"], "steady");
    }
    assert_eq!(steady_fake.requests().await.len(), 4);
    assert_eq!(steady_fake.most_in_flight(), 1, "max_concurrency = 1 lets one call in at a time");
}

#[tokio::test]
async fn prompts_and_answers_are_kept_only_for_an_organization_that_opts_in() {
    use store::ai_ledger::AiLedger;
    let api = Api::assisting(ai::Assistant::default()).await;
    let owner = api.sign_up("Olga").await;
    let item =
        create_item(&api, &owner, json!({"kind": "note", "title": "Plan", "body": "The plan has three phases."})).await;
    let path = format!("/api/v1/items/{item}/summary");
    let summarize = || post_ok(&api, &owner, &path, json!({}));

    summarize().await;
    assert!(api.t.store.ai_transcripts(&owner.org_id, 10).await.expect("read").is_empty(), "off by default");
    let org = api.get("/api/v1/organization").token(&owner.access).send().await.expect(StatusCode::OK);
    assert_eq!(org.body["ai_store_transcripts"], false);

    let patch = json!({"ai_store_transcripts": true});
    let org = api.patch("/api/v1/organization").token(&owner.access).json(patch).send().await.expect(StatusCode::OK);
    assert_eq!(org.body["ai_store_transcripts"], true);
    let answer = summarize().await.body["answer"].as_str().expect("answer").to_owned();
    let kept = api.t.store.ai_transcripts(&owner.org_id, 10).await.expect("read");
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].answer, answer);
    assert_eq!(kept[0].task, "quick_summary");
    assert!(kept[0].prompt.contains("The plan has three phases."), "{}", kept[0].prompt);
    let usage = api.get("/api/v1/ai/usage").token(&owner.access).send().await.expect(StatusCode::OK);
    assert_eq!(usage.body["data"][0]["calls"], 2, "the accounting record is kept either way");
}

#[tokio::test]
async fn transient_failures_are_retried_and_an_edited_item_is_not_answered_from_the_cache() {
    let reply = Behaviour::Reply { text: "Three phases [1].".to_owned(), prompt_tokens: 5, completion_tokens: 3 };
    let (fake, base_url) = FakeProvider::start(vec![Behaviour::Fail(429), Behaviour::Fail(503), reply]).await;
    let model = remote(&base_url, json!({"retries": 2, "retry_backoff_ms": 5}));
    let api = Api::assisting(assistant(json!({"remote": model}), &["remote"])).await;
    let owner = api.sign_up("Olga").await;
    let item =
        create_item(&api, &owner, json!({"kind": "note", "title": "Plan", "body": "The plan has three phases."})).await;
    let path = format!("/api/v1/items/{item}/summary");

    let first = post_ok(&api, &owner, &path, json!({})).await;
    assert_eq!(first.body["model"], "remote", "a 429 and a 503 are retried on the same model");
    assert_eq!(fake.requests().await.len(), 3);

    post_ok(&api, &owner, &path, json!({})).await;
    assert_eq!(fake.requests().await.len(), 3, "the same prompt is answered from the cache");
    api.patch(&format!("/api/v1/items/{item}"))
        .token(&owner.access)
        .json(json!({"body": "The plan has four phases."}))
        .send()
        .await
        .expect(StatusCode::OK);
    post_ok(&api, &owner, &path, json!({})).await;
    let requests = fake.requests().await;
    assert_eq!(requests.len(), 4, "an edited item makes a new prompt, so the model is asked again");
    assert!(requests[3]["messages"].to_string().contains("four phases"));
}
