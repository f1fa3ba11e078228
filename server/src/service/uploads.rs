//! Uploads: starting one (idempotent under the device's `upload_id`, within the size limit
//! and the user's quota), appending bytes at the offset the server holds (resumable), checking
//! the finished content (type by content against the allowlist; images decoded within limits
//! and re-encoded without metadata), who may download an attachment, and the sweep of uploads
//! never sent.

use std::sync::Arc;

use axum::body::Body;
use chrono::Utc;
use futures_util::StreamExt;
use tokio::io::AsyncReadExt;
use tutorchat_shared::api::{AuditAction, NewUpload, UploadStatus};
use tutorchat_shared::validation::{validate_file_name, validate_upload_id};
use tutorchat_shared::{ApiError, AttachmentId, ErrorCode, UploadId, UserId};

use crate::attachments::{self, blobs, image, sniff, Appending, BlobReader, Uploads};
use crate::auth::CurrentUser;
use crate::error::{Error, Result};
use crate::service::audit;
use crate::state::AppState;
use crate::store::{NewUploadRecord, StoredContent, UploadRecord};

/// Starts an upload, or answers where the caller's upload of this id stands.
pub async fn start(
    state: &AppState,
    me: &CurrentUser,
    req: NewUpload,
    ip: Option<String>,
) -> Result<(UploadStatus, bool)> {
    validate_upload_id(&req.upload_id)?;
    validate_file_name(&req.name)?;
    if let Some(known) = state.store.upload(&me.id, &req.upload_id).await? {
        return Ok((status(state, &known).await?, false));
    }
    let max = state.config.max_upload_bytes;
    if req.size == 0 {
        return Err(Error::validation("size", "the file is empty"));
    }
    if req.size > max {
        let error = Error::api(
            ErrorCode::PayloadTooLarge,
            format!("the file is {} bytes; the maximum is {max}", req.size),
        );
        return Err(refused(state, &me.id, &req.upload_id, ip, error).await);
    }
    let quota = state.config.upload_quota_bytes;
    // The quota is checked in the same write as the insert, so uploads started at once
    // cannot pass it together.
    let created = state
        .store
        .create_upload(
            NewUploadRecord {
                id: AttachmentId::new(new_attachment_id()),
                owner: me.id.clone(),
                upload_id: req.upload_id.clone(),
                name: req.name,
                declared_size: req.size,
                at: Utc::now(),
            },
            quota,
        )
        .await?;
    let record = match created {
        Ok(record) => record,
        Err(used) => {
            let error = Error::api(
                ErrorCode::QuotaExceeded,
                format!(
                    "you keep {used} bytes of uploads; this file would take you past your {quota}"
                ),
            );
            return Err(refused(state, &me.id, &req.upload_id, ip, error).await);
        }
    };
    Ok((status(state, &record).await?, true))
}

/// Where the caller's upload stands.
pub async fn get(state: &AppState, me: &CurrentUser, upload_id: &UploadId) -> Result<UploadStatus> {
    let record = own_upload(state, me, upload_id).await?;
    status(state, &record).await
}

/// The caller's upload of this id (`not_found` if they have none).
async fn own_upload(
    state: &AppState,
    me: &CurrentUser,
    upload_id: &UploadId,
) -> Result<UploadRecord> {
    state
        .store
        .upload(&me.id, upload_id)
        .await?
        .ok_or_else(|| Error::not_found("no such upload"))
}

