//! Participant-only access (IDOR): chats, their messages and read pointers answer only their two
//! members, a missing chat looks the same as someone else's, and the people lists follow roles.

use reqwest::Method;
use serde_json::{json, Value};
use tutorchat_shared::api::{ChatList, ContactsByCourse};

use crate::testing::{
    text, Reply, TestServer, ADA, ALAN, GRACE, LEO, MAYA, SAM, SAM_ADA_CHAT, SAM_ADA_MESSAGES,
};

/// A chat id no demo chat has.
const MISSING_CHAT: i64 = 9_999;

/// Every chat endpoint, tried on `chat` by the holder of `token`.
async fn every_chat_endpoint(ts: &TestServer, token: &str, chat: i64) -> Vec<(String, Reply)> {
    let calls: [(Method, String, Option<Value>); 4] = [
        (Method::GET, format!("/api/chats/{chat}"), None),
        (Method::GET, format!("/api/chats/{chat}/messages"), None),
        (
            Method::POST,
            format!("/api/chats/{chat}/messages"),
            Some(text("idor-probe", "hi")),
        ),
        (
            Method::PUT,
            format!("/api/chats/{chat}/read"),
            Some(json!({"up_to_seq": 1})),
        ),
    ];
    let mut replies = Vec::new();
    for (method, path, body) in calls {
        let label = format!("{method} {path}");
        replies.push((label, ts.request(method, &path, Some(token), body).await));
    }
    replies
}

#[tokio::test]
async fn outsiders_get_not_participant_on_every_chat_endpoint() {
    let ts = TestServer::start().await;
    // Maya (a student of the same course) and Grace (a tutor) are both outsiders to chat 1.
    for outsider in [MAYA, GRACE] {
        let token = ts.token(outsider).await;
        for (call, reply) in every_chat_endpoint(&ts, &token, SAM_ADA_CHAT).await {
            assert_eq!(
                (reply.status.as_u16(), reply.code()),
                (403, "not_participant"),
                "{outsider}: {call}: {}",
                reply.body
            );
            assert_eq!(reply.body["chat_id"], SAM_ADA_CHAT, "{call}");
        }
    }
    // Nothing changed in the chat: no message stored, no pointer moved.
    let sam = ts.token(SAM).await;
    let chat = ts.chat(&sam, SAM_ADA_CHAT).await;
    assert_eq!(chat.last_seq, SAM_ADA_MESSAGES);
    let page = ts.page(&sam, SAM_ADA_CHAT, "").await;
    let pointers = page.body["read_pointers"]
        .as_array()
        .expect("pointers")
        .clone();
    assert_eq!(pointers.len(), 2, "only the two members have pointers");
    assert!(pointers
        .iter()
        .all(|p| p["user_id"] == "s-sam" || p["user_id"] == "t-ada"));
}

#[tokio::test]
async fn a_missing_chat_answers_exactly_like_someone_elses() {
    let ts = TestServer::start().await;
    let maya = ts.token(MAYA).await;
    let theirs = every_chat_endpoint(&ts, &maya, SAM_ADA_CHAT).await;
    let missing = every_chat_endpoint(&ts, &maya, MISSING_CHAT).await;
    for ((call, a), (_, b)) in theirs.iter().zip(&missing) {
        b.assert_error(403, "not_participant");
        assert_eq!(a.status, b.status, "{call}");
        assert_eq!(a.body["code"], b.body["code"], "{call}");
        assert_eq!(
            a.body["message"], b.body["message"],
            "{call}: the wording gives nothing away"
        );
    }
}

#[tokio::test]
async fn denied_chat_access_is_audited() {
    let ts = TestServer::start().await;
    let leo = ts.token(LEO).await;
    ts.get(&leo, &format!("/api/chats/{SAM_ADA_CHAT}/messages"))
        .await;
    ts.get(&leo, &format!("/api/chats/{MISSING_CHAT}")).await;

    let denials = ts.audit("access_denied").await;
    assert_eq!(denials.len(), 2, "{denials:?}");
    // Newest first.
    assert_eq!(denials[0].target.as_deref(), Some("chat:9999"));
    assert_eq!(denials[1].target.as_deref(), Some("chat:1"));
    for denial in &denials {
        assert_eq!(denial.actor_id.as_ref().map(|u| u.as_str()), Some("s-leo"));
        assert_eq!(denial.detail.as_deref(), Some("not_participant"));
    }
}

#[tokio::test]
async fn chat_list_holds_only_the_callers_chats() {
    let ts = TestServer::start().await;
    let ids = |list: ChatList| list.chats.iter().map(|c| c.id.0).collect::<Vec<_>>();

    let sam: ChatList = ts.get(&ts.token(SAM).await, "/api/chats").await.json();
    assert_eq!(ids(sam.clone()), [SAM_ADA_CHAT]);
    assert_eq!(sam.chats[0].peer.id.as_str(), "t-ada");

    let ada: ChatList = ts.get(&ts.token(ADA).await, "/api/chats").await.json();
    assert_eq!(ada.chats.len(), 2, "Ada talks with Sam and Maya");
    assert!(ada
        .chats
        .iter()
        .all(|c| ["s-sam", "s-maya"].contains(&c.peer.id.as_str())));

    let alan: ChatList = ts.get(&ts.token(ALAN).await, "/api/chats").await.json();
    assert!(
        alan.chats.is_empty(),
        "Alan has no chats yet: {:?}",
        ids(alan.clone())
    );
    let leo: ChatList = ts.get(&ts.token(LEO).await, "/api/chats").await.json();
    assert_eq!(leo.chats.len(), 1);
    assert_eq!(leo.chats[0].peer.id.as_str(), "t-grace");
    assert!(!ids(leo).contains(&SAM_ADA_CHAT));
}

