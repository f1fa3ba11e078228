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
