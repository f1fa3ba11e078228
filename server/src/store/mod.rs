//! Storage: the [`Store`] trait the services speak to, its records, and its backends.
//!
//! The trait is async and object-safe (`Arc<dyn Store>`): [`sqlite::SqliteStore`] (the
//! embedded default) and [`postgres::PgStore`] (several nodes on one database) sit behind it
//! and the services never know which. Every backend must pass the conformance suite in
//! `tests/api/store.rs`. Rules (who may do what) live in the services,
//! not here: the store answers questions and applies changes atomically.

pub mod migrate;
pub mod postgres;
pub mod sqlite;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tutorchat_shared::api::{
    AuditAction, AuditEntry, ChatSettingsChange, EnrollmentChange, UpsertCourse,
};
use tutorchat_shared::model::ArchiveMark;
use tutorchat_shared::{
    Attachment, AttachmentId, ChatId, ClientId, CourseId, CourseRef, Message, MessageId,
    MessageKind, ReadPointer, Role, UploadId, UserId,
};

/// What can go wrong in a backend. All of it is the server's fault, never the caller's, and
/// maps to a 500 with the details logged.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgres: {}", postgres::describe(.0))]
    Postgres(#[from] tokio_postgres::Error),
    #[error("postgres connection pool: {0}")]
    Pool(String),
    #[error("the database's writer has stopped")]
    WriterGone,
    /// Too much is already waiting to be written: a send is refused now rather than queued
    /// behind it (the sender retries). Only from [`Store::send_messages`].
    #[error("the database's writer is saturated")]
    Busy,
    #[error("commit failed: {0}")]
    Commit(String),
    #[error("migration {version} failed: {source}")]
    Migration {
        version: u32,
        source: rusqlite::Error,
    },
    #[error("postgres migration {version} failed: {}", postgres::describe(.source))]
    PgMigration {
        version: u32,
        source: tokio_postgres::Error,
    },
    #[error("database is newer than this server (schema {found}, known {known})")]
    SchemaTooNew { found: u32, known: u32 },
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// Only inside a backend, to roll a refused provisioning batch back; never returned.
    #[error("provisioning refused: {0}")]
    Refused(ProvisioningError),
    /// A setting names no backend this server has.
    #[error("{0}")]
    Unsupported(String),
    #[error("blocking task failed: {0}")]
    Join(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Both backends keep times as Unix milliseconds (UTC), so a row moves between them as it is.
pub(crate) fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_ms(ms: i64) -> DateTime<Utc> {
    use chrono::TimeZone;
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// Database integers are i64; seqs and sizes are never negative.
pub(crate) fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

pub(crate) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A user row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password_hash: Option<String>,
    pub disabled: bool,
}

/// A user to insert or update. `password_hash: None` keeps the current password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password_hash: Option<String>,
}

/// A validated provisioning batch, passwords already hashed; applied all or nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provisioning {
    pub users: Vec<NewUser>,
    pub courses: Vec<UpsertCourse>,
    pub enrollments: Vec<EnrollmentChange>,
}

/// Why a provisioning batch was refused (the caller's fault: a 422).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProvisioningError {
    #[error("email {email} already belongs to user {owner}")]
    EmailTaken { email: String, owner: UserId },
    #[error("{what} {id} does not exist")]
    Missing { what: &'static str, id: String },
    #[error("user {id} is a {actual}, not a {expected}")]
    WrongRole {
        id: UserId,
        expected: &'static str,
        actual: &'static str,
    },
}

impl ProvisioningError {
    /// Whether the user a batch names (`found` under `id`) exists with the role it needs.
    pub fn check_role(
        found: Option<&UserRecord>,
        id: &UserId,
        expected: Role,
        what: &'static str,
    ) -> std::result::Result<(), ProvisioningError> {
        match found {
            None => Err(ProvisioningError::Missing {
                what,
                id: id.0.clone(),
            }),
            Some(u) if u.role != expected => Err(ProvisioningError::WrongRole {
                id: id.clone(),
                expected: expected.as_str(),
                actual: u.role.as_str(),
            }),
            Some(_) => Ok(()),
        }
    }
}

/// A chat between one student and one tutor in one course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatRecord {
    pub id: ChatId,
    pub course_id: CourseId,
    pub student_id: UserId,
    pub tutor_id: UserId,
    pub created_at: DateTime<Utc>,
}

impl ChatRecord {
    pub fn has_member(&self, user: &UserId) -> bool {
        &self.student_id == user || &self.tutor_id == user
    }

    /// The other member, if `user` is one.
    pub fn peer_of(&self, user: &UserId) -> Option<&UserId> {
        if &self.student_id == user {
            Some(&self.tutor_id)
        } else if &self.tutor_id == user {
            Some(&self.student_id)
        } else {
            None
        }
    }
}

