//! The WebSocket layer: every device, in order, exactly once; presence, typing, read receipts,
//! sync after an absence, the gate and blocks on live sends, bad frames, rate limits, token
//! expiry, and durability of acknowledged messages across a crash.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{json, Value};

use crate::testing::{
    mint, ServerProcess, TestServer, ADA, ADMIN_TOKEN, GRACE, JWT_SECRET, LEO, SAM,
};
use crate::wsclient::{Ended, WsClient};

/// Chat 1 of the demo school: Sam and Ada in rust-101.
const SAM_ADA: i64 = 1;

fn seqs(frames: &[Value]) -> Vec<u64> {
    frames
        .iter()
        .map(|f| f["message"]["seq"].as_u64().expect("seq"))
        .collect()
}

#[tokio::test]
async fn one_send_reaches_the_three_other_devices_once_and_the_sender_gets_one_ack() {
    let ts = TestServer::start().await;
    let (sam, ada) = (ts.token(SAM).await, ts.token(ADA).await);
    let mut sam_phone = WsClient::connect(&ts, &sam).await;
    let mut sam_laptop = WsClient::connect(&ts, &sam).await;
    let mut ada_desk = WsClient::connect(&ts, &ada).await;
    let mut ada_phone = WsClient::connect(&ts, &ada).await;

    let ack = sam_phone
        .send_message(SAM_ADA, "c-1", "Is chapter 5 on the exam?")
        .await;
    assert_eq!(ack["type"], "message_ack", "{ack}");
    let message = &ack["message"];
    assert_eq!(message["seq"], 123, "demo chat had 122 messages");

    for device in [&mut sam_laptop, &mut ada_desk, &mut ada_phone] {
        let got = device.recv_type("message_received").await;
        assert_eq!(&got["message"], message);
        let more = device
            .collect_type("message_received", Duration::from_millis(300))
            .await;
        assert!(more.is_empty(), "delivered more than once: {more:?}");
    }
    let echoes = sam_phone
        .collect_type("message_received", Duration::from_millis(300))
        .await;
    assert!(
        echoes.is_empty(),
        "the sender's own device gets only the ack: {echoes:?}"
    );
}

#[tokio::test]
async fn a_resend_with_the_same_client_id_returns_the_original_and_stores_nothing() {
    let ts = TestServer::start().await;
    let (sam, ada) = (ts.token(SAM).await, ts.token(ADA).await);
    let mut sam_ws = WsClient::connect(&ts, &sam).await;
    let mut ada_ws = WsClient::connect(&ts, &ada).await;
    let first = sam_ws.send_message(SAM_ADA, "retry-me", "hello").await;
    let again = sam_ws.send_message(SAM_ADA, "retry-me", "hello").await;
    assert_eq!(first["message"], again["message"], "same id, same seq");
    ada_ws.recv_type("message_received").await;
    let extra = ada_ws
        .collect_type("message_received", Duration::from_millis(300))
        .await;
    assert!(extra.is_empty(), "a duplicate is not delivered again");
    let page = ts.get(&sam, "/api/chats/1/messages?limit=3").await;
    assert_eq!(page.body["last_seq"], 123);
}

