//! REST request and response bodies, grouped by resource.
//!
//! Paths are documented on the server's handlers and in the generated OpenAPI document
//! (`/api/openapi.json`); the bodies are defined here so the client and UI share them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{AttachmentId, ChatId, ClientId, CourseId, UploadId, UserId};
use crate::model::{ChatSummary, CourseRef, Message, MessageKind, MessageView, ReadPointer, Role};

// ---------------------------------------------------------------------------------------------
// Auth

/// `POST /api/auth/login`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"email": "sam@tutorchat.test", "password": "tutorchat-demo"})))]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// `POST /api/auth/refresh` and `POST /api/auth/logout`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// A fresh token pair. The refresh token is single-use: refreshing rotates it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthTokens {
    /// HS256 JWT with `sub`, `role`, `exp`; send as `Authorization: Bearer …`.
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
    pub user: UserProfile,
}

/// The signed-in user (`GET /api/me`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserProfile {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
}

// ---------------------------------------------------------------------------------------------
// Chats and messages

/// `GET /api/chats`: newest activity first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChatList {
    pub chats: Vec<ChatSummary>,
}

/// `POST /api/chats`: a student names a tutor, a tutor names a student; one of the two.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"course_id": "rust-101", "tutor_id": "t-ada"})))]
pub struct CreateChatRequest {
    pub course_id: CourseId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tutor_id: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub student_id: Option<UserId>,
}

/// `POST /api/chats` answer: the chat, and whether this call created it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateChatResponse {
    pub chat: ChatSummary,
    pub created: bool,
}

/// Query of `GET /api/chats/{id}/messages`. Without `before_seq`/`after_seq` the newest page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct MessagesQuery {
    /// Messages with `seq < before_seq`, the newest of them.
    pub before_seq: Option<u64>,
    /// Messages with `seq > after_seq`, the oldest of them.
    pub after_seq: Option<u64>,
    /// Page size (default and maximum set by the server).
    pub limit: Option<u32>,
}

/// A page of history, ascending by `seq`, contiguous.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessagePage {
    pub chat_id: ChatId,
    pub messages: Vec<MessageView>,
    /// Older messages exist before the first one of this page.
    pub has_more_before: bool,
    /// Newer messages exist after the last one of this page.
    pub has_more_after: bool,
    pub last_seq: u64,
    pub read_pointers: Vec<ReadPointer>,
}

/// `POST /api/chats/{id}/messages`: send over REST (scripts, bots, the course platform).
/// The live path is the WebSocket's `send_message`; both are idempotent on `client_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"client_id": "0b6c5c1e-7d1e-4f55-9a55-2f0d7c3b9e10", "kind": "text", "content": "Is chapter 5 on the exam?"})))]
pub struct SendMessageRequest {
    pub client_id: ClientId,
    #[serde(default)]
    pub kind: MessageKind,
    /// Text, or an attachment's caption (may be empty).
    #[serde(default)]
    pub content: String,
    /// For `image` and `file`: the caller's own finished upload, not yet sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment_id: Option<AttachmentId>,
}

/// The stored message; `duplicate` is true when `client_id` had already been sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SendMessageResponse {
    pub message: Message,
    pub duplicate: bool,
}

/// `PUT /api/chats/{id}/read`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"up_to_seq": 3})))]
pub struct MarkReadRequest {
    pub up_to_seq: u64,
}

/// The caller's read pointer after the call (it only ever moves forward).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MarkReadResponse {
    pub chat_id: ChatId,
    pub read: ReadPointer,
    /// Whether the pointer moved.
    pub advanced: bool,
}

// ---------------------------------------------------------------------------------------------
// People

/// A person the caller may chat with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contact {
    pub id: UserId,
    pub name: String,
    pub role: Role,
    pub online: bool,
    /// The existing chat with this person in this course, if any.
    pub chat_id: Option<ChatId>,
}

/// One course with the people of it the caller may chat with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CourseContacts {
    pub course: CourseRef,
    pub contacts: Vec<Contact>,
}

/// `GET /api/users/available-tutors` (student) and `GET /api/tutors/students` (tutor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactsByCourse {
    pub courses: Vec<CourseContacts>,
}

/// Query of `GET /api/tutors/students`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct StudentsQuery {
    /// Only this course.
    pub course_id: Option<CourseId>,
}

/// `POST`/`DELETE /api/users/{id}/block` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BlockStatus {
    pub user_id: UserId,
    pub blocked: bool,
}

// ---------------------------------------------------------------------------------------------
// Provisioning by the course platform (service token or admin)

/// A user as the platform provisions them. Without `password` the user can sign in only with
/// a token the platform mints (single sign-on).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"id": "u-42", "email": "kim@school.test", "name": "Kim", "role": "student", "password": "optional-password"})))]
pub struct UpsertUser {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// A course with its tutors; the tutor list replaces the previous one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"id": "c-7", "title": "Databases", "tutor_ids": ["t-ada"]})))]
pub struct UpsertCourse {
    pub id: CourseId,
    pub title: String,
    #[serde(default)]
    pub tutor_ids: Vec<UserId>,
    /// Where the platform sells the course (`https://…`): the app offers it to a student who
    /// has not bought the course, or whose purchase ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_url: Option<String>,
}

/// A student's purchase of a course; `active: false` revokes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"course_id": "algo-201", "student_id": "s-leo", "active": true})))]
pub struct EnrollmentChange {
    pub course_id: CourseId,
    pub student_id: UserId,
    #[serde(default = "default_true")]
    pub active: bool,
}

fn default_true() -> bool {
    true
}

/// A whole provisioning batch: `POST /api/admin/import` and `tutorchat-server import FILE`.
/// Applied in order users → courses → enrollments, all or nothing. Unknown keys (a typo such
/// as `enrolments`) are refused, and so is a batch with nothing in it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"users": [{"id": "u-42", "email": "kim@school.test", "name": "Kim", "role": "student"}], "courses": [{"id": "c-7", "title": "Databases", "tutor_ids": ["t-ada"]}], "enrollments": [{"course_id": "c-7", "student_id": "u-42"}]})))]
pub struct ProvisioningBatch {
    #[serde(default)]
    pub users: Vec<UpsertUser>,
    #[serde(default)]
    pub courses: Vec<UpsertCourse>,
    #[serde(default)]
    pub enrollments: Vec<EnrollmentChange>,
}

/// What a provisioning batch changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProvisioningReport {
    pub users: usize,
    pub courses: usize,
    pub enrollments: usize,
}

