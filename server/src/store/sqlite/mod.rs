//! The embedded SQLite backend: one file in the data directory, WAL, one writer thread that
//! commits in groups ([`writer`]), WAL checkpoints on a thread of their own ([`checkpoint`]),
//! and a small pool of read connections used from
//! `spawn_blocking`, so no SQLite call ever runs on an async worker thread.
//!
//! Queries live in [`accounts`] (users, courses, enrollments, blocks, tokens, audit) and
//! [`chats`] (chats, members, messages); this file holds the plumbing and the trait impl that
//! routes each call to a reader or the writer.

mod accounts;
mod attachments;
mod chats;
mod checkpoint;
mod migrations;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags};
use tokio::sync::Semaphore;
use tutorchat_shared::api::{AuditAction, AuditEntry, ChatSettingsChange};
use tutorchat_shared::{
    AttachmentId, ChatId, ClientId, CourseId, CourseRef, Message, ReadPointer, UploadId, UserId,
};

use crate::locks::lock;

use self::checkpoint::Checkpointer;
use self::writer::Writer;
use super::{
    AuditRecord, ChatRecord, ChatRow, CommitObserver, ContactRow, InsertOutcome, NewMessage,
    NewUploadRecord, OnCommit, Page, PageRequest, Provisioning, ProvisioningError, RefreshRecord,
    Result, RotateOutcome, SendChecks, Store, StoreError, StoredContent, UploadRecord, UserRecord,
};

/// The database file's name inside the data directory.
pub const DB_FILE: &str = "tutorchat.db";
/// Read connections kept open.
const READERS: usize = 4;

/// Handle to an open SQLite database; cheap to clone.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    writer: Writer,
    _checkpointer: Checkpointer,
    /// Idle read connections. A std mutex: it is held only to push or pop, never across I/O.
    readers: Mutex<Vec<Connection>>,
    /// One permit per read connection, so a reader is always there after acquiring.
    reader_permits: Semaphore,
}

impl SqliteStore {
    /// Opens (creating if needed) the database in `data_dir` and brings its schema up to date;
    /// its writer commits what is queued at once (no linger).
    pub fn open(data_dir: &Path) -> Result<SqliteStore> {
        SqliteStore::open_with_linger(data_dir, Duration::ZERO)
    }