/// Appends `body` to the caller's upload at `offset`, which must be the bytes the server
/// holds. When that completes the file, its content is checked and stored.
pub async fn append(
    state: &AppState,
    me: &CurrentUser,
    upload_id: &UploadId,
    offset: u64,
    body: Body,
    ip: Option<String>,
) -> Result<UploadStatus> {
    let record = own_upload(state, me, upload_id).await?;
    if record.content.is_some() {
        // Done already: the same bytes again store nothing.
        return status(state, &record).await;
    }
    let uploads = &state.uploads;
    let path = uploads.partial_path(&record.id);
    let Some(appending) = uploads.begin(&record.id) else {
        let held = attachments::partial_len(&path).await?;
        return Err(offset_mismatch(
            held,
            "another request is appending to this upload",
        ));
    };
    // Read again under the mark: the sweep (which takes it too) may have removed it, or a
    // request that held it finished it.
    let record = own_upload(state, me, upload_id).await?;
    if record.content.is_some() {
        return status(state, &record).await;
    }
    let held = attachments::partial_len(&path).await?;
    if offset != held {
        return Err(offset_mismatch(
            held,
            format!("the server holds {held} bytes of this upload, not {offset}"),
        ));
    }
    let (written, appending) =
        write_body(&path, held, record.declared_size, body, appending).await?;
    let now = held + written.bytes;
    if written.overflow {
        // The request is refused whole: what it added goes.
        let truncate = path.clone();
        tokio::task::spawn_blocking(move || {
            std::fs::OpenOptions::new()
                .write(true)
                .open(truncate)?
                .set_len(held)
        })
        .await??;
        drop(appending);
        return Err(Error::api(
            ErrorCode::PayloadTooLarge,
            format!(
                "more bytes than the {} this upload announced",
                record.declared_size
            ),
        ));
    }
    if held == 0 && now > 0 && now < record.declared_size {
        // Refuse a disallowed type from its first bytes rather than after all of them (a file
        // complete in this one request is checked once, by `finish`).
        let head = read_head(&path).await?;
        if let Some(found) = sniff::sniff(&head, false) {
            if !uploads.allows(found) {
                let refused = refuse_type(state, &me.id, &record, found, ip).await;
                drop(appending);
                return Err(refused);
            }
        }
    }
    if now < record.declared_size {
        return Ok(UploadStatus {
            upload_id: record.upload_id,
            offset: now,
            size: record.declared_size,
            attachment: None,
        });
    }
    // On a task of its own, holding the mark and its image worker to the end: a request
    // cancelled now (its deadline, a dropped connection) cannot release them while the
    // content is still being checked, nor start a second check of the same upload.
    let finishing = tokio::spawn(finish(state.clone(), me.id.clone(), record, appending, ip));
    let finished = finishing.await??;
    status(state, &finished).await
}

/// The attachment's content (or its thumbnail), if `me` may download it: its record, the
/// content and its length. The same `not_found` for "no such attachment" and "not yours".
pub async fn open(
    state: &AppState,
    me: &CurrentUser,
    id: &AttachmentId,
    thumbnail: bool,
) -> Result<(UploadRecord, Box<dyn BlobReader>, u64)> {
    let missing = || Error::not_found("no such attachment");
    let record = state
        .store
        .attachment_for(id, &me.id)
        .await?
        .ok_or_else(missing)?;
    let content = record.content.as_ref().ok_or_else(missing)?;
    let key = if thumbnail {
        content.thumbnail.as_ref().ok_or_else(missing)?
    } else {
        &content.blob
    };
    let (reader, len) = state.uploads.blobs.open(key).await?.ok_or_else(|| {
        tracing::error!(attachment = %id, blob = key, "an attachment's content is missing");
        missing()
    })?;
    Ok((record, reader, len))
}

/// Removes uploads no message carries that started over the configured time ago; answers
/// how many.
pub async fn sweep_unsent(state: &AppState) -> Result<usize> {
    const BATCH: u32 = 500;
    let before = Utc::now()
        - chrono::Duration::from_std(state.config.unsent_upload_ttl()).unwrap_or_default();
    let mut removed = 0;
    loop {
        let stale = state.store.unsent_uploads(before, BATCH).await?;
        let done = stale.len() < BATCH as usize;
        for record in stale {
            // Not while a request appends to it.
            let Some(_appending) = state.uploads.begin(&record.id) else {
                continue;
            };
            remove_upload(state, &record.id).await?;
            removed += 1;
        }
        if done {
            return Ok(removed);
        }
    }
}

