//! The outbox: a message written without a server is shown at once, survives a restart of the
//! client, and is delivered exactly once and in order when the server is back.

use std::process::Command;
use std::time::Duration;

use tutorchat_client::Client;
use tutorchat_shared::app::{AppEvent, DeliveryState};
use tutorchat_shared::{ErrorCode, MessageKind};

use crate::harness::{device, eventually, signed_in, wait_event, TestServer, ADA, SAM, SAM_ADA};

/// Starts the stopped server, tells `sam` the network is back, waits for the outbox to drain,
/// and returns what Ada reads in their chat after the demo's history.
async fn delivered_after_reconnect(server: &mut TestServer, sam: &Client) -> Vec<String> {
    server.start().await;
    sam.network_changed().await;
    eventually("the outbox to drain", || async {
        sam.outbox().await.expect("outbox").is_empty()
    })
    .await;
    let ada = server.token(ADA).await;
    server.contents_after(&ada, 1, 122).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_sent_while_the_server_is_down_is_delivered_once_when_it_returns() {
    let mut server = TestServer::started(&[]).await;
    let dir = tempfile::tempdir().expect("dir");
    let sam = signed_in(&server.url(), dir.path(), SAM).await;
    assert!(sam.wait_online(Duration::from_secs(10)).await, "first sync");
    server.stop().await;

    let mut events = sam.events();
    let first = sam
        .send(SAM_ADA, MessageKind::Text, "written offline, one")
        .await
        .expect("queued");
    let second = sam
        .send(SAM_ADA, MessageKind::Text, "written offline, two")
        .await
        .expect("queued");
    assert_eq!(first.state, DeliveryState::Pending);
    let page = sam
        .messages(SAM_ADA, None, 5)
        .await
        .expect("page from the cache");
    let tail: Vec<_> = page
        .messages
        .iter()
        .rev()
        .take(2)
        .map(|m| (m.content.as_str(), m.state))
        .collect();
    assert_eq!(
        tail,
        [
            ("written offline, two", DeliveryState::Pending),
            ("written offline, one", DeliveryState::Pending)
        ],
        "the local echo shows at once, pending"
    );
    let chats = sam.chats().await.expect("chats");
    assert_eq!(chats[0].pending, 2);

    server.start().await;
    sam.network_changed().await;
    for expected in [&first, &second] {
        wait_event(&mut events, "the ack", |e| {
            matches!(e, AppEvent::MessageUpserted { message } if message.client_id == expected.client_id && message.state == DeliveryState::Sent)
        })
        .await;
    }
    let ada = server.token(ADA).await;
    let contents = server.contents_after(&ada, 1, 122).await;
    assert_eq!(
        contents,
        ["written offline, one", "written offline, two"],
        "once each, in order"
    );
    assert!(sam.outbox().await.expect("outbox").is_empty());
    let page = sam.messages(SAM_ADA, None, 2).await.expect("page");
    assert!(
        page.messages
            .iter()
            .all(|m| m.seq.is_some() && m.state == DeliveryState::Sent),
        "{page:?}"
    );
    sam.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_queued_by_a_client_process_that_exited_is_delivered_by_the_next_one() {
    let mut server = TestServer::started(&[]).await;
    let dir = tempfile::tempdir().expect("dir");
    let url = server.url();
    let cli = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_tutorchat"))
            .args(["--server", &url, "--credentials", "file", "--data-dir"])
            .arg(dir.path())
            .args(args)
            .env("TUTORCHAT_LOG", "error")
            .output()
            .expect("the CLI runs")
    };
    let login = cli(&["login", "--email", SAM, "--password", "tutorchat-demo"]);
    assert!(
        login.status.success(),
        "{}",
        String::from_utf8_lossy(&login.stderr)
    );
    assert!(cli(&["sync", "--timeout", "10"]).status.success());
    server.stop().await;

    let sent = cli(&["send", "1", "from a process that will exit", "--wait", "1"]);
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    assert!(
        String::from_utf8_lossy(&sent.stdout).contains("pending"),
        "{}",
        String::from_utf8_lossy(&sent.stdout)
    );
    let outbox = cli(&["outbox"]);
    assert!(String::from_utf8_lossy(&outbox.stdout).contains("from a process that will exit"));
    let blank = cli(&["send", "1", "   "]);
    assert!(!blank.status.success(), "blank input is refused");
    let said = String::from_utf8_lossy(&blank.stderr);
    assert_eq!(
        said.matches("must not be empty").count(),
        1,
        "the rule's text, once: {said}"
    );
    let offline_sync = cli(&["sync", "--timeout", "1"]);
    assert_eq!(
        offline_sync.status.code(),
        Some(2),
        "not synced while the server is down"
    );

    server.start().await;
    let synced = cli(&["sync", "--timeout", "15"]);
    assert!(
        synced.status.success(),
        "{}",
        String::from_utf8_lossy(&synced.stderr)
    );
    let again = cli(&["sync", "--timeout", "15"]);
    assert!(again.status.success());
    let ada = server.token(ADA).await;
    assert_eq!(
        server.contents_after(&ada, 1, 122).await,
        ["from a process that will exit"]
    );
    let outbox = cli(&["outbox"]);
    assert!(String::from_utf8_lossy(&outbox.stdout).contains("empty"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_offline_messages_flush_in_order_with_none_lost_or_doubled() {
    let mut server = TestServer::started(&[]).await;
    let dir = tempfile::tempdir().expect("dir");
    let sam = signed_in(&server.url(), dir.path(), SAM).await;
    assert!(sam.wait_online(Duration::from_secs(10)).await);
    server.stop().await;
    let expected: Vec<String> = (0..1000)
        .map(|i| format!("offline message {i:04}"))
        .collect();
    for text in &expected {
        sam.send(SAM_ADA, MessageKind::Text, text)
            .await
            .expect("queued");
    }
    assert_eq!(sam.outbox().await.expect("outbox").len(), 1000);
    // A client restart in the middle changes nothing.
    sam.close().await;
    drop(sam);
    let sam = device(&server.url(), dir.path()).await;
    assert_eq!(
        sam.outbox().await.expect("outbox").len(),
        1000,
        "the outbox survived the restart"
    );

    assert_eq!(delivered_after_reconnect(&mut server, &sam).await, expected);
    let page = sam.messages(SAM_ADA, None, 3).await.expect("page");
    assert_eq!(page.messages.last().and_then(|m| m.seq), Some(1122));
    sam.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backlog_the_server_rate_limits_midway_arrives_in_order_once() {
    // The backlog goes in batches larger than the burst: the server refuses the rest of a batch
    // once one is over the rate, the client holds the chat and resends from the refused one.
    let mut server =
        TestServer::started(&["--message-rate-per-second", "40", "--message-burst", "10"]).await;
    let dir = tempfile::tempdir().expect("dir");
    let sam = signed_in(&server.url(), dir.path(), SAM).await;
    assert!(sam.wait_online(Duration::from_secs(10)).await);
    server.stop().await;
    let expected: Vec<String> = (0..60).map(|i| format!("held back {i:03}")).collect();
    for text in &expected {
        sam.send(SAM_ADA, MessageKind::Text, text)
            .await
            .expect("queued");
    }
    assert_eq!(delivered_after_reconnect(&mut server, &sam).await, expected);
    sam.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_permanent_failure_is_marked_and_does_not_block_the_messages_behind_it() {
    // Written while the server allowed 4,000 characters; it comes back allowing 20, so the
    // long message reaches the server and is refused there for good.
    let mut server = TestServer::started(&[]).await;
    let dir = tempfile::tempdir().expect("dir");
    let sam = signed_in(&server.url(), dir.path(), SAM).await;
    let mut events = sam.events();
    assert!(sam.wait_online(Duration::from_secs(10)).await);
    server.stop().await;
    let long = sam
        .send(
            SAM_ADA,
            MessageKind::Text,
            "this one is far too long for the server",
        )
        .await
        .expect("queued");
    let short = sam
        .send(SAM_ADA, MessageKind::Text, "short one")
        .await
        .expect("queued");
    server.set_extra(&["--max-message-chars", "20"]);
    server.start().await;
    sam.network_changed().await;
    let failed = wait_event(&mut events, "the failure", |e| {
        matches!(e, AppEvent::MessageUpserted { message } if message.client_id == long.client_id && message.state == DeliveryState::Failed)
    })
    .await;
    let AppEvent::MessageUpserted { message } = failed else {
        unreachable!()
    };
    assert_eq!(message.failure.map(|f| f.code), Some(ErrorCode::Validation));
    wait_event(&mut events, "the next message's ack", |e| {
        matches!(e, AppEvent::MessageUpserted { message } if message.client_id == short.client_id && message.state == DeliveryState::Sent)
    })
    .await;
    let outbox = sam.outbox().await.expect("outbox");
    assert_eq!(outbox.len(), 1, "only the failed one stays");
    assert_eq!(outbox[0].state, DeliveryState::Failed);
    let chats = sam.chats().await.expect("chats");
    assert_eq!((chats[0].pending, chats[0].failed), (0, 1));

    // Retry fails again the same way; discard removes it for good.
    assert!(sam.retry(&long.client_id).await.expect("retry"));
    wait_event(&mut events, "the second failure", |e| {
        matches!(e, AppEvent::MessageUpserted { message } if message.client_id == long.client_id && message.state == DeliveryState::Failed)
    })
    .await;
    assert!(sam.discard(&long.client_id).await.expect("discard"));
    assert!(sam.outbox().await.expect("outbox").is_empty());
    let ada = server.token(ADA).await;
    assert_eq!(server.contents_after(&ada, 1, 122).await, ["short one"]);
    sam.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_refused_before_the_outbox() {
    let server = TestServer::started(&[]).await;
    let dir = tempfile::tempdir().expect("dir");
    let sam = signed_in(&server.url(), dir.path(), SAM).await;
    let err = sam
        .send(SAM_ADA, MessageKind::Text, "   ")
        .await
        .expect_err("blank");
    assert_eq!(err.code(), ErrorCode::Validation);
    assert!(sam
        .send(tutorchat_shared::ChatId(999), MessageKind::Text, "hi")
        .await
        .is_err());
    assert!(
        sam.outbox().await.expect("outbox").is_empty(),
        "nothing was written"
    );
    sam.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn input_is_checked_against_the_limits_the_server_published_even_offline() {
    let mut server = TestServer::started(&["--max-message-chars", "20"]).await;
    let dir = tempfile::tempdir().expect("dir");
    let sam = signed_in(&server.url(), dir.path(), SAM).await;
    assert!(sam.wait_online(Duration::from_secs(10)).await);
    assert_eq!(sam.limits().await.expect("limits").max_text_chars, 20);
    sam.close().await;
    drop(sam);

    // The next start is offline: the limits it learned still hold.
    server.stop().await;
    let sam = device(&server.url(), dir.path()).await;
    let err = sam
        .send(SAM_ADA, MessageKind::Text, &"x".repeat(21))
        .await
        .expect_err("over the server's limit");
    assert_eq!(err.code(), ErrorCode::Validation);
    assert!(sam.outbox().await.expect("outbox").is_empty());
    sam.send(SAM_ADA, MessageKind::Text, &"x".repeat(20))
        .await
        .expect("at the limit");
    assert_eq!(sam.outbox().await.expect("outbox").len(), 1);
    sam.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_that_reached_the_server_without_its_ack_is_listed_once_after_the_next_sync() {
    let mut server = TestServer::started(&[]).await;
    let dir = tempfile::tempdir().expect("dir");
    let sam = signed_in(&server.url(), dir.path(), SAM).await;
    assert!(sam.wait_online(Duration::from_secs(10)).await);
    server.stop().await;
    let text = "reached the server, its ack did not";
    let local = sam
        .send(SAM_ADA, MessageKind::Text, text)
        .await
        .expect("queued");
    sam.close().await;
    drop(sam);

    // The process sent it and ended before the ack was applied: the server has it.
    server.start().await;
    let token = server.token(SAM).await;
    let stored = server
        .rest(
            reqwest::Method::POST,
            "/api/chats/1/messages",
            &token,
            Some(serde_json::json!({"client_id": local.client_id, "content": text})),
        )
        .await;
    assert_eq!(stored["message"]["seq"], 123, "{stored}");
    // And the school lowered its limit since: the resend from the outbox is refused for good,
    // so only the catch-up can tell this device the message was delivered.
    server.stop().await;
    server.set_extra(&["--max-message-chars", "20"]);
    server.start().await;

    let sam = device(&server.url(), dir.path()).await;
    assert!(sam.wait_online(Duration::from_secs(10)).await);
    eventually("the catch-up to settle the outbox", || async {
        sam.outbox().await.expect("outbox").is_empty()
    })
    .await;
    // Let the refused resend come back too: it must not bring the row back.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(sam.outbox().await.expect("outbox").is_empty());
    let page = sam.messages(SAM_ADA, None, 10).await.expect("page");
    let listed: Vec<_> = page
        .messages
        .iter()
        .filter(|m| m.client_id == local.client_id)
        .map(|m| (m.seq, m.state))
        .collect();
    assert_eq!(listed, [(Some(123), DeliveryState::Sent)], "{page:?}");
    sam.close().await;
}