#[tokio::test]
async fn a_device_that_was_away_gets_exactly_what_it_missed_in_order() {
    let ts = TestServer::start().await;
    let (sam, ada) = (ts.token(SAM).await, ts.token(ADA).await);
    let mut ada_ws = WsClient::connect(&ts, &ada).await;
    let sam_ws = WsClient::connect(&ts, &sam).await;
    sam_ws.close().await;
    for i in 0..25 {
        let ack = ada_ws
            .send_message(SAM_ADA, &format!("away-{i}"), &format!("note {i}"))
            .await;
        assert_eq!(ack["type"], "message_ack");
    }
    let mut sam_ws = WsClient::connect(&ts, &sam).await;
    sam_ws
        .send(json!({"type": "sync", "cursors": [{"chat_id": SAM_ADA, "after_seq": 122}]}))
        .await;
    let mut got = Vec::new();
    loop {
        let frame = sam_ws.recv().await;
        match frame["type"].as_str() {
            Some("sync_batch") => {
                got.extend(
                    frame["messages"]
                        .as_array()
                        .expect("messages")
                        .iter()
                        .cloned(),
                );
                assert!(frame["read_pointers"]
                    .as_array()
                    .is_some_and(|p| p.len() == 2));
            }
            Some("sync_complete") => break,
            Some("chat_created" | "user_online" | "user_offline") => {}
            other => panic!("unexpected frame {other:?}: {frame}"),
        }
    }
    let got: Vec<u64> = got
        .iter()
        .map(|m| m["seq"].as_u64().expect("seq"))
        .collect();
    assert_eq!(got, (123..=147).collect::<Vec<_>>());
}

#[tokio::test]
async fn sync_comes_in_bounded_batches_and_live_messages_are_not_doubled() {
    let ts = TestServer::start_with(&["--sync-batch", "10"]).await;
    let (sam, ada) = (ts.token(SAM).await, ts.token(ADA).await);
    let mut sam_ws = WsClient::connect(&ts, &sam).await;
    sam_ws
        .send(json!({"type": "sync", "cursors": [{"chat_id": SAM_ADA, "after_seq": 100}]}))
        .await;
    // A message stored while the sync runs must arrive once, after or inside the sync.
    let mut ada_ws = WsClient::connect(&ts, &ada).await;
    ada_ws
        .send_message(SAM_ADA, "during-sync", "live one")
        .await;
    let mut seen = Vec::new();
    let mut batches = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while tokio::time::Instant::now() < deadline {
        let Some(Ok(frame)) = sam_ws.next_within(Duration::from_millis(500)).await else {
            break;
        };
        match frame["type"].as_str() {
            Some("sync_batch") => {
                batches += 1;
                assert!(frame["messages"].as_array().is_some_and(|m| m.len() <= 10));
                for m in frame["messages"].as_array().into_iter().flatten() {
                    seen.push(m["seq"].as_u64().expect("seq"));
                }
            }
            Some("message_received") => seen.push(frame["message"]["seq"].as_u64().expect("seq")),
            _ => {}
        }
    }
    assert!(batches >= 3, "22 messages in batches of 10");
    assert_eq!(
        seen,
        (101..=123).collect::<Vec<_>>(),
        "no gap, no duplicate"
    );
}

#[tokio::test]
async fn sync_announces_chats_created_while_the_device_was_away() {
    let ts = TestServer::start().await;
    let (sam, alan) = (ts.token(SAM).await, ts.token("alan@tutorchat.test").await);
    let chat = ts
        .post(
            &alan,
            "/api/chats",
            json!({"course_id": "algo-201", "student_id": "s-sam"}),
        )
        .await;
    chat.assert_ok();
    let chat_id = chat.body["chat"]["id"].as_i64().expect("id");
    let mut sam_ws = WsClient::connect(&ts, &sam).await;
    sam_ws
        .send(json!({"type": "sync", "cursors": [{"chat_id": SAM_ADA, "after_seq": 122}]}))
        .await;
    let created = sam_ws.recv_type("chat_created").await;
    assert_eq!(created["chat"]["id"], chat_id);
    assert_eq!(created["chat"]["peer"]["id"], "t-alan");
    sam_ws.recv_type("sync_complete").await;
}

#[tokio::test]
async fn opening_a_chat_tells_both_members_devices() {
    let ts = TestServer::start().await;
    let (sam, alan) = (ts.token(SAM).await, ts.token("alan@tutorchat.test").await);
    let mut alan_ws = WsClient::connect(&ts, &alan).await;
    let chat_id = ts.open_chat(&sam, "rust-101", "t-alan").await;
    let created = alan_ws.recv_type("chat_created").await;
    assert_eq!(created["chat"]["id"], chat_id);
    assert_eq!(
        created["chat"]["peer"]["id"], "s-sam",
        "each member sees the other as peer"
    );
}

