//! Provisioning by the course platform (service token or admin user): users, courses with their
//! tutors, enrollments, all-or-nothing imports, and the audit log with its paging.

use reqwest::Method;
use serde_json::json;
use tutorchat_shared::api::{AuditPage, ContactsByCourse, ProvisioningReport};

use crate::testing::{new_user, with_student, TestServer, ADA, ADMIN, ADMIN_TOKEN, PASSWORD, SAM};

#[tokio::test]
async fn provisioning_needs_the_service_token_or_an_admin() {
    let ts = TestServer::start().await;
    let body = new_user("s-new", "new@school.test", "student");

    let none = ts
        .anonymous(Method::POST, "/api/admin/users", Some(body.clone()))
        .await;
    none.assert_error(401, "unauthorized");
    let student = ts.token(SAM).await;
    ts.post(&student, "/api/admin/users", body.clone())
        .await
        .assert_error(403, "forbidden");
    let tutor = ts.token(ADA).await;
    ts.get(&tutor, "/api/admin/audit")
        .await
        .assert_error(403, "forbidden");
    ts.post("wrong-service-token", "/api/admin/users", body.clone())
        .await
        .assert_error(401, "invalid_token");
    ts.try_login("new@school.test", PASSWORD)
        .await
        .assert_error(401, "invalid_credentials");

    let admin = ts.token(ADMIN).await;
    let reply = ts.post(&admin, "/api/admin/users", body).await;
    reply.assert_ok();
    assert_eq!(
        reply.json::<ProvisioningReport>(),
        ProvisioningReport {
            users: 1,
            ..Default::default()
        }
    );
    let other = new_user("s-other", "other@school.test", "student");
    ts.admin_post("/api/admin/users", other).await.assert_ok();

    let upserts = ts.audit("admin_user_upsert").await;
    let actors: Vec<Option<&str>> = upserts
        .iter()
        .map(|e| e.actor_id.as_ref().map(|u| u.as_str()))
        .collect();
    assert_eq!(
        actors,
        [None, Some("a-avery")],
        "the service acts anonymously; newest first"
    );
}

#[tokio::test]
async fn provisioned_user_signs_in_with_their_password() {
    let ts = TestServer::start().await;
    let reply = ts
        .admin_post(
            "/api/admin/users",
            new_user("t-new", "newtutor@school.test", "tutor"),
        )
        .await;
    reply.assert_ok();
    let tokens = ts.login("newtutor@school.test").await;
    assert_eq!(tokens.user.id.as_str(), "t-new");
    assert_eq!(tokens.user.name, "User t-new");
    assert_eq!(tokens.user.role, tutorchat_shared::Role::Tutor);

    // Upserting again without a password keeps it and updates the rest.
    let renamed =
        json!({"id": "t-new", "email": "newtutor@school.test", "name": "Dr New", "role": "tutor"});
    ts.admin_post("/api/admin/users", renamed).await.assert_ok();
    let me = ts
        .get(&ts.token("newtutor@school.test").await, "/api/me")
        .await;
    assert_eq!(me.body["name"], "Dr New");
}

#[tokio::test]
async fn invalid_users_are_refused_with_the_field() {
    let ts = TestServer::start().await;
    let short = json!({
        "id": "s-x", "email": "x@school.test", "name": "X", "role": "student", "password": "short",
    });
    ts.admin_post("/api/admin/users", short)
        .await
        .assert_invalid("password");
    let email = json!({"id": "s-x", "email": "not-an-email", "name": "X", "role": "student"});
    ts.admin_post("/api/admin/users", email)
        .await
        .assert_invalid("email");
    let role = json!({"id": "s-x", "email": "x@school.test", "name": "X", "role": "janitor"});
    ts.admin_post("/api/admin/users", role)
        .await
        .assert_invalid("body");
    assert!(ts.audit("admin_user_upsert").await.is_empty());
}

