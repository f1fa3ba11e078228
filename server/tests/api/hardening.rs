//! Hostile and careless clients: what they cost the server and what they learn. Each test is
//! an attack from the hardening review, made against a real server on 127.0.0.1.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::testing::*;
use crate::wsclient::{ws_url, Ended, WsClient};

/// Reads until the peer closes; true if it did within `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

fn addr(ts: &TestServer) -> String {
    ts.base.trim_start_matches("http://").to_owned()
}

#[tokio::test]
async fn logins_beyond_the_password_workers_and_queue_are_refused_not_queued() {
    let ts = TestServer::start_with(&["--password-workers", "1", "--password-queue", "2"]).await;
    let attempts: Vec<_> = (0..24)
        .map(|i| {
            let http = ts.http.clone();
            let url = ts.url("/api/auth/login");
            tokio::spawn(async move {
                let body = json!({"email": format!("nobody{i}@example.test"), "password": "x"});
                Reply::from_response(http.post(url).json(&body).send().await.expect("send")).await
            })
        })
        .collect();
    let mut refused = 0;
    for attempt in attempts {
        let reply = attempt.await.expect("task");
        match reply.status.as_u16() {
            401 => assert_eq!(reply.code(), "invalid_credentials"),
            429 => {
                assert_eq!(reply.code(), "rate_limited");
                assert!(reply.headers.get("retry-after").is_some());
                refused += 1;
            }
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    assert!(
        refused > 0,
        "24 logins cannot all fit one worker and two queue slots"
    );
    // Once the burst has passed, logins work again.
    ts.login(SAM).await;
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let ts = TestServer::start_with(&["--header-read-timeout-secs", "1"]).await;
    let mut slow = TcpStream::connect(addr(&ts)).await.expect("connect");
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let mut silent = TcpStream::connect(addr(&ts)).await.expect("connect");
    assert!(closed_within(&mut slow, Duration::from_secs(10)).await);
    assert!(closed_within(&mut silent, Duration::from_secs(10)).await);
}

#[tokio::test]
async fn one_address_cannot_hold_more_than_its_share_of_connections() {
    let ts = TestServer::start_with(&["--max-connections-per-ip", "4"]).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(addr(&ts)).await.expect("connect"));
    }
    // Let the server count them.
    ts.http.get(ts.url("/healthz")).send().await.ok();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut over = TcpStream::connect(addr(&ts)).await.expect("tcp accept");
    over.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .ok();
    assert!(
        closed_within(&mut over, Duration::from_secs(5)).await,
        "the fifth connection from one address is closed"
    );
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let reply = reqwest::get(ts.url("/healthz")).await.expect("health");
    assert!(
        reply.status().is_success(),
        "a freed slot can be used again"
    );
}

#[tokio::test]
async fn a_body_announced_over_the_limit_is_refused_at_once() {
    let ts = TestServer::start().await;
    let mut stream = TcpStream::connect(addr(&ts)).await.expect("connect");
    stream
        .write_all(
            b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 1000000000000\r\n\r\n{}",
        )
        .await
        .expect("write");
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let n = stream.read(&mut buf).await.expect("read");
            answer.extend_from_slice(&buf[..n]);
            if n == 0 || String::from_utf8_lossy(&answer).contains("payload_too_large") {
                return;
            }
        }
    })
    .await;
    let text = String::from_utf8_lossy(&answer);
    assert!(
        read.is_ok(),
        "answered without waiting for the body: {text}"
    );
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains(r#""code":"payload_too_large""#), "{text}");
}

#[tokio::test]
async fn a_tutor_learns_nothing_about_the_buyers_of_a_course_they_do_not_teach() {
    let ts = TestServer::start().await;
    let ada = ts.token(ADA).await;
    // Ada does not teach algo-201; Sam bought it, Maya did not.
    for student in ["s-sam", "s-maya"] {
        let reply = ts
            .create_chat(&ada, with_student("algo-201", student))
            .await;
        reply.assert_error(403, "not_course_tutor");
    }
}

