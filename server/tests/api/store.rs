//! The `Store` conformance suite: what every backend must do, written once as `async fn`
//! checks over `&dyn Store` and run against each backend by the modules at the bottom (SQLite
//! now; a PostgreSQL backend adds one module with its own opener).
//!
//! - `chats`: chats, gapless seqs, idempotent inserts, pages, read pointers, durability.
//! - `send`: the checked send path — refusals, dedup before checks, hooks in commit order.
//! - `accounts`: refresh tokens, provisioning, enrollments, blocks, the audit log.
//! - `standing`: a member's own view of a chat — settings, their block, whether both may write.
//! - `attachments`: uploads started once, claimed by one message of their owner, who may see
//!   them, and the content an unsent upload leaves behind.
//!
//! This file holds the shared fixtures (a small school) and the per-backend runners.

mod accounts;
mod attachments;
mod chats;
mod send;
mod standing;

use chrono::Utc;
use tutorchat_server::store::{
    ChatRecord, InsertOutcome, NewMessage, NewUser, Provisioning, SendChecks, Store,
};
use tutorchat_shared::api::{EnrollmentChange, UpsertCourse};
use tutorchat_shared::{ChatId, ClientId, CourseId, Message, MessageKind, Role, UserId};

const STUDENT: &str = "s-1";
const OTHER_STUDENT: &str = "s-2";
const TUTOR: &str = "t-1";
const COURSE: &str = "c-1";

fn id(s: &str) -> UserId {
    UserId::new(s)
}

fn user(uid: &str, role: Role) -> NewUser {
    NewUser {
        id: id(uid),
        email: format!("{uid}@store.test"),
        name: format!("User {uid}"),
        role,
        password_hash: None,
    }
}

fn enrollment(course: &str, student: &str) -> EnrollmentChange {
    EnrollmentChange {
        course_id: CourseId::new(course),
        student_id: id(student),
        active: true,
    }
}

/// Two students and a tutor in one course, and the chat of the first student with the tutor.
async fn school(store: &dyn Store) -> ChatRecord {
    let batch = Provisioning {
        users: vec![
            user(STUDENT, Role::Student),
            user(OTHER_STUDENT, Role::Student),
            user(TUTOR, Role::Tutor),
        ],
        courses: vec![UpsertCourse {
            id: CourseId::new(COURSE),
            title: "Course One".into(),
            tutor_ids: vec![id(TUTOR)],
            purchase_url: None,
        }],
        enrollments: vec![
            enrollment(COURSE, STUDENT),
            enrollment(COURSE, OTHER_STUDENT),
        ],
    };
    store
        .provision(batch)
        .await
        .expect("store works")
        .expect("batch accepted");
    let course = CourseId::new(COURSE);
    let (chat, created) = store
        .find_or_create_chat(&course, &id(STUDENT), &id(TUTOR), Utc::now())
        .await
        .expect("chat");
    assert!(created);
    chat
}

fn new_message(chat: ChatId, sender: &str, client_id: &str) -> NewMessage {
    NewMessage {
        chat_id: chat,
        sender_id: id(sender),
        client_id: ClientId::new(client_id),
        kind: MessageKind::Text,
        content: format!("{sender} says {client_id}"),
        attachment: None,
        at: Utc::now(),
    }
}

/// Inserts a message that must be new.
async fn insert(store: &dyn Store, chat: ChatId, sender: &str, client_id: &str) -> Message {
    match store
        .insert_message(new_message(chat, sender, client_id))
        .await
        .expect("insert")
    {
        InsertOutcome::Stored(message) => message,
        other => panic!("expected a new message, got {other:?}"),
    }
}

/// What a send by the fixture's student to its tutor is checked against.
fn checks() -> SendChecks {
    SendChecks {
        recipient: id(TUTOR),
        course: CourseId::new(COURSE),
        student: id(STUDENT),
        tutor: id(TUTOR),
    }
}

fn seqs(messages: &[Message]) -> Vec<u64> {
    messages.iter().map(|m| m.seq).collect()
}