#[tokio::test]
async fn students_cannot_list_students_and_tutors_cannot_list_tutors() {
    let ts = TestServer::start().await;
    let sam = ts.token(SAM).await;
    ts.get(&sam, "/api/tutors/students")
        .await
        .assert_error(403, "forbidden");
    ts.get(&sam, "/api/tutors/students?course_id=rust-101")
        .await
        .assert_error(403, "forbidden");
    let ada = ts.token(ADA).await;
    ts.get(&ada, "/api/users/available-tutors")
        .await
        .assert_error(403, "forbidden");
    ts.get(
        &ts.token(crate::testing::ADMIN).await,
        "/api/users/available-tutors",
    )
    .await
    .assert_error(403, "forbidden");
}

#[tokio::test]
async fn tutor_cannot_filter_by_a_course_they_do_not_teach() {
    let ts = TestServer::start().await;
    let ada = ts.token(ADA).await;
    let reply = ts.get(&ada, "/api/tutors/students?course_id=ml-401").await;
    reply.assert_error(403, "not_course_tutor");

    let own: ContactsByCourse = ts
        .get(&ada, "/api/tutors/students?course_id=rust-101")
        .await
        .json();
    assert_eq!(own.courses.len(), 1);
    assert_eq!(own.courses[0].course.id.as_str(), "rust-101");
    let students: Vec<&str> = own.courses[0]
        .contacts
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(
        students,
        ["s-maya", "s-sam"],
        "by name: Maya Patel, Sam Student"
    );
}

#[tokio::test]
async fn tutor_lists_the_students_of_all_their_courses_grouped_by_course() {
    let ts = TestServer::start().await;
    let ada = ts.token(ADA).await;
    let all: ContactsByCourse = ts.get(&ada, "/api/tutors/students").await.json();
    let grouped: Vec<(&str, Vec<&str>)> = all
        .courses
        .iter()
        .map(|c| {
            (
                c.course.id.as_str(),
                c.contacts.iter().map(|p| p.id.as_str()).collect(),
            )
        })
        .collect();
    // By course title: "Rust from Zero", then "Web Apps with Yew".
    assert_eq!(
        grouped,
        [
            ("rust-101", vec!["s-maya", "s-sam"]),
            ("web-301", vec!["s-leo", "s-maya"])
        ]
    );
    let sam = &all.courses[0].contacts[1];
    assert_eq!(
        sam.chat_id.map(|c| c.0),
        Some(SAM_ADA_CHAT),
        "the existing chat is linked"
    );
}

#[tokio::test]
async fn available_tutors_lists_only_purchased_courses_grouped_by_course() {
    let ts = TestServer::start().await;
    let sam = ts.token(SAM).await;
    let reply = ts.get(&sam, "/api/users/available-tutors").await;
    reply.assert_ok();
    let tutors: ContactsByCourse = reply.json();
    let grouped: Vec<(&str, Vec<&str>)> = tutors
        .courses
        .iter()
        .map(|c| {
            (
                c.course.id.as_str(),
                c.contacts.iter().map(|p| p.id.as_str()).collect(),
            )
        })
        .collect();
    // By course title: "Algorithms and Data Structures", then "Rust from Zero".
    assert_eq!(
        grouped,
        [
            ("algo-201", vec!["t-alan"]),
            ("rust-101", vec!["t-ada", "t-alan"])
        ]
    );
    assert!(
        !reply.body.to_string().contains("ml-401"),
        "never the unbought course"
    );
    assert!(
        !reply.body.to_string().contains("t-grace"),
        "never a tutor of unbought courses"
    );

    let rust = &tutors.courses[1];
    assert_eq!(rust.course.title, "Rust from Zero");
    assert_eq!(rust.contacts[0].chat_id.map(|c| c.0), Some(SAM_ADA_CHAT));
    assert_eq!(rust.contacts[1].chat_id, None, "no chat with Alan yet");
    assert!(rust
        .contacts
        .iter()
        .all(|c| c.role == tutorchat_shared::Role::Tutor));
}

#[tokio::test]
async fn chat_list_is_ordered_by_latest_activity_with_unread_counts() {
    let ts = TestServer::start().await;
    let ada = ts.token(ADA).await;
    let list: ChatList = ts.get(&ada, "/api/chats").await.json();
    let peers: Vec<&str> = list.chats.iter().map(|c| c.peer.id.as_str()).collect();
    assert_eq!(
        peers,
        ["s-maya", "s-sam"],
        "Maya wrote a day ago, Sam three days ago"
    );
    assert_eq!(list.chats[0].unread, 2, "Maya's two questions");
    assert_eq!(list.chats[1].unread, 0, "Ada answered Sam last");
    assert!(list.chats[0].last_activity_at > list.chats[1].last_activity_at);

    let sam = ts.token(SAM).await;
    ts.send(&sam, SAM_ADA_CHAT, "bump", "New question!")
        .await
        .assert_ok();
    let list: ChatList = ts.get(&ada, "/api/chats").await.json();
    let first = &list.chats[0];
    assert_eq!((first.id.0, first.unread), (SAM_ADA_CHAT, 1));
    assert_eq!(
        first.last_message.as_ref().map(|m| m.content.as_str()),
        Some("New question!")
    );
}