#[tokio::test]
async fn every_refusal_before_a_handler_is_a_json_error() {
    let ts = TestServer::start().await;
    let wrong_method = ts.anonymous(Method::PUT, "/api/auth/login", None).await;
    wrong_method.assert_error(405, "method_not_allowed");
    let mut request = ts.http.get(ts.url("/healthz"));
    for i in 0..100 {
        request = request.header(format!("x-filler-{i}"), "1");
    }
    let too_many = Reply::from_response(request.send().await.expect("send")).await;
    too_many.assert_error(431, "headers_too_large");
}

#[tokio::test]
async fn an_import_with_unknown_or_no_fields_is_refused() {
    let ts = TestServer::start().await;
    for body in [
        json!([]),
        json!({}),
        json!({"enrolments": [{"course_id": "rust-101", "student_id": "s-leo", "active": true}]}),
        json!({"users": [], "surprise": 1}),
    ] {
        let reply = ts.admin_post("/api/admin/import", body.clone()).await;
        assert_eq!(reply.status.as_u16(), 422, "{body}: {}", reply.body);
        assert_eq!(reply.code(), "validation", "{body}");
    }
}

#[tokio::test]
async fn an_unknown_message_kind_is_a_validation_error_tied_to_the_message() {
    let ts = TestServer::start().await;
    let sam = ts.token(SAM).await;
    let mut ws = WsClient::connect(&ts, &sam).await;
    ws.send(json!({
        "type": "send_message", "chat_id": SAM_ADA_CHAT, "client_id": "kind-1",
        "content": "hi", "kind": "video"
    }))
    .await;
    let refusal = ws.recv_reply("kind-1").await;
    assert_eq!(
        (
            refusal["code"].as_str(),
            refusal["field"].as_str(),
            refusal["chat_id"].as_i64()
        ),
        (Some("validation"), Some("kind"), Some(SAM_ADA_CHAT))
    );
}

#[tokio::test]
async fn a_frame_over_the_hard_cap_closes_with_1009() {
    let ts = TestServer::start_with(&["--ws-max-frame-bytes", "4096"]).await;
    let sam = ts.token(SAM).await;
    let mut ws = WsClient::connect(&ts, &sam).await;
    // The hard cap is four times the configured maximum (at least 16 KiB).
    ws.send_text("x".repeat(200_000)).await;
    assert!(matches!(
        ws.expect_close().await,
        Ended::Closed { code: 1009, .. }
    ));
}

#[tokio::test]
async fn a_sync_naming_many_foreign_chats_costs_one_error_and_few_audit_rows() {
    let ts = TestServer::start_with(&["--ws-frame-rate-per-second", "1000"]).await;
    let sam = ts.token(SAM).await;
    let mut ws = WsClient::connect(&ts, &sam).await;
    let cursors: Vec<Value> = (1000..2700)
        .map(|chat| json!({"chat_id": chat, "after_seq": 0}))
        .collect();
    ws.send(json!({"type": "sync", "cursors": cursors})).await;
    let errors = ws.collect_type("error", Duration::from_secs(2)).await;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["code"], "not_participant");
    // More probes: the audit log grows by a bounded number of rows, not one per chat.
    for chat in 5000..5100 {
        let _ = ts.get(&sam, &format!("/api/chats/{chat}")).await;
    }
    let denials = ts.audit("access_denied").await;
    assert!(
        !denials.is_empty() && denials.len() <= 40,
        "{} audit rows",
        denials.len()
    );
}

