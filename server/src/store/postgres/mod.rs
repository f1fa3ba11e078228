//! The PostgreSQL backend, for several server nodes sharing one database: a small connection
//! pool for reads and writes, and one send task per node that folds every connection's sends
//! into one pipelined transaction ([`send`]). Chat seqs are allocated inside the inserting
//! transaction under the chat's row lock, so they stay gapless whichever node sends;
//! `(sender, client_id)` stays unique forever, so a retry that reaches another node is
//! answered with the original.
//!
//! Queries live in [`accounts`], [`chats`] and [`attachments`], each the twin of its SQLite
//! module; this file holds the plumbing and the trait impl. The schema is embedded
//! ([`migrations`]) and brought up to date when a node starts.

mod accounts;
mod attachments;
mod blobs;
mod chats;
mod migrations;
mod send;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;
use tutorchat_shared::api::{AuditAction, AuditEntry, ChatSettingsChange};
use tutorchat_shared::{
    AttachmentId, ChatId, ClientId, CourseId, CourseRef, Message, MessageKind, ReadPointer,
    UploadId, UserId,
};

pub use self::blobs::PgBlobs;
use self::send::{Prepared, Sender};
use super::{
    AuditRecord, ChatRecord, ChatRow, CommitObserver, ContactRow, InsertOutcome, NewMessage,
    NewUploadRecord, OnCommit, Page, PageRequest, Provisioning, ProvisioningError, RefreshRecord,
    Result, RotateOutcome, SendChecks, Store, StoreError, StoredContent, UploadRecord, UserRecord,
};

/// A pooled connection, as the query modules take it.
type Client = deadpool_postgres::Object;

