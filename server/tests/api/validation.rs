//! Bad input: every refusal is a JSON error with a stable code (422 naming the field, 413, 404,
//! 429), and a refused message stores nothing.

use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::testing::{text, Reply, TestServer, SAM, SAM_ADA_CHAT, SAM_ADA_MESSAGES};

/// Sends `body` to chat 1 as Sam and checks it is refused for `field` with nothing stored.
async fn assert_refused(ts: &TestServer, sam: &str, body: Value, field: &str) {
    let reply = ts
        .post(
            sam,
            &format!("/api/chats/{SAM_ADA_CHAT}/messages"),
            body.clone(),
        )
        .await;
    assert_eq!(
        (
            reply.status.as_u16(),
            reply.code(),
            reply.body["field"].as_str()
        ),
        (422, "validation", Some(field)),
        "{body} answered {}",
        reply.body
    );
    assert_eq!(
        ts.chat(sam, SAM_ADA_CHAT).await.last_seq,
        SAM_ADA_MESSAGES,
        "{body} stored something"
    );
}

#[tokio::test]
async fn blank_text_is_refused_and_nothing_is_stored() {
    let ts = TestServer::start().await;
    let sam = ts.token(SAM).await;
    for blank in ["", "   ", "\n\t "] {
        assert_refused(&ts, &sam, text("blank", blank), "content").await;
    }
}

#[tokio::test]
async fn text_over_the_configured_length_is_refused() {
    let ts = TestServer::start_with(&["--max-message-chars", "10"]).await;
    let sam = ts.token(SAM).await;
    assert_refused(&ts, &sam, text("long", "eleven char"), "content").await;
    assert_refused(&ts, &sam, text("long-utf8", "ééééééééééé"), "content").await;
    // Exactly at the limit, counted in characters, not bytes.
    let reply = ts
        .send(&sam, SAM_ADA_CHAT, "at-limit", "日本語日本語日本語日")
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
}

#[tokio::test]
async fn the_configured_limits_are_published_to_anyone_who_asks() {
    let ts = TestServer::start_with(&[
        "--max-message-chars",
        "10",
        "--max-url-chars",
        "300",
        "--max-upload-bytes",
        "2048",
        "--upload-types",
        "image/png,application/pdf",
        "--max-image-pixels",
        "100",
    ])
    .await;
    let reply = ts.anonymous(Method::GET, "/api/config", None).await;
    reply.assert_ok();
    assert_eq!(
        reply.body,
        serde_json::json!({
            "limits": {"max_text_chars": 10, "max_url_chars": 300},
            "uploads": {"max_bytes": 2048, "quota_bytes": 1_073_741_824u64,
                        "image_types": ["image/png"],
                        "allowed_types": ["image/png", "application/pdf"],
                        "max_image_pixels": 100},
            "archive_after_days": 90,
        })
    );
}

#[tokio::test]
async fn control_characters_are_refused() {
    let ts = TestServer::start().await;
    let sam = ts.token(SAM).await;
    for bad in ["bell \u{7}", "nul \u{0}", "line\r\nbreak", "esc \u{1b}[31m"] {
        assert_refused(&ts, &sam, text("ctrl", bad), "content").await;
    }
    // Newlines and tabs are text.
    let reply = ts
        .send(&sam, SAM_ADA_CHAT, "ok-ws", "line one\n\tline two")
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
}

#[tokio::test]
async fn an_image_or_file_names_an_upload_and_a_text_none() {
    let ts = TestServer::start().await;
    let sam = ts.token(SAM).await;
    for (kind, attachment) in [("image", None), ("file", None), ("text", Some("a1"))] {
        let mut body =
            json!({"client_id": "att", "kind": kind, "content": "https://cdn.example/a.png"});
        if let Some(a) = attachment {
            body["attachment_id"] = json!(a);
        }
        assert_refused(&ts, &sam, body, "attachment_id").await;
    }
    // A URL is no attachment: an image needs an upload of the sender's.
    let body = json!({"client_id": "img", "kind": "image", "content": "", "attachment_id": "nope"});
    let reply = ts
        .post(&sam, &format!("/api/chats/{SAM_ADA_CHAT}/messages"), body)
        .await;
    reply.assert_error(422, "attachment_unavailable");
}

#[tokio::test]
async fn bad_client_ids_are_refused() {
    let ts = TestServer::start().await;
    let sam = ts.token(SAM).await;
    assert_refused(&ts, &sam, text("", "hello"), "client_id").await;
    assert_refused(&ts, &sam, text("has space", "hello"), "client_id").await;
    assert_refused(&ts, &sam, text(&"x".repeat(129), "hello"), "client_id").await;
}

#[tokio::test]
async fn malformed_json_is_a_validation_error() {
    let ts = TestServer::start().await;
    let sam = ts.token(SAM).await;
    let url = ts.url(&format!("/api/chats/{SAM_ADA_CHAT}/messages"));
    let send = |body: &'static str, content_type: &'static str| {
        ts.http
            .post(&url)
            .bearer_auth(&sam)
            .header(CONTENT_TYPE, content_type)
            .body(body)
            .send()
    };
    for body in [
        "{not json",
        "[]",
        r#"{"client_id": 7, "content": "x"}"#,
        r#"{"content": "x"}"#,
    ] {
        let reply = Reply::from_response(send(body, "application/json").await.expect("send")).await;
        reply.assert_invalid("body");
    }
    let reply = Reply::from_response(send("{}", "text/plain").await.expect("send")).await;
    reply.assert_invalid("body");
    let reply = ts
        .anonymous(Method::POST, "/api/auth/login", Some(json!({"email": "x"})))
        .await;
    reply.assert_invalid("body");
    assert_eq!(ts.chat(&sam, SAM_ADA_CHAT).await.last_seq, SAM_ADA_MESSAGES);
}