#[tokio::test]
async fn presence_goes_offline_only_after_the_last_device_leaves() {
    let ts = TestServer::start_with(&["--presence-grace-ms", "200"]).await;
    let (sam, ada) = (ts.token(SAM).await, ts.token(ADA).await);
    let mut ada_ws = WsClient::connect(&ts, &ada).await;
    let sam_one = WsClient::connect(&ts, &sam).await;
    let online = ada_ws.recv_type("user_online").await;
    assert_eq!(online["user_id"], "s-sam");
    let sam_two = WsClient::connect(&ts, &sam).await;
    sam_one.close().await;
    let early = ada_ws
        .collect_type("user_offline", Duration::from_millis(600))
        .await;
    assert!(early.is_empty(), "one device is still connected: {early:?}");
    let chats = ts.get(&ada, "/api/chats").await;
    let sam_chat = chats.body["chats"]
        .as_array()
        .expect("chats")
        .iter()
        .find(|c| c["id"] == SAM_ADA);
    assert_eq!(sam_chat.expect("chat 1")["peer"]["online"], true);
    sam_two.close().await;
    let offline = ada_ws.recv_type("user_offline").await;
    assert_eq!(offline["user_id"], "s-sam");
}

#[tokio::test]
async fn presence_is_announced_only_to_people_who_share_a_chat() {
    let ts = TestServer::start().await;
    let (sam, grace) = (ts.token(SAM).await, ts.token(GRACE).await);
    let mut grace_ws = WsClient::connect(&ts, &grace).await;
    let _sam_ws = WsClient::connect(&ts, &sam).await;
    let seen = grace_ws
        .collect_type("user_online", Duration::from_millis(500))
        .await;
    assert!(
        seen.iter().all(|f| f["user_id"] != "s-sam"),
        "Grace and Sam share no chat"
    );
}

#[tokio::test]
async fn typing_reaches_only_viewers_and_expires_by_itself() {
    let ts = TestServer::start_with(&["--typing-ttl-ms", "300"]).await;
    let (sam, ada) = (ts.token(SAM).await, ts.token(ADA).await);
    let mut ada_viewing = WsClient::connect(&ts, &ada).await;
    let mut ada_elsewhere = WsClient::connect(&ts, &ada).await;
    let mut sam_ws = WsClient::connect(&ts, &sam).await;
    ada_viewing
        .send(json!({"type": "join_chat", "chat_id": SAM_ADA}))
        .await;
    let joined = ada_viewing.recv_type("chat_joined").await;
    assert_eq!(joined["last_seq"], 122);
    assert_eq!(joined["read_pointers"].as_array().map(Vec::len), Some(2));

    sam_ws
        .send(json!({"type": "typing_start", "chat_id": SAM_ADA}))
        .await;
    let on = ada_viewing.recv_type("typing_indicator").await;
    assert_eq!(
        (on["user_id"].as_str(), on["typing"].as_bool()),
        (Some("s-sam"), Some(true))
    );
    let off = ada_viewing.recv_type("typing_indicator").await;
    assert_eq!(off["typing"], false, "expires without typing_stop");
    let elsewhere = ada_elsewhere
        .collect_type("typing_indicator", Duration::from_millis(300))
        .await;
    assert!(
        elsewhere.is_empty(),
        "a device not viewing the chat gets no typing"
    );

    sam_ws
        .send(json!({"type": "typing_start", "chat_id": SAM_ADA}))
        .await;
    assert_eq!(
        ada_viewing.recv_type("typing_indicator").await["typing"],
        true
    );
    sam_ws
        .send(json!({"type": "typing_stop", "chat_id": SAM_ADA}))
        .await;
    assert_eq!(
        ada_viewing.recv_type("typing_indicator").await["typing"],
        false
    );

    ada_viewing
        .send(json!({"type": "leave_chat", "chat_id": SAM_ADA}))
        .await;
    ada_viewing.ping().await;
    sam_ws
        .send(json!({"type": "typing_start", "chat_id": SAM_ADA}))
        .await;
    let after_leave = ada_viewing
        .collect_type("typing_indicator", Duration::from_millis(200))
        .await;
    assert!(after_leave.is_empty(), "left the chat: no typing");
}

