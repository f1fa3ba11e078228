//! The demo school that `--demo` seeds into an empty data directory: three tutors, three
//! students, an admin, four courses, enrollments that leave one course unbought, and a few
//! chats with history (one long enough to page through).

use chrono::{Duration, Utc};
use tutorchat_shared::api::{EnrollmentChange, ProvisioningBatch, UpsertCourse, UpsertUser};
use tutorchat_shared::{ChatId, ClientId, CourseId, MessageKind, Role, UserId};

use crate::auth::password::PasswordHasher;
use crate::error::Result;
use crate::service::provisioning;
use crate::store::{NewMessage, Store};

/// Every demo account's password.
pub const PASSWORD: &str = "tutorchat-demo";

/// (id, email, name, role)
pub const USERS: &[(&str, &str, &str, Role)] = &[
    ("t-ada", "ada@tutorchat.test", "Ada Lovelace", Role::Tutor),
    ("t-alan", "alan@tutorchat.test", "Alan Turing", Role::Tutor),
    (
        "t-grace",
        "grace@tutorchat.test",
        "Grace Hopper",
        Role::Tutor,
    ),
    ("s-sam", "sam@tutorchat.test", "Sam Student", Role::Student),
    ("s-maya", "maya@tutorchat.test", "Maya Patel", Role::Student),
    ("s-leo", "leo@tutorchat.test", "Leo Rossi", Role::Student),
    (
        "a-avery",
        "admin@tutorchat.test",
        "Avery Admin",
        Role::Admin,
    ),
];

/// (id, title, tutors)
pub const COURSES: &[(&str, &str, &[&str])] = &[
    ("rust-101", "Rust from Zero", &["t-ada", "t-alan"]),
    ("algo-201", "Algorithms and Data Structures", &["t-alan"]),
    ("web-301", "Web Apps with Yew", &["t-grace", "t-ada"]),
    ("ml-401", "Machine Learning Basics", &["t-grace"]),
];

/// (course, student). Sam has not bought ml-401: the `not_enrolled` example.
pub const ENROLLMENTS: &[(&str, &str)] = &[
    ("rust-101", "s-sam"),
    ("algo-201", "s-sam"),
    ("rust-101", "s-maya"),
    ("web-301", "s-maya"),
    ("web-301", "s-leo"),
    ("ml-401", "s-leo"),
    ("algo-201", "s-leo"),
];

