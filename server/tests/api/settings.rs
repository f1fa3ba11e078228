//! A member's own view of a chat: muted and archived on all of their devices (and nobody
//! else's), blocked shown to the blocker, and a revoked purchase turning the chat read-only
//! with the address to buy the course again.

use std::time::Duration;

use serde_json::json;
use tutorchat_shared::model::ReadOnly;
use tutorchat_shared::ChatSummary;

use crate::testing::{TestServer, ADA, SAM, SAM_ADA_CHAT};
use crate::wsclient::WsClient;

#[tokio::test]
async fn muting_and_archiving_reach_every_device_of_that_member_and_nobody_else() {
    let ts = TestServer::start().await;
    let (sam, ada) = (ts.token(SAM).await, ts.token(ADA).await);
    let mut sams_phone = WsClient::connect(&ts, &sam).await;
    let mut adas_desktop = WsClient::connect(&ts, &ada).await;

    let reply = ts
        .put(
            &sam,
            &format!("/api/chats/{SAM_ADA_CHAT}/settings"),
            json!({"muted": true, "archived": true}),
        )
        .await;
    reply.assert_ok();
    let chat: ChatSummary = reply.json();
    assert!(chat.muted);
    assert!(chat.archive.is_some_and(|a| a.archived));

    let frame = sams_phone.recv_type("chat_updated").await;
    assert_eq!(frame["chat"]["id"], SAM_ADA_CHAT);
    assert_eq!(frame["chat"]["muted"], true);
    assert_eq!(frame["chat"]["archive"]["archived"], true);
    assert!(
        adas_desktop
            .collect_type("chat_updated", Duration::from_millis(300))
            .await
            .is_empty(),
        "Ada's view did not change"
    );
    let adas = ts.chat(&ada, SAM_ADA_CHAT).await;
    assert!(
        !adas.muted && adas.archive.is_none(),
        "settings are per member"
    );

    // Leaving a field out leaves it as it is.
    let chat: ChatSummary = ts
        .put(
            &sam,
            &format!("/api/chats/{SAM_ADA_CHAT}/settings"),
            json!({"archived": false}),
        )
        .await
        .json();
    assert!(chat.muted, "still muted");
    assert!(chat.archive.is_some_and(|a| !a.archived));
    let listed = ts.chat(&sam, SAM_ADA_CHAT).await;
    assert_eq!((listed.muted, listed.archive), (chat.muted, chat.archive));
}

#[tokio::test]
async fn settings_of_a_chat_that_is_not_yours_or_of_nothing_are_refused() {
    let ts = TestServer::start().await;
    let ada = ts.token(ADA).await;
    ts.put(&ada, "/api/chats/999/settings", json!({"muted": true}))
        .await
        .assert_error(403, "not_participant");
    ts.put(
        &ada,
        &format!("/api/chats/{SAM_ADA_CHAT}/settings"),
        json!({}),
    )
    .await
    .assert_error(422, "validation");
    ts.put(
        &ada,
        &format!("/api/chats/{SAM_ADA_CHAT}/settings"),
        json!({"muted": "yes"}),
    )
    .await
    .assert_error(422, "validation");
}

#[tokio::test]
async fn the_blocker_sees_the_chat_blocked_on_every_device_until_unblocked() {
    let ts = TestServer::start().await;
    let ada = ts.token(ADA).await;
    let mut adas_phone = WsClient::connect(&ts, &ada).await;
    ts.post(&ada, "/api/users/s-sam/block", json!({}))
        .await
        .assert_ok();
    let frame = adas_phone.recv_type("chat_updated").await;
    assert_eq!(frame["chat"]["id"], SAM_ADA_CHAT);
    assert_eq!(frame["chat"]["blocked"], true);
    assert!(ts.chat(&ada, SAM_ADA_CHAT).await.blocked);
    let sam = ts.token(SAM).await;
    assert!(
        !ts.chat(&sam, SAM_ADA_CHAT).await.blocked,
        "the blocked side is not told"
    );

    ts.delete(&ada, "/api/users/s-sam/block").await.assert_ok();
    let frame = adas_phone.recv_type("chat_updated").await;
    assert_eq!(frame["chat"]["blocked"], false);
}

#[tokio::test]
async fn a_revoked_purchase_makes_the_chat_read_only_with_where_to_buy_it_again() {
    let ts = TestServer::start().await;
    let (sam, ada) = (ts.token(SAM).await, ts.token(ADA).await);
    assert_eq!(ts.chat(&sam, SAM_ADA_CHAT).await.read_only, None);

    ts.revoke_enrollment("rust-101", "s-sam").await;
    let sams = ts.chat(&sam, SAM_ADA_CHAT).await;
    assert_eq!(sams.read_only, Some(ReadOnly::EnrollmentEnded));
    assert_eq!(
        sams.purchase_url.as_deref(),
        Some("https://school.tutorchat.test/courses/rust-101/buy"),
        "the demo school provisions its purchase pages"
    );
    let adas = ts.chat(&ada, SAM_ADA_CHAT).await;
    assert_eq!(adas.read_only, Some(ReadOnly::EnrollmentEnded));
    assert_eq!(adas.purchase_url, None, "only the student can buy it");

    // Opening a chat in a course never bought names where to buy it.
    let refused = ts
        .create_chat(&sam, json!({"course_id": "ml-401", "tutor_id": "t-grace"}))
        .await;
    refused.assert_error(403, "not_enrolled");
    assert_eq!(
        refused.body["purchase_url"],
        "https://school.tutorchat.test/courses/ml-401/buy"
    );
    assert_eq!(refused.body["course_title"], "Machine Learning Basics");

    ts.grant_enrollment("rust-101", "s-sam").await;
    assert_eq!(ts.chat(&sam, SAM_ADA_CHAT).await.read_only, None);
}

#[tokio::test]
async fn a_purchase_address_that_is_not_a_web_address_is_refused() {
    let ts = TestServer::start().await;
    let reply = ts
        .admin_post(
            "/api/admin/courses",
            json!({"id": "c-x", "title": "X", "purchase_url": "javascript:alert(1)"}),
        )
        .await;
    reply.assert_invalid("purchase_url");
}
