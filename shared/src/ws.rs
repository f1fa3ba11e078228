//! WebSocket frames: JSON text `{"type": "<name>", ...fields}`, one enum per direction.
//!
//! `docs/protocol.md` documents every frame with examples; the snapshot tests below pin the
//! exact wire form so a rename cannot slip through.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ErrorCode};
use crate::ids::{ChatId, ClientId, UserId};
use crate::model::{ChatSummary, Message, MessageKind, ReadPointer};

/// Frames a client sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// The first frame, for clients that cannot set `Authorization` on the upgrade.
    Auth {
        token: String,
    },
    /// This device is viewing the chat: it receives typing indicators for it.
    JoinChat {
        chat_id: ChatId,
    },
    LeaveChat {
        chat_id: ChatId,
    },
    /// Store a message; answered by `message_ack` (or `error` with this `client_id`).
    SendMessage {
        chat_id: ChatId,
        client_id: ClientId,
        content: String,
        #[serde(default)]
        kind: MessageKind,
    },
    TypingStart {
        chat_id: ChatId,
    },
    TypingStop {
        chat_id: ChatId,
    },
    /// Move the caller's read pointer forward.
    MarkRead {
        chat_id: ChatId,
        up_to_seq: u64,
    },
    /// After (re)connecting: "I have everything up to `after_seq` in each of these chats".
    Sync {
        cursors: Vec<SyncCursor>,
    },
    Ping,
}

/// How far a client has stored a chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncCursor {
    pub chat_id: ChatId,
    pub after_seq: u64,
}

/// Frames the server sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// The connection is authenticated as this user.
    Ready {
        user_id: UserId,
    },
    /// Answer to `join_chat`: the chat's live state.
    ChatJoined {
        chat_id: ChatId,
        /// Members online now.
        online: Vec<UserId>,
        /// Members typing now.
        typing: Vec<UserId>,
        last_seq: u64,
        read_pointers: Vec<ReadPointer>,
    },
    /// The sender's own message is durably stored (or was already: same `client_id`).
    MessageAck {
        client_id: ClientId,
        message: Message,
    },
    /// A message stored in one of the user's chats, sent to all their devices but the sender's.
    MessageReceived {
        message: Message,
    },
    UserOnline {
        user_id: UserId,
    },
    UserOffline {
        user_id: UserId,
    },
    /// Only to devices viewing the chat; `typing: false` also comes when it expires.
    TypingIndicator {
        chat_id: ChatId,
        user_id: UserId,
        typing: bool,
    },
    MessageRead {
        chat_id: ChatId,
        user_id: UserId,
        up_to_seq: u64,
        read_at: DateTime<Utc>,
    },
    /// A chat the user is in was created (here or while the device was away).
    ChatCreated {
        chat: ChatSummary,
    },
    /// Messages after a sync cursor, ascending; `more: true` means another batch follows.
    SyncBatch {
        chat_id: ChatId,
        messages: Vec<Message>,
        read_pointers: Vec<ReadPointer>,
        more: bool,
    },
    /// Every requested chat is caught up; live frames follow.
    SyncComplete,
    Pong,
    /// A refusal; `client_id`/`chat_id` say which request it answers.
    Error(ApiError),
}

impl ClientFrame {
    /// The `type` of every frame a client may send.
    pub const TYPES: &'static [&'static str] = &[
        "auth",
        "join_chat",
        "leave_chat",
        "send_message",
        "typing_start",
        "typing_stop",
        "mark_read",
        "sync",
        "ping",
    ];

    /// Reads a frame, or says what is wrong with it in the error the server sends back: not
    /// JSON or no `type` → `malformed_frame`; an unknown `type` → `unknown_type`; a field of
    /// a known frame that cannot be read → `validation` naming the field where it can be
    /// told, else `malformed_frame`. Either way the refusal carries the frame's `client_id`
    /// and `chat_id` when it has them, so the client can tie it to its message.
    pub fn parse(text: &str) -> Result<ClientFrame, Box<ApiError>> {
        serde_json::from_str(text).map_err(|e| Box::new(frame_refusal(text, &e)))
    }
}

