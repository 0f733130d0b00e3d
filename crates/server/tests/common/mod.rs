//! The HTTP test harness: the real router over a fresh database per test (SQLite, or
//! PostgreSQL when the suite is pointed at one), driven in process, with a clock the test
//! moves by hand.

#![allow(dead_code, reason = "each test binary uses a different part of the harness")]

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;

use server::HttpSettings;
use test_support::TestApp;

/// A strong password the strength check accepts.
pub const PASSWORD: &str = "plum-orchard-47-velvet-kayak";

/// The server under test.
pub struct Api {
    pub router: Router,
    pub t: TestApp,
    /// The full-text index, when built with [`Api::searching`].
    pub index: Option<std::sync::Arc<search::FullTextIndex>>,
    /// Dropping it stops the indexer.
    _stop_indexer: Option<tokio::sync::watch::Sender<bool>>,
}

/// A response, its body parsed as JSON when it is JSON.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
    pub raw: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    #[track_caller]
    pub fn expect(self, status: StatusCode) -> Self {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.body);
        self
    }
}

/// A signed-in user.
#[derive(Debug, Clone)]
pub struct Session {
    pub access: String,
    pub refresh: String,
    pub user_id: String,
    pub org_id: String,
    pub email: String,
}

/// A request being built.
pub struct Call<'a> {
    api: &'a Api,
    request: axum::http::request::Builder,
    body: Body,
}

impl Call<'_> {
    pub fn token(mut self, token: &str) -> Self {
        self.request = self.request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.request = self.request.header(name, value);
        self
    }

    pub fn json(mut self, body: Value) -> Self {
        self.request = self.request.header(header::CONTENT_TYPE, "application/json");
        self.body = Body::from(body.to_string());
        self
    }

    pub fn raw(mut self, content_type: &str, body: impl Into<Body>) -> Self {
        self.request = self.request.header(header::CONTENT_TYPE, content_type);
        self.body = body.into();
        self
    }

    pub async fn send(self) -> Reply {
        let request = self.request.body(self.body).expect("valid request");
        let response = self.api.router.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let raw = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body").to_vec();
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Reply { status, headers, body, raw }
    }
}

impl Api {
    pub async fn new() -> Self {
        Self::with(HttpSettings::default()).await
    }

    pub async fn with(settings: HttpSettings) -> Self {
        Self::over_with(TestApp::new().await, &settings)
    }

    /// A server with a full-text index in the test's directory, kept up to date by the
    /// indexer as in `consailt serve` (the task ends with the test's runtime).
    pub async fn searching() -> Self {
        Self::searching_over(TestApp::new().await)
    }

    /// A server over `t`, without a search index.
    pub fn over(t: TestApp) -> Self {
        Self::over_with(t, &HttpSettings::default())
    }

    /// A server over `t` with these HTTP settings, without a search index.
    pub fn over_with(t: TestApp, settings: &HttpSettings) -> Self {
        let router = server::router(t.app.clone(), settings).expect("router");
        Self { router, t, index: None, _stop_indexer: None }
    }

    /// A searching server over `t` (see [`Api::searching`]).
    pub fn searching_over(t: TestApp) -> Self {
        let index = std::sync::Arc::new(search::FullTextIndex::open(&t.dir.path().join("search")).expect("index"));
        let (stop, stopping) = tokio::sync::watch::channel(false);
        tokio::spawn(search::indexer::run(t.store.clone(), std::sync::Arc::clone(&index), stopping));
        let app = t.app.clone().with_search(std::sync::Arc::clone(&index));
        let router = server::router(app, &HttpSettings::default()).expect("router");
        Self { router, t, index: Some(index), _stop_indexer: Some(stop) }
    }

    /// A searching server whose AI requests go through `assistant`.
    pub async fn assisting(assistant: ai::Assistant) -> Self {
        let mut api = Self::searching().await;
        let index = api.index.clone().expect("an index");
        let app = api.t.app.clone().with_search(index).with_assistant(std::sync::Arc::new(assistant));
        api.router = server::router(app, &HttpSettings::default()).expect("router");
        api
    }

    /// A server that also searches by meaning, as `consailt serve` does: the model is loaded
    /// (fetched first when missing) before this returns, and the embedder follows writes.
    pub async fn searching_semantically() -> Self {
        let mut api = Self::searching().await;
        let status = search::semantic::SemanticSearch::starting();
        let stopping = api._stop_indexer.as_ref().expect("a searching server").subscribe();
        let model_dir = search::model::ModelFiles::default_dir();
        tokio::spawn(search::semantic::start(api.t.store.clone(), std::sync::Arc::clone(&status), model_dir, stopping));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while let Err(why) = status.get() {
            assert!(why.contains("starting") && std::time::Instant::now() < deadline, "{why}");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let index = api.index.clone().expect("an index");
        let app = api.t.app.clone().with_search(index).with_semantic(status);
        api.router = server::router(app, &HttpSettings::default()).expect("router");
        api
    }

    pub fn call(&self, method: Method, path: &str) -> Call<'_> {
        Call { api: self, request: Request::builder().method(method).uri(path), body: Body::empty() }
    }

    pub fn get(&self, path: &str) -> Call<'_> {
        self.call(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> Call<'_> {
        self.call(Method::POST, path)
    }

    pub fn patch(&self, path: &str) -> Call<'_> {
        self.call(Method::PATCH, path)
    }

    pub fn delete(&self, path: &str) -> Call<'_> {
        self.call(Method::DELETE, path)
    }

    /// Signs up a new user with their own organization.
    pub async fn sign_up(&self, name: &str) -> Session {
        let email = format!("{name}.{}@example.com", ulid::Ulid::new().to_string().to_lowercase());
        let reply = self
            .post("/api/v1/auth/signup")
            .json(json!({"email": email, "password": PASSWORD, "name": name, "organization_name": format!("{name} Consulting")}))
            .send()
            .await
            .expect(StatusCode::CREATED);
        session(&reply.body, &email)
    }

    /// Signs in with email and password, optionally into one organization.
    pub async fn log_in(&self, email: &str, org: Option<&str>) -> Session {
        let reply = self
            .post("/api/v1/auth/login")
            .json(json!({"email": email, "password": PASSWORD, "organization_id": org}))
            .send()
            .await
            .expect(StatusCode::OK);
        session(&reply.body, email)
    }

    /// A new user who is a member of `owner`'s organization with `role`, signed in there.
    pub async fn member(&self, owner: &Session, role: &str) -> Session {
        let user = self.sign_up(role).await;
        self.post("/api/v1/members")
            .token(&owner.access)
            .json(json!({"email": user.email, "role": role}))
            .send()
            .await
            .expect(StatusCode::CREATED);
        self.log_in(&user.email, Some(&owner.org_id)).await
    }

    /// Creates a JSON object through `POST path` and returns its id.
    pub async fn create(&self, who: &Session, path: &str, body: Value) -> String {
        let reply = self.post(path).token(&who.access).json(body).send().await.expect(StatusCode::CREATED);
        reply.body["id"].as_str().expect("id").to_owned()
    }
}

fn session(body: &Value, email: &str) -> Session {
    let text = |v: &Value| v.as_str().expect("string").to_owned();
    Session {
        access: text(&body["access_token"]),
        refresh: text(&body["refresh_token"]),
        user_id: text(body.get("user_id").unwrap_or(&body["user"]["id"])),
        org_id: text(body.get("organization_id").unwrap_or(&body["organization"]["id"])),
        email: email.to_owned(),
    }
}