/// Sweeps unsent uploads now and then, for as long as the server runs.
pub fn sweep_periodically(state: &AppState) {
    let every = (state.config.unsent_upload_ttl() / 4).clamp(
        std::time::Duration::from_secs(1),
        std::time::Duration::from_secs(3600),
    );
    let weak = state.downgrade();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let Some(state) = AppState::upgrade(&weak) else {
                return;
            };
            match sweep_unsent(&state).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "removed uploads never sent"),
                Err(e) => tracing::error!(error = %e, "sweeping unsent uploads failed"),
            }
        }
    });
}

async fn status(state: &AppState, record: &UploadRecord) -> Result<UploadStatus> {
    let offset = match &record.content {
        Some(_) => record.declared_size,
        None => attachments::partial_len(&state.uploads.partial_path(&record.id)).await?,
    };
    Ok(UploadStatus {
        upload_id: record.upload_id.clone(),
        offset,
        size: record.declared_size,
        attachment: record.attachment(),
    })
}

/// What one request's body added.
struct Written {
    bytes: u64,
    /// The body went on past the announced size (the rest was not written).
    overflow: bool,
}

/// Streams `body` onto the end of the partial file: chunks go through a small bounded
/// channel to a blocking writer, so memory stays flat whatever the size. The writer owns the
/// [`Appending`] mark: if this request is cancelled mid-body (its deadline, a dropped
/// connection), the mark is released only once the last chunk is on disk, so a resumed
/// request never races a write still in flight.
async fn write_body(
    path: &std::path::Path,
    held: u64,
    declared: u64,
    body: Body,
    appending: Appending,
) -> Result<(Written, Appending)> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<axum::body::Bytes>(4);
    let file_path = path.to_owned();
    let writer = tokio::task::spawn_blocking(move || -> std::io::Result<Appending> {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&file_path)?;
        while let Some(chunk) = rx.blocking_recv() {
            file.write_all(&chunk)?;
        }
        file.sync_data()?;
        Ok(appending)
    });
    let mut stream = body.into_data_stream();
    let mut written = Written {
        bytes: 0,
        overflow: false,
    };
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            // The client went away mid-body: keep what arrived.
            break;
        };
        let len = chunk.len() as u64;
        if held + written.bytes + len > declared {
            written.overflow = true;
            break;
        }
        if tx.send(chunk).await.is_err() {
            break;
        }
        written.bytes += len;
    }
    drop(tx);
    let appending = writer.await??;
    Ok((written, appending))
}

async fn read_head(path: &std::path::Path) -> Result<Vec<u8>> {
    let file = tokio::fs::File::open(path).await?;
    let mut head = Vec::with_capacity(sniff::HEAD_BYTES);
    file.take(sniff::HEAD_BYTES as u64)
        .read_to_end(&mut head)
        .await?;
    Ok(head)
}