/// One `#[tokio::test]` per check, on a fresh store from `$open` (an expression, awaited in
/// the test, giving a guard to keep alive and the store). The list of checks is written once,
/// here, for every backend.
macro_rules! conformance {
    ($open:expr) => {
        conformance!($open;
            chats::seq_is_gapless_under_concurrent_inserts,
            chats::duplicate_client_id_returns_the_original,
            chats::pages_of_an_empty_chat_are_empty,
            chats::pages_report_more_at_both_ends,
            chats::mark_read_moves_forward_only_and_clamps,
            chats::inserting_moves_the_senders_read_pointer,
            send::send_message_refuses_blocked_unenrolled_and_non_teaching,
            send::send_message_deduplicates_before_checking,
            send::send_message_hooks_run_in_commit_order,
            send::send_messages_stores_a_batch_in_order_with_one_outcome_each,
            accounts::refresh_reuse_revokes_the_family,
            accounts::a_refresh_replayed_within_the_grace_gets_the_same_successor,
            accounts::expired_or_unknown_refresh_token_is_invalid,
            accounts::provisioning_is_all_or_nothing,
            accounts::revoked_enrollments_leave_the_gate_and_the_lists,
            chats::find_or_create_chat_is_idempotent,
            accounts::blocks_are_one_way_and_report_changes,
            accounts::audit_entries_page_newest_first,
            standing::chat_settings_are_per_member_and_a_field_left_out_stays,
            standing::chat_rows_say_who_blocked_and_whether_both_may_still_write,
            attachments::an_upload_is_claimed_once_by_its_owner_and_seen_by_the_chat,
            attachments::removing_an_unsent_upload_answers_the_content_nothing_else_uses,
        );
    };
    ($open:expr; $($module:ident::$check:ident),+ $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $check() {
            let (_guard, store) = $open;
            super::$module::$check(&store).await;
        }
    )+};
}

mod sqlite {
    use tempfile::TempDir;
    use tutorchat_server::store::sqlite::SqliteStore;
    use tutorchat_server::store::Store;

    fn open() -> (TempDir, SqliteStore) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path()).expect("open store");
        (dir, store)
    }

    conformance!(open());

    /// One embedded node: the "several nodes" check with one handle, shared.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sends_through_several_nodes_are_gapless_and_stored_once() {
        let (_dir, store) = open();
        super::send::sends_through_several_nodes_are_gapless_and_stored_once(&[&store, &store])
            .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn data_survives_reopening() {
        let dir = tempfile::tempdir().expect("temp dir");
        let open = async || -> Box<dyn Store> {
            let store: Box<dyn Store> = Box::new(SqliteStore::open(dir.path()).expect("open"));
            store
        };
        super::chats::data_survives_reopening(open).await;
    }
}

/// The same checks on PostgreSQL, each on a database of its own.
mod postgres {
    use tutorchat_server::store::postgres::PgStore;
    use tutorchat_server::store::Store;

    use crate::database::TestDatabase;

    /// Connections per store: tests run in parallel on one server (max_connections 100).
    const POOL: usize = 4;

    async fn open() -> (TestDatabase, PgStore) {
        let db = TestDatabase::create().await;
        let store = PgStore::connect(&db.url(), POOL).await.expect("connect");
        (db, store)
    }

    conformance!(open().await);

    /// Three handles on one database are three nodes: their send tasks race for the same
    /// chat's row and the same `(sender, client_id)`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sends_through_several_nodes_are_gapless_and_stored_once() {
        let (db, first) = open().await;
        let second = PgStore::connect(&db.url(), POOL).await.expect("connect");
        let third = PgStore::connect(&db.url(), POOL).await.expect("connect");
        super::send::sends_through_several_nodes_are_gapless_and_stored_once(&[
            &first, &second, &third,
        ])
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn data_survives_reopening() {
        let db = TestDatabase::create().await;
        let open = async || -> Box<dyn Store> {
            let store: Box<dyn Store> =
                Box::new(PgStore::connect(&db.url(), POOL).await.expect("connect"));
            store
        };
        super::chats::data_survives_reopening(open).await;
    }
}