/// A person as a list shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    pub id: UserId,
    pub name: String,
    pub role: Role,
}

/// One chat as a member's chat list needs it (presence is added by the service).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatRow {
    pub chat: ChatRecord,
    pub course: CourseRef,
    pub peer: PersonRow,
    pub last_message: Option<Message>,
    pub last_seq: u64,
    pub my_read_seq: u64,
    pub peer_read_seq: u64,
    pub last_activity_at: DateTime<Utc>,
    /// The viewer's own settings.
    pub muted: bool,
    pub archive: Option<ArchiveMark>,
    /// The viewer blocked the other member.
    pub blocked: bool,
    /// The student's enrollment is active and the tutor still teaches the course.
    pub enrolled: bool,
    pub teaching: bool,
    pub purchase_url: Option<String>,
}

/// One person the caller may chat with, in one course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRow {
    pub course: CourseRef,
    pub person: PersonRow,
    pub chat_id: Option<ChatId>,
}

/// A message to store; the store assigns `id` and `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub chat_id: ChatId,
    pub sender_id: UserId,
    pub client_id: ClientId,
    pub kind: MessageKind,
    pub content: String,
    /// For an image or a file: the sender's finished, unsent upload, claimed by this message
    /// in the same transaction (see [`SendRefusal::AttachmentUnavailable`]).
    pub attachment: Option<AttachmentId>,
    pub at: DateTime<Utc>,
}

/// What storing a message did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOutcome {
    /// Stored now, with the chat's next seq.
    Stored(Message),
    /// `(sender, client_id)` was already stored: the original, unchanged.
    Duplicate(Message),
    /// `(sender, client_id)` was already used for a message in another chat.
    ClientIdReused { chat_id: ChatId },
    /// A checked send failed its checks; nothing was stored.
    Refused(SendRefusal),
}

/// What must hold for a send to be stored, checked in the same transaction as the insert
/// (after deduplication, so a retried send of a stored message always gets the original).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendChecks {
    /// The other member: the send is refused if they have blocked the sender.
    pub recipient: UserId,
    pub course: CourseId,
    pub student: UserId,
    pub tutor: UserId,
}

/// Why a checked send was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendRefusal {
    Blocked,
    NotEnrolled,
    NotCourseTutor,
    /// The attachment is not the sender's, not finished, or already sent in a message.
    AttachmentUnavailable,
}

/// An upload to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUploadRecord {
    pub id: AttachmentId,
    pub owner: UserId,
    pub upload_id: UploadId,
    pub name: String,
    pub declared_size: u64,
    pub at: DateTime<Utc>,
}

/// An upload, finished or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRecord {
    pub id: AttachmentId,
    pub owner: UserId,
    pub upload_id: UploadId,
    pub name: String,
    pub declared_size: u64,
    pub created_at: DateTime<Utc>,
    /// Set once the content was checked and stored.
    pub content: Option<StoredContent>,
    /// The message that carries it, once sent.
    pub message_id: Option<MessageId>,
}

impl UploadRecord {
    /// The attachment a message shows, once the content is stored.
    pub fn attachment(&self) -> Option<Attachment> {
        let content = self.content.as_ref()?;
        Some(Attachment {
            id: self.id.clone(),
            name: self.name.clone(),
            size: content.size,
            mime: content.mime.clone(),
            width: content.width,
            height: content.height,
            thumbnail: content.thumbnail.is_some(),
        })
    }
}

/// A finished upload's checked content: which blob holds it (the SHA-256 of its bytes, hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredContent {
    pub mime: String,
    pub size: u64,
    pub blob: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// An image's thumbnail blob.
    pub thumbnail: Option<String>,
}

/// Told the number of writes in each committed batch (a metric).
pub type CommitObserver = std::sync::Arc<dyn Fn(usize) + Send + Sync>;

/// Runs once a stored message is durable, in commit order: once for each message a send
/// stored, with when its commit became durable. It must not block.
pub type OnCommit = Box<dyn FnMut(&Message, std::time::Instant) + Send>;

/// Which page of a chat's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageRequest {
    Latest { limit: u32 },
    Before { seq: u64, limit: u32 },
    After { seq: u64, limit: u32 },
}

/// A contiguous run of messages, ascending by seq.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub messages: Vec<Message>,
    pub has_more_before: bool,
    pub has_more_after: bool,
    pub last_seq: u64,
}

impl PageRequest {
    /// The rows a backend reads: one more than the page, to learn whether more lie beyond it.
    pub fn fetch(self) -> i64 {
        let (Self::Latest { limit } | Self::Before { limit, .. } | Self::After { limit, .. }) =
            self;
        i64::from(limit) + 1
    }
}

