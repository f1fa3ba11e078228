//! Builders for cache unit tests: a cache on a temporary SQLite file, chats and server
//! messages with only the fields a test cares about.

use chrono::Utc;
use tempfile::TempDir;
use tutorchat_shared::{
    ChatId, ChatSummary, ClientId, CourseId, CourseRef, Message, MessageId, MessageKind,
    Participant, Role, UserId,
};

use super::Cache;

/// The owner of the test cache.
pub fn me() -> UserId {
    UserId::new("s-sam")
}

pub fn peer() -> UserId {
    UserId::new("t-ada")
}

/// A fresh cache file in a temporary directory (kept alive by the returned `TempDir`).
pub fn temp_cache() -> (TempDir, Cache) {
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = Cache::open(&dir.path().join("cache.db")).expect("cache opens");
    (dir, cache)
}

/// An empty chat with [`peer`].
pub fn chat(id: i64) -> ChatSummary {
    let now = Utc::now();
    ChatSummary {
        id: ChatId(id),
        course: CourseRef {
            id: CourseId::new("rust-101"),
            title: "Rust 101".into(),
        },
        peer: Participant {
            id: peer(),
            name: "Ada".into(),
            role: Role::Tutor,
            online: false,
        },
        last_message: None,
        last_seq: 0,
        unread: 0,
        my_read_seq: 0,
        peer_read_seq: 0,
        created_at: now,
        last_activity_at: now,
        muted: false,
        archive: None,
        blocked: false,
        read_only: None,
        purchase_url: None,
    }
}

/// A message as the server stored it.
pub fn message(chat: i64, seq: u64, sender: &UserId, client_id: &ClientId) -> Message {
    Message {
        id: MessageId(i64::try_from(seq).expect("small seq") + chat * 1_000_000),
        chat_id: ChatId(chat),
        seq,
        sender_id: sender.clone(),
        client_id: client_id.clone(),
        kind: MessageKind::Text,
        content: format!("message {seq}"),
        created_at: Utc::now(),
        attachment: None,
    }
}