#[tokio::test]
async fn mark_read_reaches_the_readers_other_device_and_the_sender() {
    let ts = TestServer::start().await;
    let (sam, ada) = (ts.token(SAM).await, ts.token(ADA).await);
    let mut sam_phone = WsClient::connect(&ts, &sam).await;
    let mut sam_laptop = WsClient::connect(&ts, &sam).await;
    let mut ada_ws = WsClient::connect(&ts, &ada).await;
    sam_phone
        .send(json!({"type": "mark_read", "chat_id": SAM_ADA, "up_to_seq": 122}))
        .await;
    for device in [&mut sam_laptop, &mut ada_ws, &mut sam_phone] {
        let read = device.recv_type("message_read").await;
        assert_eq!(read["user_id"], "s-sam");
        assert_eq!(read["up_to_seq"], 122);
    }
    let chats = ts.get(&sam, "/api/chats").await;
    assert_eq!(chats.body["chats"][0]["unread"], 0);
    // Backwards is ignored: nothing is broadcast.
    sam_phone
        .send(json!({"type": "mark_read", "chat_id": SAM_ADA, "up_to_seq": 5}))
        .await;
    let none = sam_laptop
        .collect_type("message_read", Duration::from_millis(300))
        .await;
    assert!(none.is_empty());
}

#[tokio::test]
async fn a_non_participant_cannot_join_send_type_or_sync_a_chat() {
    let ts = TestServer::start().await;
    let leo = ts.token(LEO).await;
    let mut leo_ws = WsClient::connect(&ts, &leo).await;
    leo_ws
        .send(json!({"type": "join_chat", "chat_id": SAM_ADA}))
        .await;
    assert_eq!(leo_ws.recv_type("error").await["code"], "not_participant");
    let reply = leo_ws.send_message(SAM_ADA, "sneaky", "hi").await;
    assert_eq!(reply["code"], "not_participant");
    leo_ws
        .send(json!({"type": "typing_start", "chat_id": SAM_ADA}))
        .await;
    assert_eq!(leo_ws.recv_type("error").await["code"], "not_participant");
    leo_ws
        .send(json!({"type": "sync", "cursors": [{"chat_id": SAM_ADA, "after_seq": 0}]}))
        .await;
    let error = leo_ws.recv_type("error").await;
    assert_eq!(
        (error["code"].as_str(), error["chat_id"].as_i64()),
        (Some("not_participant"), Some(SAM_ADA))
    );
    let complete = leo_ws.recv_type("sync_complete").await;
    assert_eq!(complete["type"], "sync_complete");
}

#[tokio::test]
async fn a_blocked_users_send_is_refused_and_a_revoked_enrollment_stops_new_messages() {
    let ts = TestServer::start().await;
    let (sam, ada) = (ts.token(SAM).await, ts.token(ADA).await);
    let mut sam_ws = WsClient::connect(&ts, &sam).await;
    ts.post(&ada, "/api/users/s-sam/block", json!({}))
        .await
        .assert_ok();
    let refused = sam_ws.send_message(SAM_ADA, "b-1", "hello?").await;
    assert_eq!(refused["code"], "blocked");
    ts.delete(&ada, "/api/users/s-sam/block").await.assert_ok();
    assert_eq!(
        sam_ws.send_message(SAM_ADA, "b-2", "thanks").await["type"],
        "message_ack"
    );

    ts.delete(ADMIN_TOKEN, "/api/admin/enrollments/rust-101/s-sam")
        .await
        .assert_ok();
    let refused = sam_ws.send_message(SAM_ADA, "e-1", "still there?").await;
    assert_eq!(refused["code"], "not_enrolled");
    assert_eq!(refused["course_id"], "rust-101");
    let ada_ws_reply = {
        let mut ada_ws = WsClient::connect(&ts, &ada).await;
        ada_ws.send_message(SAM_ADA, "e-2", "hello").await
    };
    assert_eq!(
        ada_ws_reply["code"], "not_enrolled",
        "the tutor cannot write either"
    );
}