impl Page {
    /// The page for `request` from the rows a backend read: up to [`PageRequest::fetch`] of
    /// them, newest first for `Latest` and `Before`, oldest first for `After`; `last_seq` read
    /// in the same snapshot.
    pub fn assemble(request: PageRequest, mut messages: Vec<Message>, last_seq: u64) -> Page {
        let (PageRequest::Latest { limit }
        | PageRequest::Before { limit, .. }
        | PageRequest::After { limit, .. }) = request;
        let overflow = messages.len() > limit as usize;
        messages.truncate(limit as usize);
        if !matches!(request, PageRequest::After { .. }) {
            messages.reverse();
        }
        let first = messages.first().map(|m| m.seq);
        let last = messages.last().map(|m| m.seq);
        let (has_more_before, has_more_after) = match request {
            PageRequest::Latest { .. } => (overflow, false),
            PageRequest::Before { seq, .. } => (
                overflow,
                last.map_or(seq.saturating_sub(1), |l| l) < last_seq,
            ),
            PageRequest::After { seq, .. } => {
                (first.map_or(seq, |f| f.saturating_sub(1)) > 0, overflow)
            }
        };
        Page {
            messages,
            has_more_before,
            has_more_after,
            last_seq,
        }
    }
}

/// A refresh token to store (by hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRecord {
    pub token_hash: String,
    pub user_id: UserId,
    pub family_id: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// What presenting a refresh token did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotateOutcome {
    /// The token was live: it is spent now and `next` replaces it. Also the answer when the
    /// token was spent within the reuse grace and `next` is the successor stored then (and
    /// still unspent): the same exchange, replayed.
    Rotated { user_id: UserId, family_id: String },
    /// The token was already spent or revoked: its whole family is revoked now.
    Reused { user_id: UserId, family_id: String },
    /// Unknown or expired.
    Invalid,
}

/// An audit entry to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub action: AuditAction,
    pub actor_id: Option<UserId>,
    pub target: Option<String>,
    pub detail: Option<String>,
    pub ip: Option<String>,
}

