//! The user's own view of a chat follows them across devices: muted (no notification, no
//! part in the badge, still counted unread), archived (and back by itself when a message
//! arrives), blocked.

use reqwest::Method;
use serde_json::json;
use tutorchat_client::Client;
use tutorchat_shared::api::ChatSettingsChange;
use tutorchat_shared::app::{AppEvent, ChatItem};

use crate::harness::{eventually, signed_in, wait_event, TestServer, ADA, SAM, SAM_ADA, WAIT};

async fn item(client: &Client) -> ChatItem {
    client
        .chats()
        .await
        .expect("chats")
        .into_iter()
        .find(|c| c.id == SAM_ADA)
        .expect("the Sam–Ada chat")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chat_muted_and_archived_on_one_device_is_so_on_the_other_and_a_message_brings_it_back() {
    let server = TestServer::started(&[]).await;
    let (laptop_dir, phone_dir) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let laptop = signed_in(&server.url(), laptop_dir.path(), SAM).await;
    let phone = signed_in(&server.url(), phone_dir.path(), SAM).await;
    assert!(laptop.wait_online(WAIT).await && phone.wait_online(WAIT).await);
    let unread_before = phone.unread_total().await.expect("total");
    assert!(unread_before > 0, "the demo leaves Sam three unread");

    let changed = laptop
        .set_chat_settings(
            SAM_ADA,
            ChatSettingsChange {
                muted: Some(true),
                archived: Some(true),
            },
        )
        .await
        .expect("settings");
    assert!(changed.muted && changed.archived);

    eventually("the phone shows the chat muted and archived", || async {
        let chat = item(&phone).await;
        chat.muted && chat.archived
    })
    .await;
    let muted = item(&phone).await;
    assert!(muted.unread > 0, "a muted chat still counts its unread");
    assert_eq!(
        phone.unread_total().await.expect("total"),
        unread_before - muted.unread,
        "but is no part of the badge"
    );

    // Ada writes: the chat comes back to the list by itself, and the muted chat does not
    // notify on either device.
    let mut events = phone.events();
    let ada = server.token(ADA).await;
    server
        .rest(
            Method::POST,
            "/api/chats/1/messages",
            &ada,
            Some(json!({"client_id": "while-muted", "content": "Are you there?"})),
        )
        .await;
    let mut notified = false;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(AppEvent::Incoming { .. })) => notified = true,
            Ok(Ok(AppEvent::MessageUpserted { message }))
                if message.content == "Are you there?" =>
            {
                break
            }
            Ok(_) => {}
            Err(_) => panic!("the message never reached the phone"),
        }
    }
    // Anything that would notify for this message has been emitted with it.
    while let Ok(event) = events.try_recv() {
        notified |= matches!(event, AppEvent::Incoming { .. });
    }
    assert!(!notified, "a muted chat does not notify");
    let back = item(&phone).await;
    assert!(!back.archived, "a new message brings an archived chat back");
    assert!(back.muted, "and it stays muted");
    laptop.close().await;
    phone.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn blocking_shows_on_the_chat_on_every_device_until_unblocked() {
    let server = TestServer::started(&[]).await;
    let (desk_dir, phone_dir) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let desk = signed_in(&server.url(), desk_dir.path(), ADA).await;
    let phone = signed_in(&server.url(), phone_dir.path(), ADA).await;
    assert!(desk.wait_online(WAIT).await && phone.wait_online(WAIT).await);
    let sam = item(&desk).await.peer.id;
    assert_eq!(sam.as_str(), "s-sam");

    let mut phone_events = phone.events();
    desk.block(&sam, true).await.expect("block");
    assert!(
        item(&desk).await.blocked,
        "at once on the device that blocked"
    );
    wait_event(&mut phone_events, "the phone hears of it", |e| {
        matches!(e, AppEvent::ChatsChanged)
    })
    .await;
    eventually("the phone shows the chat blocked", || async {
        item(&phone).await.blocked
    })
    .await;
    desk.block(&sam, false).await.expect("unblock");
    eventually("unblocked on the phone too", || async {
        !item(&phone).await.blocked
    })
    .await;
    desk.close().await;
    phone.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_purchase_shows_the_chat_read_only_with_where_to_buy_it() {
    let server = TestServer::started(&[]).await;
    let dir = tempfile::tempdir().expect("dir");
    let sam = signed_in(&server.url(), dir.path(), SAM).await;
    assert!(sam.wait_online(WAIT).await);
    assert_eq!(item(&sam).await.read_only, None);
    let response = reqwest::Client::new()
        .delete(format!(
            "{}/api/admin/enrollments/rust-101/s-sam",
            server.url()
        ))
        .bearer_auth("client-test-admin")
        .send()
        .await
        .expect("revoke");
    assert!(response.status().is_success());
    // The server tells the connected device at once.
    eventually("the chat turns read-only", || async {
        item(&sam).await.read_only.is_some()
    })
    .await;
    assert_eq!(
        item(&sam).await.purchase_url.as_deref(),
        Some("https://school.tutorchat.test/courses/rust-101/buy")
    );
    sam.close().await;
}