/// How long a request waits for a pooled connection before it fails.
const POOL_WAIT: Duration = Duration::from_secs(10);
/// How long opening a new connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Handle to a PostgreSQL database; cheap to clone.
#[derive(Debug, Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pool: Pool,
    sender: Sender,
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/db`) with up to `pool_size` connections,
    /// and one more for sends, and brings the schema up to date. Must run inside a tokio
    /// runtime (the send task).
    pub async fn connect(url: &str, pool_size: usize) -> Result<PgStore> {
        let mut config: tokio_postgres::Config = url.parse()?;
        config.connect_timeout(CONNECT_TIMEOUT);
        config.application_name("tutorchat-server");
        let pool = pool(config.clone(), pool_size.max(2))?;
        let mut conn = pool.get().await.map_err(pool_error)?;
        migrations::run(&mut conn).await?;
        drop(conn);
        // Sends have a connection of their own: reads filling the pool never hold them up.
        let sender = Sender::spawn(self::pool(config, 1)?);
        Ok(PgStore {
            inner: Arc::new(Inner { pool, sender }),
        })
    }

    /// The installation's id, the same for every node on this database (the cluster bus's
    /// channel is named after it).
    pub async fn installation(&self) -> Result<String> {
        let row = self
            .conn()
            .await?
            .query_one("SELECT id FROM installation", &[])
            .await?;
        Ok(row.try_get(0)?)
    }

    async fn conn(&self) -> Result<Object> {
        self.inner.pool.get().await.map_err(pool_error)
    }

    /// Resolves each message's attachment to what the message will show: the owner's finished
    /// upload (its content never changes once set). Whether it is still unsent is decided in
    /// the send's own transaction.
    async fn prepare(&self, messages: Vec<NewMessage>) -> Result<Vec<Prepared>> {
        let mut conn = None;
        let mut prepared = Vec::with_capacity(messages.len());
        for message in messages {
            let (kind, attachment) = match &message.attachment {
                None => (message.kind, None),
                Some(id) => {
                    let c = match &mut conn {
                        Some(c) => c,
                        None => conn.insert(self.conn().await?),
                    };
                    let attachment = attachments::finished_of(c, id, &message.sender_id)
                        .await?
                        .and_then(|record| record.attachment());
                    // An image only if the content is one; anything else is shown as a file.
                    let kind = match &attachment {
                        Some(a) if message.kind == MessageKind::Image && a.is_image() => {
                            MessageKind::Image
                        }
                        _ => MessageKind::File,
                    };
                    (kind, attachment)
                }
            };
            let attachment_json = attachment
                .as_ref()
                .map(serde_json::to_string)
                .transpose()
                .map_err(|e| StoreError::Corrupt(format!("attachment as JSON: {e}")))?;
            prepared.push(Prepared {
                message,
                kind,
                attachment,
                attachment_json,
            });
        }
        Ok(prepared)
    }
}

fn pool(config: tokio_postgres::Config, size: usize) -> Result<Pool> {
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(POOL_WAIT))
        .create_timeout(Some(CONNECT_TIMEOUT))
        .build()
        .map_err(|e| StoreError::Pool(e.to_string()))
}

pub(super) fn pool_error(e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => StoreError::Postgres(e),
        other => StoreError::Pool(other.to_string()),
    }
}

/// An error with the server's own words, when it said any (tokio-postgres's `Display` says
/// only "db error").
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    }
}

pub(crate) use super::{from_ms, to_i64, to_ms, to_u64};

#[async_trait]
impl Store for PgStore {
    fn observe_commits(&self, observer: CommitObserver) {
        let _ = self.inner.sender.observer.set(observer);
    }

    async fn ping(&self) -> Result<()> {
        self.conn().await?.simple_query("SELECT 1").await?;
        Ok(())
    }

    async fn user_count(&self) -> Result<u64> {
        accounts::user_count(&self.conn().await?).await
    }

    async fn user(&self, id: &UserId) -> Result<Option<UserRecord>> {
        accounts::user(&self.conn().await?, id).await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>> {
        accounts::user_by_email(&self.conn().await?, email).await
    }

    async fn course(&self, id: &CourseId) -> Result<Option<CourseRef>> {
        accounts::course(&self.conn().await?, id).await
    }

    async fn purchase_url(&self, course: &CourseId) -> Result<Option<String>> {
        accounts::purchase_url(&self.conn().await?, course).await
    }

    async fn provision(
        &self,
        batch: Provisioning,
    ) -> Result<std::result::Result<(), ProvisioningError>> {
        accounts::provision(&mut self.conn().await?, &batch).await
    }

    async fn is_enrolled(&self, student: &UserId, course: &CourseId) -> Result<bool> {
        accounts::is_enrolled(&self.conn().await?, student, course).await
    }

    async fn teaches(&self, tutor: &UserId, course: &CourseId) -> Result<bool> {
        accounts::teaches(&self.conn().await?, tutor, course).await
    }

    async fn tutors_of_student(&self, student: &UserId) -> Result<Vec<ContactRow>> {
        accounts::tutors_of_student(&self.conn().await?, student).await
    }

    async fn students_of_tutor(
        &self,
        tutor: &UserId,
        course: Option<&CourseId>,
    ) -> Result<Vec<ContactRow>> {
        accounts::students_of_tutor(&self.conn().await?, tutor, course).await
    }

    async fn find_or_create_chat(
        &self,
        course: &CourseId,
        student: &UserId,
        tutor: &UserId,
        at: DateTime<Utc>,
    ) -> Result<(ChatRecord, bool)> {
        chats::find_or_create(&mut self.conn().await?, course, student, tutor, at).await
    }

    async fn chat(&self, id: ChatId) -> Result<Option<ChatRecord>> {
        chats::chat(&self.conn().await?, id).await
    }

    async fn chats_of(&self, user: &UserId) -> Result<Vec<ChatRow>> {
        chats::rows(&self.conn().await?, user, None).await
    }

    async fn chat_row(&self, id: ChatId, viewer: &UserId) -> Result<Option<ChatRow>> {
        Ok(chats::rows(&self.conn().await?, viewer, Some(id))
            .await?
            .pop())
    }

    async fn insert_message(&self, message: NewMessage) -> Result<InsertOutcome> {
        let sends = self.prepare(vec![message]).await?;
        let mut outcomes = self.inner.sender.send(sends, None, None, false).await?;
        outcomes
            .pop()
            .ok_or_else(|| StoreError::Corrupt("an insert answered nothing".into()))
    }

    async fn send_messages(
        &self,
        messages: Vec<NewMessage>,
        checks: SendChecks,
        on_commit: Option<OnCommit>,
    ) -> Result<Vec<InsertOutcome>> {
        let sends = self.prepare(messages).await?;
        self.inner
            .sender
            .send(sends, Some(checks), on_commit, true)
            .await
    }

    async fn message_by_client_id(
        &self,
        sender: &UserId,
        client_id: &ClientId,
    ) -> Result<Option<Message>> {
        chats::message_by_client_id(&self.conn().await?, sender, client_id).await
    }

    async fn messages(&self, chat: ChatId, page: PageRequest) -> Result<Page> {
        chats::page(&mut self.conn().await?, chat, page).await
    }

    async fn read_pointers(&self, chat: ChatId) -> Result<Vec<ReadPointer>> {
        chats::read_pointers(&self.conn().await?, chat).await
    }

    async fn mark_read(
        &self,
        chat: ChatId,
        user: &UserId,
        up_to_seq: u64,
        at: DateTime<Utc>,
    ) -> Result<(ReadPointer, bool)> {
        chats::mark_read(&self.conn().await?, chat, user, up_to_seq, at).await
    }

    async fn set_chat_settings(
        &self,
        chat: ChatId,
        member: &UserId,
        change: ChatSettingsChange,
        at: DateTime<Utc>,
    ) -> Result<()> {
        chats::set_settings(&self.conn().await?, chat, member, &change, at).await
    }

    async fn set_block(&self, blocker: &UserId, blocked: &UserId, on: bool) -> Result<bool> {
        accounts::set_block(&self.conn().await?, blocker, blocked, on, Utc::now()).await
    }

    async fn is_blocked(&self, blocker: &UserId, blocked: &UserId) -> Result<bool> {
        accounts::is_blocked(&self.conn().await?, blocker, blocked).await
    }

    async fn insert_refresh_token(&self, token: RefreshRecord) -> Result<()> {
        accounts::insert_refresh(&self.conn().await?, &token).await
    }

    async fn rotate_refresh_token(
        &self,
        presented_hash: &str,
        next: RefreshRecord,
        now: DateTime<Utc>,
        grace: Duration,
    ) -> Result<RotateOutcome> {
        accounts::rotate_refresh(&mut self.conn().await?, presented_hash, next, now, grace).await
    }

    async fn revoke_refresh_family(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(UserId, String)>> {
        accounts::revoke_family(&self.conn().await?, token_hash, now).await
    }

    async fn revoked_families_since(&self, since: DateTime<Utc>) -> Result<Vec<String>> {
        accounts::revoked_families_since(&self.conn().await?, since).await
    }

    async fn create_upload(
        &self,
        upload: NewUploadRecord,
        quota: u64,
    ) -> Result<std::result::Result<UploadRecord, u64>> {
        attachments::create(&mut self.conn().await?, &upload, quota).await
    }

    async fn upload(&self, owner: &UserId, upload_id: &UploadId) -> Result<Option<UploadRecord>> {
        attachments::by_upload_id(&self.conn().await?, owner, upload_id).await
    }

    async fn stored_bytes(&self, owner: &UserId) -> Result<u64> {
        attachments::stored_bytes(&self.conn().await?, owner).await
    }

    async fn complete_upload(
        &self,
        id: &AttachmentId,
        content: StoredContent,
    ) -> Result<Option<UploadRecord>> {
        attachments::complete(&self.conn().await?, id, &content).await
    }

    async fn attachment_for(
        &self,
        id: &AttachmentId,
        viewer: &UserId,
    ) -> Result<Option<UploadRecord>> {
        attachments::for_viewer(&self.conn().await?, id, viewer).await
    }

    async fn unsent_uploads(&self, before: DateTime<Utc>, limit: u32) -> Result<Vec<UploadRecord>> {
        attachments::unsent(&self.conn().await?, before, limit).await
    }

    async fn delete_unsent_upload(&self, id: &AttachmentId) -> Result<Vec<String>> {
        attachments::delete_unsent(&mut self.conn().await?, id).await
    }

    async fn append_audit(&self, entry: AuditRecord, at: DateTime<Utc>) -> Result<()> {
        accounts::append_audit(&self.conn().await?, &entry, at).await
    }

    async fn audit_entries(
        &self,
        before_id: Option<i64>,
        action: Option<AuditAction>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>> {
        accounts::audit_entries(&self.conn().await?, before_id, action, limit).await
    }
}