#[tokio::test]
async fn a_batch_is_stored_in_order_each_message_acked_and_delivered_once() {
    let ts = TestServer::start().await;
    let (sam, ada) = (ts.token(SAM).await, ts.token(ADA).await);
    let mut sam_ws = WsClient::connect(&ts, &sam).await;
    let mut ada_ws = WsClient::connect(&ts, &ada).await;
    let first = sam_ws.send_message(SAM_ADA, "q-0", "first").await;
    assert_eq!(first["message"]["seq"], 123);

    let answers = sam_ws
        .send_messages(
            SAM_ADA,
            &[
                ("q-0", "first"),
                ("q-1", "one"),
                ("q-2", ""),
                ("q-3", "three"),
            ],
        )
        .await;
    let summary: Vec<(String, String)> = answers
        .iter()
        .map(|a| {
            let what = a["message"]["seq"].as_u64().map_or_else(
                || a["code"].as_str().unwrap_or("?").to_owned(),
                |s| s.to_string(),
            );
            (a["client_id"].as_str().unwrap_or("?").to_owned(), what)
        })
        .collect();
    let expected = [
        ("q-0", "123"),
        ("q-1", "124"),
        ("q-2", "validation"),
        ("q-3", "125"),
    ];
    assert_eq!(
        summary,
        expected.map(|(c, w)| (c.to_owned(), w.to_owned())),
        "answers in order: the repeat gets the original, an empty message is refused alone"
    );
    assert_eq!(answers[2]["chat_id"], SAM_ADA, "a refusal names its chat");

    let received = ada_ws
        .collect_type("message_received", Duration::from_millis(500))
        .await;
    assert_eq!(seqs(&received), [123, 124, 125], "each once, in seq order");
}

#[tokio::test]
async fn sends_written_back_to_back_on_one_connection_are_stored_in_that_order() {
    let ts = TestServer::start().await;
    let sam = ts.token(SAM).await;
    let mut sam_ws = WsClient::connect(&ts, &sam).await;
    // The connection reads on while a send commits; a chat's next send waits for it.
    for i in 0..20 {
        if i % 5 == 4 {
            let batch: Vec<Value> = (0..3)
                .map(|j| json!({"client_id": format!("o-{i}-{j}"), "content": "batched"}))
                .collect();
            sam_ws
                .send(json!({"type": "send_messages", "chat_id": SAM_ADA, "messages": batch}))
                .await;
        } else {
            sam_ws
                .send(json!({"type": "send_message", "chat_id": SAM_ADA,
                             "client_id": format!("o-{i}"), "content": "single"}))
                .await;
        }
    }
    let acks = sam_ws
        .collect_type("message_ack", Duration::from_secs(3))
        .await;
    let order: Vec<&str> = acks
        .iter()
        .map(|a| a["client_id"].as_str().expect("client_id"))
        .collect();
    let mut sent = Vec::new();
    for i in 0..20 {
        if i % 5 == 4 {
            sent.extend((0..3).map(|j| format!("o-{i}-{j}")));
        } else {
            sent.push(format!("o-{i}"));
        }
    }
    assert_eq!(order, sent, "answered in the order sent");
    assert_eq!(
        seqs(&acks),
        (123..123 + sent.len() as u64).collect::<Vec<u64>>(),
        "stored in the order sent"
    );
}

