//! Roles, users, courses, chats and messages as the API shows them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{ChatId, ClientId, CourseId, MessageId, UserId};

/// What a user is on the course platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Student,
    Tutor,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Student => "student",
            Role::Tutor => "tutor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "student" => Some(Role::Student),
            "tutor" => Some(Role::Tutor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// A user as other users see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Participant {
    pub id: UserId,
    pub name: String,
    pub role: Role,
    /// True while the user has at least one live connection.
    pub online: bool,
}

/// A course, named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CourseRef {
    pub id: CourseId,
    pub title: String,
}

/// What a message carries. Text is plain text, never HTML; images and files carry a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    #[default]
    Text,
    Image,
    File,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Text => "text",
            MessageKind::Image => "image",
            MessageKind::File => "file",
        }
    }

    pub fn parse(s: &str) -> Option<MessageKind> {
        match s {
            "text" => Some(MessageKind::Text),
            "image" => Some(MessageKind::Image),
            "file" => Some(MessageKind::File),
            _ => None,
        }
    }
}

/// A stored message. `seq` numbers a chat's messages 1, 2, 3… with no gaps, so a client can
/// tell exactly what it is missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Message {
    pub id: MessageId,
    pub chat_id: ChatId,
    pub seq: u64,
    pub sender_id: UserId,
    pub client_id: ClientId,
    pub kind: MessageKind,
    pub content: String,
    pub created_at: DateTime<Utc>,
}

/// A message with its read state, as a history page shows it to one participant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageView {
    #[serde(flatten)]
    pub message: Message,
    /// True once the message's recipient (the participant who did not send it) has read it.
    pub read: bool,
}

/// The read rule, the same on the server, in the client cache and in the UI: a message is read
/// once the read pointer of the member who did not send it (`recipient_read_seq`) reaches its
/// `seq`. Pointers only move forward, so once read a message stays read.
pub fn is_read(seq: u64, recipient_read_seq: u64) -> bool {
    seq <= recipient_read_seq
}

/// How far one member of a chat has read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReadPointer {
    pub user_id: UserId,
    /// Every message with `seq <= up_to_seq` is read. 0 means nothing is.
    pub up_to_seq: u64,
    pub read_at: Option<DateTime<Utc>>,
}

/// One chat in the caller's chat list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChatSummary {
    pub id: ChatId,
    pub course: CourseRef,
    /// The other participant.
    pub peer: Participant,
    pub last_message: Option<Message>,
    /// The chat's highest `seq` (0 when empty).
    pub last_seq: u64,
    /// Messages from the peer the caller has not read.
    pub unread: u64,
    pub my_read_seq: u64,
    pub peer_read_seq: u64,
    pub created_at: DateTime<Utc>,
    /// When the last message was sent, or when the chat was created.
    pub last_activity_at: DateTime<Utc>,
}
