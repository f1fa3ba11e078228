//! Blocking: a block stops messages (and new chats) from the blocked user to the blocker, one
//! way only, until it is lifted; blocks need a relation and are audited.

use reqwest::StatusCode;
use serde_json::json;
use tutorchat_shared::api::BlockStatus;

use crate::testing::{
    with_student, with_tutor, TestServer, ADA, SAM, SAM_ADA_CHAT, SAM_ADA_MESSAGES,
};

#[tokio::test]
async fn blocked_student_cannot_send_but_the_blocker_can() {
    let ts = TestServer::start().await;
    let (sam, ada) = (ts.token(SAM).await, ts.token(ADA).await);
    let reply = ts.post(&ada, "/api/users/s-sam/block", json!({})).await;
    reply.assert_ok();
    assert_eq!(
        reply.json::<BlockStatus>(),
        BlockStatus {
            user_id: "s-sam".into(),
            blocked: true
        }
    );

    let refused = ts.send(&sam, SAM_ADA_CHAT, "to-blocker", "Hello?").await;
    refused.assert_error(403, "blocked");
    assert_eq!(refused.body["client_id"], "to-blocker");
    assert_eq!(
        ts.chat(&sam, SAM_ADA_CHAT).await.last_seq,
        SAM_ADA_MESSAGES,
        "nothing stored"
    );

    let hers = ts
        .send(&ada, SAM_ADA_CHAT, "from-blocker", "I am still here")
        .await;
    assert_eq!(hers.status, StatusCode::CREATED, "{}", hers.body);
    assert_eq!(hers.body["message"]["seq"], SAM_ADA_MESSAGES + 1);
    // The blocked user can still read the chat.
    ts.page(&sam, SAM_ADA_CHAT, "").await.assert_ok();
}

#[tokio::test]
async fn blocked_student_cannot_open_the_chat_again() {
    let ts = TestServer::start().await;
    let (sam, ada) = (ts.token(SAM).await, ts.token(ADA).await);
    ts.post(&ada, "/api/users/s-sam/block", json!({}))
        .await
        .assert_ok();
    let reply = ts.create_chat(&sam, with_tutor("rust-101", "t-ada")).await;
    reply.assert_error(403, "blocked");
    // Another tutor of the course is unaffected.
    let other = ts.create_chat(&sam, with_tutor("rust-101", "t-alan")).await;
    assert_eq!(other.status, StatusCode::CREATED, "{}", other.body);
}

#[tokio::test]
async fn unblocking_lets_messages_through_again() {
    let ts = TestServer::start().await;
    let (sam, ada) = (ts.token(SAM).await, ts.token(ADA).await);
    ts.post(&ada, "/api/users/s-sam/block", json!({}))
        .await
        .assert_ok();
    ts.send(&sam, SAM_ADA_CHAT, "while-blocked", "Hi")
        .await
        .assert_error(403, "blocked");

    let reply = ts.delete(&ada, "/api/users/s-sam/block").await;
    reply.assert_ok();
    assert_eq!(
        reply.json::<BlockStatus>(),
        BlockStatus {
            user_id: "s-sam".into(),
            blocked: false
        }
    );
    let sent = ts
        .send(&sam, SAM_ADA_CHAT, "after-unblock", "Thanks!")
        .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.body);
    ts.create_chat(&sam, with_tutor("rust-101", "t-ada"))
        .await
        .assert_ok();
}

#[tokio::test]
async fn a_student_can_block_a_tutor_too() {
    let ts = TestServer::start().await;
    let (sam, ada) = (ts.token(SAM).await, ts.token(ADA).await);
    ts.post(&sam, "/api/users/t-ada/block", json!({}))
        .await
        .assert_ok();
    ts.send(&ada, SAM_ADA_CHAT, "to-sam", "Homework?")
        .await
        .assert_error(403, "blocked");
    let reply = ts
        .create_chat(&ada, with_student("rust-101", "s-sam"))
        .await;
    reply.assert_error(403, "blocked");
}

#[tokio::test]
async fn blocking_yourself_is_a_validation_error() {
    let ts = TestServer::start().await;
    let ada = ts.token(ADA).await;
    ts.post(&ada, "/api/users/t-ada/block", json!({}))
        .await
        .assert_invalid("user_id");
    assert!(ts.audit("user_blocked").await.is_empty());
}

#[tokio::test]
async fn blocking_an_unrelated_or_unknown_user_is_not_found() {
    let ts = TestServer::start().await;
    let sam = ts.token(SAM).await;
    // Grace teaches only courses Sam has not bought.
    ts.post(&sam, "/api/users/t-grace/block", json!({}))
        .await
        .assert_error(404, "not_found");
    ts.post(&sam, "/api/users/nobody-at-all/block", json!({}))
        .await
        .assert_error(404, "not_found");
    // Students of the same course are not related either.
    ts.post(&sam, "/api/users/s-maya/block", json!({}))
        .await
        .assert_error(404, "not_found");
    assert!(ts.audit("user_blocked").await.is_empty());
}

#[tokio::test]
async fn blocks_and_unblocks_are_audited_once() {
    let ts = TestServer::start().await;
    let ada = ts.token(ADA).await;
    ts.post(&ada, "/api/users/s-sam/block", json!({}))
        .await
        .assert_ok();
    ts.post(&ada, "/api/users/s-sam/block", json!({}))
        .await
        .assert_ok();
    let blocked = ts.audit("user_blocked").await;
    assert_eq!(
        blocked.len(),
        1,
        "a repeated block changes nothing: {blocked:?}"
    );
    assert_eq!(
        blocked[0].actor_id.as_ref().map(|u| u.as_str()),
        Some("t-ada")
    );
    assert_eq!(blocked[0].target.as_deref(), Some("user:s-sam"));

    ts.delete(&ada, "/api/users/s-sam/block").await.assert_ok();
    let unblocked = ts.audit("user_unblocked").await;
    assert_eq!(unblocked.len(), 1);
    assert_eq!(unblocked[0].target.as_deref(), Some("user:s-sam"));
}
