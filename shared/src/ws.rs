//! WebSocket frames: JSON text `{"type": "<name>", ...fields}`, one enum per direction.
//!
//! `docs/protocol.md` documents every frame with examples; the snapshot tests below pin the
//! exact wire form so a rename cannot slip through.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::api::SendMessageRequest;
use crate::error::{ApiError, ErrorCode};
use crate::ids::{AttachmentId, ChatId, ClientId, UserId};
use crate::model::{ChatSummary, Message, MessageKind, ReadPointer};

/// Most messages one `send_messages` frame may carry.
pub const MAX_SEND_BATCH: usize = 64;

/// WebSocket close codes the server sends (RFC 6455 and the private 4000 range), and what a
/// client does about each. `docs/protocol.md` lists them for other clients.
pub mod close {
    /// The server is shutting down: reconnect (elsewhere, or later) and sync.
    pub const GOING_AWAY: u16 = 1001;
    /// Authentication failed, or too many connections for this user.
    pub const POLICY: u16 = 1008;
    /// A frame far over the size limit.
    pub const TOO_BIG: u16 = 1009;
    /// The connection fell behind (`slow_consumer`): reconnect and sync.
    pub const TRY_AGAIN_LATER: u16 = 1013;
    /// The access token expired (or the session ended elsewhere): refresh, reconnect, sync.
    pub const TOKEN_EXPIRED: u16 = 4001;
}

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
        #[serde(default)]
        content: String,
        #[serde(default)]
        kind: MessageKind,
        /// For `image` and `file`: the sender's finished upload (see `POST /api/uploads`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        attachment_id: Option<AttachmentId>,
    },
    /// Store several messages of one chat, in this order (a device flushing its outbox):
    /// each is answered on its own, in order, by `message_ack` or `error` with its
    /// `client_id`. Once one is refused for a transient reason (`rate_limited`), every later
    /// one in the frame is refused too, so none overtakes it. At most [`MAX_SEND_BATCH`].
    SendMessages {
        chat_id: ChatId,
        messages: Vec<SendMessageRequest>,
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
    /// The user's view of a chat changed other than by a message: muted or archived (on any
    /// of their devices), the other person blocked or unblocked.
    ChatUpdated {
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

impl ServerFrame {
    /// Reads one frame the server sent.
    pub fn parse(text: &str) -> Result<ServerFrame, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Whether `text` is the `ready` frame that opens every authenticated connection.
    pub fn is_ready(text: &str) -> bool {
        matches!(ServerFrame::parse(text), Ok(ServerFrame::Ready { .. }))
    }
}

impl ClientFrame {
    /// The `type` of every frame a client may send.
    pub const TYPES: &'static [&'static str] = &[
        "auth",
        "join_chat",
        "leave_chat",
        "send_message",
        "send_messages",
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
                attachment_id: None,
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
        let missing = refusal(r#"{"type":"send_message","client_id":"c-2","content":"hi"}"#);
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
                attachment_id: None,
            },
            ClientFrame::SendMessages {
                chat_id: ChatId(1),
                messages: vec![],
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

    /// Each variant's wire name; a new variant fails to compile here until it has a snapshot.
    fn server_type(frame: &ServerFrame) -> &'static str {
        match frame {
            ServerFrame::Ready { .. } => "ready",
            ServerFrame::ChatJoined { .. } => "chat_joined",
            ServerFrame::MessageAck { .. } => "message_ack",
            ServerFrame::MessageReceived { .. } => "message_received",
            ServerFrame::UserOnline { .. } => "user_online",
            ServerFrame::UserOffline { .. } => "user_offline",
            ServerFrame::TypingIndicator { .. } => "typing_indicator",
            ServerFrame::MessageRead { .. } => "message_read",
            ServerFrame::ChatCreated { .. } => "chat_created",
            ServerFrame::ChatUpdated { .. } => "chat_updated",
            ServerFrame::SyncBatch { .. } => "sync_batch",
            ServerFrame::SyncComplete => "sync_complete",
            ServerFrame::Pong => "pong",
            ServerFrame::Error(_) => "error",
        }
    }

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).expect("a valid time")
    }

    fn sample_message() -> Message {
        Message {
            id: crate::ids::MessageId(11),
            chat_id: ChatId(3),
            seq: 4,
            sender_id: UserId::new("s-sam"),
            client_id: ClientId::new("c-1"),
            kind: MessageKind::Text,
            content: "hi".into(),
            created_at: at(1_700_000_000),
            attachment: None,
        }
    }

    fn message_json() -> serde_json::Value {
        json!({
            "id": 11, "chat_id": 3, "seq": 4, "sender_id": "s-sam", "client_id": "c-1",
            "kind": "text", "content": "hi", "created_at": "2023-11-14T22:13:20Z"
        })
    }

    fn sample_pointer() -> ReadPointer {
        ReadPointer {
            user_id: UserId::new("t-ada"),
            up_to_seq: 4,
            read_at: Some(at(1_700_000_060)),
        }
    }

    fn pointer_json() -> serde_json::Value {
        json!({"user_id": "t-ada", "up_to_seq": 4, "read_at": "2023-11-14T22:14:20Z"})
    }

    #[test]
    fn every_server_frame_has_its_documented_wire_form() {
        use crate::ids::CourseId;
        use crate::model::{CourseRef, Participant, Role};
        let chat = ChatSummary {
            id: ChatId(3),
            course: CourseRef {
                id: CourseId::new("rust-101"),
                title: "Rust".into(),
            },
            peer: Participant {
                id: UserId::new("t-ada"),
                name: "Ada".into(),
                role: Role::Tutor,
                online: true,
            },
            last_message: None,
            last_seq: 0,
            unread: 0,
            my_read_seq: 0,
            peer_read_seq: 0,
            created_at: at(1_700_000_000),
            last_activity_at: at(1_700_000_000),
            muted: false,
            archive: None,
            blocked: false,
            read_only: None,
            purchase_url: None,
        };
        let snapshots = [
            (
                ServerFrame::Ready {
                    user_id: UserId::new("s-sam"),
                },
                json!({"type": "ready", "user_id": "s-sam"}),
            ),
            (
                ServerFrame::ChatJoined {
                    chat_id: ChatId(3),
                    online: vec![UserId::new("t-ada")],
                    typing: vec![],
                    last_seq: 4,
                    read_pointers: vec![sample_pointer()],
                },
                json!({"type": "chat_joined", "chat_id": 3, "online": ["t-ada"], "typing": [],
                       "last_seq": 4, "read_pointers": [pointer_json()]}),
            ),
            (
                ServerFrame::MessageAck {
                    client_id: ClientId::new("c-1"),
                    message: sample_message(),
                },
                json!({"type": "message_ack", "client_id": "c-1", "message": message_json()}),
            ),
            (
                ServerFrame::MessageReceived {
                    message: sample_message(),
                },
                json!({"type": "message_received", "message": message_json()}),
            ),
            (
                ServerFrame::UserOnline {
                    user_id: UserId::new("t-ada"),
                },
                json!({"type": "user_online", "user_id": "t-ada"}),
            ),
            (
                ServerFrame::UserOffline {
                    user_id: UserId::new("t-ada"),
                },
                json!({"type": "user_offline", "user_id": "t-ada"}),
            ),
            (
                ServerFrame::TypingIndicator {
                    chat_id: ChatId(2),
                    user_id: UserId::new("t-ada"),
                    typing: false,
                },
                json!({"type": "typing_indicator", "chat_id": 2, "user_id": "t-ada", "typing": false}),
            ),
            (
                ServerFrame::MessageRead {
                    chat_id: ChatId(3),
                    user_id: UserId::new("t-ada"),
                    up_to_seq: 4,
                    read_at: at(1_700_000_060),
                },
                json!({"type": "message_read", "chat_id": 3, "user_id": "t-ada", "up_to_seq": 4,
                       "read_at": "2023-11-14T22:14:20Z"}),
            ),
            (
                ServerFrame::ChatCreated { chat: chat.clone() },
                json!({"type": "chat_created", "chat": {
                    "id": 3, "course": {"id": "rust-101", "title": "Rust"},
                    "peer": {"id": "t-ada", "name": "Ada", "role": "tutor", "online": true},
                    "last_message": null, "last_seq": 0, "unread": 0, "my_read_seq": 0,
                    "peer_read_seq": 0, "created_at": "2023-11-14T22:13:20Z",
                    "last_activity_at": "2023-11-14T22:13:20Z", "muted": false,
                    "blocked": false}}),
            ),
            (
                ServerFrame::ChatUpdated {
                    chat: ChatSummary {
                        muted: true,
                        archive: Some(crate::model::ArchiveMark {
                            archived: true,
                            at: at(1_700_000_060),
                        }),
                        read_only: Some(crate::model::ReadOnly::EnrollmentEnded),
                        purchase_url: Some("https://school.test/buy/rust-101".into()),
                        ..chat
                    },
                },
                json!({"type": "chat_updated", "chat": {
                    "id": 3, "course": {"id": "rust-101", "title": "Rust"},
                    "peer": {"id": "t-ada", "name": "Ada", "role": "tutor", "online": true},
                    "last_message": null, "last_seq": 0, "unread": 0, "my_read_seq": 0,
                    "peer_read_seq": 0, "created_at": "2023-11-14T22:13:20Z",
                    "last_activity_at": "2023-11-14T22:13:20Z", "muted": true,
                    "archive": {"archived": true, "at": "2023-11-14T22:14:20Z"},
                    "blocked": false, "read_only": "enrollment_ended",
                    "purchase_url": "https://school.test/buy/rust-101"}}),
            ),
            (
                ServerFrame::SyncBatch {
                    chat_id: ChatId(3),
                    messages: vec![sample_message()],
                    read_pointers: vec![sample_pointer()],
                    more: true,
                },
                json!({"type": "sync_batch", "chat_id": 3, "messages": [message_json()],
                       "read_pointers": [pointer_json()], "more": true}),
            ),
            (ServerFrame::SyncComplete, json!({"type": "sync_complete"})),
            (ServerFrame::Pong, json!({"type": "pong"})),
            (
                ServerFrame::Error(
                    ApiError::new(ErrorCode::RateLimited, "slow down")
                        .with_retry_after(2)
                        .with_client_id(ClientId::new("c-1"))
                        .with_chat(ChatId(3)),
                ),
                json!({"type": "error", "code": "rate_limited", "message": "slow down",
                       "retry_after_secs": 2, "client_id": "c-1", "chat_id": 3}),
            ),
        ];
        let mut seen: Vec<&str> = Vec::new();
        for (frame, wire) in snapshots {
            assert_eq!(wire["type"], server_type(&frame), "{wire}");
            assert_eq!(serde_json::to_value(&frame).expect("serialize"), wire);
            assert_eq!(
                ServerFrame::parse(&wire.to_string()).expect("parse"),
                frame,
                "{wire} reads back"
            );
            seen.push(server_type(&frame));
        }
        seen.dedup();
        assert_eq!(seen.len(), 14, "one snapshot per server frame: {seen:?}");
    }

    #[test]
    fn every_client_frame_has_its_documented_wire_form() {
        let snapshots = [
            (
                ClientFrame::Auth { token: "t".into() },
                json!({"type": "auth", "token": "t"}),
            ),
            (
                ClientFrame::JoinChat { chat_id: ChatId(3) },
                json!({"type": "join_chat", "chat_id": 3}),
            ),
            (
                ClientFrame::LeaveChat { chat_id: ChatId(3) },
                json!({"type": "leave_chat", "chat_id": 3}),
            ),
            (
                ClientFrame::SendMessage {
                    chat_id: ChatId(3),
                    client_id: ClientId::new("c-1"),
                    content: "hi".into(),
                    kind: MessageKind::Image,
                    attachment_id: Some(crate::ids::AttachmentId::new("a1")),
                },
                json!({"type": "send_message", "chat_id": 3, "client_id": "c-1",
                       "content": "hi", "kind": "image", "attachment_id": "a1"}),
            ),
            (
                ClientFrame::SendMessages {
                    chat_id: ChatId(3),
                    messages: vec![
                        SendMessageRequest {
                            client_id: ClientId::new("c-1"),
                            kind: MessageKind::Text,
                            content: "hi".into(),
                            attachment_id: None,
                        },
                        SendMessageRequest {
                            client_id: ClientId::new("c-2"),
                            kind: MessageKind::Text,
                            content: "again".into(),
                            attachment_id: None,
                        },
                    ],
                },
                json!({"type": "send_messages", "chat_id": 3, "messages": [
                    {"client_id": "c-1", "kind": "text", "content": "hi"},
                    {"client_id": "c-2", "kind": "text", "content": "again"}]}),
            ),
            (
                ClientFrame::TypingStart { chat_id: ChatId(3) },
                json!({"type": "typing_start", "chat_id": 3}),
            ),
            (
                ClientFrame::TypingStop { chat_id: ChatId(3) },
                json!({"type": "typing_stop", "chat_id": 3}),
            ),
            (
                ClientFrame::MarkRead {
                    chat_id: ChatId(3),
                    up_to_seq: 4,
                },
                json!({"type": "mark_read", "chat_id": 3, "up_to_seq": 4}),
            ),
            (
                ClientFrame::Sync {
                    cursors: vec![SyncCursor {
                        chat_id: ChatId(3),
                        after_seq: 4,
                    }],
                },
                json!({"type": "sync", "cursors": [{"chat_id": 3, "after_seq": 4}]}),
            ),
            (ClientFrame::Ping, json!({"type": "ping"})),
        ];
        let mut seen = Vec::new();
        for (frame, wire) in snapshots {
            assert_eq!(serde_json::to_value(&frame).expect("serialize"), wire);
            assert_eq!(ClientFrame::parse(&wire.to_string()).expect("parse"), frame);
            seen.push(wire["type"].as_str().expect("a type").to_owned());
        }
        assert_eq!(seen, ClientFrame::TYPES, "one snapshot per client frame");
    }

    #[test]
    fn only_a_ready_frame_is_ready() {
        assert!(ServerFrame::is_ready(
            r#"{"type":"ready","user_id":"s-sam"}"#
        ));
        assert!(!ServerFrame::is_ready(
            r#"{"type":"error","code":"internal","message":"not \"ready\""}"#
        ));
        assert!(!ServerFrame::is_ready("ready"));
    }
}