/// The persistence a Tutorchat server needs. Implementations must be safe to call from many
/// tasks at once and must not block the async runtime.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug + 'static {
    /// Tells `observer` how many writes each durable commit held (set once; later calls are
    /// ignored).
    fn observe_commits(&self, _observer: CommitObserver) {}

    /// Answers if the database does (for `/healthz`).
    async fn ping(&self) -> Result<()> {
        self.user_count().await.map(drop)
    }

    // Users, courses, enrollments.
    async fn user_count(&self) -> Result<u64>;
    async fn user(&self, id: &UserId) -> Result<Option<UserRecord>>;
    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>>;
    async fn course(&self, id: &CourseId) -> Result<Option<CourseRef>>;
    /// Where the platform sells the course, if it said (and the course exists).
    async fn purchase_url(&self, course: &CourseId) -> Result<Option<String>>;
    async fn provision(
        &self,
        batch: Provisioning,
    ) -> Result<std::result::Result<(), ProvisioningError>>;
    /// Whether the student holds an active (not revoked) enrollment in the course.
    async fn is_enrolled(&self, student: &UserId, course: &CourseId) -> Result<bool>;
    async fn teaches(&self, tutor: &UserId, course: &CourseId) -> Result<bool>;
    /// Tutors of the student's active enrollments, by course title.
    async fn tutors_of_student(&self, student: &UserId) -> Result<Vec<ContactRow>>;
    /// Actively enrolled students of the tutor's courses, optionally of one course.
    async fn students_of_tutor(
        &self,
        tutor: &UserId,
        course: Option<&CourseId>,
    ) -> Result<Vec<ContactRow>>;

    // Chats and messages.
    /// The chat of this (course, student, tutor), created with both members if missing.
    /// Returns whether this call created it.
    async fn find_or_create_chat(
        &self,
        course: &CourseId,
        student: &UserId,
        tutor: &UserId,
        at: DateTime<Utc>,
    ) -> Result<(ChatRecord, bool)>;
    async fn chat(&self, id: ChatId) -> Result<Option<ChatRecord>>;
    /// The member's chats, newest activity first.
    async fn chats_of(&self, user: &UserId) -> Result<Vec<ChatRow>>;
    async fn chat_row(&self, id: ChatId, viewer: &UserId) -> Result<Option<ChatRow>>;
    /// Applies a member's change to their own settings for a chat (a field left `None` stays
    /// as it is; an archive choice is stamped `at`). Nothing happens for a non-member.
    async fn set_chat_settings(
        &self,
        chat: ChatId,
        member: &UserId,
        change: ChatSettingsChange,
        at: DateTime<Utc>,
    ) -> Result<()>;
    /// Stores a message with the chat's next gapless seq, deduplicated on
    /// `(sender, client_id)`, and moves the sender's read pointer to it. Durable on return.
    async fn insert_message(&self, message: NewMessage) -> Result<InsertOutcome>;
    /// Deduplicates, then checks `checks`, then stores as [`Store::insert_message`] does, all
    /// in one transaction; `on_commit` runs once the new message is durable (not for
    /// duplicates or refusals), in commit order across all sends.
    async fn send_message(
        &self,
        message: NewMessage,
        checks: SendChecks,
        on_commit: Option<OnCommit>,
    ) -> Result<InsertOutcome> {
        let mut outcomes = self.send_messages(vec![message], checks, on_commit).await?;
        outcomes
            .pop()
            .ok_or_else(|| StoreError::Corrupt("a send of one message answered nothing".into()))
    }
    /// [`Store::send_message`] for several messages of one chat from one sender, stored in
    /// this order in one transaction: one outcome per message, in order. `on_commit` runs for
    /// each stored message, in seq order, once the transaction is durable.
    async fn send_messages(
        &self,
        messages: Vec<NewMessage>,
        checks: SendChecks,
        on_commit: Option<OnCommit>,
    ) -> Result<Vec<InsertOutcome>>;
    /// The message this sender already stored under `client_id`, if any.
    async fn message_by_client_id(
        &self,
        sender: &UserId,
        client_id: &ClientId,
    ) -> Result<Option<Message>>;
    async fn messages(&self, chat: ChatId, page: PageRequest) -> Result<Page>;
    async fn read_pointers(&self, chat: ChatId) -> Result<Vec<ReadPointer>>;
    /// Moves the member's read pointer forward to `min(up_to_seq, last_seq)`; never back.
    /// Returns the pointer after the call and whether it moved.
    async fn mark_read(
        &self,
        chat: ChatId,
        user: &UserId,
        up_to_seq: u64,
        at: DateTime<Utc>,
    ) -> Result<(ReadPointer, bool)>;

    // Blocks.
    /// Returns whether anything changed.
    async fn set_block(&self, blocker: &UserId, blocked: &UserId, on: bool) -> Result<bool>;
    async fn is_blocked(&self, blocker: &UserId, blocked: &UserId) -> Result<bool>;

    // Refresh tokens.
    async fn insert_refresh_token(&self, token: RefreshRecord) -> Result<()>;
    /// Spends `presented` and stores `next` in the same family, atomically. A token spent
    /// less than `grace` ago whose successor was `next` answers `Rotated` again without
    /// storing anything; any other spent token revokes its family (`Reused`).
    async fn rotate_refresh_token(
        &self,
        presented_hash: &str,
        next: RefreshRecord,
        now: DateTime<Utc>,
        grace: std::time::Duration,
    ) -> Result<RotateOutcome>;
    /// Revokes the family of this token; returns its user and family if the token was known.
    async fn revoke_refresh_family(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(UserId, String)>>;
    /// Families revoked at or after `since` (their access tokens may still be unexpired).
    async fn revoked_families_since(&self, since: DateTime<Utc>) -> Result<Vec<String>>;

    // Attachments.
    /// Starts an upload, or answers the owner's upload already under this `upload_id`
    /// (whatever the other fields say now). A new one is refused (`Err` with the bytes the
    /// owner keeps) if it would take them past `quota`, checked atomically with the insert.
    async fn create_upload(
        &self,
        upload: NewUploadRecord,
        quota: u64,
    ) -> Result<std::result::Result<UploadRecord, u64>>;
    async fn upload(&self, owner: &UserId, upload_id: &UploadId) -> Result<Option<UploadRecord>>;
    /// Bytes the user keeps stored or has announced in unfinished uploads.
    async fn stored_bytes(&self, owner: &UserId) -> Result<u64>;
    /// Records an upload's checked content. Answers the record after the call (unchanged if
    /// it already had content).
    async fn complete_upload(
        &self,
        id: &AttachmentId,
        content: StoredContent,
    ) -> Result<Option<UploadRecord>>;
    /// The attachment if `viewer` may download it: they uploaded it, or it was sent in a chat
    /// they are a member of. `None` for both "no such attachment" and "not yours".
    async fn attachment_for(
        &self,
        id: &AttachmentId,
        viewer: &UserId,
    ) -> Result<Option<UploadRecord>>;
    /// Uploads no message carries, finished (or, unfinished, started) before `before`.
    async fn unsent_uploads(&self, before: DateTime<Utc>, limit: u32) -> Result<Vec<UploadRecord>>;
    /// Removes an unsent upload; answers the blobs nothing refers to any more (to delete).
    /// A sent one is kept (answers nothing).
    async fn delete_unsent_upload(&self, id: &AttachmentId) -> Result<Vec<String>>;

    // Audit.
    async fn append_audit(&self, entry: AuditRecord, at: DateTime<Utc>) -> Result<()>;
    async fn audit_entries(
        &self,
        before_id: Option<i64>,
        action: Option<AuditAction>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>>;
}
