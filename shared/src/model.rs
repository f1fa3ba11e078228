//! Roles, users, courses, chats and messages as the API shows them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{AttachmentId, ChatId, ClientId, CourseId, MessageId, UserId};

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

/// What a message carries. Text is plain text, never HTML; an image or a file carries an
/// uploaded [`Attachment`], with an optional caption as its content.
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
    /// The text; for an image or a file, its caption (possibly empty).
    pub content: String,
    /// Written by `timestamp` (every frame that carries a message carries this).
    #[serde(serialize_with = "crate::timestamp::serialize")]
    pub created_at: DateTime<Utc>,
    /// What an image or file message carries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
}

impl Message {
    /// One line for a chat list or a notification: see [`preview`].
    pub fn preview(&self) -> String {
        preview(
            self.kind,
            &self.content,
            self.attachment.as_ref().map(|a| a.name.as_str()),
        )
    }
}

/// One line for a chat list or a notification: the text, or what was attached ("📷 Photo",
/// "📎 notes.pdf") with its caption.
pub fn preview(kind: MessageKind, content: &str, attachment: Option<&str>) -> String {
    let label = match (kind, attachment) {
        (MessageKind::Text, _) => return content.to_owned(),
        (MessageKind::Image, _) => "📷 Photo".to_owned(),
        (MessageKind::File, name) => format!("📎 {}", name.unwrap_or("File")),
    };
    if content.trim().is_empty() {
        label
    } else {
        format!("{label} · {content}")
    }
}

/// An uploaded file as a message carries it. Its type is what the server found in the
/// content, never what the name says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attachment {
    pub id: AttachmentId,
    /// The name it was uploaded under (for display and for saving; never trusted for type).
    pub name: String,
    /// Bytes of the stored content (an image's after re-encoding).
    pub size: u64,
    /// The sniffed media type, e.g. `image/png`, `application/pdf`.
    pub mime: String,
    /// An image's size in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// An image has a small JPEG at `/api/attachments/{id}/thumbnail`.
    #[serde(default)]
    pub thumbnail: bool,
}

impl Attachment {
    /// Whether the content is one of the image types shown inline.
    pub fn is_image(&self) -> bool {
        self.width.is_some() && self.height.is_some()
    }
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
    /// The caller muted the chat: no notifications, no part in the badge (still unread).
    #[serde(default)]
    pub muted: bool,
    /// The caller's last archive choice, if any (see [`is_archived`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<ArchiveMark>,
    /// The caller blocked the other participant.
    #[serde(default)]
    pub blocked: bool,
    /// Why the caller can read this chat but no longer write in it, if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<ReadOnly>,
    /// Where the student can buy the course again (when its enrollment ended), if the
    /// platform provisioned one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_url: Option<String>,
}

/// Why a member can read a chat but no longer write in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReadOnly {
    /// The student's purchase of the course ended (refunded, expired, revoked).
    EnrollmentEnded,
    /// The tutor no longer teaches the course.
    TutorLeft,
}

impl ReadOnly {
    /// The wire name (as serialized).
    pub fn as_str(self) -> &'static str {
        match self {
            ReadOnly::EnrollmentEnded => "enrollment_ended",
            ReadOnly::TutorLeft => "tutor_left",
        }
    }

    pub fn parse(s: &str) -> Option<ReadOnly> {
        [ReadOnly::EnrollmentEnded, ReadOnly::TutorLeft]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// A member's own choice to archive a chat or bring it back, and when it was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ArchiveMark {
    pub archived: bool,
    pub at: DateTime<Utc>,
}

/// Whether a chat is in the member's "Archived" section. Their own choice holds until the
/// chat moves after it (a new message brings an archived chat back by itself); without a
/// choice that still holds, a chat with no activity for `auto_after` is archived (`None`:
/// never). One rule, so every device of the member shows the same list.
pub fn is_archived(
    mark: Option<ArchiveMark>,
    last_activity_at: DateTime<Utc>,
    now: DateTime<Utc>,
    auto_after: Option<chrono::Duration>,
) -> bool {
    match mark {
        Some(mark) if mark.at >= last_activity_at => mark.archived,
        _ => auto_after.is_some_and(|after| now - last_activity_at >= after),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(n: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + n * 86_400, 0).expect("a valid time")
    }

    fn mark(archived: bool, at: i64) -> Option<ArchiveMark> {
        Some(ArchiveMark {
            archived,
            at: day(at),
        })
    }

    const NINETY: Option<chrono::Duration> = Some(chrono::Duration::days(90));

    #[test]
    fn read_only_reasons_name_themselves_as_on_the_wire() {
        for why in [ReadOnly::EnrollmentEnded, ReadOnly::TutorLeft] {
            assert_eq!(
                serde_json::to_value(why).expect("serialize"),
                serde_json::json!(why.as_str())
            );
            assert_eq!(ReadOnly::parse(why.as_str()), Some(why));
        }
        assert_eq!(ReadOnly::parse("nope"), None);
    }

    #[test]
    fn a_chat_archived_by_hand_comes_back_when_it_moves() {
        assert!(is_archived(mark(true, 5), day(3), day(6), NINETY));
        assert!(
            !is_archived(mark(true, 5), day(7), day(8), NINETY),
            "a message after archiving brings it back"
        );
    }

    #[test]
    fn quiet_chats_archive_by_themselves_unless_brought_back_by_hand() {
        assert!(!is_archived(None, day(0), day(89), NINETY));
        assert!(is_archived(None, day(0), day(90), NINETY));
        assert!(
            !is_archived(None, day(0), day(900), None),
            "never, when off"
        );
        assert!(
            !is_archived(mark(false, 100), day(0), day(200), NINETY),
            "unarchived by hand after it went quiet: stays in the list"
        );
        assert!(
            is_archived(mark(false, 1), day(2), day(200), NINETY),
            "a choice older than the last activity no longer holds"
        );
    }
}
