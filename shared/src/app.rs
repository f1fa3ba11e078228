//! What the client core tells a user interface: local views of chats and messages (with the
//! delivery state only a client knows) and the one typed event stream. The Tauri shell forwards
//! these to the webview unchanged, so they live here, beside the wire contract.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;
use crate::ids::{ChatId, ClientId, MessageId, UserId};
use crate::model::{CourseRef, MessageKind, Participant};

/// Where a message of one's own is on its way: pending → sent → read, or failed.
/// Messages from the other participant are `Sent` (unread) or `Read` by the viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// In the local outbox, not yet acknowledged by the server.
    Pending,
    /// Stored by the server (acknowledged).
    Sent,
    /// Read by its recipient.
    Read,
    /// Refused for good; can be retried or discarded.
    Failed,
}

/// Why an outbox message failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendFailure {
    pub code: ErrorCode,
    pub message: String,
}

/// A message as a device shows it: stored on the server, or still only local.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalMessage {
    pub chat_id: ChatId,
    /// The server's id and seq, once stored.
    pub id: Option<MessageId>,
    pub seq: Option<u64>,
    pub client_id: ClientId,
    pub sender_id: UserId,
    pub kind: MessageKind,
    pub content: String,
    pub created_at: DateTime<Utc>,
    pub state: DeliveryState,
    pub failure: Option<SendFailure>,
}

/// One chat in a device's chat list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatItem {
    pub id: ChatId,
    pub course: CourseRef,
    pub peer: Participant,
    pub last_message: Option<LocalMessage>,
    pub last_seq: u64,
    pub unread: u64,
    /// Messages of one's own still in the outbox, and those that failed.
    pub pending: u32,
    pub failed: u32,
    pub peer_typing: bool,
    pub last_activity_at: DateTime<Utc>,
}

/// A page of a chat as a device shows it: stored messages ascending by seq, then the
/// outbox's pending and failed ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatPage {
    pub chat_id: ChatId,
    pub messages: Vec<LocalMessage>,
    /// Older messages exist (in the cache or on the server).
    pub has_more_before: bool,
}

/// The link to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnectionState {
    /// Signed out, or not started.
    Offline,
    Connecting,
    /// Connected and caught up.
    Online,
    /// Lost; the next attempt comes in `retry_in_ms`.
    Reconnecting {
        attempt: u32,
        retry_in_ms: u64,
    },
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionEndReason {
    SignedOut,
    /// The refresh token was refused (revoked, expired, reused): sign in again.
    Expired,
}

/// Everything a user interface needs to hear, as one stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AppEvent {
    /// A message appeared or changed (new, acked, read, failed).
    MessageUpserted {
        message: LocalMessage,
    },
    /// An outbox message was discarded.
    MessageDiscarded {
        chat_id: ChatId,
        client_id: ClientId,
    },
    /// The chat list changed (new chat, new last message, peer details).
    ChatsChanged,
    /// Many messages of one chat arrived at once (catch-up after an absence): reload its page.
    HistoryChanged {
        chat_id: ChatId,
    },
    /// Unread counts changed: this chat's and the total.
    UnreadChanged {
        chat_id: ChatId,
        unread: u64,
        total: u64,
    },
    /// A message from someone else arrived live (for notifications).
    Incoming {
        message: LocalMessage,
        sender_name: String,
        course_title: String,
    },
    /// A read pointer moved: the peer's turns one's own ticks to read.
    ReadReceipt {
        chat_id: ChatId,
        user_id: UserId,
        up_to_seq: u64,
    },
    Presence {
        user_id: UserId,
        online: bool,
    },
    Typing {
        chat_id: ChatId,
        user_id: UserId,
        typing: bool,
    },
    Connection {
        state: ConnectionState,
    },
    SessionEnded {
        reason: SessionEndReason,
    },
    /// The shell asks the UI to show a chat (a deep link, the tray menu).
    OpenChat {
        chat_id: ChatId,
    },
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn events_are_tagged_snake_case() {
        let event = AppEvent::Connection {
            state: ConnectionState::Reconnecting {
                attempt: 2,
                retry_in_ms: 1500,
            },
        };
        assert_eq!(
            serde_json::to_value(event).expect("serialize"),
            json!({"type": "connection", "state": {"state": "reconnecting", "attempt": 2, "retry_in_ms": 1500}})
        );
        let ended = AppEvent::SessionEnded {
            reason: SessionEndReason::Expired,
        };
        assert_eq!(
            serde_json::to_value(ended).expect("serialize"),
            json!({"type": "session_ended", "reason": "expired"})
        );
    }
}