#[tokio::test]
async fn a_rate_limited_message_holds_back_the_rest_of_its_batch() {
    let ts =
        TestServer::start_with(&["--message-rate-per-second", "1", "--message-burst", "3"]).await;
    let sam = ts.token(SAM).await;
    let mut sam_ws = WsClient::connect(&ts, &sam).await;
    let batch: Vec<(String, &str)> = (0..6).map(|i| (format!("r-{i}"), "hello")).collect();
    let batch: Vec<(&str, &str)> = batch.iter().map(|(c, m)| (c.as_str(), *m)).collect();
    let answers = sam_ws.send_messages(SAM_ADA, &batch).await;
    let codes: Vec<&str> = answers
        .iter()
        .map(|a| a["code"].as_str().unwrap_or("ack"))
        .collect();
    assert_eq!(
        codes,
        [
            "ack",
            "ack",
            "ack",
            "rate_limited",
            "rate_limited",
            "rate_limited"
        ]
    );
    for refused in &answers[3..] {
        assert!(refused["retry_after_secs"].as_u64().is_some(), "{refused}");
        assert_eq!(refused["chat_id"], SAM_ADA);
    }
    let page: Value = ts
        .get(&sam, &format!("/api/chats/{SAM_ADA}/messages?limit=5"))
        .await
        .json();
    assert_eq!(
        page["last_seq"], 125,
        "nothing after the refusal was stored"
    );
}

/// Overload: while committed messages wait for the CPU longer than `--shed-delay-ms` before
/// they reach a socket, a growing share of sends is refused at once (`rate_limited`, retry in
/// 1 s) and nothing is stored for them; once the CPU catches up the same message is taken. The
/// runtime has one worker, which a task holds in 200 ms slices (as a saturated core would).
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn overload_refuses_new_messages_while_deliveries_wait_for_the_cpu_and_takes_them_after() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    let ts = TestServer::start_with(&["--shed-delay-ms", "5"]).await;
    let (sam, ada) = (ts.token(SAM).await, ts.token(ADA).await);
    let mut sam_ws = WsClient::connect(&ts, &sam).await;
    let _ada_ws = WsClient::connect(&ts, &ada).await;
    let busy = Arc::new(AtomicBool::new(true));
    let hog = tokio::spawn({
        let busy = busy.clone();
        async move {
            while busy.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                tokio::task::yield_now().await;
            }
        }
    });
    // Each message reaches Ada late; within a few windows sends start being refused.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut stored = 0u64;
    let refused = loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no send refused while deliveries waited"
        );
        let client_id = format!("o-{stored}");
        let answer = sam_ws.send_message(SAM_ADA, &client_id, "while busy").await;
        if answer["type"] == "message_ack" {
            stored += 1;
            continue;
        }
        break answer;
    };
    assert_eq!(refused["code"], "rate_limited", "{refused}");
    assert_eq!(refused["retry_after_secs"], 1, "{refused}");
    assert_eq!(refused["chat_id"], SAM_ADA, "{refused}");
    let refused_id = refused["client_id"].as_str().expect("client_id").to_owned();

    busy.store(false, Ordering::Relaxed);
    hog.await.expect("hog ends");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let taken = loop {
        let answer = sam_ws
            .send_message(SAM_ADA, &refused_id, "while busy")
            .await;
        if answer["type"] == "message_ack" {
            break answer;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still refused once the CPU caught up: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        taken["message"]["seq"],
        123 + stored,
        "the refused attempts stored nothing"
    );
}

#[tokio::test]
async fn a_batch_with_no_messages_or_too_many_is_refused_whole() {
    let ts = TestServer::start().await;
    let sam = ts.token(SAM).await;
    let mut sam_ws = WsClient::connect(&ts, &sam).await;
    sam_ws
        .send(json!({"type": "send_messages", "chat_id": SAM_ADA, "messages": []}))
        .await;
    let empty = sam_ws.recv_type("error").await;
    assert_eq!(
        (&empty["code"], &empty["field"]),
        (&json!("validation"), &json!("messages"))
    );
    let many: Vec<Value> = (0..=tutorchat_shared::ws::MAX_SEND_BATCH)
        .map(|i| json!({"client_id": format!("x-{i}"), "content": "hi"}))
        .collect();
    sam_ws
        .send(json!({"type": "send_messages", "chat_id": SAM_ADA, "messages": many}))
        .await;
    let too_many = sam_ws.recv_type("error").await;
    assert_eq!(too_many["field"], "messages");
    sam_ws.ping().await;
}