#[tokio::test]
async fn binary_and_oversized_frames_count_against_the_frame_rate() {
    let ts = TestServer::start_with(&[
        "--ws-frame-rate-per-second",
        "1",
        "--ws-frame-burst",
        "5",
        "--ws-max-frame-bytes",
        "1024",
    ])
    .await;
    let sam = ts.token(SAM).await;
    let mut ws = WsClient::connect(&ts, &sam).await;
    for i in 0..10 {
        if i % 2 == 0 {
            ws.send_binary(vec![0; 16]).await;
        } else {
            ws.send_text("y".repeat(2000)).await;
        }
    }
    let errors = ws.collect_type("error", Duration::from_secs(1)).await;
    assert!(
        errors.iter().any(|e| e["code"] == "rate_limited"),
        "{errors:?}"
    );
}

#[tokio::test]
async fn refresh_is_rate_limited_per_address() {
    let ts = TestServer::start_with(&["--refresh-rate-per-minute", "3"]).await;
    let mut codes = Vec::new();
    for _ in 0..5 {
        codes.push(ts.refresh("not-a-token").await.code().to_owned());
    }
    assert_eq!(&codes[..3], ["invalid_refresh_token"; 3]);
    assert_eq!(codes[4], "rate_limited");
}

#[tokio::test]
async fn a_blocked_or_unenrolled_user_cannot_show_typing() {
    let ts = TestServer::start().await;
    let (sam, ada) = (ts.token(SAM).await, ts.token(ADA).await);
    let mut ada_ws = WsClient::connect(&ts, &ada).await;
    ada_ws
        .send(json!({"type": "join_chat", "chat_id": SAM_ADA_CHAT}))
        .await;
    ada_ws.recv_type("chat_joined").await;
    let mut sam_ws = WsClient::connect(&ts, &sam).await;
    ts.post(&ada, "/api/users/s-sam/block", json!({}))
        .await
        .assert_ok();
    sam_ws
        .send(json!({"type": "typing_start", "chat_id": SAM_ADA_CHAT}))
        .await;
    assert_eq!(sam_ws.recv_type("error").await["code"], "blocked");
    let typing = ada_ws
        .collect_type("typing_indicator", Duration::from_millis(500))
        .await;
    assert!(typing.is_empty(), "the blocker saw {typing:?}");

    ts.delete(&ada, "/api/users/s-sam/block").await.assert_ok();
    ts.revoke_enrollment("rust-101", "s-sam").await;
    sam_ws
        .send(json!({"type": "typing_start", "chat_id": SAM_ADA_CHAT}))
        .await;
    assert_eq!(sam_ws.recv_type("error").await["code"], "not_enrolled");
}

#[tokio::test]
async fn logout_ends_the_sessions_access_token_and_sockets_now() {
    let ts = TestServer::start().await;
    let session = ts.login(SAM).await;
    let other = ts.login(SAM).await;
    let mut ws = WsClient::connect(&ts, &session.access_token).await;
    let reply = ts
        .anonymous(
            Method::POST,
            "/api/auth/logout",
            Some(json!({"refresh_token": session.refresh_token})),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 204);
    assert!(matches!(
        ws.expect_close().await,
        Ended::Closed { code: 4001, .. }
    ));
    ts.get(&session.access_token, "/api/me")
        .await
        .assert_error(401, "invalid_token");
    // The same user's other session is untouched.
    ts.get(&other.access_token, "/api/me").await.assert_ok();
    // And a restart does not forget the sign-out.
    let mut ts = ts;
    ts.restart().await;
    ts.get(&session.access_token, "/api/me")
        .await
        .assert_error(401, "invalid_token");
}

#[tokio::test]
async fn a_user_may_hold_only_so_many_sockets() {
    let ts = TestServer::start_with(&["--max-connections-per-user", "2"]).await;
    let sam = ts.token(SAM).await;
    let _a = WsClient::connect(&ts, &sam).await;
    let _b = WsClient::connect(&ts, &sam).await;
    let mut request = ws_url(&ts).into_client_request().expect("request");
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {sam}").parse().expect("header"),
    );
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 429);
        }
        other => panic!("a third socket was not refused: {:?}", other.map(|_| ())),
    }
    // Another user is not affected.
    let ada = ts.token(ADA).await;
    WsClient::connect(&ts, &ada).await;
}

