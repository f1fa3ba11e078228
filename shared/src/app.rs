//! What the client core tells a user interface: local views of chats and messages (with the
//! delivery state only a client knows) and the one typed event stream. The Tauri shell forwards
//! these to the webview unchanged, so they live here, beside the wire contract.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;
use crate::ids::{AttachmentId, ChatId, ClientId, MessageId, UserId};
use crate::model::{Attachment, CourseRef, MessageKind, Participant};

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

impl DeliveryState {
    /// The state of a message the server has stored, as the viewer sees it: `Read` once the
    /// member who did not send it has read it ([`crate::model::is_read`]), else `Sent`.
    pub fn of_stored(
        sent_by_viewer: bool,
        seq: u64,
        viewer_read_seq: u64,
        peer_read_seq: u64,
    ) -> DeliveryState {
        let recipient_read_seq = if sent_by_viewer {
            peer_read_seq
        } else {
            viewer_read_seq
        };
        if crate::model::is_read(seq, recipient_read_seq) {
            DeliveryState::Read
        } else {
            DeliveryState::Sent
        }
    }
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
    /// An image's or file's, uploaded or still only on this device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<LocalAttachment>,
}

/// An image or file as a device shows it: one the server stores, or one of this device's
/// still uploading. Its content and thumbnail are fetched through the client core.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalAttachment {
    /// The server's id, once uploaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<AttachmentId>,
    pub name: String,
    pub size: u64,
    /// The server's type once uploaded; before that, what this device found in the content.
    pub mime: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// A thumbnail can be shown (an image: the server's, or the local file while uploading).
    #[serde(default)]
    pub thumbnail: bool,
}

impl LocalMessage {
    /// One line for a chat list or a notification (see [`crate::model::preview`]).
    pub fn preview(&self) -> String {
        crate::model::preview(
            self.kind,
            &self.content,
            self.attachment.as_ref().map(|a| a.name.as_str()),
        )
    }
}

impl LocalAttachment {
    pub fn is_image(&self) -> bool {
        self.width.is_some() && self.height.is_some()
    }
}

impl From<&Attachment> for LocalAttachment {
    fn from(a: &Attachment) -> Self {
        LocalAttachment {
            id: Some(a.id.clone()),
            name: a.name.clone(),
            size: a.size,
            mime: a.mime.clone(),
            width: a.width,
            height: a.height,
            thumbnail: a.thumbnail,
        }
    }
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
    /// No notifications and no part in the badge; the chat keeps its unread count.
    #[serde(default)]
    pub muted: bool,
    /// In the "Archived" section (by choice, or quiet for the server's period).
    #[serde(default)]
    pub archived: bool,
    /// The user blocked the other person.
    #[serde(default)]
    pub blocked: bool,
    /// Why the user can read this chat but no longer write in it, if so.
    #[serde(default)]
    pub read_only: Option<crate::model::ReadOnly>,
    /// Where to buy the course again, when the purchase ended.
    #[serde(default)]
    pub purchase_url: Option<String>,
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
    /// A pending attachment's upload moved: the server holds `sent` of `total` bytes.
    UploadProgress {
        chat_id: ChatId,
        client_id: ClientId,
        sent: u64,
        total: u64,
    },
    /// An attachment is being downloaded to this device: `received` of `total` bytes.
    DownloadProgress {
        attachment_id: AttachmentId,
        received: u64,
        total: u64,
    },
    /// An attachment's thumbnail is now in the cache (messages showing it can draw it).
    ThumbnailReady {
        chat_id: ChatId,
        attachment_id: AttachmentId,
    },
    /// The shell asks the UI to show a chat (a deep link, the tray menu).
    OpenChat {
        chat_id: ChatId,
    },
    /// A deep link named a course the student has not bought: the shell asks the UI to offer
    /// it, with where to buy it when the platform said.
    UpgradeRequired {
        course: crate::CourseRef,
        purchase_url: Option<String>,
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

    /// Each event's wire name; a new event fails to compile here until it has a snapshot.
    fn event_type(event: &AppEvent) -> &'static str {
        match event {
            AppEvent::MessageUpserted { .. } => "message_upserted",
            AppEvent::MessageDiscarded { .. } => "message_discarded",
            AppEvent::ChatsChanged => "chats_changed",
            AppEvent::HistoryChanged { .. } => "history_changed",
            AppEvent::UnreadChanged { .. } => "unread_changed",
            AppEvent::Incoming { .. } => "incoming",
            AppEvent::ReadReceipt { .. } => "read_receipt",
            AppEvent::Presence { .. } => "presence",
            AppEvent::Typing { .. } => "typing",
            AppEvent::Connection { .. } => "connection",
            AppEvent::SessionEnded { .. } => "session_ended",
            AppEvent::OpenChat { .. } => "open_chat",
            AppEvent::UploadProgress { .. } => "upload_progress",
            AppEvent::DownloadProgress { .. } => "download_progress",
            AppEvent::ThumbnailReady { .. } => "thumbnail_ready",
            AppEvent::UpgradeRequired { .. } => "upgrade_required",
        }
    }

