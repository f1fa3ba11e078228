//! Sign-in and tokens: login, refresh rotation and reuse detection, logout, and every way an
//! access token can be missing, forged, expired or mismatched; the login rate limit.

use reqwest::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use serde_json::json;
use tutorchat_shared::api::{AuthTokens, UserProfile};
use tutorchat_shared::Role;

use crate::testing::{mint, TestServer, JWT_SECRET, PASSWORD, SAM};

#[tokio::test]
async fn login_returns_tokens_that_open_the_api() {
    let ts = TestServer::start().await;
    let reply = ts.try_login(SAM, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let tokens: AuthTokens = reply.json();
    assert_eq!(tokens.user.id.as_str(), "s-sam");
    assert_eq!(tokens.user.role, Role::Student);
    assert!(!tokens.access_token.is_empty() && !tokens.refresh_token.is_empty());
    assert!(tokens.access_expires_at > chrono::Utc::now());
    assert!(tokens.refresh_expires_at > tokens.access_expires_at);

    let me = ts.get(&tokens.access_token, "/api/me").await;
    me.assert_ok();
    assert_eq!(me.json::<UserProfile>(), tokens.user);
    assert_eq!(me.body["email"], SAM);

    let ok = ts.audit("login_ok").await;
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0].actor_id.as_ref().map(|u| u.as_str()), Some("s-sam"));
    assert_eq!(ok[0].ip.as_deref(), Some("127.0.0.1"));
}