/// The Tauri event that carries every [`AppEvent`] to the webview.
pub const EVENT: &str = "app-event";

/// The shell's commands: names (as invoked from the webview) and their argument structs. Every
/// command takes one argument named `args` and answers with the type in its doc, or with an
/// [`crate::ApiError`] (a stable `code`, a human `message`, and `course_id` on `not_enrolled`).
pub mod commands {
    use serde::{Deserialize, Serialize};

    use crate::ids::{ChatId, ClientId, CourseId, UserId};
    use crate::model::MessageKind;

    /// `()` → `Option<UserProfile>`: the session restored at start, if any.
    pub const SESSION: &str = "session";
    /// [`LoginArgs`] → `UserProfile`.
    pub const LOGIN: &str = "login";
    /// `()` → `()`.
    pub const LOGOUT: &str = "logout";
    /// `()` → `Vec<ChatItem>`.
    pub const CHATS: &str = "chats";
    /// [`MessagesArgs`] → `ChatPage`.
    pub const MESSAGES: &str = "messages";
    /// [`SendArgs`] → `LocalMessage` (pending; updates come as events).
    pub const SEND: &str = "send";
    /// [`OutboxArgs`] → `bool`.
    pub const RETRY: &str = "retry";
    /// [`OutboxArgs`] → `bool`.
    pub const DISCARD: &str = "discard";
    /// [`ReadArgs`] → `()`.
    pub const MARK_READ: &str = "mark_read";
    /// [`ViewArgs`] → `()`: the chat now on screen (or none); drives notifications and typing.
    pub const VIEW_CHAT: &str = "view_chat";
    /// [`TypingArgs`] → `()`.
    pub const TYPING: &str = "typing";
    /// [`ChatArgs`] → `Option<String>`.
    pub const DRAFT: &str = "draft";
    /// [`DraftArgs`] → `()`.
    pub const SET_DRAFT: &str = "set_draft";
    /// `()` → `ContactsByCourse` (students).
    pub const AVAILABLE_TUTORS: &str = "available_tutors";
    /// [`StudentsArgs`] → `ContactsByCourse` (tutors).
    pub const STUDENTS: &str = "students";
    /// [`CreateChatArgs`] → `ChatItem`.
    pub const CREATE_CHAT: &str = "create_chat";
    /// [`BlockArgs`] → `BlockStatus`.
    pub const BLOCK: &str = "block";
    /// `()` → `ConnectionState`.
    pub const CONNECTION: &str = "connection";

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct LoginArgs {
        pub server: String,
        pub email: String,
        pub password: String,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct MessagesArgs {
        pub chat_id: ChatId,
        pub before_seq: Option<u64>,
        pub limit: u32,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct SendArgs {
        pub chat_id: ChatId,
        pub content: String,
        #[serde(default)]
        pub kind: MessageKind,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct OutboxArgs {
        pub client_id: ClientId,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct ReadArgs {
        pub chat_id: ChatId,
        pub up_to_seq: u64,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct ViewArgs {
        pub chat_id: Option<ChatId>,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct TypingArgs {
        pub chat_id: ChatId,
        pub typing: bool,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct ChatArgs {
        pub chat_id: ChatId,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct DraftArgs {
        pub chat_id: ChatId,
        pub text: String,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct StudentsArgs {
        pub course_id: Option<CourseId>,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct CreateChatArgs {
        pub course_id: CourseId,
        /// The tutor (for a student) or the student (for a tutor).
        pub with: UserId,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct BlockArgs {
        pub user_id: UserId,
        pub blocked: bool,
    }
}