    fn failed_message() -> LocalMessage {
        LocalMessage {
            chat_id: ChatId(3),
            id: None,
            seq: None,
            client_id: ClientId::new("c-1"),
            sender_id: UserId::new("s-sam"),
            kind: MessageKind::Text,
            content: "hi".into(),
            created_at: DateTime::from_timestamp(1_700_000_000, 0).expect("time"),
            state: DeliveryState::Failed,
            failure: Some(SendFailure {
                code: ErrorCode::Blocked,
                message: "blocked".into(),
            }),
            attachment: None,
        }
    }

    fn failed_json() -> serde_json::Value {
        json!({"chat_id": 3, "id": null, "seq": null, "client_id": "c-1", "sender_id": "s-sam",
               "kind": "text", "content": "hi", "created_at": "2023-11-14T22:13:20Z",
               "state": "failed", "failure": {"code": "blocked", "message": "blocked"}})
    }

    #[test]
    fn every_event_has_its_documented_wire_form() {
        let stored = LocalMessage {
            id: Some(crate::ids::MessageId(11)),
            seq: Some(4),
            state: DeliveryState::Read,
            failure: None,
            ..failed_message()
        };
        let mut stored_json = failed_json();
        stored_json["id"] = json!(11);
        stored_json["seq"] = json!(4);
        stored_json["state"] = json!("read");
        stored_json["failure"] = json!(null);
        let snapshots = [
            (
                AppEvent::MessageUpserted {
                    message: failed_message(),
                },
                json!({"type": "message_upserted", "message": failed_json()}),
            ),
            (
                AppEvent::MessageDiscarded {
                    chat_id: ChatId(3),
                    client_id: ClientId::new("c-1"),
                },
                json!({"type": "message_discarded", "chat_id": 3, "client_id": "c-1"}),
            ),
            (AppEvent::ChatsChanged, json!({"type": "chats_changed"})),
            (
                AppEvent::HistoryChanged { chat_id: ChatId(3) },
                json!({"type": "history_changed", "chat_id": 3}),
            ),
            (
                AppEvent::UnreadChanged {
                    chat_id: ChatId(3),
                    unread: 2,
                    total: 5,
                },
                json!({"type": "unread_changed", "chat_id": 3, "unread": 2, "total": 5}),
            ),
            (
                AppEvent::Incoming {
                    message: stored,
                    sender_name: "Sam".into(),
                    course_title: "Rust".into(),
                },
                json!({"type": "incoming", "message": stored_json, "sender_name": "Sam",
                       "course_title": "Rust"}),
            ),
            (
                AppEvent::ReadReceipt {
                    chat_id: ChatId(3),
                    user_id: UserId::new("t-ada"),
                    up_to_seq: 4,
                },
                json!({"type": "read_receipt", "chat_id": 3, "user_id": "t-ada", "up_to_seq": 4}),
            ),
            (
                AppEvent::Presence {
                    user_id: UserId::new("t-ada"),
                    online: true,
                },
                json!({"type": "presence", "user_id": "t-ada", "online": true}),
            ),
            (
                AppEvent::Typing {
                    chat_id: ChatId(3),
                    user_id: UserId::new("t-ada"),
                    typing: true,
                },
                json!({"type": "typing", "chat_id": 3, "user_id": "t-ada", "typing": true}),
            ),
            (
                AppEvent::Connection {
                    state: ConnectionState::Online,
                },
                json!({"type": "connection", "state": {"state": "online"}}),
            ),
            (
                AppEvent::SessionEnded {
                    reason: SessionEndReason::SignedOut,
                },
                json!({"type": "session_ended", "reason": "signed_out"}),
            ),
            (
                AppEvent::OpenChat { chat_id: ChatId(3) },
                json!({"type": "open_chat", "chat_id": 3}),
            ),
            (
                AppEvent::UploadProgress {
                    chat_id: ChatId(3),
                    client_id: ClientId::new("c-1"),
                    sent: 512,
                    total: 2048,
                },
                json!({"type": "upload_progress", "chat_id": 3, "client_id": "c-1",
                       "sent": 512, "total": 2048}),
            ),
            (
                AppEvent::DownloadProgress {
                    attachment_id: AttachmentId::new("a1"),
                    received: 10,
                    total: 20,
                },
                json!({"type": "download_progress", "attachment_id": "a1", "received": 10,
                       "total": 20}),
            ),
            (
                AppEvent::ThumbnailReady {
                    chat_id: ChatId(3),
                    attachment_id: AttachmentId::new("a1"),
                },
                json!({"type": "thumbnail_ready", "chat_id": 3, "attachment_id": "a1"}),
            ),
            (
                AppEvent::UpgradeRequired {
                    course: crate::CourseRef {
                        id: crate::CourseId::new("ml-401"),
                        title: "Machine Learning".into(),
                    },
                    purchase_url: Some("https://school.test/ml-401".into()),
                },
                json!({"type": "upgrade_required",
                       "course": {"id": "ml-401", "title": "Machine Learning"},
                       "purchase_url": "https://school.test/ml-401"}),
            ),
        ];
        let mut seen = Vec::new();
        for (event, wire) in snapshots {
            assert_eq!(wire["type"], event_type(&event), "{wire}");
            assert_eq!(serde_json::to_value(&event).expect("serialize"), wire);
            let back: AppEvent = serde_json::from_value(wire.clone()).expect("parse");
            assert_eq!(back, event, "{wire} reads back");
            seen.push(event_type(&event));
        }
        seen.dedup();
        assert_eq!(seen.len(), 16, "one snapshot per event: {seen:?}");
    }

