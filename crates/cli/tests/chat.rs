//! `consailt chat` against a real server (the router over a fresh database, its search index,
//! and an assistant whose model is an OpenAI-compatible server written for the test) through a
//! pipe: the answer streams out as it arrives, placeholders restored, followed by its sources.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use test_support::TestApp;
use test_support::fake_provider::{Behaviour, FakeProvider};

/// A strong password the strength check accepts.
const PASSWORD: &str = "plum-orchard-47-velvet-kayak";

struct Server {
    url: String,
    http: reqwest::Client,
    _t: TestApp,
    _stop: tokio::sync::watch::Sender<bool>,
}

impl Server {
    async fn start(assistant: ai::Assistant) -> Self {
        let t = TestApp::new().await;
        let index = Arc::new(search::FullTextIndex::open(&t.dir.path().join("search")).expect("index"));
        let (stop, stopping) = tokio::sync::watch::channel(false);
        tokio::spawn(search::indexer::run(t.store.clone(), Arc::clone(&index), stopping));
        let app = t.app.clone().with_search(index).with_assistant(Arc::new(assistant));
        let router = server::router(app, &server::HttpSettings::default()).expect("router");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(server::serve(listener, router, std::future::pending()));
        Self { url, http: reqwest::Client::new(), _t: t, _stop: stop }
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Value {
        let mut request = self.http.post(format!("{}{path}", self.url)).header("content-type", "application/json");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.body(body.to_string()).send().await.expect("request");
        assert!(response.status().is_success(), "{path}: {}", response.status());
        serde_json::from_slice(&response.bytes().await.expect("body")).expect("JSON")
    }

    /// A new organization's owner, an API key of theirs, and one item; answers the key and item id.
    async fn seeded(&self) -> (String, String) {
        let signup = json!({"email": "olga@example.com", "password": PASSWORD, "name": "Olga", "organization_name": "Olga Consulting"});
        let owner = self.post("/api/v1/auth/signup", None, signup).await;
        let token = owner["access_token"].as_str().expect("token").to_owned();
        let key = self.post("/api/v1/api-keys", Some(&token), json!({"name": "chat", "role": "consultant"})).await;
        let item =
            json!({"kind": "note", "title": "Billing", "body": "Send invoices to ap@initech.example every month."});
        let item = self.post("/api/v1/items", Some(&token), item).await;
        // The index follows writes within moments; the answer needs the item found.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let search = self.http.get(format!("{}/api/v1/search?q=invoices", self.url)).bearer_auth(&token);
            let bytes = search.send().await.expect("search").bytes().await.expect("body");
            let found: Value = serde_json::from_slice(&bytes).expect("JSON");
            if found["total"] == 1 || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        (key["secret"].as_str().expect("secret").to_owned(), item["id"].as_str().expect("id").to_owned())
    }
}

/// Runs `consailt chat` with `input` on its standard input; answers its exit status, standard
/// output, standard error, and when each piece of standard output arrived.
fn chat(url: &str, key: &str, input: &str) -> (bool, String, String, Vec<(Duration, String)>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_consailt"))
        .args(["chat", "--url", url, "--api-key", key])
        .env_remove("CONSAILT_CONFIG")
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run consailt chat");
    let started = Instant::now();
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write the question");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut pieces = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let read = stdout.read(&mut buffer).expect("read");
        if read == 0 {
            break;
        }
        pieces.push((started.elapsed(), String::from_utf8_lossy(&buffer[..read]).into_owned()));
    }
    let mut stderr = String::new();
    child.stderr.take().expect("stderr").read_to_string(&mut stderr).expect("stderr");
    let status = child.wait().expect("exit");
    let output = pieces.iter().map(|(_, p)| p.as_str()).collect();
    (status.success(), output, stderr, pieces)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_piped_question_streams_its_answer_then_its_sources() {
    let pieces = ["Bill ", "[EMA", "IL_1] ", "monthly [1]."].map(str::to_owned).to_vec();
    let (fake, base_url) =
        FakeProvider::start(vec![Behaviour::Stream { pieces, gap: Duration::from_millis(200) }]).await;
    let config: ai::AiConfig = serde_json::from_value(json!({
        "models": {"remote": {"provider": "openai", "base_url": base_url, "model": "m", "retries": 0}},
        "routes": {"knowledge_qa": ["remote"]}
    }))
    .expect("config");
    let server = Server::start(ai::Assistant::new(&config, |_| None).expect("assistant")).await;
    let (key, item) = server.seeded().await;

    let url = server.url.clone();
    let (ok, output, stderr, pieces) =
        tokio::task::spawn_blocking(move || chat(&url, &key, "How do we bill?\n")).await.expect("chat");
    assert!(ok, "{stderr}");
    assert!(output.starts_with("Bill ap@initech.example monthly [1].\n"), "{output}");
    assert!(output.contains("Sources (answered by remote):") && output.contains(&format!("[1] Billing ({item})")));
    let first = pieces.iter().find(|(_, p)| p.contains("Bill")).expect("the answer's start").0;
    let last = pieces.last().expect("output").0;
    assert!(last - first >= Duration::from_millis(400), "the answer did not stream: {pieces:?}");
    let prompt = fake.requests().await[0]["messages"].to_string();
    assert!(!prompt.contains("ap@initech.example"), "{prompt}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_and_errors_through_a_pipe() {
    let server = Server::start(ai::Assistant::default()).await;
    let (key, _) = server.seeded().await;
    let url = server.url.clone();
    let input = "/engagement eng_01J0000000000000000000000\nWhat is billed?\n/engagement\n/quit\nnever asked\n";
    let (ok, _, stderr, _) = tokio::task::spawn_blocking(move || chat(&url, &key, input)).await.expect("chat");
    assert!(!ok, "an unknown engagement is an error");
    assert!(stderr.contains("error: engagement eng_01J0000000000000000000000 not found"), "{stderr}");
    assert!(stderr.contains("1 question(s) got no answer"), "{stderr}");

    let url = server.url.clone();
    let (ok, _, stderr, _) =
        tokio::task::spawn_blocking(move || chat(&url, "csk_wrong", "anything?\n")).await.expect("chat");
    assert!(!ok);
    assert!(stderr.lines().next().is_some_and(|l| l.starts_with("error: ")), "{stderr}");
}
