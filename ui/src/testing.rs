//! Builders for the unit tests: messages, pages, chats and users with readable defaults.

use chrono::{DateTime, Duration, Utc};
use tutorchat_shared::api::UserProfile;
use tutorchat_shared::app::{ChatItem, ChatPage, DeliveryState, LocalMessage};
use tutorchat_shared::{
    ChatId, ClientId, CourseId, CourseRef, MessageId, MessageKind, Participant, Role, UserId,
};

/// The signed-in user of the tests.
pub(crate) const ME: &str = "u-me";
/// The other participant of the tests' chat.
pub(crate) const PEER: &str = "u-peer";
/// The tests' chat.
pub(crate) const CHAT: ChatId = ChatId(1);

/// 2025-03-10 09:00 UTC, a Monday.
pub(crate) fn base_time() -> DateTime<Utc> {
    DateTime::from_timestamp(1_741_597_200, 0).expect("a valid timestamp")
}

/// A stored, sent message of chat [`CHAT`], `seq` minutes after [`base_time`].
pub(crate) fn message(seq: u64, client_id: &str, sender: &str) -> LocalMessage {
    LocalMessage {
        chat_id: CHAT,
        id: Some(MessageId(seq as i64 + 1000)),
        seq: Some(seq),
        client_id: ClientId::new(client_id),
        sender_id: UserId::new(sender),
        kind: MessageKind::Text,
        content: format!("message {client_id}"),
        created_at: base_time() + Duration::minutes(seq as i64),
        state: DeliveryState::Sent,
        failure: None,
        attachment: None,
    }
}

/// A stored message of mine.
pub(crate) fn own(seq: u64, client_id: &str) -> LocalMessage {
    message(seq, client_id, ME)
}

/// A message of mine still in the outbox, written `minute` minutes after [`base_time`].
pub(crate) fn pending(client_id: &str, minute: i64) -> LocalMessage {
    LocalMessage {
        id: None,
        seq: None,
        state: DeliveryState::Pending,
        created_at: base_time() + Duration::minutes(minute),
        ..message(0, client_id, ME)
    }
}

/// A page of chat [`CHAT`].
pub(crate) fn page(messages: Vec<LocalMessage>, has_more_before: bool) -> ChatPage {
    ChatPage {
        chat_id: CHAT,
        messages,
        has_more_before,
    }
}

/// A chat with `peer` in course "rust-101".
pub(crate) fn chat(id: i64, peer: &str, unread: u64) -> ChatItem {
    ChatItem {
        id: ChatId(id),
        course: CourseRef {
            id: CourseId::new("rust-101"),
            title: "Rust 101".to_owned(),
        },
        peer: Participant {
            id: UserId::new(peer),
            name: format!("Peer {peer}"),
            role: Role::Tutor,
            online: false,
        },
        last_message: None,
        last_seq: 0,
        unread,
        pending: 0,
        failed: 0,
        peer_typing: false,
        last_activity_at: base_time() + Duration::minutes(id),
        muted: false,
        archived: false,
        blocked: false,
        read_only: None,
        purchase_url: None,
    }
}

/// The signed-in user [`ME`].
pub(crate) fn me() -> UserProfile {
    UserProfile {
        id: UserId::new(ME),
        email: "me@school.test".to_owned(),
        name: "Me".to_owned(),
        role: Role::Student,
    }
}