#[tokio::test]
async fn message_floods_answer_rate_limited() {
    let ts =
        TestServer::start_with(&["--message-rate-per-second", "1", "--message-burst", "3"]).await;
    let sam = ts.token(SAM).await;
    let mut sam_ws = WsClient::connect(&ts, &sam).await;
    let mut codes = Vec::new();
    for i in 0..5 {
        let reply = sam_ws
            .send_message(SAM_ADA, &format!("flood-{i}"), "spam")
            .await;
        codes.push(reply["code"].as_str().unwrap_or("ack").to_owned());
    }
    assert_eq!(codes, ["ack", "ack", "ack", "rate_limited", "rate_limited"]);
}

#[tokio::test]
async fn frame_floods_answer_rate_limited_and_the_socket_recovers() {
    let ts =
        TestServer::start_with(&["--ws-frame-rate-per-second", "5", "--ws-frame-burst", "5"]).await;
    let sam = ts.token(SAM).await;
    let mut sam_ws = WsClient::connect(&ts, &sam).await;
    for _ in 0..20 {
        sam_ws.send(json!({"type": "ping"})).await;
    }
    let error = sam_ws.recv_type("error").await;
    assert_eq!(error["code"], "rate_limited");
    assert!(error["retry_after_secs"].as_u64().is_some());
    tokio::time::sleep(Duration::from_millis(1200)).await;
    sam_ws.ping().await;
}

#[tokio::test]
async fn every_kind_of_bad_frame_gets_its_error_and_the_socket_stays_usable() {
    let ts =
        TestServer::start_with(&["--ws-max-frame-bytes", "2048", "--max-message-chars", "100"])
            .await;
    let sam = ts.token(SAM).await;
    let mut ws = WsClient::connect(&ts, &sam).await;
    let cases: Vec<(Option<String>, &str)> = vec![
        (Some("{not json".into()), "malformed_frame"),
        (
            Some(r#"{"type":"teleport","chat_id":1}"#.into()),
            "unknown_type",
        ),
        (
            Some(r#"{"type":"send_message","chat_id":1}"#.into()),
            "malformed_frame",
        ),
        (Some(r#"{"no_type":true}"#.into()), "malformed_frame"),
        (Some("x".repeat(3000)), "frame_too_large"),
        (None, "malformed_frame"),
    ];
    for (text, code) in cases {
        match text {
            Some(text) => ws.send_text(text).await,
            None => ws.send_binary(vec![1, 2, 3]).await,
        }
        let error = ws.recv_type("error").await;
        assert_eq!(error["code"], code, "{error}");
        ws.ping().await;
    }
    let too_long = ws.send_message(SAM_ADA, "long-1", &"a".repeat(101)).await;
    assert_eq!(
        (too_long["code"].as_str(), too_long["field"].as_str()),
        (Some("validation"), Some("content"))
    );
    let blank = ws.send_message(SAM_ADA, "blank-1", "   ").await;
    assert_eq!(blank["code"], "validation");
    ws.ping().await;
    let page = ts.get(&sam, "/api/chats/1/messages?limit=1").await;
    assert_eq!(page.body["last_seq"], 122, "nothing stored");
}

#[tokio::test]
async fn auth_can_come_as_the_first_frame_and_anything_else_is_refused() {
    let ts = TestServer::start().await;
    let sam = ts.token(SAM).await;
    let mut ws = WsClient::connect_bare(&ts).await;
    ws.send(json!({"type": "auth", "token": sam})).await;
    assert_eq!(ws.recv_type("ready").await["user_id"], "s-sam");
    ws.ping().await;

    let mut ws = WsClient::connect_bare(&ts).await;
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.recv().await["code"], "auth_required");
    assert!(matches!(
        ws.expect_close().await,
        Ended::Closed { code: 1008, .. }
    ));

    let mut ws = WsClient::connect_bare(&ts).await;
    ws.send(json!({"type": "auth", "token": mint("wrong-secret", "s-sam", "student", 600)}))
        .await;
    assert_eq!(ws.recv().await["code"], "invalid_token");
}

#[tokio::test]
async fn a_bad_token_on_the_upgrade_is_refused_with_401() {
    let ts = TestServer::start().await;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let forged = mint("wrong-secret", "s-sam", "student", 600);
    let mut request = crate::wsclient::ws_url(&ts)
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {forged}").parse().expect("header"),
    );
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 401);
            let body: Value =
                serde_json::from_slice(response.body().as_deref().unwrap_or_default())
                    .expect("JSON error body");
            assert_eq!(body["code"], "invalid_token");
        }
        other => panic!("expected an HTTP 401, got {other:?}"),
    }
}