#[tokio::test]
async fn body_over_the_configured_size_is_too_large() {
    let ts = TestServer::start_with(&["--max-body-bytes", "1024"]).await;
    let sam = ts.token(SAM).await;
    let reply = ts.send(&sam, SAM_ADA_CHAT, "big", &"a".repeat(4096)).await;
    reply.assert_error(413, "payload_too_large");
    assert_eq!(ts.chat(&sam, SAM_ADA_CHAT).await.last_seq, SAM_ADA_MESSAGES);
    // Small bodies still pass.
    let reply = ts.send(&sam, SAM_ADA_CHAT, "small", "fits").await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
}

#[tokio::test]
async fn imports_may_be_larger_than_ordinary_bodies() {
    let ts = TestServer::start_with(&["--max-body-bytes", "1024"]).await;
    let users: Vec<Value> = (0..40)
        .map(|i| {
            json!({"id": format!("s-bulk-{i}"), "email": format!("bulk{i}@school.test"),
            "name": format!("Bulk student number {i}"), "role": "student"})
        })
        .collect();
    let batch = json!({"users": users});
    assert!(batch.to_string().len() > 2048);
    let reply = ts.admin_post("/api/admin/import", batch).await;
    reply.assert_ok();
    assert_eq!(reply.body["users"], 40);
}

#[tokio::test]
async fn non_numeric_chat_id_is_a_validation_error() {
    let ts = TestServer::start().await;
    let sam = ts.token(SAM).await;
    ts.get(&sam, "/api/chats/abc").await.assert_invalid("path");
    ts.get(&sam, "/api/chats/abc/messages")
        .await
        .assert_invalid("path");
    ts.post(&sam, "/api/chats/1.5/messages", text("x", "y"))
        .await
        .assert_invalid("path");
}

#[tokio::test]
async fn unknown_route_is_a_json_not_found() {
    let ts = TestServer::start().await;
    let sam = ts.token(SAM).await;
    for reply in [
        ts.get(&sam, "/api/no-such-thing").await,
        ts.anonymous(Method::GET, "/nowhere", None).await,
        ts.get(&sam, "/api/chats/1/nope").await,
    ] {
        reply.assert_error(404, "not_found");
        assert!(reply.headers[CONTENT_TYPE]
            .to_str()
            .is_ok_and(|t| t.starts_with("application/json")));
    }
}

#[tokio::test]
async fn sends_over_the_message_rate_are_refused() {
    let ts =
        TestServer::start_with(&["--message-rate-per-second", "1", "--message-burst", "2"]).await;
    let sam = ts.token(SAM).await;
    for i in 0..2 {
        let reply = ts
            .send(&sam, SAM_ADA_CHAT, &format!("quick-{i}"), "quick")
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }
    let limited = ts.send(&sam, SAM_ADA_CHAT, "quick-2", "too quick").await;
    limited.assert_error(429, "rate_limited");
    assert_eq!(limited.body["retry_after_secs"], 1);
    assert_eq!(
        limited.headers.get(RETRY_AFTER).map(|v| v.as_bytes()),
        Some(&b"1"[..])
    );
    assert_eq!(limited.body["client_id"], "quick-2");
    assert_eq!(
        ts.chat(&sam, SAM_ADA_CHAT).await.last_seq,
        SAM_ADA_MESSAGES + 2
    );

    // A retry of a stored message is not a new message: it is answered, not limited.
    let retry = ts.send(&sam, SAM_ADA_CHAT, "quick-0", "quick").await;
    assert_eq!(retry.status, StatusCode::OK, "{}", retry.body);
    assert_eq!(retry.body["duplicate"], true);
    // The limit is per user: Ada is unaffected.
    let ada = ts.token(crate::testing::ADA).await;
    let reply = ts.send(&ada, SAM_ADA_CHAT, "ada-0", "hello").await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
}

#[tokio::test]
async fn requests_over_the_api_rate_are_refused_per_user() {
    let ts = TestServer::start_with(&["--api-rate-per-second", "1", "--api-burst", "2"]).await;
    let sam = ts.token(SAM).await;
    ts.get(&sam, "/api/me").await.assert_ok();
    ts.get(&sam, "/api/chats").await.assert_ok();
    let limited = ts.get(&sam, "/api/me").await;
    limited.assert_error(429, "rate_limited");
    assert!(limited.headers.contains_key(RETRY_AFTER));
    assert!(limited.body["retry_after_secs"]
        .as_u64()
        .is_some_and(|s| s >= 1));
    // Another user has their own budget; logging in is not an API call.
    let ada = ts.token(crate::testing::ADA).await;
    ts.get(&ada, "/api/me").await.assert_ok();
}