    #[test]
    fn connection_states_have_their_wire_form() {
        for (state, wire) in [
            (ConnectionState::Offline, json!({"state": "offline"})),
            (ConnectionState::Connecting, json!({"state": "connecting"})),
            (ConnectionState::Online, json!({"state": "online"})),
        ] {
            assert_eq!(serde_json::to_value(state).expect("serialize"), wire);
        }
    }

    #[test]
    fn a_stored_message_is_read_once_its_recipient_read_it() {
        // Mine: the peer's pointer decides.
        assert_eq!(DeliveryState::of_stored(true, 4, 0, 3), DeliveryState::Sent);
        assert_eq!(DeliveryState::of_stored(true, 4, 0, 4), DeliveryState::Read);
        // Theirs: my pointer decides.
        assert_eq!(
            DeliveryState::of_stored(false, 4, 3, 9),
            DeliveryState::Sent
        );
        assert_eq!(
            DeliveryState::of_stored(false, 4, 5, 0),
            DeliveryState::Read
        );
    }

    #[test]
    fn every_command_has_a_distinct_name() {
        use super::commands::{self, Command};
        let mut names = commands::NAMES.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), commands::NAMES.len());
        assert_eq!(commands::Login::NAME, "login");
        assert_eq!(commands::MarkRead::NAME, "mark_read");
    }
}

/// The Tauri event that carries every [`AppEvent`] to the webview.
pub const EVENT: &str = "app-event";

/// The shell's commands: each one's name (as invoked from the webview) paired with the types of
/// its argument and its answer, as a [`commands::Command`] type, so the shell and the UI
/// cannot disagree. Every command takes one argument named `args` (commands whose `Args` is
/// `()` take none) and answers with its `Answer`, or with an [`crate::ApiError`] (a stable
/// `code`, a human `message`, and `course_id` on `not_enrolled`).
pub mod commands {
    use serde::de::DeserializeOwned;
    use serde::{Deserialize, Serialize};

    use super::{ChatItem, ChatPage, ConnectionState, LocalMessage};
    use crate::api::{BlockStatus, ContactsByCourse, UserProfile};
    use crate::ids::{AttachmentId, ChatId, ClientId, CourseId, UserId};
    use crate::model::MessageKind;

    /// One shell command: its name, what it takes and what it answers.
    pub trait Command {
        /// The name the webview invokes (and the shell's handler function is named).
        const NAME: &'static str;
        type Args: Serialize + DeserializeOwned;
        type Answer: Serialize + DeserializeOwned;
    }

    /// What command `C` takes.
    pub type Args<C> = <C as Command>::Args;
    /// What command `C` answers.
    pub type Answer<C> = <C as Command>::Answer;