    /// Like [`SqliteStore::open`], with a writer that waits up to `commit_linger` for more
    /// jobs to share a commit once jobs arrive together (see `writer`; `--commit-linger-us`).
    pub fn open_with_linger(data_dir: &Path, commit_linger: Duration) -> Result<SqliteStore> {
        std::fs::create_dir_all(data_dir)?;
        let path = data_dir.join(DB_FILE);
        let conn = Connection::open(&path)?;
        configure(&conn)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        migrations::run(&conn)?;
        // Checkpoints run on their own thread (see `checkpoint`), not inside a commit.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        // When the WAL starts over, the file is cut back to this size: reused space is cheap
        // to write again, but a burst's worth need not stay on disk.
        conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
        let writer = Writer::spawn(conn, commit_linger)?;
        let checkpointer = Checkpointer::spawn(&path)?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let reader = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            configure(&reader)?;
            readers.push(reader);
        }
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path,
                writer,
                _checkpointer: checkpointer,
                readers: Mutex::new(readers),
                reader_permits: Semaphore::new(READERS),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` on a read connection off the async threads.
    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let _permit = self
            .inner
            .reader_permits
            .acquire()
            .await
            .map_err(|_| StoreError::WriterGone)?;
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let conn = lock(&inner.readers).pop().ok_or(StoreError::WriterGone)?;
            let result = f(&conn);
            lock(&inner.readers).push(conn);
            result
        })
        .await
        .map_err(|e| StoreError::Join(e.to_string()))?
    }

    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.inner.writer.write(f).await
    }
}

/// Bytes of WAL file kept on disk once the log starts over (see `writer`).
const WAL_SIZE_LIMIT: i64 = 64 * 1024 * 1024;

/// Prepared statements kept per connection (more than the store has).
const STATEMENT_CACHE: usize = 128;

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(5))?;
    // FULL: a commit is on disk before the writer answers, so an ack means durable.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "cache_size", -16_000)?;
    // Every statement of the send path and the other writes stays prepared: with the default
    // (16) a mix of writes evicted the send path's statements and each was parsed again.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(())
}

pub(crate) use super::{from_ms, to_i64, to_ms, to_u64};

#[async_trait]
impl Store for SqliteStore {
    fn observe_commits(&self, observer: CommitObserver) {
        let _ = self.inner.writer.observer().set(observer);
    }

    async fn user_count(&self) -> Result<u64> {
        self.read(accounts::user_count).await
    }

    async fn user(&self, id: &UserId) -> Result<Option<UserRecord>> {
        let id = id.clone();
        self.read(move |c| accounts::user(c, &id)).await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>> {
        let email = email.to_owned();
        self.read(move |c| accounts::user_by_email(c, &email)).await
    }

    async fn course(&self, id: &CourseId) -> Result<Option<CourseRef>> {
        let id = id.clone();
        self.read(move |c| accounts::course(c, &id)).await
    }

    async fn purchase_url(&self, course: &CourseId) -> Result<Option<String>> {
        let course = course.clone();
        self.read(move |c| accounts::purchase_url(c, &course)).await
    }

    async fn provision(
        &self,
        batch: Provisioning,
    ) -> Result<std::result::Result<(), ProvisioningError>> {
        // A refused batch must roll back whole: the refusal is an error inside the job (so its
        // savepoint is undone) and becomes a value again here.
        let outcome = self
            .write(move |c| accounts::provision(c, &batch)?.map_err(StoreError::Refused))
            .await;
        match outcome {
            Ok(()) => Ok(Ok(())),
            Err(StoreError::Refused(refusal)) => Ok(Err(refusal)),
            Err(e) => Err(e),
        }
    }

    async fn is_enrolled(&self, student: &UserId, course: &CourseId) -> Result<bool> {
        let (student, course) = (student.clone(), course.clone());
        self.read(move |c| accounts::is_enrolled(c, &student, &course))
            .await
    }

    async fn teaches(&self, tutor: &UserId, course: &CourseId) -> Result<bool> {
        let (tutor, course) = (tutor.clone(), course.clone());
        self.read(move |c| accounts::teaches(c, &tutor, &course))
            .await
    }

    async fn tutors_of_student(&self, student: &UserId) -> Result<Vec<ContactRow>> {
        let student = student.clone();
        self.read(move |c| accounts::tutors_of_student(c, &student))
            .await
    }

    async fn students_of_tutor(
        &self,
        tutor: &UserId,
        course: Option<&CourseId>,
    ) -> Result<Vec<ContactRow>> {
        let (tutor, course) = (tutor.clone(), course.cloned());
        self.read(move |c| accounts::students_of_tutor(c, &tutor, course.as_ref()))
            .await
    }

    async fn find_or_create_chat(
        &self,
        course: &CourseId,
        student: &UserId,
        tutor: &UserId,
        at: DateTime<Utc>,
    ) -> Result<(ChatRecord, bool)> {
        let (course, student, tutor) = (course.clone(), student.clone(), tutor.clone());
        self.write(move |c| chats::find_or_create(c, &course, &student, &tutor, at))
            .await
    }

    async fn chat(&self, id: ChatId) -> Result<Option<ChatRecord>> {
        self.read(move |c| chats::chat(c, id)).await
    }

    async fn chats_of(&self, user: &UserId) -> Result<Vec<ChatRow>> {
        let user = user.clone();
        self.read(move |c| chats::rows(c, &user, None)).await
    }

    async fn chat_row(&self, id: ChatId, viewer: &UserId) -> Result<Option<ChatRow>> {
        let viewer = viewer.clone();
        self.read(move |c| Ok(chats::rows(c, &viewer, Some(id))?.pop()))
            .await
    }

    async fn insert_message(&self, message: NewMessage) -> Result<InsertOutcome> {
        self.write(move |c| chats::insert_message(c, &message))
            .await
    }

    async fn send_messages(
        &self,
        messages: Vec<NewMessage>,
        checks: SendChecks,
        on_commit: Option<OnCommit>,
    ) -> Result<Vec<InsertOutcome>> {
        let job = move |c: &Connection| chats::send_messages(c, &messages, &checks);
        let after = move |outcomes: &Vec<InsertOutcome>, committed| {
            let Some(mut hook) = on_commit else { return };
            for outcome in outcomes {
                if let InsertOutcome::Stored(message) = outcome {
                    hook(message, committed);
                }
            }
        };
        self.inner.writer.write_then_unless_busy(job, after).await
    }

    async fn message_by_client_id(
        &self,
        sender: &UserId,
        client_id: &ClientId,
    ) -> Result<Option<Message>> {
        let (sender, client_id) = (sender.clone(), client_id.clone());
        self.read(move |c| chats::message_by_client_id(c, &sender, &client_id))
            .await
    }

    async fn messages(&self, chat: ChatId, page: PageRequest) -> Result<Page> {
        self.read(move |c| chats::page(c, chat, page)).await
    }

    async fn read_pointers(&self, chat: ChatId) -> Result<Vec<ReadPointer>> {
        self.read(move |c| chats::read_pointers(c, chat)).await
    }

    async fn mark_read(
        &self,
        chat: ChatId,
        user: &UserId,
        up_to_seq: u64,
        at: DateTime<Utc>,
    ) -> Result<(ReadPointer, bool)> {
        let user = user.clone();
        self.write(move |c| chats::mark_read(c, chat, &user, up_to_seq, at))
            .await
    }

    async fn set_chat_settings(
        &self,
        chat: ChatId,
        member: &UserId,
        change: ChatSettingsChange,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let member = member.clone();
        self.write(move |c| chats::set_settings(c, chat, &member, &change, at))
            .await
    }

    async fn set_block(&self, blocker: &UserId, blocked: &UserId, on: bool) -> Result<bool> {
        let (blocker, blocked) = (blocker.clone(), blocked.clone());
        self.write(move |c| accounts::set_block(c, &blocker, &blocked, on, Utc::now()))
            .await
    }

    async fn is_blocked(&self, blocker: &UserId, blocked: &UserId) -> Result<bool> {
        let (blocker, blocked) = (blocker.clone(), blocked.clone());
        self.read(move |c| accounts::is_blocked(c, &blocker, &blocked))
            .await
    }

    async fn insert_refresh_token(&self, token: RefreshRecord) -> Result<()> {
        self.write(move |c| accounts::insert_refresh(c, &token))
            .await
    }

    async fn rotate_refresh_token(
        &self,
        presented_hash: &str,
        next: RefreshRecord,
        now: DateTime<Utc>,
        grace: std::time::Duration,
    ) -> Result<RotateOutcome> {
        let presented = presented_hash.to_owned();
        self.write(move |c| accounts::rotate_refresh(c, &presented, next, now, grace))
            .await
    }

    async fn revoke_refresh_family(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(UserId, String)>> {
        let hash = token_hash.to_owned();
        self.write(move |c| accounts::revoke_family(c, &hash, now))
            .await
    }

    async fn revoked_families_since(&self, since: DateTime<Utc>) -> Result<Vec<String>> {
        self.read(move |c| accounts::revoked_families_since(c, since))
            .await
    }

    async fn create_upload(
        &self,
        upload: NewUploadRecord,
        quota: u64,
    ) -> Result<std::result::Result<UploadRecord, u64>> {
        self.write(move |c| attachments::create(c, &upload, quota))
            .await
    }

    async fn upload(&self, owner: &UserId, upload_id: &UploadId) -> Result<Option<UploadRecord>> {
        let (owner, upload_id) = (owner.clone(), upload_id.clone());
        self.read(move |c| attachments::by_upload_id(c, &owner, &upload_id))
            .await
    }

    async fn stored_bytes(&self, owner: &UserId) -> Result<u64> {
        let owner = owner.clone();
        self.read(move |c| attachments::stored_bytes(c, &owner))
            .await
    }

    async fn complete_upload(
        &self,
        id: &AttachmentId,
        content: StoredContent,
    ) -> Result<Option<UploadRecord>> {
        let id = id.clone();
        self.write(move |c| attachments::complete(c, &id, &content))
            .await
    }

    async fn attachment_for(
        &self,
        id: &AttachmentId,
        viewer: &UserId,
    ) -> Result<Option<UploadRecord>> {
        let (id, viewer) = (id.clone(), viewer.clone());
        self.read(move |c| attachments::for_viewer(c, &id, &viewer))
            .await
    }

    async fn unsent_uploads(&self, before: DateTime<Utc>, limit: u32) -> Result<Vec<UploadRecord>> {
        self.read(move |c| attachments::unsent(c, before, limit))
            .await
    }

    async fn delete_unsent_upload(&self, id: &AttachmentId) -> Result<Vec<String>> {
        let id = id.clone();
        self.write(move |c| attachments::delete_unsent(c, &id))
            .await
    }

    async fn append_audit(&self, entry: AuditRecord, at: DateTime<Utc>) -> Result<()> {
        self.write(move |c| accounts::append_audit(c, &entry, at))
            .await
    }

    async fn audit_entries(
        &self,
        before_id: Option<i64>,
        action: Option<AuditAction>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>> {
        self.read(move |c| accounts::audit_entries(c, before_id, action, limit))
            .await
    }
}
