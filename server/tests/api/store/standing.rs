//! Conformance checks on a member's own view of a chat: settings per member (a field left out
//! stays), the archive choice stamped with its time, blocked as the viewer's own block, and
//! whether the enrollment and teaching still hold, with the course's purchase address.

use chrono::{Duration, Utc};
use tutorchat_server::store::{ChatRow, Provisioning, Store};
use tutorchat_shared::api::{ChatSettingsChange, EnrollmentChange, UpsertCourse};
use tutorchat_shared::{ChatId, CourseId};

use super::{id, school, COURSE, STUDENT, TUTOR};

async fn row(store: &dyn Store, chat: ChatId, viewer: &str) -> ChatRow {
    store
        .chat_row(chat, &id(viewer))
        .await
        .expect("store works")
        .expect("a member's chat")
}

pub async fn chat_settings_are_per_member_and_a_field_left_out_stays(store: &dyn Store) {
    let chat = school(store).await.id;
    let fresh = row(store, chat, STUDENT).await;
    assert!(!fresh.muted && fresh.archive.is_none());

    let at = Utc::now() - Duration::minutes(5);
    let change = ChatSettingsChange {
        muted: Some(true),
        archived: Some(true),
    };
    store
        .set_chat_settings(chat, &id(STUDENT), change, at)
        .await
        .expect("settings");
    let mine = row(store, chat, STUDENT).await;
    assert!(mine.muted);
    let mark = mine.archive.expect("an archive choice");
    assert!(mark.archived);
    assert_eq!(mark.at.timestamp_millis(), at.timestamp_millis());
    let theirs = row(store, chat, TUTOR).await;
    assert!(
        !theirs.muted && theirs.archive.is_none(),
        "the other member's view is their own"
    );

    let change = ChatSettingsChange {
        muted: None,
        archived: Some(false),
    };
    store
        .set_chat_settings(chat, &id(STUDENT), change, Utc::now())
        .await
        .expect("settings");
    let mine = row(store, chat, STUDENT).await;
    assert!(mine.muted, "left out, so still muted");
    assert!(mine.archive.is_some_and(|a| !a.archived));
}

pub async fn chat_rows_say_who_blocked_and_whether_both_may_still_write(store: &dyn Store) {
    let chat = school(store).await.id;
    let fresh = row(store, chat, STUDENT).await;
    assert!(!fresh.blocked && fresh.enrolled && fresh.teaching);

    store
        .set_block(&id(TUTOR), &id(STUDENT), true)
        .await
        .expect("block");
    assert!(
        row(store, chat, TUTOR).await.blocked,
        "the tutor's own block"
    );
    assert!(
        !row(store, chat, STUDENT).await.blocked,
        "the blocked student's row does not say so"
    );

    let batch = Provisioning {
        courses: vec![UpsertCourse {
            id: CourseId::new(COURSE),
            title: "Course One".into(),
            tutor_ids: vec![],
            purchase_url: Some("https://school.test/c-1/buy".into()),
        }],
        enrollments: vec![EnrollmentChange {
            course_id: CourseId::new(COURSE),
            student_id: id(STUDENT),
            active: false,
        }],
        ..Default::default()
    };
    store
        .provision(batch)
        .await
        .expect("store works")
        .expect("batch accepted");
    let ended = row(store, chat, STUDENT).await;
    assert!(!ended.enrolled && !ended.teaching);
    assert_eq!(
        ended.purchase_url.as_deref(),
        Some("https://school.test/c-1/buy")
    );
    assert_eq!(
        store
            .purchase_url(&CourseId::new(COURSE))
            .await
            .expect("store works")
            .as_deref(),
        Some("https://school.test/c-1/buy")
    );
    assert_eq!(
        store
            .purchase_url(&CourseId::new("no-such-course"))
            .await
            .expect("store works"),
        None
    );
}