    macro_rules! commands {
        ($($(#[$doc:meta])* $command:ident = $name:literal: $args:ty => $answer:ty;)*) => {
            $(
                $(#[$doc])*
                #[derive(Debug, Clone, Copy, PartialEq, Eq)]
                pub struct $command;

                impl Command for $command {
                    const NAME: &'static str = $name;
                    type Args = $args;
                    type Answer = $answer;
                }
            )*

            /// Every command's name.
            pub const NAMES: &[&str] = &[$($name),*];
        };
    }

    commands! {
        /// The session restored at start, if any.
        Session = "session": () => Option<UserProfile>;
        Login = "login": LoginArgs => UserProfile;
        Logout = "logout": () => ();
        Chats = "chats": () => Vec<ChatItem>;
        Messages = "messages": MessagesArgs => ChatPage;
        /// Answers with the pending echo; updates come as events.
        Send = "send": SendArgs => LocalMessage;
        Retry = "retry": OutboxArgs => bool;
        Discard = "discard": OutboxArgs => bool;
        MarkRead = "mark_read": ReadArgs => ();
        /// The chat now on screen (or none); drives notifications and typing.
        ViewChat = "view_chat": ViewArgs => ();
        Typing = "typing": TypingArgs => ();
        Draft = "draft": ChatArgs => Option<String>;
        SetDraft = "set_draft": DraftArgs => ();
        /// A student's tutors, by course.
        AvailableTutors = "available_tutors": () => ContactsByCourse;
        /// A tutor's students, by course.
        Students = "students": StudentsArgs => ContactsByCourse;
        /// Opens (or finds) the chat with a tutor or student in a course.
        CreateChat = "create_chat": CreateChatArgs => ChatItem;
        Block = "block": BlockArgs => BlockStatus;
        Connection = "connection": () => ConnectionState;
        /// The content limits the server published (the defaults until it has).
        Limits = "limits": () => crate::Limits;
        /// The user's own settings for a chat (muted, archived), kept on the server for all
        /// of their devices; answers with the chat as now listed.
        SetChatSettings = "set_chat_settings": ChatSettingsArgs => ChatItem;
        /// Opens an `http(s)` address in the system's browser (a course's purchase page).
        OpenUrl = "open_url": UrlArgs => ();
        /// Cached history matching every word, newest first, in every chat or in one.
        Search = "search": SearchArgs => Vec<LocalMessage>;
        /// The app's own settings (signed in or not).
        Preferences = "preferences": () => AppPreferences;
        SetNotifications = "set_notifications": NotificationsArgs => AppPreferences;
        /// Whether the platform lets the app notify: always on a desktop; on a phone not
        /// until the user answered the system's question.
        NotificationPermission = "notification_permission": () => PermissionAnswer;
        /// Asks the system (on a phone, once the app has said why); answers the user's choice.
        RequestNotificationPermission = "request_notification_permission": () => PermissionAnswer;
        /// The system's file picker; answers the chosen file checked as an upload (none if
        /// the user cancelled).
        PickFile = "pick_file": () => Option<FileInfo>;
        /// A file by path (dropped on the window), checked as an upload.
        InspectFile = "inspect_file": PathArgs => FileInfo;
        /// Bytes the webview holds (a pasted image, a chosen file) kept as a file, checked.
        StageFile = "stage_file": StageArgs => FileInfo;
        /// Sends a checked file with an optional caption; answers the pending echo.
        SendAttachment = "send_attachment": SendAttachmentArgs => LocalMessage;
        /// An attachment's thumbnail, or the local preview of one still uploading, as a
        /// `data:` URL (none if there is none).
        Thumbnail = "thumbnail": ThumbnailArgs => Option<String>;
        /// A whole image as a `data:` URL, for the viewer (downloaded into the cache first).
        ImageData = "image_data": AttachmentArgs => String;
        /// Downloads an attachment (unless this device has it) and opens it with the
        /// system's application for its type.
        OpenAttachment = "open_attachment": AttachmentArgs => ();
    }

    /// A file about to be attached, as checked against the server's published limits.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct FileInfo {
        /// Where it is on this device (what `send_attachment` takes).
        pub path: String,
        pub name: String,
        pub size: u64,
        pub mime: String,
        /// An image, shown inline once sent.
        pub image: bool,
        /// A small preview of an image, as a `data:` URL.
        #[serde(default)]
        pub preview: Option<String>,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct PathArgs {
        pub path: String,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct StageArgs {
        pub name: String,
        /// The bytes, base64.
        pub data: String,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct SendAttachmentArgs {
        pub chat_id: ChatId,
        pub path: String,
        #[serde(default)]
        pub caption: String,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct ThumbnailArgs {
        #[serde(default)]
        pub attachment_id: Option<AttachmentId>,
        pub client_id: ClientId,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct AttachmentArgs {
        pub attachment_id: AttachmentId,
    }

    /// The platform's answer about notifications.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum PermissionAnswer {
        Granted,
        Denied,
        /// Not asked yet: the app explains, then asks.
        Prompt,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct SearchArgs {
        pub query: String,
        #[serde(default)]
        pub chat_id: Option<ChatId>,
        pub limit: u32,
    }

    /// What the settings screen shows.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct AppPreferences {
        /// The server last signed in to (kept after signing out), or the default.
        pub server: String,
        /// Desktop notifications for new messages.
        pub notifications: bool,
        /// The app's version.
        pub version: String,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct NotificationsArgs {
        pub enabled: bool,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct ChatSettingsArgs {
        pub chat_id: ChatId,
        #[serde(default)]
        pub muted: Option<bool>,
        #[serde(default)]
        pub archived: Option<bool>,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct UrlArgs {
        pub url: String,
    }

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