/// One audit log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub action: AuditAction,
    /// Who acted, when known (absent for failed logins of unknown users and service calls).
    pub actor_id: Option<UserId>,
    /// What it was about: a chat id, a user id, an email…
    pub target: Option<String>,
    /// Short free text: the reason of a denial, the course of a chat.
    pub detail: Option<String>,
    pub ip: Option<String>,
}

/// What an audit entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    LoginOk,
    LoginFailed,
    Logout,
    RefreshReuse,
    ChatCreated,
    AccessDenied,
    UserBlocked,
    UserUnblocked,
    AdminUserUpsert,
    AdminCourseUpsert,
    AdminEnrollment,
    AdminImport,
    /// An upload refused for its type or size.
    UploadRefused,
}

impl AuditAction {
    pub const ALL: [AuditAction; 13] = [
        AuditAction::LoginOk,
        AuditAction::LoginFailed,
        AuditAction::Logout,
        AuditAction::RefreshReuse,
        AuditAction::ChatCreated,
        AuditAction::AccessDenied,
        AuditAction::UserBlocked,
        AuditAction::UserUnblocked,
        AuditAction::AdminUserUpsert,
        AuditAction::AdminCourseUpsert,
        AuditAction::AdminEnrollment,
        AuditAction::AdminImport,
        AuditAction::UploadRefused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::LoginOk => "login_ok",
            AuditAction::LoginFailed => "login_failed",
            AuditAction::Logout => "logout",
            AuditAction::RefreshReuse => "refresh_reuse",
            AuditAction::ChatCreated => "chat_created",
            AuditAction::AccessDenied => "access_denied",
            AuditAction::UserBlocked => "user_blocked",
            AuditAction::UserUnblocked => "user_unblocked",
            AuditAction::AdminUserUpsert => "admin_user_upsert",
            AuditAction::AdminCourseUpsert => "admin_course_upsert",
            AuditAction::AdminEnrollment => "admin_enrollment",
            AuditAction::AdminImport => "admin_import",
            AuditAction::UploadRefused => "upload_refused",
        }
    }

    pub fn parse(s: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// Query of `GET /api/admin/audit`: newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct AuditQuery {
    /// Entries with `id < before_id`.
    pub before_id: Option<i64>,
    pub action: Option<AuditAction>,
    pub limit: Option<u32>,
}

/// `GET /api/admin/audit`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
}

/// `GET /api/config`: what a client must know of this server before it sends anything — the
/// limits it enforces. Public (the sign-in screen may ask).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServerConfig {
    pub limits: crate::Limits,
    /// What uploads this server takes (an older server, which takes none, leaves it out).
    #[serde(default)]
    pub uploads: UploadLimits,
    /// Chats with no activity for this many days are archived by themselves (0: never); see
    /// [`crate::model::is_archived`].
    #[serde(default)]
    pub archive_after_days: u32,
}

impl ServerConfig {
    /// The automatic archiving period, if any.
    pub fn archive_after(&self) -> Option<chrono::Duration> {
        (self.archive_after_days > 0)
            .then(|| chrono::Duration::days(i64::from(self.archive_after_days)))
    }
}

/// What the server takes as an upload, published so a client refuses a file before sending
/// a byte of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadLimits {
    /// Largest upload, in bytes (0: uploads are off).
    pub max_bytes: u64,
    /// Bytes one user may keep stored in all.
    pub quota_bytes: u64,
    /// Media types shown inline as images.
    pub image_types: Vec<String>,
    /// Every media type taken (the image types among them), found from the content.
    pub allowed_types: Vec<String>,
    /// Images over this many pixels (width × height) are refused.
    pub max_image_pixels: u64,
}

/// `POST /api/uploads`: start an upload, or learn how far one got. Answered with its
/// [`UploadStatus`]; the same `upload_id` again never starts a second upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewUpload {
    pub upload_id: UploadId,
    /// The file's name, for display.
    pub name: String,
    /// The whole file's size in bytes.
    pub size: u64,
}

/// Where an upload stands. `PATCH /api/uploads/{upload_id}` with `Upload-Offset: offset`
/// appends the next bytes; once `offset == size` the server checks the content and
/// `attachment` is set: send it in a message by its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadStatus {
    pub upload_id: UploadId,
    /// Bytes the server holds.
    pub offset: u64,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<crate::model::Attachment>,
}

/// `PUT /api/chats/{id}/settings`: the caller's own settings for a chat, the same on all of
/// their devices. A field left out is left as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChatSettingsChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub muted: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
}

/// `GET /healthz`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// `ok`, or `degraded` when the database or the bus cannot be reached.
    pub status: String,
    pub version: String,
    /// Whether the database answers.
    #[serde(default = "reachable")]
    pub database: bool,
    /// Whether the bus to the other nodes is connected; absent on a node alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bus: Option<bool>,
}

fn reachable() -> bool {
    true
}
