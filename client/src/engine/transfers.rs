//! The transfer task: uploads pending attachments (oldest first, resuming at the offset the
//! server holds, so a restart or a dropped connection costs at most one chunk) and fetches
//! the thumbnails of stored messages into the cache, so history shows them offline.
//!
//! It runs beside the WebSocket engine, not inside it: an upload is REST, and a slow one
//! must not hold back texts. A finished upload marks its outbox row sendable and wakes the
//! engine's flush; a refusal (type, size, quota) fails the row with the server's reason, for
//! Retry or Discard like a failed text; a transient error (no network, a busy server) backs
//! off and tries again.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tutorchat_shared::api::{NewUpload, UploadStatus};
use tutorchat_shared::app::{AppEvent, LocalAttachment};
use tutorchat_shared::{ErrorCode, UploadId};

use crate::account::Account;
use crate::attachments::fetch_thumbnail;
use crate::cache::{files, outbox};
use crate::error::{ClientError, Result};
use crate::session::is_session_expired;

/// Bytes sent per request: the most a dropped connection can cost, and the step of the
/// progress bar.
const CHUNK: u64 = 512 * 1024;
/// Thumbnails fetched per pass.
const THUMBNAILS_PER_PASS: u32 = 32;

/// Runs until shut down.
pub(crate) async fn run(
    account: Arc<Account>,
    _file_cache_bytes: u64,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut failures: u32 = 0;
    loop {
        if *shutdown.borrow() || account.session.has_ended() {
            return;
        }
        let passed = async {
            upload_pending(&account).await?;
            fetch_thumbnails(&account).await
        }
        .await;
        let retry_in = match passed {
            Ok(()) => {
                failures = 0;
                None
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::debug!(error = %e, "transfers will try again");
                Some(super::backoff(failures))
            }
        };
        tokio::select! {
            _ = shutdown.changed() => return,
            () = account.transfers_wake.notified() => {}
            () = sleep_or_forever(retry_in) => {}
        }
    }
}

async fn sleep_or_forever(wait: Option<Duration>) {
    match wait {
        Some(wait) => tokio::time::sleep(wait).await,
        None => std::future::pending().await,
    }
}

/// Uploads every pending attachment, oldest first. A refused one is failed and the rest go
/// on; a transient error stops the pass (it is tried again later).
async fn upload_pending(account: &Account) -> Result<()> {
    let me = account.session.user.id.clone();
    let uploads = account.cache.call(move |c| outbox::uploads(c, &me)).await?;
    for upload in uploads {
        let client_id = upload.message.client_id.clone();
        match upload_one(account, &upload).await {
            Ok(attachment) => {
                let (cid, me) = (client_id.clone(), account.session.user.id.clone());
                let ready = account
                    .cache
                    .call(move |c| {
                        outbox::uploaded(c, &cid, &attachment)?;
                        outbox::get(c, &cid, &me)
                    })
                    .await?;
                if let Some(message) = ready {
                    account.emit(AppEvent::MessageUpserted { message });
                    account.outbox_wake.notify_one();
                }
            }
            // No network, a busy server, or a session that ended: not the file's fault; the
            // row stays pending.
            Err(e) if e.is_transient() || is_session_expired(&e) => return Err(e),
            Err(e) => {
                let (cid, me) = (client_id.clone(), account.session.user.id.clone());
                let (code, text) = (e.code(), e.to_string());
                let failed = account
                    .cache
                    .call(move |c| {
                        outbox::fail(c, &cid, code, &text)?;
                        outbox::get(c, &cid, &me)
                    })
                    .await?;
                if let Some(message) = failed {
                    account.emit(AppEvent::MessageUpserted { message });
                    account.emit(AppEvent::ChatsChanged);
                }
            }
        }
    }
    Ok(())
}

/// Uploads one attachment from wherever the server got to; answers the server's attachment.
async fn upload_one(account: &Account, upload: &outbox::Upload) -> Result<LocalAttachment> {
    let message = &upload.message;
    let local = message
        .attachment
        .as_ref()
        .ok_or_else(|| ClientError::Network("an upload without an attachment".into()))?;
    let path = account.session.account_dir.join(&upload.copy);
    let total = tokio::fs::metadata(&path).await?.len();
    let upload_id = UploadId::new(message.client_id.as_str());
    let start = NewUpload {
        upload_id: upload_id.clone(),
        name: local.name.clone(),
        size: total,
    };
    let session = &account.session;
    let mut status: UploadStatus = session
        .call(
            reqwest::Method::POST,
            session.url(&["api", "uploads"]),
            Some(&start),
        )
        .await?;
    let url = session.url(&["api", "uploads", upload_id.as_str()]);
    // An upload the server no longer has (never sent for a day, so swept) starts again, once.
    let mut restarted = false;
    loop {
        if let Some(attachment) = &status.attachment {
            return Ok(LocalAttachment::from(attachment));
        }
        let offset = status.offset;
        let chunk = read_chunk(&path, offset, CHUNK).await?;
        match session
            .append_upload::<UploadStatus>(url.clone(), offset, chunk)
            .await
        {
            Ok(next) => status = next,
            Err(ClientError::Server(e)) if e.code == ErrorCode::UploadOffsetMismatch => {
                // Resume from what the server holds (a request cut off mid-way).
                status.offset = e.upload_offset.unwrap_or(0);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(ClientError::Server(e)) if e.code == ErrorCode::NotFound && !restarted => {
                restarted = true;
                status = session
                    .call(
                        reqwest::Method::POST,
                        session.url(&["api", "uploads"]),
                        Some(&start),
                    )
                    .await?;
            }
            Err(e) => return Err(e),
        }
        account.emit(AppEvent::UploadProgress {
            chat_id: message.chat_id,
            client_id: message.client_id.clone(),
            sent: status.offset,
            total,
        });
    }
}

async fn read_chunk(path: &std::path::Path, offset: u64, len: u64) -> Result<Vec<u8>> {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    let mut file = tokio::fs::File::open(path).await?;
    file.seek(std::io::SeekFrom::Start(offset)).await?;
    let mut chunk = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(len).read_to_end(&mut chunk).await?;
    Ok(chunk)
}

/// Fetches the thumbnails stored messages lack, newest first.
async fn fetch_thumbnails(account: &Account) -> Result<()> {
    loop {
        let missing = account
            .cache
            .call(|c| files::missing_thumbnails(c, THUMBNAILS_PER_PASS))
            .await?;
        if missing.is_empty() {
            return Ok(());
        }
        for (chat, id) in missing {
            if fetch_thumbnail(account, &id).await?.is_some() {
                account.emit(AppEvent::ThumbnailReady {
                    chat_id: tutorchat_shared::ChatId(chat),
                    attachment_id: id,
                });
            }
        }
    }
}