/// Seeds the school if the store has no users yet; returns whether it did.
pub async fn seed(store: &dyn Store, passwords: &PasswordHasher) -> Result<bool> {
    if store.user_count().await? > 0 {
        return Ok(false);
    }
    let batch = ProvisioningBatch {
        users: USERS
            .iter()
            .map(|(id, email, name, role)| UpsertUser {
                id: UserId::new(*id),
                email: (*email).into(),
                name: (*name).into(),
                role: *role,
                password: Some(PASSWORD.into()),
            })
            .collect(),
        courses: COURSES
            .iter()
            .map(|(id, title, tutors)| UpsertCourse {
                id: CourseId::new(*id),
                title: (*title).into(),
                tutor_ids: tutors.iter().map(|t| UserId::new(*t)).collect(),
                purchase_url: Some(format!("https://school.tutorchat.test/courses/{id}/buy")),
            })
            .collect(),
        enrollments: ENROLLMENTS
            .iter()
            .map(|(course, student)| EnrollmentChange {
                course_id: CourseId::new(*course),
                student_id: UserId::new(*student),
                active: true,
            })
            .collect(),
    };
    provisioning::apply_to_store(store, passwords, batch).await?;

    // Sam and Ada: a long conversation. Sam has read up to his own last message (seq 119), so
    // Ada's last three replies are unread by him.
    let long: Vec<(&str, String)> = (1..=120u32)
        .map(|i| {
            if i % 2 == 1 {
                (
                    "s-sam",
                    format!("Question {} about ownership and borrowing", i.div_ceil(2)),
                )
            } else {
                (
                    "t-ada",
                    format!(
                        "Answer {}: think of who owns the value at each step.",
                        i / 2
                    ),
                )
            }
        })
        .chain([
            (
                "t-ada",
                "Also: try the exercises in chapter 4 before Friday.".to_owned(),
            ),
            (
                "t-ada",
                "And ping me if the borrow checker still complains!".to_owned(),
            ),
        ])
        .collect();
    let maya = vec![
        (
            "s-maya",
            "Hi Ada! Is lifetime elision covered in the exam?".to_owned(),
        ),
        (
            "s-maya",
            "Also, where are the slides for week 3?".to_owned(),
        ),
    ];
    let leo = vec![
        (
            "s-leo",
            "Hello Grace, my Yew component re-renders forever. Any idea?".to_owned(),
        ),
        (
            "t-grace",
            "Check that your use_effect has the right dependencies.".to_owned(),
        ),
        ("s-leo", "That was it, thanks!".to_owned()),
    ];
    // The chats one after another, so their ids are the same on every backend (chat 1 is
    // Sam and Ada's); then their messages side by side.
    let sam = chat(store, "rust-101", "s-sam", "t-ada", long, 3).await?;
    let maya = chat(store, "rust-101", "s-maya", "t-ada", maya, 1).await?;
    let leo = chat(store, "web-301", "s-leo", "t-grace", leo, 2).await?;
    let (a, b, c) = tokio::join!(
        conversation(store, sam),
        conversation(store, maya),
        conversation(store, leo)
    );
    a?;
    b?;
    c?;
    tracing::info!("seeded the demo school");
    Ok(true)
}

/// A demo chat and the messages it will hold.
struct Conversation<'a> {
    chat: ChatId,
    messages: Vec<(&'a str, String)>,
    start: chrono::DateTime<Utc>,
}

/// Creates a chat whose messages, one minute apart, end `days_ago` days before now.
async fn chat<'a>(
    store: &dyn Store,
    course: &str,
    student: &str,
    tutor: &str,
    messages: Vec<(&'a str, String)>,
    days_ago: i64,
) -> Result<Conversation<'a>> {
    let course = CourseId::new(course);
    let (student, tutor) = (UserId::new(student), UserId::new(tutor));
    let count = i64::try_from(messages.len()).unwrap_or(0);
    let start = Utc::now() - Duration::days(days_ago) - Duration::minutes(count);
    let (chat, _) = store
        .find_or_create_chat(&course, &student, &tutor, start)
        .await?;
    Ok(Conversation {
        chat: chat.id,
        messages,
        start,
    })
}

/// Stores a conversation's messages, in order.
async fn conversation(store: &dyn Store, conversation: Conversation<'_>) -> Result<()> {
    let Conversation {
        chat,
        messages,
        start,
    } = conversation;
    for (i, (sender, content)) in messages.into_iter().enumerate() {
        let minutes = i64::try_from(i).unwrap_or(0) + 1;
        store
            .insert_message(NewMessage {
                chat_id: chat,
                sender_id: UserId::new(sender),
                client_id: ClientId::new(format!("demo-{chat}-{i}")),
                kind: MessageKind::Text,
                content,
                attachment: None,
                at: start + Duration::minutes(minutes),
            })
            .await?;
    }
    Ok(())
}

/// The demo logins as printed at start and listed in the README.
pub fn logins_text(admin_token: Option<&str>) -> String {
    let mut text = String::from("Demo school logins (password for all: ");
    text.push_str(PASSWORD);
    text.push_str(")\n");
    for (id, email, name, role) in USERS {
        text.push_str(&format!(
            "  {:<8} {:<22} {:<14} id {id}\n",
            role.as_str(),
            email,
            name
        ));
    }
    text.push_str("Sam has bought rust-101 and algo-201 but not ml-401.\n");
    if let Some(token) = admin_token {
        text.push_str(&format!("Service token for /api/admin/*: {token}\n"));
    }
    text
}