#[tokio::test]
async fn course_upsert_replaces_its_tutor_list() {
    let ts = TestServer::start().await;
    let body = json!({
        "id": "rust-101", "title": "Rust from Zero (2nd ed.)", "tutor_ids": ["t-alan", "t-grace"],
    });
    let reply = ts.admin_post("/api/admin/courses", body).await;
    reply.assert_ok();
    assert_eq!(reply.body["courses"], 1);

    let sam = ts.token(SAM).await;
    let tutors: ContactsByCourse = ts.get(&sam, "/api/users/available-tutors").await.json();
    let rust = tutors
        .courses
        .iter()
        .find(|c| c.course.id.as_str() == "rust-101")
        .expect("rust-101");
    assert_eq!(rust.course.title, "Rust from Zero (2nd ed.)");
    let ids: Vec<&str> = rust.contacts.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        ["t-alan", "t-grace"],
        "Ada is no longer a tutor of the course"
    );

    let ada = ts.token(ADA).await;
    ts.get(&ada, "/api/tutors/students?course_id=rust-101")
        .await
        .assert_error(403, "not_course_tutor");
    // The gate applies on every send: Ada's old chat with Sam is closed to new messages.
    ts.send(&sam, crate::testing::SAM_ADA_CHAT, "to-ex-tutor", "Hi")
        .await
        .assert_error(403, "not_course_tutor");
    let grace = ts.token(crate::testing::GRACE).await;
    let opened = ts
        .create_chat(&grace, with_student("rust-101", "s-sam"))
        .await;
    assert_eq!(opened.status.as_u16(), 201, "{}", opened.body);
}

#[tokio::test]
async fn course_tutors_must_be_tutors() {
    let ts = TestServer::start().await;
    let body = json!({"id": "rust-101", "title": "Rust", "tutor_ids": ["s-sam"]});
    ts.admin_post("/api/admin/courses", body)
        .await
        .assert_invalid("batch");
    let body = json!({"id": "rust-101", "title": "Rust", "tutor_ids": ["t-nobody"]});
    ts.admin_post("/api/admin/courses", body)
        .await
        .assert_invalid("batch");
    // Nothing changed: Ada still teaches rust-101.
    let ada = ts.token(ADA).await;
    ts.get(&ada, "/api/tutors/students?course_id=rust-101")
        .await
        .assert_ok();
}

#[tokio::test]
async fn import_applies_users_then_courses_then_enrollments() {
    let ts = TestServer::start().await;
    let batch = json!({
        "users": [
            new_user("t-kim", "kim@school.test", "tutor"),
            new_user("s-lee", "lee@school.test", "student"),
        ],
        "courses": [{"id": "go-101", "title": "Go Basics", "tutor_ids": ["t-kim"]}],
        "enrollments": [{"course_id": "go-101", "student_id": "s-lee"}],
    });
    let reply = ts.admin_post("/api/admin/import", batch).await;
    reply.assert_ok();
    assert_eq!(
        reply.json::<ProvisioningReport>(),
        ProvisioningReport {
            users: 2,
            courses: 1,
            enrollments: 1
        }
    );

    let lee = ts.token("lee@school.test").await;
    let tutors: ContactsByCourse = ts.get(&lee, "/api/users/available-tutors").await.json();
    assert_eq!(tutors.courses.len(), 1);
    assert_eq!(tutors.courses[0].course.id.as_str(), "go-101");
    assert_eq!(tutors.courses[0].contacts[0].id.as_str(), "t-kim");
    let chat = ts.open_chat(&lee, "go-101", "t-kim").await;
    ts.send(&lee, chat, "lee-1", "Hello Kim").await.assert_ok();
}

#[tokio::test]
async fn import_with_one_bad_enrollment_changes_nothing() {
    let ts = TestServer::start().await;
    let batch = json!({
        "users": [new_user("s-lee", "lee@school.test", "student")],
        "courses": [{"id": "rust-101", "title": "Renamed", "tutor_ids": ["t-alan"]}],
        "enrollments": [
            {"course_id": "rust-101", "student_id": "s-lee"},
            {"course_id": "no-such-course", "student_id": "s-lee"},
        ],
    });
    let reply = ts.admin_post("/api/admin/import", batch).await;
    reply.assert_invalid("batch");
    assert!(reply.body["message"]
        .as_str()
        .is_some_and(|m| m.contains("no-such-course")));

    ts.try_login("lee@school.test", PASSWORD)
        .await
        .assert_error(401, "invalid_credentials");
    let sam = ts.token(SAM).await;
    let tutors: ContactsByCourse = ts.get(&sam, "/api/users/available-tutors").await.json();
    let rust = tutors
        .courses
        .iter()
        .find(|c| c.course.id.as_str() == "rust-101")
        .expect("rust-101");
    assert_eq!(
        rust.course.title, "Rust from Zero",
        "the course was not renamed"
    );
    assert_eq!(rust.contacts.len(), 2, "its tutors were not replaced");
    assert!(ts.audit("admin_import").await.is_empty());
}

