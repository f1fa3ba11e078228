//! The course-enrollment gate: who may open a chat with whom, and who may still send in one.

use reqwest::StatusCode;
use serde_json::json;
use tutorchat_shared::api::CreateChatResponse;

use crate::testing::{
    self, with_student, with_tutor, TestServer, ADA, ADMIN, ALAN, GRACE, SAM, SAM_ADA_CHAT,
};

#[tokio::test]
async fn enrolled_student_opens_a_chat_with_a_tutor_of_the_course_once() {
    let ts = TestServer::start().await;
    let sam = ts.token(SAM).await;
    let first = ts.create_chat(&sam, with_tutor("rust-101", "t-alan")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let first: CreateChatResponse = first.json();
    assert!(first.created);
    assert_eq!(first.chat.course.id.as_str(), "rust-101");
    assert_eq!(first.chat.peer.id.as_str(), "t-alan");
    assert_eq!(first.chat.last_seq, 0);

    let second = ts.create_chat(&sam, with_tutor("rust-101", "t-alan")).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    let second: CreateChatResponse = second.json();
    assert!(!second.created);
    assert_eq!(second.chat.id, first.chat.id);
    assert_eq!(
        ts.audit("chat_created").await.len(),
        1,
        "only the first call creates"
    );
}

#[tokio::test]
async fn opening_an_existing_demo_chat_returns_it_unchanged() {
    let ts = TestServer::start().await;
    let sam = ts.token(SAM).await;
    let reply = ts.create_chat(&sam, with_tutor("rust-101", "t-ada")).await;
    assert_eq!(reply.status, StatusCode::OK);
    let response: CreateChatResponse = reply.json();
    assert!(!response.created);
    assert_eq!(response.chat.id.0, SAM_ADA_CHAT);
    assert_eq!(response.chat.last_seq, testing::SAM_ADA_MESSAGES);
}

#[tokio::test]
async fn student_without_the_course_is_refused_with_the_course_to_buy() {
    let ts = TestServer::start().await;
    let sam = ts.token(SAM).await;
    let reply = ts.create_chat(&sam, with_tutor("ml-401", "t-grace")).await;
    reply.assert_error(403, "not_enrolled");
    assert_eq!(reply.body["course_id"], "ml-401");

    let denials = ts.audit("access_denied").await;
    let denial = denials.first().expect("the refusal is audited");
    assert_eq!(denial.actor_id.as_ref().map(|u| u.as_str()), Some("s-sam"));
    assert_eq!(denial.detail.as_deref(), Some("not_enrolled"));
    let chats = ts.get(&sam, "/api/chats").await;
    assert_eq!(
        chats.body["chats"].as_array().map(Vec::len),
        Some(1),
        "no chat was created"
    );
}

#[tokio::test]
async fn tutor_who_does_not_teach_the_course_cannot_be_chosen() {
    let ts = TestServer::start().await;
    let sam = ts.token(SAM).await;
    let reply = ts
        .create_chat(&sam, with_tutor("rust-101", "t-grace"))
        .await;
    reply.assert_error(403, "not_course_tutor");
    // A fellow student is not a tutor of the course either.
    let reply = ts.create_chat(&sam, with_tutor("rust-101", "s-maya")).await;
    reply.assert_error(403, "not_course_tutor");
}

#[tokio::test]
async fn tutor_opens_a_chat_with_an_enrolled_student_of_their_course() {
    let ts = TestServer::start().await;
    let alan = ts.token(ALAN).await;
    let reply = ts
        .create_chat(&alan, with_student("algo-201", "s-sam"))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let response: CreateChatResponse = reply.json();
    assert_eq!(response.chat.peer.id.as_str(), "s-sam");

    // The student sees the same chat from the other side.
    let sam = ts.token(SAM).await;
    let seen = ts.chat(&sam, response.chat.id.0).await;
    assert_eq!(seen.peer.id.as_str(), "t-alan");
    assert_eq!(seen.course.id.as_str(), "algo-201");
}

#[tokio::test]
async fn tutor_cannot_open_a_chat_with_a_student_not_enrolled() {
    let ts = TestServer::start().await;
    let grace = ts.token(GRACE).await;
    let reply = ts
        .create_chat(&grace, with_student("ml-401", "s-sam"))
        .await;
    reply.assert_error(403, "not_enrolled");
    assert_eq!(reply.body["course_id"], "ml-401");
}

#[tokio::test]
async fn revoked_enrollment_stops_new_messages_but_keeps_history() {
    let ts = TestServer::start().await;
    let sam = ts.token(SAM).await;
    ts.revoke_enrollment("rust-101", "s-sam").await;

    let reply = ts.create_chat(&sam, with_tutor("rust-101", "t-alan")).await;
    reply.assert_error(403, "not_enrolled");
    assert_eq!(reply.body["course_id"], "rust-101");

    let reply = ts
        .send(&sam, SAM_ADA_CHAT, "after-revoke", "Still there?")
        .await;
    reply.assert_error(403, "not_enrolled");
    assert_eq!(reply.body["course_id"], "rust-101");
    assert_eq!(reply.body["client_id"], "after-revoke");
    // The tutor cannot write into the chat either: it is read-only now.
    let ada = ts.token(ADA).await;
    ts.send(&ada, SAM_ADA_CHAT, "ada-after-revoke", "Hello?")
        .await
        .assert_error(403, "not_enrolled");

    let page = ts.page(&sam, SAM_ADA_CHAT, "").await;
    page.assert_ok();
    assert_eq!(
        page.body["last_seq"],
        testing::SAM_ADA_MESSAGES,
        "nothing was stored"
    );
    assert_eq!(page.body["messages"].as_array().map(Vec::len), Some(50));
    assert_eq!(
        ts.chat(&sam, SAM_ADA_CHAT).await.last_seq,
        testing::SAM_ADA_MESSAGES
    );

    // Rust-101 no longer lists among Sam's tutors; algo-201 still does.
    let tutors = ts.get(&sam, "/api/users/available-tutors").await;
    let courses: Vec<&str> = tutors.body["courses"]
        .as_array()
        .expect("courses")
        .iter()
        .filter_map(|c| c["course"]["id"].as_str())
        .collect();
    assert_eq!(courses, ["algo-201"]);
}

#[tokio::test]
async fn regranted_enrollment_restores_sending() {
    let ts = TestServer::start().await;
    let sam = ts.token(SAM).await;
    ts.revoke_enrollment("rust-101", "s-sam").await;
    ts.send(&sam, SAM_ADA_CHAT, "while-revoked", "Hi")
        .await
        .assert_error(403, "not_enrolled");

    ts.grant_enrollment("rust-101", "s-sam").await;
    let reply = ts
        .send(&sam, SAM_ADA_CHAT, "after-regrant", "Back again")
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["message"]["seq"], testing::SAM_ADA_MESSAGES + 1);
    // The refused client id was never stored, so it can be sent now.
    let retry = ts.send(&sam, SAM_ADA_CHAT, "while-revoked", "Hi").await;
    assert_eq!(retry.status, StatusCode::CREATED, "{}", retry.body);
    assert_eq!(retry.body["duplicate"], false);
}

