//! The web UI through the real router and a real database: cookie sessions, CSRF, the main
//! flows of a consultant's day, permissions and tenant isolation, as a browser would drive them.

mod common;

use std::collections::BTreeMap;

use axum::http::{Method, StatusCode, header};
use common::{Api, PASSWORD, Reply};

/// A browser: a cookie jar, the host it talks to, and where the last redirect pointed.
struct Browser<'a> {
    api: &'a Api,
    host: &'static str,
    cookies: BTreeMap<String, String>,
}

impl<'a> Browser<'a> {
    fn new(api: &'a Api) -> Self {
        Self { api, host: "127.0.0.1:8080", cookies: BTreeMap::new() }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn remember(&mut self, reply: &Reply) {
        for value in reply.headers.get_all(header::SET_COOKIE) {
            let text = value.to_str().expect("ascii cookie");
            let (pair, attributes) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').expect("name=value");
            if value.is_empty() || attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    async fn get(&mut self, path: &str) -> Reply {
        let reply = self
            .api
            .call(Method::GET, path)
            .header("host", self.host)
            .header("accept", "text/html")
            .header("cookie", &self.cookie_header())
            .send()
            .await;
        self.remember(&reply);
        reply
    }

    /// Submits a form with the page's CSRF token added.
    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let csrf = self.cookies.get("consailt_csrf").cloned().unwrap_or_default();
        let mut all: Vec<(&str, &str)> = vec![("csrf", &csrf)];
        all.extend_from_slice(fields);
        self.post_raw(path, &serde_urlencoded::to_string(&all).expect("form")).await
    }

    async fn post_raw(&mut self, path: &str, body: &str) -> Reply {
        let reply = self
            .api
            .call(Method::POST, path)
            .header("host", self.host)
            .header("cookie", &self.cookie_header())
            .raw("application/x-www-form-urlencoded", body.to_owned())
            .send()
            .await;
        self.remember(&reply);
        reply
    }

    /// Opens the sign-up page (which hands out the CSRF cookie) and signs up.
    async fn sign_up(&mut self, name: &str) -> String {
        self.get("/signup").await.expect(StatusCode::OK);
        let email = format!("{name}.{}@example.com", ulid::Ulid::new().to_string().to_lowercase());
        let org = format!("{name} Consulting");
        let reply = self
            .post("/signup", &[("name", name), ("email", &email), ("password", PASSWORD), ("organization_name", &org)])
            .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", text(&reply));
        email
    }
}

fn text(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.raw).into_owned()
}

fn location(reply: &Reply) -> &str {
    reply.header("location").expect("a redirect")
}

/// The id in a redirect to `/items/{id}` or `/engagements/{id}`.
fn id_in(reply: &Reply) -> String {
    location(reply).rsplit('/').next().expect("an id").to_owned()
}

#[tokio::test]
async fn signing_up_sets_http_only_lax_cookies_and_opens_the_dashboard() {
    let api = Api::new().await;
    let mut browser = Browser::new(&api);
    browser.sign_up("ada").await;
    let page = browser.get("/").await.expect(StatusCode::OK);
    let html = text(&page);
    assert!(html.contains("Dashboard") && html.contains("ada Consulting"), "{html}");
    assert!(page.header("content-security-policy").is_some_and(|csp| csp.contains("script-src 'self'")));

    let reply = api
        .call(Method::GET, "/signup")
        .header("host", "consailt.example.com")
        .header("accept", "text/html")
        .send()
        .await;
    let csrf_cookie = reply.header("set-cookie").expect("a CSRF cookie");
    assert!(csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("Secure"), "{csrf_cookie}");
    let mut remote = Browser { host: "consailt.example.com", ..Browser::new(&api) };
    remote.get("/signup").await;
    let email = format!("bob.{}@example.com", ulid::Ulid::new().to_string().to_lowercase());
    let reply = remote
        .post(
            "/signup",
            &[("name", "Bob"), ("email", &email), ("password", PASSWORD), ("organization_name", "Bob Ltd")],
        )
        .await;
    for cookie in reply.headers.get_all(header::SET_COOKIE) {
        let cookie = cookie.to_str().expect("ascii");
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Secure"),
            "{cookie}"
        );
    }
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused_and_strangers_are_sent_to_sign_in() {
    let api = Api::new().await;
    let mut browser = Browser::new(&api);
    let reply = browser.get("/items").await.expect(StatusCode::SEE_OTHER);
    assert_eq!(location(&reply), "/login?next=%2Fitems");
    browser.sign_up("eve").await;

    let before = browser.get("/engagements").await;
    let forged = browser.post_raw("/engagements", "name=Forged&client=Acme").await.expect(StatusCode::FORBIDDEN);
    assert!(text(&forged).contains("security token"));
    browser
        .post_raw("/engagements", "csrf=wrong-token-of-the-wrong-length&name=Forged&client=Acme")
        .await
        .expect(StatusCode::FORBIDDEN);
    let json = api
        .call(Method::POST, "/engagements")
        .header("cookie", &browser.cookie_header())
        .raw("application/json", "{}")
        .send()
        .await;
    assert_eq!(json.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let after = browser.get("/engagements").await;
    assert_eq!(text(&before).matches("Forged").count(), text(&after).matches("Forged").count(), "nothing was created");
}

#[tokio::test]
async fn validation_errors_are_shown_next_to_the_field_with_the_values_kept() {
    let api = Api::new().await;
    let mut browser = Browser::new(&api);
    browser.get("/signup").await;
    let reply = browser
        .post(
            "/signup",
            &[("name", "Grace"), ("email", "grace@example.com"), ("password", "short"), ("organization_name", "")],
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    let html = text(&reply);
    assert!(html.contains("value=\"grace@example.com\""), "the email is kept: {html}");
    assert!(html.contains("id=\"organization_name-error\""), "{html}");
    assert!(!html.contains("value=\"short\""), "the password is never echoed");

    browser.sign_up("grace").await;
    let reply = browser.post("/items", &[("title", " "), ("kind", "note"), ("body", "kept body")]).await;
    let html = text(&reply.expect(StatusCode::UNPROCESSABLE_ENTITY));
    assert!(html.contains("id=\"title-error\"") && html.contains("kept body"), "{html}");
}

#[tokio::test]
async fn a_consultant_writes_publishes_edits_and_restores_an_item() {
    let api = Api::new().await;
    let mut browser = Browser::new(&api);
    browser.sign_up("lin").await;

    let reply = browser.post("/engagements", &[("name", "Pricing review"), ("client", "Acme")]).await;
    let engagement = id_in(&reply.expect(StatusCode::SEE_OTHER));
    let page = text(&browser.get(&format!("/engagements/{engagement}")).await.expect(StatusCode::OK));
    assert!(page.contains("Move to Proposal"), "{page}");
    browser
        .post(&format!("/engagements/{engagement}/transitions"), &[("to", "proposal")])
        .await
        .expect(StatusCode::SEE_OTHER);
    let page = text(&browser.get(&format!("/engagements/{engagement}")).await);
    assert!(page.contains("Move to Active") && page.contains(">Proposal<"), "{page}");
    // The creator is on the engagement; taking them off and putting them back goes through the page.
    let remove =
        page.split("/members/").nth(1).and_then(|s| s.split('/').next()).expect("a member to remove").to_owned();
    browser
        .post(&format!("/engagements/{engagement}/members/{remove}/remove"), &[])
        .await
        .expect(StatusCode::SEE_OTHER);
    let page = text(&browser.get(&format!("/engagements/{engagement}")).await);
    assert!(page.contains("No members assigned") && page.contains(&format!("<option value=\"{remove}\">")), "{page}");
    browser
        .post(&format!("/engagements/{engagement}/members"), &[("user_id", &remove)])
        .await
        .expect(StatusCode::SEE_OTHER);
    let page = text(&browser.get(&format!("/engagements/{engagement}")).await);
    assert!(page.contains(&format!("/members/{remove}/remove")), "{page}");

    let body = "# Findings\n\nMargins **grew**.\n\n<script>alert(1)</script>";
    let reply = browser
        .post(
            "/items",
            &[
                ("title", "Pricing findings"),
                ("kind", "note"),
                ("engagement", &engagement),
                ("body", body),
                ("tags", "pricing, q3"),
            ],
        )
        .await;
    let item = id_in(&reply.expect(StatusCode::SEE_OTHER));
    let page = text(&browser.get(&format!("/items/{item}")).await.expect(StatusCode::OK));
    assert!(page.contains("<strong>grew</strong>") && !page.contains("<script>alert"), "sanitized Markdown: {page}");
    assert!(page.contains("Submit for review"), "{page}");

    for to in ["in_review", "published"] {
        browser.post(&format!("/items/{item}/transitions"), &[("to", to)]).await.expect(StatusCode::SEE_OTHER);
    }
    assert!(text(&browser.get(&format!("/items/{item}")).await).contains(">Published<"));

    let edit = text(&browser.get(&format!("/items/{item}/edit")).await.expect(StatusCode::OK));
    let version =
        edit.split("name=\"version\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("a version field");
    browser
        .post(
            &format!("/items/{item}"),
            &[("title", "Pricing findings"), ("body", "Margins shrank."), ("version", version)],
        )
        .await
        .expect(StatusCode::SEE_OTHER);
    let stale =
        browser.post(&format!("/items/{item}"), &[("title", "Lost"), ("body", "lost"), ("version", version)]).await;
    assert!(text(&stale.expect(StatusCode::UNPROCESSABLE_ENTITY)).contains("changed this in the meantime"));

    let history = text(&browser.get(&format!("/items/{item}/history")).await.expect(StatusCode::OK));
    assert!(
        history.contains("class=\"added\">+ Margins shrank.")
            && history.contains("class=\"removed\">- Margins **grew**."),
        "{history}"
    );
    browser.post(&format!("/items/{item}/restore-version"), &[("version", "1")]).await.expect(StatusCode::SEE_OTHER);
    let page = text(&browser.get(&format!("/items/{item}")).await);
    assert!(page.contains("<strong>grew</strong>") && page.contains("Version 3"), "{page}");

    browser.post(&format!("/items/{item}/trash"), &[]).await.expect(StatusCode::SEE_OTHER);
    browser.get(&format!("/items/{item}")).await.expect(StatusCode::NOT_FOUND);
    assert!(text(&browser.get("/trash").await).contains("Pricing findings"));
    browser.post(&format!("/items/{item}/restore"), &[]).await.expect(StatusCode::SEE_OTHER);
    browser.get(&format!("/items/{item}")).await.expect(StatusCode::OK);

    let list = text(&browser.get("/items?tag=pricing&status=published").await.expect(StatusCode::OK));
    assert!(list.contains("Pricing findings"), "{list}");
    browser.get("/items?status=bogus").await.expect(StatusCode::BAD_REQUEST);
    browser.get("/items?nonsense=1").await.expect(StatusCode::BAD_REQUEST);
    let dashboard = text(&browser.get("/").await);
    assert!(dashboard.contains("Pricing findings") && dashboard.contains("item status changed"), "{dashboard}");
}

#[tokio::test]
async fn another_organization_gets_the_404_page_and_viewers_cannot_write() {
    let api = Api::new().await;
    let mut owner = Browser::new(&api);
    let owner_email = owner.sign_up("olga").await;
    let reply = owner.post("/items", &[("title", "Secret plan"), ("kind", "note"), ("body", "x")]).await;
    let item = id_in(&reply.expect(StatusCode::SEE_OTHER));

    let mut stranger = Browser::new(&api);
    stranger.sign_up("sam").await;
    for path in [format!("/items/{item}"), format!("/items/{item}/history"), format!("/items/{item}/edit")] {
        let reply = stranger.get(&path).await.expect(StatusCode::NOT_FOUND);
        assert!(text(&reply).contains("Not found") && !text(&reply).contains("Secret plan"));
    }
    stranger.post(&format!("/items/{item}/trash"), &[]).await.expect(StatusCode::NOT_FOUND);
    owner.get(&format!("/items/{item}")).await.expect(StatusCode::OK);

    let owner_session = api.log_in(&owner_email, None).await;
    let viewer = api.member(&owner_session, "viewer").await;
    let mut reader = Browser::new(&api);
    reader.get("/login").await;
    reader.post("/login", &[("email", &viewer.email), ("password", PASSWORD)]).await.expect(StatusCode::SEE_OTHER);
    // Signing in lands in the viewer's own organization; the switcher moves to the owner's.
    let page = text(&reader.get("/").await);
    assert!(page.contains(&format!("value=\"{}\"", owner_session.org_id)), "the switcher offers it: {page}");
    reader
        .post("/switch-organization", &[("organization_id", &owner_session.org_id)])
        .await
        .expect(StatusCode::SEE_OTHER);
    let page = text(&reader.get(&format!("/items/{item}")).await.expect(StatusCode::OK));
    assert!(!page.contains("/edit\"") && !page.contains("Move to trash"), "{page}");
    reader.post("/items", &[("title", "Nope"), ("kind", "note")]).await.expect(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_expired_access_cookie_is_refreshed_and_sign_out_ends_the_session() {
    let api = Api::new().await;
    let mut browser = Browser::new(&api);
    browser.sign_up("ravi").await;
    let first_refresh = browser.cookies["consailt_refresh"].clone();
    api.t.clock.advance(time::Duration::minutes(20));
    let reply = browser.get("/").await.expect(StatusCode::OK);
    assert!(reply.headers.get_all(header::SET_COOKIE).iter().count() >= 2, "new tokens were set");
    assert_ne!(browser.cookies["consailt_refresh"], first_refresh, "the refresh token rotated");

    browser.post("/logout", &[]).await.expect(StatusCode::SEE_OTHER);
    assert!(!browser.cookies.contains_key("consailt_access"));
    let reply = browser.get("/").await.expect(StatusCode::SEE_OTHER);
    assert_eq!(location(&reply), "/login");
    let mut replay = Browser::new(&api);
    replay.cookies.insert("consailt_refresh".to_owned(), first_refresh);
    replay.get("/").await.expect(StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn unknown_pages_are_html_for_browsers_and_json_for_the_api() {
    let api = Api::new().await;
    let page = api.get("/no/such/page").header("accept", "text/html").send().await.expect(StatusCode::NOT_FOUND);
    assert!(text(&page).contains("<html"));
    let json = api.get("/api/v1/nope").header("accept", "text/html").send().await.expect(StatusCode::NOT_FOUND);
    assert_eq!(json.code(), "NOT_FOUND");
    let css = api.get("/assets/app.css").send().await.expect(StatusCode::OK);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
}

#[tokio::test]
async fn templates_fill_a_new_item_and_search_finds_it() {
    let api = Api::searching().await;
    let mut browser = Browser::new(&api);
    browser.sign_up("tess").await;
    let access = browser.cookies["consailt_access"].clone();
    let template = api
        .create(&tess(&access), "/api/v1/templates", serde_json::json!({"name": "Meeting", "body": "Met {{client}} about {{topic}}.", "default_kind": "meeting_notes"}))
        .await;
    let form = text(&browser.get(&format!("/items/new?template={template}")).await.expect(StatusCode::OK));
    assert!(form.contains("name=\"value.client\"") && form.contains("name=\"value.topic\""), "{form}");
    let reply = browser
        .post(
            "/items",
            &[
                ("template", &template),
                ("title", "Kickoff"),
                ("engagement", ""),
                ("value.client", "Globex"),
                ("value.topic", "zeppelins"),
            ],
        )
        .await;
    let item = id_in(&reply.expect(StatusCode::SEE_OTHER));
    assert!(text(&browser.get(&format!("/items/{item}")).await).contains("Met Globex about zeppelins."));

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let results = text(&browser.get("/search?q=zeppelins").await.expect(StatusCode::OK));
        if results.contains(&format!("/items/{item}")) {
            assert!(results.contains("<b>zeppelins</b>"), "highlighted: {results}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not found in time: {results}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let suggestions = text(&browser.get("/search/suggest?q=zeppel").await.expect(StatusCode::OK));
    assert!(suggestions.contains("Kickoff") && suggestions.contains("role=\"option\""), "{suggestions}");
}

fn tess(access: &str) -> common::Session {
    common::Session {
        access: access.to_owned(),
        refresh: String::new(),
        user_id: String::new(),
        org_id: String::new(),
        email: String::new(),
    }
}

#[tokio::test]
async fn administrators_manage_members_keys_and_sessions() {
    let api = Api::new().await;
    let mut owner = Browser::new(&api);
    let owner_email = owner.sign_up("ola").await;
    let colleague = api.sign_up("cato").await;

    let unknown = owner.post("/admin/members", &[("email", "nobody@example.com"), ("role", "consultant")]).await;
    let html = text(&unknown.expect(StatusCode::UNPROCESSABLE_ENTITY));
    assert!(html.contains("id=\"email-error\"") && html.contains("value=\"nobody@example.com\""), "{html}");
    owner
        .post("/admin/members", &[("email", &colleague.email), ("role", "consultant")])
        .await
        .expect(StatusCode::SEE_OTHER);
    owner
        .post(&format!("/admin/members/{}/role", colleague.user_id), &[("role", "admin")])
        .await
        .expect(StatusCode::SEE_OTHER);
    let owner_session = api.log_in(&owner_email, None).await;
    let members = api.get("/api/v1/members").token(&owner_session.access).send().await.expect(StatusCode::OK);
    assert!(members.body.to_string().contains("\"role\":\"admin\""), "{}", members.body);

    let created = owner.post("/admin/api-keys", &[("name", "CI export"), ("role", "viewer")]).await;
    let page = text(&created.expect(StatusCode::CREATED));
    let secret = page
        .split("id=\"new-secret\" type=\"text\" readonly value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the secret, once");
    api.get("/api/v1/items").token(secret).send().await.expect(StatusCode::OK);
    let again = text(&owner.get("/admin").await.expect(StatusCode::OK));
    assert!(again.contains("CI export") && !again.contains(secret), "the secret is shown once only");
    let key_id =
        again.split("/admin/api-keys/").nth(1).and_then(|s| s.split('/').next()).expect("a key to revoke").to_owned();
    owner.post(&format!("/admin/api-keys/{key_id}/revoke"), &[]).await.expect(StatusCode::SEE_OTHER);
    api.get("/api/v1/items").token(secret).send().await.expect(StatusCode::UNAUTHORIZED);

    // An admin may not touch an owner; the owner's other session can be signed out from here.
    let mut admin = Browser::new(&api);
    admin.get("/login").await;
    admin.post("/login", &[("email", &colleague.email), ("password", PASSWORD)]).await.expect(StatusCode::SEE_OTHER);
    admin
        .post("/switch-organization", &[("organization_id", &owner_session.org_id)])
        .await
        .expect(StatusCode::SEE_OTHER);
    let owner_id = owner_session.user_id.clone();
    admin.post(&format!("/admin/members/{owner_id}/remove"), &[]).await.expect(StatusCode::FORBIDDEN);
    admin.post(&format!("/admin/members/{owner_id}/role"), &[("role", "viewer")]).await.expect(StatusCode::FORBIDDEN);

    let sessions = text(&owner.get("/admin").await);
    assert!(sessions.contains("(this browser)"), "{sessions}");
    let ids: Vec<&str> = sessions.split("/admin/sessions/").skip(1).filter_map(|s| s.split('/').next()).collect();
    assert_eq!(ids.len(), 2, "the browser's session and the API login: {sessions}");
    for id in ids {
        owner.post(&format!("/admin/sessions/{id}/revoke"), &[]).await;
    }
    api.get("/api/v1/me").token(&owner_session.access).send().await.expect(StatusCode::UNAUTHORIZED);
    owner.get("/admin").await.expect(StatusCode::SEE_OTHER);

    let audit = text(&admin.get("/admin/audit").await.expect(StatusCode::OK));
    assert!(audit.contains("organization.member_role_changed"), "{audit}");
}

#[tokio::test]
async fn the_category_tree_is_created_renamed_moved_and_deleted() {
    let api = Api::new().await;
    let mut browser = Browser::new(&api);
    browser.sign_up("cora").await;
    browser.post("/categories", &[("name", "Strategy")]).await.expect(StatusCode::SEE_OTHER);
    browser.post("/categories", &[("name", "Pricing")]).await.expect(StatusCode::SEE_OTHER);
    let page = text(&browser.get("/categories").await.expect(StatusCode::OK));
    let id_of = |page: &str, name: &str| {
        page.split("/items?category=")
            .skip(1)
            .find(|s| s.split('<').next().is_some_and(|a| a.ends_with(&format!("\">{name}"))))
            .and_then(|s| s.split('"').next())
            .expect("a category link")
            .to_owned()
    };
    let (strategy, pricing) = (id_of(&page, "Strategy"), id_of(&page, "Pricing"));
    let version =
        page.split("name=\"version\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("a version").to_owned();
    browser
        .post(
            &format!("/categories/{pricing}"),
            &[("name", "Pricing models"), ("parent", &strategy), ("version", &version)],
        )
        .await
        .expect(StatusCode::SEE_OTHER);
    let page = text(&browser.get("/categories").await);
    assert!(page.contains("class=\"depth-1\"") && page.contains(">Pricing models<"), "{page}");
    let stale = browser
        .post(&format!("/categories/{pricing}"), &[("name", "Stale"), ("parent", ""), ("version", &version)])
        .await;
    assert!(text(&stale.expect(StatusCode::UNPROCESSABLE_ENTITY)).contains("changed this in the meantime"));
    browser.post("/categories", &[("name", " ")]).await.expect(StatusCode::UNPROCESSABLE_ENTITY);

    let reply = browser.post("/items", &[("title", "Value pricing"), ("kind", "note"), ("category", &pricing)]).await;
    let item = id_in(&reply.expect(StatusCode::SEE_OTHER));
    let page = text(&browser.get("/categories").await);
    let version =
        page.split("name=\"version\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("a version").to_owned();
    browser
        .post(&format!("/categories/{pricing}/delete"), &[("reassign_to", &strategy), ("version", &version)])
        .await
        .expect(StatusCode::SEE_OTHER);
    let page = text(&browser.get(&format!("/items/{item}")).await);
    assert!(page.contains("Strategy") && !page.contains("Pricing models"), "{page}");
}

#[tokio::test]
async fn templates_are_written_in_the_ui_with_errors_next_to_the_body() {
    let api = Api::new().await;
    let mut browser = Browser::new(&api);
    browser.sign_up("tom").await;
    let bad = browser.post("/templates", &[("name", "Brief"), ("kind", "document"), ("body", "Dear {{client")]).await;
    let html = text(&bad.expect(StatusCode::UNPROCESSABLE_ENTITY));
    assert!(html.contains("id=\"body-error\"") && html.contains("Dear {{client"), "{html}");
    browser
        .post("/templates", &[("name", "Brief"), ("kind", "document"), ("body", "Dear {{client}}"), ("tags", "brief")])
        .await
        .expect(StatusCode::SEE_OTHER);
    let list = text(&browser.get("/templates").await.expect(StatusCode::OK));
    assert!(list.contains(">Brief<") && list.contains("client"), "{list}");
    let id = list
        .split("href=\"/templates/tpl_")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .map(|s| format!("tpl_{s}"))
        .expect("a template");
    let form = text(&browser.get(&format!("/templates/{id}")).await.expect(StatusCode::OK));
    let version =
        form.split("name=\"version\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("a version").to_owned();
    browser
        .post(
            &format!("/templates/{id}"),
            &[("name", "Letter"), ("kind", "document"), ("body", "Dear {{name}}"), ("version", &version)],
        )
        .await
        .expect(StatusCode::SEE_OTHER);
    let stale = browser
        .post(
            &format!("/templates/{id}"),
            &[("name", "Old"), ("kind", "document"), ("body", "x"), ("version", &version)],
        )
        .await;
    assert!(text(&stale.expect(StatusCode::UNPROCESSABLE_ENTITY)).contains("changed this in the meantime"));
    let form = text(&browser.get(&format!("/items/new?template={id}")).await.expect(StatusCode::OK));
    assert!(form.contains("name=\"value.name\"") && !form.contains("value.client"), "{form}");
    browser.post(&format!("/templates/{id}/delete"), &[]).await.expect(StatusCode::SEE_OTHER);
    browser.get(&format!("/templates/{id}")).await.expect(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_assistant_answers_summarizes_and_assesses_risks_in_the_browser() {
    let api = Api::assisting(ai::Assistant::default()).await;
    let mut browser = Browser::new(&api);
    browser.sign_up("tess").await;
    let access = browser.cookies["consailt_access"].clone();
    let owner = tess(&access);
    let engagement =
        api.create(&owner, "/api/v1/engagements", serde_json::json!({"name": "Pricing", "client": "Initech"})).await;
    let item = api
        .create(
            &owner,
            "/api/v1/items",
            serde_json::json!({"kind": "note", "title": "Terms", "engagement_id": engagement,
                               "body": "The retainer fee is 12,000 EUR per month. Scope changes need a change request."}),
        )
        .await;

    let page = text(&browser.get(&format!("/items/{item}")).await.expect(StatusCode::OK));
    assert!(page.contains(&format!("action=\"/items/{item}/summary\"")), "the item page offers a summary");
    let summary = text(&browser.post(&format!("/items/{item}/summary"), &[]).await.expect(StatusCode::OK));
    assert!(summary.contains("Summary of “Terms”") && summary.contains("The retainer fee is 12,000 EUR per month."));

    let streamed = browser.post(&format!("/items/{item}/summary"), &[("stream", "1")]).await.expect(StatusCode::OK);
    assert_eq!(streamed.header("content-type"), Some("text/event-stream"));
    let events = text(&streamed);
    assert!(events.contains("event: delta") && events.contains("event: done"), "{events}");

    let risks = text(&browser.post(&format!("/engagements/{engagement}/risks"), &[]).await.expect(StatusCode::OK));
    assert!(risks.contains("Risks of “Pricing”") && risks.contains("Scope changes need a change request."), "{risks}");

    let form = text(&browser.get("/ask").await.expect(StatusCode::OK));
    assert!(form.contains("Ask your knowledge base") && form.contains(&format!("value=\"{engagement}\"")));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let fields = [("question", "What is the retainer fee?"), ("engagement", engagement.as_str())];
        let answer = text(&browser.post("/ask", &fields).await.expect(StatusCode::OK));
        if answer.contains(&format!("href=\"/items/{item}\"")) {
            assert!(answer.contains("<blockquote>The retainer fee is 12,000 EUR per month.</blockquote>"), "{answer}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never cited: {answer}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let template = api
        .create(
            &owner,
            "/api/v1/templates",
            serde_json::json!({"name": "Fee letter", "body": "Dear {{client}}, the retainer fee: {{retainer_fee}}", "default_kind": "document"}),
        )
        .await;
    let editor = text(&browser.get(&format!("/templates/{template}")).await.expect(StatusCode::OK));
    assert!(editor.contains(&format!("action=\"/templates/{template}/draft\"")), "the template page offers a draft");
    let draft = text(
        &browser
            .post(&format!("/templates/{template}/draft"), &[("engagement", &engagement)])
            .await
            .expect(StatusCode::OK),
    );
    assert!(draft.contains("Dear Initech, the retainer fee: The retainer fee is 12,000 EUR per month. [1]"), "{draft}");
    let tags = text(&browser.post(&format!("/items/{item}/tag-suggestions"), &[]).await.expect(StatusCode::OK));
    assert!(tags.contains("Tags for “Terms”") && tags.contains("Suggested tags:"), "{tags}");

    let usage = text(&browser.get("/admin/ai-usage").await.expect(StatusCode::OK));
    assert!(usage.contains("knowledge qa") && usage.contains("quick summary") && usage.contains("local"), "{usage}");
}