#[tokio::test]
async fn a_token_expiring_mid_session_gets_token_expired_and_a_clean_close() {
    let ts = TestServer::start().await;
    let short = mint(JWT_SECRET, "s-sam", "student", 2);
    let mut ws = WsClient::connect(&ts, &short).await;
    let error = ws.recv_type("error").await;
    assert_eq!(error["code"], "token_expired");
    assert_eq!(
        ws.expect_close().await,
        Ended::Closed {
            code: 4001,
            reason: "token_expired".into()
        }
    );
}

#[tokio::test]
async fn messages_from_many_senders_arrive_in_seq_order_on_every_device() {
    let ts = TestServer::start().await;
    let (sam, ada) = (ts.token(SAM).await, ts.token(ADA).await);
    let mut watcher = WsClient::connect(&ts, &ada).await;
    let mut senders = Vec::new();
    for (i, token) in [&sam, &sam, &ada, &ada].into_iter().enumerate() {
        let mut ws = WsClient::connect(&ts, token).await;
        senders.push(tokio::spawn(async move {
            for n in 0..20 {
                let ack = ws.send_message(SAM_ADA, &format!("d{i}-{n}"), "x").await;
                assert_eq!(ack["type"], "message_ack");
            }
        }));
    }
    for sender in senders {
        sender.await.expect("sender finished");
    }
    // Ada's watcher sees Sam's 40 and Ada's other devices' 40: all 80, ascending, no repeats.
    let frames = watcher
        .collect_type("message_received", Duration::from_secs(1))
        .await;
    let got = seqs(&frames);
    assert_eq!(got, (123..=202).collect::<Vec<_>>());
    assert_eq!(got.iter().collect::<HashSet<_>>().len(), 80);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_acked_message_survives_sigkill_and_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().display().to_string();
    let args = |demo: bool| {
        let mut args = vec!["--listen", "127.0.0.1:0", "--data-dir", data_dir.as_str()];
        args.extend(["--jwt-secret", JWT_SECRET, "--log", "warn"]);
        if demo {
            args.push("--demo");
        }
        args
    };
    let mut server = ServerProcess::spawn(&args(true));
    let ts = TestServer::attach(&server.base);
    let sam = ts.token(SAM).await;
    let mut ws = WsClient::connect(&ts, &sam).await;
    let mut acked = Vec::new();
    for i in 0..20 {
        let ack = ws
            .send_message(SAM_ADA, &format!("crash-{i}"), &format!("durable {i}"))
            .await;
        assert_eq!(ack["type"], "message_ack");
        acked.push(ack["message"]["id"].clone());
    }
    server.kill();

    let server = ServerProcess::spawn(&args(false));
    let ts = TestServer::attach(&server.base);
    let sam = ts.token(SAM).await;
    let page = ts.get(&sam, "/api/chats/1/messages?after_seq=122").await;
    page.assert_ok();
    let stored: Vec<Value> = page.body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["id"].clone())
        .collect();
    assert_eq!(
        stored, acked,
        "every acknowledged message is there, once, in order"
    );
}
