//! DESIGN section 6 through the HTTP API: passwords, access and refresh tokens, revocation,
//! login throttling, API keys, and no secret stored in clear.

mod common;

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use common::{Api, PASSWORD};

#[tokio::test]
async fn sign_up_answers_the_user_organization_and_tokens() {
    let api = Api::new().await;
    let reply = api
        .post("/api/v1/auth/signup")
        .json(json!({"email": "Ada@Example.com", "password": PASSWORD, "name": "Ada", "organization_name": "Ada Consulting"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(reply.body["user"]["email"], "ada@example.com");
    assert_eq!(reply.body["organization"]["name"], "Ada Consulting");
    assert_eq!(reply.body["expires_in"], 900);
    let token = reply.body["access_token"].as_str().expect("token");
    let me = api.get("/api/v1/me").token(token).send().await.expect(StatusCode::OK);
    assert_eq!(me.body["role"], "owner");

    let again = api
        .post("/api/v1/auth/signup")
        .json(json!({"email": "ada@example.com", "password": PASSWORD, "name": "Ada", "organization_name": "Other"}))
        .send()
        .await;
    assert_eq!((again.status, again.code()), (StatusCode::CONFLICT, "CONFLICT"));
}

#[tokio::test]
async fn weak_passwords_are_refused_with_a_reason() {
    let api = Api::new().await;
    for (password, reason) in [("short1!", "at least 12"), ("password1234", "weak"), ("ada@example.com", "weak")] {
        let reply = api
            .post("/api/v1/auth/signup")
            .json(json!({"email": "ada@example.com", "password": password, "name": "Ada", "organization_name": "A"}))
            .send()
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(reply.body["error"]["details"][0]["field"], "password");
        assert!(reply.body["error"]["message"].as_str().unwrap_or("").contains(reason), "{}", reply.body);
    }
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_answer() {
    let api = Api::new().await;
    let ada = api.sign_up("ada").await;
    let wrong = api
        .post("/api/v1/auth/login")
        .json(json!({"email": ada.email, "password": "not-the-password-at-all"}))
        .send()
        .await;
    let unknown =
        api.post("/api/v1/auth/login").json(json!({"email": "nobody@example.com", "password": PASSWORD})).send().await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.body["error"]["message"], unknown.body["error"]["message"]);
    assert_eq!(wrong.status, unknown.status);
}

#[tokio::test]
async fn forged_and_expired_access_tokens_are_refused() {
    let api = Api::new().await;
    let ada = api.sign_up("ada").await;
    let parts: Vec<&str> = ada.access.split('.').collect();
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let forged = format!("{none_header}.{}.", parts[1]);
    for token in [forged.as_str(), "garbage", &format!("{}.{}.AAAA", parts[0], parts[1])] {
        let reply = api.get("/api/v1/me").token(token).send().await;
        assert_eq!((reply.status, reply.code()), (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"), "{token}");
    }
    api.get("/api/v1/me").send().await.expect(StatusCode::UNAUTHORIZED);
    api.t.clock.advance(time::Duration::minutes(15));
    api.get("/api/v1/me").token(&ada.access).send().await.expect(StatusCode::UNAUTHORIZED);
}

async fn refresh(api: &Api, token: &str) -> common::Reply {
    api.post("/api/v1/auth/refresh").json(json!({"refresh_token": token})).send().await
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_family() {
    let api = Api::new().await;
    let ada = api.sign_up("ada").await;
    let first = refresh(&api, &ada.refresh).await.expect(StatusCode::OK);
    let second_token = first.body["refresh_token"].as_str().expect("rotated").to_owned();
    assert_ne!(second_token, ada.refresh);
    let newest_access = first.body["access_token"].as_str().expect("access").to_owned();
    api.get("/api/v1/me").token(&newest_access).send().await.expect(StatusCode::OK);

    // A lost response: the same token again within seconds gets the same new token.
    api.t.clock.advance(time::Duration::seconds(2));
    let retry = refresh(&api, &ada.refresh).await.expect(StatusCode::OK);
    assert_eq!(retry.body["refresh_token"], second_token.as_str());

    // Much later, the old token again is a theft signal: the family dies, newest included.
    api.t.clock.advance(time::Duration::minutes(1));
    refresh(&api, &ada.refresh).await.expect(StatusCode::UNAUTHORIZED);
    refresh(&api, &second_token).await.expect(StatusCode::UNAUTHORIZED);
    api.get("/api/v1/me").token(&newest_access).send().await.expect(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn fifty_parallel_refreshes_of_one_token_produce_at_most_one_new_token() {
    let api = std::sync::Arc::new(Api::new().await);
    let ada = api.sign_up("ada").await;
    let attempts = (0..50).map(|_| {
        let (api, token) = (api.clone(), ada.refresh.clone());
        tokio::spawn(async move { refresh(&api, &token).await })
    });
    let replies = futures_util::future::join_all(attempts).await;
    let mut tokens = std::collections::BTreeSet::new();
    for reply in replies {
        let reply = reply.expect("task");
        assert!(matches!(reply.status, StatusCode::OK | StatusCode::UNAUTHORIZED), "{}", reply.status);
        if reply.status == StatusCode::OK {
            tokens.insert(reply.body["refresh_token"].as_str().expect("token").to_owned());
        }
    }
    assert_eq!(tokens.len(), 1, "{tokens:?}");
}

#[tokio::test]
async fn logout_and_password_change_revoke_sessions() {
    let api = Api::new().await;
    let ada = api.sign_up("ada").await;
    let laptop = api.log_in(&ada.email, None).await;
    let phone = api.log_in(&ada.email, None).await;

    api.post("/api/v1/auth/logout").token(&phone.access).send().await.expect(StatusCode::NO_CONTENT);
    api.get("/api/v1/me").token(&phone.access).send().await.expect(StatusCode::UNAUTHORIZED);
    refresh(&api, &phone.refresh).await.expect(StatusCode::UNAUTHORIZED);

    let sessions = api.get("/api/v1/sessions").token(&ada.access).send().await.expect(StatusCode::OK);
    assert_eq!(sessions.body["data"].as_array().map(Vec::len), Some(3));

    let new_password = "quartz-lantern-93-meadow-finch";
    let wrong = api
        .post("/api/v1/auth/password")
        .token(&ada.access)
        .json(json!({"current_password": "wrong-wrong-wrong", "new_password": new_password}))
        .send()
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    api.post("/api/v1/auth/password")
        .token(&ada.access)
        .json(json!({"current_password": PASSWORD, "new_password": new_password}))
        .send()
        .await
        .expect(StatusCode::NO_CONTENT);
    api.get("/api/v1/me").token(&ada.access).send().await.expect(StatusCode::OK);
    api.get("/api/v1/me").token(&laptop.access).send().await.expect(StatusCode::UNAUTHORIZED);
    refresh(&api, &laptop.refresh).await.expect(StatusCode::UNAUTHORIZED);
    api.post("/api/v1/auth/login")
        .json(json!({"email": ada.email, "password": PASSWORD}))
        .send()
        .await
        .expect(StatusCode::UNAUTHORIZED);
    let other = api
        .post("/api/v1/auth/login")
        .json(json!({"email": ada.email, "password": new_password}))
        .send()
        .await
        .expect(StatusCode::OK);
    let other_access = other.body["access_token"].as_str().expect("token").to_owned();

    // Ending one session by id (the one still live besides this one: the first).
    let listed = api.get("/api/v1/sessions").token(&other_access).send().await.expect(StatusCode::OK);
    let live: Vec<String> = listed.body["data"]
        .as_array()
        .expect("sessions")
        .iter()
        .filter(|s| s["current"] == false && s["revoked_at"].is_null())
        .map(|s| s["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(live.len(), 1, "{}", listed.body);
    api.delete(&format!("/api/v1/sessions/{}", live[0]))
        .token(&other_access)
        .send()
        .await
        .expect(StatusCode::NO_CONTENT);
    api.get("/api/v1/me").token(&ada.access).send().await.expect(StatusCode::UNAUTHORIZED);
    api.delete("/api/v1/sessions/ses_unknown").token(&other_access).send().await.expect(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn removal_and_role_changes_apply_at_once() {
    let api = Api::new().await;
    let owner = api.sign_up("owner").await;
    let consultant = api.member(&owner, "consultant").await;
    api.post("/api/v1/engagements")
        .token(&consultant.access)
        .json(json!({"name": "Audit", "client": "Acme"}))
        .send()
        .await
        .expect(StatusCode::CREATED);

    api.patch(&format!("/api/v1/members/{}", consultant.user_id))
        .token(&owner.access)
        .json(json!({"role": "viewer"}))
        .send()
        .await
        .expect(StatusCode::OK);
    let refused = api
        .post("/api/v1/engagements")
        .token(&consultant.access)
        .json(json!({"name": "B", "client": "C"}))
        .send()
        .await;
    assert_eq!((refused.status, refused.code()), (StatusCode::FORBIDDEN, "FORBIDDEN"));

    api.delete(&format!("/api/v1/members/{}", consultant.user_id))
        .token(&owner.access)
        .send()
        .await
        .expect(StatusCode::NO_CONTENT);
    api.get("/api/v1/engagements").token(&consultant.access).send().await.expect(StatusCode::UNAUTHORIZED);
    refresh(&api, &consultant.refresh).await.expect(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn login_is_throttled_per_account_and_recovers_after_the_window() {
    let api = std::sync::Arc::new(Api::new().await);
    let ada = api.sign_up("ada").await;
    let attackers = (0..32).map(|n| {
        let (api, email) = (api.clone(), ada.email.clone());
        tokio::spawn(async move {
            api.post("/api/v1/auth/login")
                .json(json!({"email": email, "password": format!("guess-{n}-guess-guess")}))
                .send()
                .await
        })
    });
    let replies: Vec<_> =
        futures_util::future::join_all(attackers).await.into_iter().map(|r| r.expect("task")).collect();
    let evaluated = replies.iter().filter(|r| r.status == StatusCode::UNAUTHORIZED).count();
    let throttled: Vec<_> = replies.iter().filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS).collect();
    assert_eq!(evaluated, 10, "only the account's budget of attempts is evaluated");
    assert_eq!(throttled.len(), 22);
    assert!(throttled.iter().all(|r| r.code() == "RATE_LIMITED" && r.header("retry-after").is_some()));

    // Even the right password waits for the window, then works without an administrator.
    api.post("/api/v1/auth/login")
        .json(json!({"email": ada.email, "password": PASSWORD}))
        .send()
        .await
        .expect(StatusCode::TOO_MANY_REQUESTS);
    api.t.clock.advance(time::Duration::minutes(15));
    api.post("/api/v1/auth/login")
        .json(json!({"email": ada.email, "password": PASSWORD}))
        .send()
        .await
        .expect(StatusCode::OK);
}

#[tokio::test]
async fn api_keys_are_shown_once_scoped_and_revocable() {
    let api = Api::new().await;
    let owner = api.sign_up("owner").await;
    let created = api
        .post("/api/v1/api-keys")
        .token(&owner.access)
        .json(json!({"name": "CI", "role": "viewer"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let secret = created.body["secret"].as_str().expect("secret").to_owned();
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert!(secret.starts_with("csk_") && secret.len() >= 47, "{secret}");

    let me = api.get("/api/v1/me").token(&secret).send().await.expect(StatusCode::OK);
    assert_eq!((me.body["role"].as_str(), me.body["authenticated_with"].as_str()), (Some("viewer"), Some("api_key")));
    api.post("/api/v1/engagements")
        .token(&secret)
        .json(json!({"name": "x", "client": "y"}))
        .send()
        .await
        .expect(StatusCode::FORBIDDEN);

    let listed = api.get("/api/v1/api-keys").token(&owner.access).send().await.expect(StatusCode::OK);
    assert!(!listed.raw.windows(secret.len()).any(|w| w == secret.as_bytes()), "the secret is never listed");
    assert!(listed.body["data"][0]["last_used_at"].is_string());

    api.delete(&format!("/api/v1/api-keys/{id}")).token(&owner.access).send().await.expect(StatusCode::NO_CONTENT);
    api.get("/api/v1/me").token(&secret).send().await.expect(StatusCode::UNAUTHORIZED);

    let admin = api.member(&owner, "admin").await;
    let above =
        api.post("/api/v1/api-keys").token(&admin.access).json(json!({"name": "x", "role": "owner"})).send().await;
    assert_eq!(above.status, StatusCode::FORBIDDEN, "a key never outranks its creator");
}

#[tokio::test]
async fn no_secret_is_stored_in_clear() {
    let api = Api::new().await;
    let ada = api.sign_up("ada").await;
    let create_key = || {
        api.post("/api/v1/api-keys")
            .token(&ada.access)
            .header("idempotency-key", "new-key")
            .json(json!({"name": "k", "role": "viewer"}))
            .send()
    };
    let key = create_key().await.expect(StatusCode::CREATED);
    let key = key.body["secret"].as_str().expect("secret").to_owned();
    // A retry must not show the secret again: it is not stored, not even for idempotency.
    let retry = create_key().await.expect(StatusCode::CONFLICT);
    assert!(!retry.raw.windows(key.len()).any(|w| w == key.as_bytes()));
    let keys = api.get("/api/v1/api-keys").token(&ada.access).send().await.expect(StatusCode::OK);
    assert_eq!(keys.body["total"], 1, "the retry created no second key");
    let rotated = refresh(&api, &ada.refresh).await.body["refresh_token"].as_str().expect("token").to_owned();
    api.t.store.close().await;
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(api.t.dir.path()).expect("data dir") {
        let path = entry.expect("entry").path();
        bytes.extend(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())));
    }
    for secret in [PASSWORD, ada.refresh.as_str(), rotated.as_str(), key.as_str(), ada.access.as_str()] {
        assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "{secret} found in the database files");
    }
}

#[tokio::test]
async fn a_revocation_by_another_instance_is_seen_within_the_cache_lifetime() {
    use application::Clock;
    use store::auth::AuthStore;
    let api = Api::new().await;
    let ada = api.sign_up("ada").await;
    let me = api.get("/api/v1/me").token(&ada.access).send().await.expect(StatusCode::OK);
    let session = api.get("/api/v1/sessions").token(&ada.access).send().await.body["data"][0]["id"]
        .as_str()
        .expect("session")
        .to_owned();
    // Another instance revokes the session: this one does not hear of it.
    assert!(api.t.store.revoke_session(&ada.user_id, &session, api.t.clock.now()).await.expect("revoke"));
    assert_eq!(me.body["role"], "owner");
    api.t.clock.advance(application::security::cache::TTL);
    api.get("/api/v1/me").token(&ada.access).send().await.expect(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_member_of_several_organizations_picks_one_at_login_or_by_refreshing() {
    let api = Api::new().await;
    let ada = api.sign_up("ada").await;
    let created = api
        .post("/api/v1/organizations")
        .token(&ada.access)
        .json(json!({"name": "Second Practice"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let second = created.body["id"].as_str().expect("id").to_owned();
    let me = api.get("/api/v1/me").token(&ada.access).send().await.expect(StatusCode::OK);
    assert_eq!(me.body["organization_id"], ada.org_id.as_str(), "the session stays where it was");
    assert_eq!(me.body["organizations"].as_array().map(Vec::len), Some(2));

    let moved = api
        .post("/api/v1/auth/refresh")
        .json(json!({"refresh_token": ada.refresh, "organization_id": second}))
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(moved.body["organization_id"], second.as_str());
    let token = moved.body["access_token"].as_str().expect("token");
    let there = api.get("/api/v1/organization").token(token).send().await.expect(StatusCode::OK);
    assert_eq!(there.body["name"], "Second Practice");
    api.get("/api/v1/me").token(&ada.access).send().await.expect(StatusCode::UNAUTHORIZED);

    let login = api.log_in(&ada.email, Some(&ada.org_id)).await;
    assert_eq!(login.org_id, ada.org_id);
    let stranger = api.sign_up("bob").await;
    let refused = api
        .post("/api/v1/auth/login")
        .json(json!({"email": ada.email, "password": PASSWORD, "organization_id": stranger.org_id}))
        .send()
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn logins_are_throttled_per_address_across_accounts() {
    let api = Api::new().await;
    let replies = {
        let mut replies = Vec::new();
        for n in 0..51 {
            let email = format!("nobody{n}@example.com");
            replies.push(
                api.post("/api/v1/auth/login")
                    .json(json!({"email": email, "password": "guess-guess-guess"}))
                    .send()
                    .await
                    .status,
            );
        }
        replies
    };
    assert!(replies[..50].iter().all(|s| *s == StatusCode::UNAUTHORIZED), "{replies:?}");
    assert_eq!(replies[50], StatusCode::TOO_MANY_REQUESTS);
}