fn frame_refusal(text: &str, error: &serde_json::Error) -> ApiError {
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_str::<serde_json::Value>(text)
    else {
        return ApiError::new(
            ErrorCode::MalformedFrame,
            format!("a frame is one JSON object: {error}"),
        );
    };
    let Some(kind) = fields.get("type").and_then(|t| t.as_str()) else {
        return ApiError::new(ErrorCode::MalformedFrame, "a frame needs a string `type`");
    };
    if !ClientFrame::TYPES.contains(&kind) {
        return ApiError::new(
            ErrorCode::UnknownType,
            format!("unknown frame type {kind:?}"),
        );
    }
    let message = error.to_string();
    // serde names an unknown enum value but not its field; `kind` is the only enum-valued
    // field of a client frame.
    let mut refusal = if message.starts_with("unknown variant") {
        ApiError::new(ErrorCode::Validation, format!("kind: {message}")).with_field("kind")
    } else {
        ApiError::new(
            ErrorCode::MalformedFrame,
            format!("cannot read this {kind} frame: {message}"),
        )
    };
    if let Some(client_id) = fields.get("client_id").and_then(|v| v.as_str()) {
        refusal = refusal.with_client_id(ClientId::new(client_id));
    }
    if let Some(chat_id) = fields.get("chat_id").and_then(serde_json::Value::as_i64) {
        refusal = refusal.with_chat(ChatId(chat_id));
    }
    refusal
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn client_frames_have_the_documented_wire_form() {
        let send: ClientFrame = serde_json::from_value(json!({
            "type": "send_message", "chat_id": 7, "client_id": "c-1", "content": "hi"
        }))
        .expect("send_message parses");
        assert_eq!(
            send,
            ClientFrame::SendMessage {
                chat_id: ChatId(7),
                client_id: ClientId::new("c-1"),
                content: "hi".into(),
                kind: MessageKind::Text,
            }
        );
        let sync = serde_json::to_value(ClientFrame::Sync {
            cursors: vec![SyncCursor {
                chat_id: ChatId(1),
                after_seq: 4,
            }],
        })
        .expect("serialize");
        assert_eq!(
            sync,
            json!({"type": "sync", "cursors": [{"chat_id": 1, "after_seq": 4}]})
        );
        assert_eq!(
            serde_json::to_value(ClientFrame::Ping).expect("ping"),
            json!({"type": "ping"})
        );
    }

    #[test]
    fn server_error_frames_flatten_the_error_body() {
        let frame = ServerFrame::Error(
            ApiError::new(ErrorCode::Blocked, "no").with_client_id(ClientId::new("c-9")),
        );
        assert_eq!(
            serde_json::to_value(&frame).expect("serialize"),
            json!({"type": "error", "code": "blocked", "message": "no", "client_id": "c-9"})
        );
        let back: ServerFrame =
            serde_json::from_value(serde_json::to_value(&frame).expect("value")).expect("parse");
        assert_eq!(back, frame);
    }

    #[test]
    fn typing_and_read_frames_use_snake_case_names() {
        let typing = ServerFrame::TypingIndicator {
            chat_id: ChatId(2),
            user_id: UserId::new("t-ada"),
            typing: true,
        };
        assert_eq!(
            serde_json::to_value(typing).expect("serialize"),
            json!({"type": "typing_indicator", "chat_id": 2, "user_id": "t-ada", "typing": true})
        );
        assert_eq!(
            serde_json::to_value(ServerFrame::SyncComplete).expect("serialize"),
            json!({"type": "sync_complete"})
        );
    }

    #[test]
    fn bad_frames_are_classified_and_tied_to_their_message() {
        let refusal = |text: &str| ClientFrame::parse(text).expect_err("refused");
        assert_eq!(refusal("{not json").code, ErrorCode::MalformedFrame);
        assert_eq!(refusal(r#"{"no_type":1}"#).code, ErrorCode::MalformedFrame);
        assert_eq!(
            refusal(r#"{"type":"teleport"}"#).code,
            ErrorCode::UnknownType
        );
        let kind = refusal(
            r#"{"type":"send_message","chat_id":3,"client_id":"c-1","content":"hi","kind":"video"}"#,
        );
        assert_eq!(
            (
                kind.code,
                kind.field.as_deref(),
                kind.client_id,
                kind.chat_id
            ),
            (
                ErrorCode::Validation,
                Some("kind"),
                Some(ClientId::new("c-1")),
                Some(ChatId(3))
            )
        );
        let missing = refusal(r#"{"type":"send_message","chat_id":1,"client_id":"c-2"}"#);
        assert_eq!(missing.code, ErrorCode::MalformedFrame);
        assert_eq!(missing.client_id, Some(ClientId::new("c-2")));
    }

    #[test]
    fn every_client_frame_type_is_listed() {
        let frames = [
            ClientFrame::Auth { token: "t".into() },
            ClientFrame::JoinChat { chat_id: ChatId(1) },
            ClientFrame::LeaveChat { chat_id: ChatId(1) },
            ClientFrame::SendMessage {
                chat_id: ChatId(1),
                client_id: ClientId::new("c"),
                content: "x".into(),
                kind: MessageKind::Text,
            },
            ClientFrame::TypingStart { chat_id: ChatId(1) },
            ClientFrame::TypingStop { chat_id: ChatId(1) },
            ClientFrame::MarkRead {
                chat_id: ChatId(1),
                up_to_seq: 1,
            },
            ClientFrame::Sync { cursors: vec![] },
            ClientFrame::Ping,
        ];
        let names: Vec<String> = frames
            .iter()
            .map(|f| serde_json::to_value(f).expect("serialize")["type"].to_string())
            .map(|t| t.trim_matches('"').to_owned())
            .collect();
        assert_eq!(names, ClientFrame::TYPES);
    }
}
