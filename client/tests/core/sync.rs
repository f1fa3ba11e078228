//! Catching up after an absence, read state across devices, and the cache answering with the
//! server gone.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tutorchat_shared::app::{AppEvent, DeliveryState};

use crate::harness::{device, eventually, signed_in, wait_event, TestServer, ADA, SAM, SAM_ADA};

#[tokio::test(flavor = "multi_thread")]
async fn a_device_that_missed_messages_gets_exactly_them_in_order() {
    let server = TestServer::started(&[]).await;
    let dir = tempfile::tempdir().expect("dir");
    let sam = signed_in(&server.url(), dir.path(), SAM).await;
    assert!(sam.wait_online(Duration::from_secs(10)).await);
    sam.close().await;
    drop(sam);

    let ada = server.token(ADA).await;
    let sent: Vec<String> = (0..37)
        .map(|i| format!("while you were away {i}"))
        .collect();
    for (i, text) in sent.iter().enumerate() {
        let reply = server
            .rest(
                Method::POST,
                "/api/chats/1/messages",
                &ada,
                Some(json!({"client_id": format!("away-{i}"), "content": text})),
            )
            .await;
        assert_eq!(reply["message"]["seq"], 123 + i as u64);
    }

    let sam = device(&server.url(), dir.path()).await;
    assert!(sam.wait_online(Duration::from_secs(10)).await);
    let page = sam.messages(SAM_ADA, Some(160), 37).await.expect("page");
    let got: Vec<_> = page
        .messages
        .iter()
        .map(|m| (m.seq.expect("stored"), m.content.clone()))
        .collect();
    let want: Vec<_> = sent
        .iter()
        .enumerate()
        .map(|(i, t)| (123 + i as u64, t.clone()))
        .collect();
    assert_eq!(got, want);
    let chats = sam.chats().await.expect("chats");
    assert_eq!(
        chats[0].unread,
        3 + 37,
        "the three old unread and the 37 new"
    );
    assert_eq!(sam.unread_total().await.expect("total"), 40);
    sam.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn reading_on_one_device_clears_the_unread_count_on_the_other() {
    let server = TestServer::started(&[]).await;
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let phone = signed_in(&server.url(), dir_a.path(), SAM).await;
    let laptop = signed_in(&server.url(), dir_b.path(), SAM).await;
    assert!(phone.wait_online(Duration::from_secs(10)).await);
    assert!(laptop.wait_online(Duration::from_secs(10)).await);
    let mut laptop_events = laptop.events();
    let ada = server.token(ADA).await;
    server
        .rest(
            Method::POST,
            "/api/chats/1/messages",
            &ada,
            Some(json!({"client_id": "ada-new", "content": "new homework"})),
        )
        .await;
    wait_event(
        &mut laptop_events,
        "the new message on the laptop",
        |e| matches!(e, AppEvent::UnreadChanged { chat_id, unread: 4, .. } if *chat_id == SAM_ADA),
    )
    .await;
    eventually("the phone to count it too", || async {
        phone.chats().await.expect("chats")[0].unread == 4
    })
    .await;

    phone
        .mark_read(SAM_ADA, 123)
        .await
        .expect("read on the phone");
    wait_event(&mut laptop_events, "the laptop's badge to clear", |e| {
        matches!(e, AppEvent::UnreadChanged { chat_id, unread: 0, total: 0 } if *chat_id == SAM_ADA)
    })
    .await;
    assert_eq!(laptop.chats().await.expect("chats")[0].unread, 0);
    // Ada's side sees the receipt: her message is read.
    let page = server
        .rest(Method::GET, "/api/chats/1/messages?limit=1", &ada, None)
        .await;
    assert_eq!(page["messages"][0]["read"], true);
    phone.close().await;
    laptop.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_live_message_arrives_as_an_event_with_its_sender_and_course() {
    let server = TestServer::started(&[]).await;
    let dir = tempfile::tempdir().expect("dir");
    let sam = signed_in(&server.url(), dir.path(), SAM).await;
    assert!(sam.wait_online(Duration::from_secs(10)).await);
    let mut events = sam.events();
    let ada = server.token(ADA).await;
    server
        .rest(
            Method::POST,
            "/api/chats/1/messages",
            &ada,
            Some(json!({"client_id": "ping-1", "content": "are you there?"})),
        )
        .await;
    let incoming = wait_event(&mut events, "the incoming message", |e| {
        matches!(e, AppEvent::Incoming { .. })
    })
    .await;
    let AppEvent::Incoming {
        message,
        sender_name,
        course_title,
    } = incoming
    else {
        unreachable!()
    };
    assert_eq!(
        (
            message.content.as_str(),
            sender_name.as_str(),
            course_title.as_str()
        ),
        ("are you there?", "Ada Lovelace", "Rust from Zero")
    );
    assert_eq!(message.state, DeliveryState::Sent);
    sam.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn history_and_search_answer_from_the_cache_with_the_server_down() {
    let mut server = TestServer::started(&[]).await;
    let dir = tempfile::tempdir().expect("dir");
    let sam = signed_in(&server.url(), dir.path(), SAM).await;
    assert!(sam.wait_online(Duration::from_secs(10)).await);
    sam.set_draft(SAM_ADA, "half a thought")
        .await
        .expect("draft");
    server.stop().await;

    let newest = sam
        .messages(SAM_ADA, None, 20)
        .await
        .expect("newest page offline");
    assert_eq!(newest.messages.len(), 20);
    assert_eq!(newest.messages.last().and_then(|m| m.seq), Some(122));
    assert!(newest.has_more_before);
    let older = sam
        .messages(SAM_ADA, Some(3), 20)
        .await
        .expect("oldest page offline");
    assert_eq!(
        older
            .messages
            .iter()
            .filter_map(|m| m.seq)
            .collect::<Vec<_>>(),
        [1, 2]
    );
    assert!(!older.has_more_before);

    let found = sam
        .search("borrow checker", 10)
        .await
        .expect("search offline");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].seq, Some(122));
    let prefix = sam.search("owner", 200).await.expect("prefix search");
    assert_eq!(prefix.len(), 60, "every 'ownership' question");
    let within = sam
        .search_in(Some(SAM_ADA), "owner", 200)
        .await
        .expect("search within the chat");
    assert_eq!(within.len(), 60, "all of them are in this chat");
    assert!(sam
        .search_in(Some(tutorchat_shared::ChatId(2)), "owner", 200)
        .await
        .expect("search within another chat")
        .is_empty());
    assert!(sam
        .search("\"; DROP TABLE messages; --", 5)
        .await
        .expect("odd input is just text")
        .is_empty());
    assert_eq!(
        sam.draft(SAM_ADA).await.expect("draft").as_deref(),
        Some("half a thought")
    );
    assert_eq!(sam.chats().await.expect("chats").len(), 1);
    sam.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_frame_that_meets_a_locked_cache_is_synced_again_not_dropped() {
    let server = TestServer::started(&[]).await;
    let dir = tempfile::tempdir().expect("dir");
    let sam = signed_in(&server.url(), dir.path(), SAM).await;
    assert!(sam.wait_online(Duration::from_secs(10)).await);

    // Another process holds the cache's write lock longer than the busy timeout.
    let cache = crate::harness::account_dir(dir.path()).join("cache.db");
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(cache).expect("open the cache");
        conn.execute_batch("BEGIN IMMEDIATE").expect("write lock");
        locked_tx.send(()).expect("told");
        std::thread::sleep(Duration::from_secs(7));
        conn.execute_batch("COMMIT").expect("released");
    });
    locked_rx.recv().expect("locked");

    let ada = server.token(ADA).await;
    let reply = server
        .rest(
            Method::POST,
            "/api/chats/1/messages",
            &ada,
            Some(
                json!({"client_id": "while-locked", "content": "sent while the cache was locked"}),
            ),
        )
        .await;
    assert_eq!(reply["message"]["seq"], 123);
    tokio::task::spawn_blocking(move || holder.join().expect("holder"))
        .await
        .expect("joined");

    eventually("the message to be stored after all", || async {
        let page = sam.messages(SAM_ADA, None, 5).await.expect("page");
        page.messages
            .iter()
            .any(|m| m.seq == Some(123) && m.content == "sent while the cache was locked")
    })
    .await;
    sam.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chat_that_is_not_yours_is_refused_by_name_not_with_a_cache_error() {
    let server = TestServer::started(&[]).await;
    let dir = tempfile::tempdir().expect("dir");
    let sam = signed_in(&server.url(), dir.path(), SAM).await;
    assert!(sam.wait_online(Duration::from_secs(10)).await);
    // A stale route or someone else's link: chat 999 is no chat of Sam's.
    let err = sam
        .messages(tutorchat_shared::ChatId(999), None, 50)
        .await
        .expect_err("not Sam's chat");
    assert!(
        matches!(err, tutorchat_client::ClientError::NotYourChat(_)),
        "{err:?}"
    );
    assert_eq!(err.code(), tutorchat_shared::ErrorCode::NotParticipant);
    // His own chat still opens.
    assert!(sam.messages(SAM_ADA, None, 50).await.is_ok());
    sam.close().await;
}