#[tokio::test]
async fn a_platform_token_that_lives_too_long_is_refused() {
    let ts = TestServer::start_with(&["--max-token-lifetime-secs", "3600"]).await;
    let forever = mint(JWT_SECRET, "s-sam", "student", 10 * 365 * 86_400);
    ts.get(&forever, "/api/me")
        .await
        .assert_error(401, "invalid_token");
    let hour = mint(JWT_SECRET, "s-sam", "student", 3000);
    ts.get(&hour, "/api/me").await.assert_ok();
}

#[tokio::test]
async fn a_refresh_replayed_after_a_crash_gets_the_same_tokens_and_keeps_the_session() {
    let ts = TestServer::start().await;
    let first = ts.login(SAM).await;
    let a = ts.refresh(&first.refresh_token).await;
    a.assert_ok();
    // The client died before saving the answer and presents the old token again.
    let b = ts.refresh(&first.refresh_token).await;
    b.assert_ok();
    assert_eq!(a.body["refresh_token"], b.body["refresh_token"]);
    let next = b.body["refresh_token"].as_str().expect("token").to_owned();
    ts.refresh(&next).await.assert_ok();
    // Once the successor is spent, the old token is theft and ends the session.
    ts.refresh(&first.refresh_token)
        .await
        .assert_error(401, "invalid_refresh_token");
    assert_eq!(ts.audit("refresh_reuse").await.len(), 1);
}

#[tokio::test]
async fn metrics_are_for_the_operator_only() {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
    let metrics_addr = probe.local_addr().expect("addr");
    drop(probe);
    let listen = metrics_addr.to_string();
    let ts = TestServer::start_with(&["--metrics-listen", &listen]).await;
    let sam = ts.token(SAM).await;
    ts.send(&sam, SAM_ADA_CHAT, "metric-1", "counted")
        .await
        .assert_ok();
    ts.get(&sam, "/metrics")
        .await
        .assert_error(403, "forbidden");
    let as_operator = ts.get(ADMIN_TOKEN, "/metrics").await;
    assert!(as_operator.status.is_success());
    let text = reqwest::get(format!("http://{metrics_addr}/metrics"))
        .await
        .expect("scrape")
        .text()
        .await
        .expect("body");
    for name in [
        "tutorchat_messages_stored_total 1",
        "tutorchat_websockets_open",
        "tutorchat_commit_batch_jobs_bucket",
        "tutorchat_ack_seconds_bucket",
        "tutorchat_password_verifications_in_flight",
    ] {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
}

#[test]
fn logs_can_be_json_lines_for_a_collector() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = std::process::Command::new(ServerProcess::binary())
        .args([
            "--listen",
            "127.0.0.1:0",
            "--log",
            "info",
            "--log-format",
            "json",
        ])
        .arg("--data-dir")
        .arg(dir.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the server binary starts");
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut listening = None;
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(30)) {
        let entry: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line}"));
        if entry["message"] == "listening" {
            listening = Some(entry);
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let entry = listening.expect("a `listening` log entry");
    assert_eq!(entry["level"], "INFO");
    assert!(entry["local_addr"].as_str().is_some(), "{entry}");
}

#[tokio::test]
async fn a_connection_that_never_spoke_does_not_hold_the_shutdown() {
    let mut ts = TestServer::start_with(&[
        "--header-read-timeout-secs",
        "60",
        "--shutdown-grace-secs",
        "60",
    ])
    .await;
    let _silent = TcpStream::connect(addr(&ts)).await.expect("connect");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let server = ts.server.take().expect("running");
    let stopped = tokio::time::timeout(Duration::from_secs(15), server.shutdown()).await;
    assert!(
        stopped.is_ok(),
        "a silent connection held the shutdown for its whole header timeout"
    );
}