#[tokio::test]
async fn email_is_matched_without_case_and_surrounding_spaces() {
    let ts = TestServer::start().await;
    let reply = ts.try_login("  Sam@TutorChat.test ", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["user"]["id"], "s-sam");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_are_refused_alike_and_audited() {
    let ts = TestServer::start().await;
    let wrong = ts.try_login(SAM, "not-the-password").await;
    wrong.assert_error(401, "invalid_credentials");
    let unknown = ts.try_login("nobody@tutorchat.test", PASSWORD).await;
    unknown.assert_error(401, "invalid_credentials");
    assert_eq!(
        wrong.body, unknown.body,
        "the answer does not tell which was wrong"
    );
    assert!(wrong.body.get("access_token").is_none());

    let failed = ts.audit("login_failed").await;
    let targets: Vec<Option<&str>> = failed.iter().map(|e| e.target.as_deref()).collect();
    assert_eq!(
        targets,
        [Some("nobody@tutorchat.test"), Some(SAM)],
        "newest first"
    );
    assert!(failed.iter().all(|e| e.actor_id.is_none()));
    assert!(ts.audit("login_ok").await.is_empty());
}

#[tokio::test]
async fn blank_credentials_are_a_validation_error() {
    let ts = TestServer::start().await;
    ts.try_login("", PASSWORD).await.assert_invalid("email");
    ts.try_login(SAM, "").await.assert_invalid("email");
}

#[tokio::test]
async fn refresh_rotates_the_pair_and_spends_the_old_token() {
    // Without a reuse grace, a spent token is refused at once (the grace is in `hardening`).
    let ts = TestServer::start_with(&["--refresh-reuse-grace-secs", "0"]).await;
    let first = ts.login(SAM).await;
    let reply = ts.refresh(&first.refresh_token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let second: AuthTokens = reply.json();
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_eq!(second.user, first.user);
    ts.get(&second.access_token, "/api/me").await.assert_ok();

    ts.refresh(&first.refresh_token)
        .await
        .assert_error(401, "invalid_refresh_token");
}

#[tokio::test]
async fn presenting_a_spent_refresh_token_revokes_its_whole_family() {
    let ts = TestServer::start().await;
    let first = ts.login(SAM).await;
    let second: AuthTokens = ts.refresh(&first.refresh_token).await.json();
    let third: AuthTokens = ts.refresh(&second.refresh_token).await.json();
    // Another login is another family, untouched by what follows.
    let other = ts.login(SAM).await;

    // The spent first token comes back (a thief's copy): refused, and the family is revoked.
    ts.refresh(&first.refresh_token)
        .await
        .assert_error(401, "invalid_refresh_token");
    ts.refresh(&third.refresh_token)
        .await
        .assert_error(401, "invalid_refresh_token");

    let reuse = ts.audit("refresh_reuse").await;
    assert!(!reuse.is_empty());
    assert_eq!(
        reuse
            .last()
            .and_then(|e| e.actor_id.as_ref())
            .map(|u| u.as_str()),
        Some("s-sam")
    );
    ts.refresh(&other.refresh_token).await.assert_ok();
}

#[tokio::test]
async fn unknown_refresh_token_is_refused() {
    let ts = TestServer::start().await;
    ts.refresh("not-a-token")
        .await
        .assert_error(401, "invalid_refresh_token");
    assert!(ts.audit("refresh_reuse").await.is_empty());
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    let ts = TestServer::start().await;
    let tokens = ts.login(SAM).await;
    let body = json!({"refresh_token": tokens.refresh_token});
    let reply = ts
        .anonymous(Method::POST, "/api/auth/logout", Some(body.clone()))
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(reply.body, serde_json::Value::Null);
    ts.refresh(&tokens.refresh_token)
        .await
        .assert_error(401, "invalid_refresh_token");

    let logouts = ts.audit("logout").await;
    assert_eq!(logouts.len(), 1);
    assert_eq!(
        logouts[0].actor_id.as_ref().map(|u| u.as_str()),
        Some("s-sam")
    );
    // Logging out again, or with an unknown token, is harmless.
    let again = ts
        .anonymous(Method::POST, "/api/auth/logout", Some(body))
        .await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);
    let unknown = json!({"refresh_token": "never-issued"});
    let reply = ts
        .anonymous(Method::POST, "/api/auth/logout", Some(unknown))
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn missing_credentials_are_unauthorized_with_a_bearer_challenge() {
    let ts = TestServer::start().await;
    for path in [
        "/api/me",
        "/api/chats",
        "/api/chats/1/messages",
        "/api/users/available-tutors",
    ] {
        let reply = ts.anonymous(Method::GET, path, None).await;
        reply.assert_error(401, "unauthorized");
        assert_eq!(
            reply.headers.get(WWW_AUTHENTICATE).map(|v| v.as_bytes()),
            Some(&b"Bearer"[..])
        );
    }
    // A header without a bearer token counts as none.
    let reply = ts
        .http
        .get(ts.url("/api/me"))
        .header("authorization", "Basic c2FtOnB3")
        .send()
        .await
        .expect("request");
    crate::testing::Reply::from_response(reply)
        .await
        .assert_error(401, "unauthorized");
}

#[tokio::test]
async fn token_signed_with_another_secret_is_invalid() {
    let ts = TestServer::start().await;
    let forged = mint("some-other-secret", "s-sam", "student", 600);
    let reply = ts.get(&forged, "/api/me").await;
    reply.assert_error(401, "invalid_token");
    assert!(reply.headers.contains_key(WWW_AUTHENTICATE));
    ts.get("not.a.jwt", "/api/me")
        .await
        .assert_error(401, "invalid_token");
    // Forging an admin does not reach the admin API either.
    let admin = mint("some-other-secret", "a-avery", "admin", 600);
    ts.get(&admin, "/api/admin/audit")
        .await
        .assert_error(401, "invalid_token");
}

#[tokio::test]
async fn expired_token_is_told_apart_from_an_invalid_one() {
    let ts = TestServer::start().await;
    let expired = mint(JWT_SECRET, "s-sam", "student", -3600);
    ts.get(&expired, "/api/me")
        .await
        .assert_error(401, "token_expired");
}

#[tokio::test]
async fn platform_minted_token_signs_the_user_in() {
    let ts = TestServer::start().await;
    let sso = mint(JWT_SECRET, "s-sam", "student", 600);
    let me = ts.get(&sso, "/api/me").await;
    me.assert_ok();
    assert_eq!(me.body["id"], "s-sam");
    assert_eq!(me.body["role"], "student");
    ts.get(&sso, "/api/chats").await.assert_ok();
}

#[tokio::test]
async fn token_whose_role_differs_from_the_users_is_invalid() {
    let ts = TestServer::start().await;
    let promoted = mint(JWT_SECRET, "s-sam", "tutor", 600);
    ts.get(&promoted, "/api/me")
        .await
        .assert_error(401, "invalid_token");
    let admin = mint(JWT_SECRET, "s-sam", "admin", 600);
    ts.get(&admin, "/api/admin/audit")
        .await
        .assert_error(401, "invalid_token");
}

#[tokio::test]
async fn token_for_an_unknown_user_is_invalid() {
    let ts = TestServer::start().await;
    let ghost = mint(JWT_SECRET, "s-ghost", "student", 600);
    ts.get(&ghost, "/api/me")
        .await
        .assert_error(401, "invalid_token");
}

#[tokio::test]
async fn login_attempts_over_the_rate_are_refused_with_retry_after() {
    let ts = TestServer::start_with(&["--login-rate-per-minute", "3"]).await;
    ts.try_login(SAM, "wrong-1")
        .await
        .assert_error(401, "invalid_credentials");
    ts.try_login(SAM, "wrong-2")
        .await
        .assert_error(401, "invalid_credentials");
    ts.try_login(SAM, PASSWORD).await.assert_ok();

    let limited = ts.try_login(SAM, PASSWORD).await;
    limited.assert_error(429, "rate_limited");
    let secs = limited.body["retry_after_secs"]
        .as_u64()
        .expect("retry_after_secs");
    assert!(
        (1..=20).contains(&secs),
        "one attempt refills in 20 s: {secs}"
    );
    let header = limited
        .headers
        .get(RETRY_AFTER)
        .expect("Retry-After header");
    assert_eq!(header.to_str().expect("ascii"), secs.to_string());
    assert_eq!(
        ts.audit("login_ok").await.len(),
        1,
        "the refused attempt never ran"
    );
}

#[tokio::test]
async fn forwarded_for_is_ignored_unless_trusted() {
    let ts = TestServer::start_with(&["--login-rate-per-minute", "2"]).await;
    for (i, expected) in [(1, 401), (2, 401), (3, 429)] {
        let reply = ts
            .http
            .post(ts.url("/api/auth/login"))
            .header("x-forwarded-for", format!("203.0.113.{i}"))
            .json(&json!({"email": SAM, "password": "wrong"}))
            .send()
            .await
            .expect("request");
        let reply = crate::testing::Reply::from_response(reply).await;
        assert_eq!(
            reply.status.as_u16(),
            expected,
            "attempt {i}: a spoofed header is no new address"
        );
    }
    let failed = ts.audit("login_failed").await;
    assert!(
        failed.iter().all(|e| e.ip.as_deref() == Some("127.0.0.1")),
        "{failed:?}"
    );
}

#[tokio::test]
async fn trusted_forwarded_for_keys_the_login_limit_by_client() {
    let ts =
        TestServer::start_with(&["--login-rate-per-minute", "1", "--trust-forwarded-for"]).await;
    let attempt = |ip: &'static str| {
        ts.http
            .post(ts.url("/api/auth/login"))
            .header("x-forwarded-for", format!("{ip}, 10.0.0.1"))
            .json(&json!({"email": SAM, "password": "wrong"}))
            .send()
    };
    for ip in ["203.0.113.1", "203.0.113.2"] {
        let reply = crate::testing::Reply::from_response(attempt(ip).await.expect("send")).await;
        reply.assert_error(401, "invalid_credentials");
    }
    let again =
        crate::testing::Reply::from_response(attempt("203.0.113.1").await.expect("send")).await;
    again.assert_error(429, "rate_limited");
    let ips: Vec<Option<String>> = ts
        .audit("login_failed")
        .await
        .into_iter()
        .map(|e| e.ip)
        .collect();
    assert_eq!(
        ips,
        [
            Some("203.0.113.2".to_owned()),
            Some("203.0.113.1".to_owned())
        ]
    );
}

#[tokio::test]
async fn changing_a_users_role_invalidates_their_outstanding_tokens() {
    let ts = TestServer::start().await;
    let tokens = ts.login(SAM).await;
    let promoted = json!({"id": "s-sam", "email": SAM, "name": "Sam Student", "role": "tutor"});
    ts.admin_post("/api/admin/users", promoted)
        .await
        .assert_ok();
    ts.get(&tokens.access_token, "/api/me")
        .await
        .assert_error(401, "invalid_token");
    // Refreshing issues a token with the new role.
    let fresh: AuthTokens = ts.refresh(&tokens.refresh_token).await.json();
    assert_eq!(fresh.user.role, Role::Tutor);
    let me = ts.get(&fresh.access_token, "/api/me").await;
    assert_eq!(me.body["role"], "tutor");
}

#[tokio::test]
async fn user_provisioned_without_password_signs_in_only_through_the_platform() {
    let ts = TestServer::start().await;
    let sso_only =
        json!({"id": "s-sso", "email": "sso@school.test", "name": "Sso Only", "role": "student"});
    ts.admin_post("/api/admin/users", sso_only)
        .await
        .assert_ok();
    ts.try_login("sso@school.test", PASSWORD)
        .await
        .assert_error(401, "invalid_credentials");
    ts.try_login("sso@school.test", "timing-equaliser")
        .await
        .assert_error(401, "invalid_credentials");
    let token = mint(JWT_SECRET, "s-sso", "student", 600);
    let me = ts.get(&token, "/api/me").await;
    me.assert_ok();
    assert_eq!(me.body["email"], "sso@school.test");
}