/// Checks the complete file's content and stores it; refuses (and removes) what is not
/// allowed.
async fn finish(
    state: AppState,
    me: UserId,
    record: UploadRecord,
    _appending: Appending,
    ip: Option<String>,
) -> Result<UploadRecord> {
    let (state, me, record) = (&state, &me, &record);
    let uploads: &Arc<Uploads> = &state.uploads;
    let path = uploads.partial_path(&record.id);
    let head = read_head(&path).await?;
    let found = sniff::sniff(&head, head.len() as u64 == record.declared_size);
    let mime = match found {
        Some(mime) if uploads.allows(mime) => mime,
        other => {
            return Err(refuse_type(state, me, record, other.unwrap_or("unknown binary"), ip).await)
        }
    };
    let finished = if sniff::is_image(mime) {
        let _worker = uploads
            .image_workers
            .acquire()
            .await
            .map_err(|_| Error::api(ErrorCode::Unavailable, "the server is shutting down"))?;
        let (image_path, mime, max) = (path.clone(), mime.to_owned(), uploads.max_image_pixels);
        let processed =
            tokio::task::spawn_blocking(move || image::process(&image_path, &mime, max)).await?;
        let processed = match processed {
            Ok(processed) => processed,
            Err(refusal) => {
                let code = match refusal {
                    image::ImageRefusal::TooManyPixels { .. } => ErrorCode::PayloadTooLarge,
                    image::ImageRefusal::Unreadable(_) => ErrorCode::UnsupportedMediaType,
                };
                let error = Error::api(code, refusal.to_string());
                return Err(discard(state, me, record, ip, error).await);
            }
        };
        let (blob, thumbnail) = (
            blobs::key_of(&processed.bytes),
            blobs::key_of(&processed.thumbnail),
        );
        let size = processed.bytes.len() as u64;
        let content = StoredContent {
            mime: processed.mime.to_owned(),
            size,
            blob: blob.clone(),
            width: Some(processed.width),
            height: Some(processed.height),
            thumbnail: Some(thumbnail.clone()),
        };
        let _writes = uploads.blob_writes.lock().await;
        uploads.blobs.put_bytes(&blob, processed.bytes).await?;
        uploads
            .blobs
            .put_bytes(&thumbnail, processed.thumbnail)
            .await?;
        record_content(state, record, content).await?
    } else {
        let hash_path = path.clone();
        let blob = tokio::task::spawn_blocking(move || blobs::key_of_file(&hash_path)).await??;
        let content = StoredContent {
            mime: mime.to_owned(),
            size: record.declared_size,
            blob: blob.clone(),
            width: None,
            height: None,
            thumbnail: None,
        };
        let _writes = uploads.blob_writes.lock().await;
        uploads.blobs.put_file(&blob, &path).await?;
        record_content(state, record, content).await?
    };
    attachments::remove_if_present(&path).await?;
    Ok(finished)
}

/// Records the stored content as the upload's (under `Uploads::blob_writes`).
async fn record_content(
    state: &AppState,
    record: &UploadRecord,
    content: StoredContent,
) -> Result<UploadRecord> {
    state
        .store
        .complete_upload(&record.id, content)
        .await?
        .ok_or_else(|| Error::not_found("no such upload"))
}

async fn refuse_type(
    state: &AppState,
    me: &UserId,
    record: &UploadRecord,
    found: &str,
    ip: Option<String>,
) -> Error {
    let error = Error::api(
        ErrorCode::UnsupportedMediaType,
        format!(
            "{:?} is {found}, which this server does not take (whatever its name says)",
            record.name
        ),
    );
    discard(state, me, record, ip, error).await
}

/// Removes a refused upload (its quota back, its bytes gone), audits the refusal and
/// answers it.
async fn discard(
    state: &AppState,
    me: &UserId,
    record: &UploadRecord,
    ip: Option<String>,
    error: Error,
) -> Error {
    if let Err(e) = remove_upload(state, &record.id).await {
        tracing::error!(error = %e, upload = %record.id, "could not remove a refused upload");
    }
    refused(state, me, &record.upload_id, ip, error).await
}

/// Removes an unsent upload: its row, the content nothing else uses, its partial file.
async fn remove_upload(state: &AppState, id: &AttachmentId) -> Result<()> {
    {
        let _writes = state.uploads.blob_writes.lock().await;
        for orphan in state.store.delete_unsent_upload(id).await? {
            state.uploads.blobs.delete(&orphan).await?;
        }
    }
    attachments::remove_if_present(&state.uploads.partial_path(id)).await?;
    Ok(())
}

/// Audits an upload refused for its type or size, then answers the refusal.
async fn refused(
    state: &AppState,
    me: &UserId,
    upload_id: &UploadId,
    ip: Option<String>,
    error: Error,
) -> Error {
    let detail = error.to_api_error();
    audit::record(
        state,
        AuditAction::UploadRefused,
        Some(me),
        Some(upload_id.to_string()),
        Some(format!("{}: {}", detail.code, detail.message)),
        ip,
    )
    .await;
    error
}

fn offset_mismatch(held: u64, message: impl Into<String>) -> Error {
    let mut error = ApiError::new(ErrorCode::UploadOffsetMismatch, message);
    error.upload_offset = Some(held);
    Error::Api(Box::new(error))
}

/// A fresh attachment id: 128 random bits, hex.
fn new_attachment_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}