#[tokio::test]
async fn an_email_owned_by_another_user_is_refused() {
    let ts = TestServer::start().await;
    let taken = new_user("s-imposter", "SAM@tutorchat.test", "student");
    let reply = ts.admin_post("/api/admin/users", taken).await;
    reply.assert_invalid("batch");
    let sam = ts.login(SAM).await;
    assert_eq!(
        sam.user.id.as_str(),
        "s-sam",
        "the email still signs Sam in"
    );

    let twins = [
        new_user("s-a", "twin@school.test", "student"),
        new_user("s-b", "twin@school.test", "student"),
    ];
    let batch = json!({ "users": twins });
    ts.admin_post("/api/admin/import", batch)
        .await
        .assert_invalid("batch");
    ts.try_login("twin@school.test", PASSWORD)
        .await
        .assert_error(401, "invalid_credentials");
}

#[tokio::test]
async fn enrollments_need_a_student() {
    let ts = TestServer::start().await;
    let body = json!({"course_id": "ml-401", "student_id": "t-ada"});
    ts.admin_post("/api/admin/enrollments", body)
        .await
        .assert_invalid("batch");
    let body = json!({"course_id": "ml-401", "student_id": "s-nobody"});
    ts.admin_post("/api/admin/enrollments", body)
        .await
        .assert_invalid("batch");
}

#[tokio::test]
async fn audit_log_lists_admin_changes_newest_first_and_pages_by_id() {
    let ts = TestServer::start().await;
    for i in 0..3 {
        let user = new_user(&format!("s-p{i}"), &format!("p{i}@school.test"), "student");
        ts.admin_post("/api/admin/users", user).await.assert_ok();
    }
    ts.admin_post(
        "/api/admin/import",
        json!({"users": [new_user("s-q", "q@school.test", "student")]}),
    )
    .await
    .assert_ok();

    let all: AuditPage = ts.get(ADMIN_TOKEN, "/api/admin/audit").await.json();
    let actions: Vec<&str> = all
        .entries
        .iter()
        .take(4)
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "admin_import",
            "admin_user_upsert",
            "admin_user_upsert",
            "admin_user_upsert"
        ]
    );
    assert!(
        all.entries.windows(2).all(|w| w[0].id > w[1].id),
        "newest first"
    );
    assert_eq!(
        all.entries[0].detail.as_deref(),
        Some("users=1 courses=0 enrollments=0")
    );

    let upserts = ts.audit("admin_user_upsert").await;
    assert_eq!(upserts.len(), 3);
    let first: AuditPage = ts
        .get(
            ADMIN_TOKEN,
            "/api/admin/audit?action=admin_user_upsert&limit=2",
        )
        .await
        .json();
    assert_eq!(first.entries, upserts[..2]);
    let next = format!(
        "/api/admin/audit?action=admin_user_upsert&limit=2&before_id={}",
        first.entries[1].id
    );
    let second: AuditPage = ts.get(ADMIN_TOKEN, &next).await.json();
    assert_eq!(second.entries, upserts[2..]);
    let past = format!(
        "/api/admin/audit?before_id={}",
        all.entries.last().expect("entries").id
    );
    let empty: AuditPage = ts.get(ADMIN_TOKEN, &past).await.json();
    assert!(empty.entries.is_empty());

    ts.get(ADMIN_TOKEN, "/api/admin/audit?limit=0")
        .await
        .assert_invalid("limit");
    ts.get(ADMIN_TOKEN, "/api/admin/audit?action=made_up")
        .await
        .assert_invalid("query");
}