#[tokio::test]
async fn request_naming_the_wrong_side_is_a_validation_error() {
    let ts = TestServer::start().await;
    let sam = ts.token(SAM).await;
    let reply = ts
        .create_chat(&sam, with_student("rust-101", "s-maya"))
        .await;
    reply.assert_invalid("tutor_id");
    let both = json!({"course_id": "rust-101", "tutor_id": "t-ada", "student_id": "s-sam"});
    let reply = ts.create_chat(&sam, both).await;
    reply.assert_invalid("tutor_id");

    let ada = ts.token(ADA).await;
    let reply = ts.create_chat(&ada, with_tutor("rust-101", "t-alan")).await;
    reply.assert_invalid("student_id");
    let reply = ts.create_chat(&ada, json!({"course_id": "rust-101"})).await;
    reply.assert_invalid("student_id");
}

#[tokio::test]
async fn admins_do_not_take_part_in_chats() {
    let ts = TestServer::start().await;
    let admin = ts.token(ADMIN).await;
    let reply = ts
        .create_chat(&admin, with_tutor("rust-101", "t-ada"))
        .await;
    reply.assert_error(403, "forbidden");
    let reply = ts
        .create_chat(&admin, with_student("rust-101", "s-sam"))
        .await;
    reply.assert_error(403, "forbidden");
}

#[tokio::test]
async fn unknown_course_is_not_found() {
    let ts = TestServer::start().await;
    let sam = ts.token(SAM).await;
    let reply = ts.create_chat(&sam, with_tutor("cobol-999", "t-ada")).await;
    reply.assert_error(404, "not_found");
    let reply = ts.create_chat(&sam, with_tutor("", "t-ada")).await;
    reply.assert_invalid("course_id");
}
