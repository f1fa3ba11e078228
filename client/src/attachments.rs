//! Attachments on this device: sending a file, its thumbnail, downloading and opening one.
//!
//! Sending copies the file into the account's directory first (so it survives a restart and
//! the original may move), checks it against what the server published (size, type by
//! content, an image's pixels) so a refusal comes before a byte is uploaded, makes a local
//! preview of an image, and writes the outbox row durably. The transfer task uploads it
//! (resumably) and only then may the engine send the message; a text written after it is not
//! held back.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use chrono::Utc;
use tutorchat_shared::app::{AppEvent, LocalAttachment, LocalMessage};
use tutorchat_shared::media::{self, human_size, HEAD_BYTES};
use tutorchat_shared::validation::{validate_file_name, validate_message};
use tutorchat_shared::{
    ApiError, AttachmentId, ChatId, ClientId, ErrorCode, MessageId, MessageKind,
};

use crate::account::Account;
use crate::cache::{chats, files, messages, outbox, server_config};
use crate::error::{ClientError, Result};
use crate::Client;

/// Longest side of the local preview of an image still uploading.
const PREVIEW_PX: u32 = 320;

/// Where a file written here waits for its upload (and stays as its content on this device),
/// relative to the account's directory: under its own name, so the system knows what opens it.
fn outgoing(client_id: &ClientId, name: &str) -> String {
    format!(
        "outgoing/{}/{}",
        safe_component(client_id.as_str()),
        safe_file_name(name)
    )
}

/// A downloaded attachment's place, relative to the account's directory.
fn downloaded(id: &AttachmentId, name: &str) -> String {
    format!(
        "files/{}/{}",
        safe_component(id.as_str()),
        safe_file_name(name)
    )
}

/// An id as one path component: only ASCII letters, digits, `-` and `_` (the server's ids and
/// our UUIDs are; anything else becomes `_`).
fn safe_component(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The thumbnails table's key for the local preview of a message still uploading.
pub(crate) fn local_preview_key(client_id: &ClientId) -> AttachmentId {
    AttachmentId::new(format!("local:{client_id}"))
}

impl Client {
    /// Sends the file at `path` (an image the server shows inline, else a file) with an
    /// optional caption. It is copied into the cache and queued at once; refused here, before
    /// any upload, if it is over the server's size limit, of a type it does not take, or an
    /// image with too many pixels.
    pub async fn send_attachment(
        &self,
        chat: ChatId,
        path: &Path,
        caption: &str,
    ) -> Result<LocalMessage> {
        let account = self.account().await?;
        let me = account.session.user.id.clone();
        let client_id = ClientId::new(uuid::Uuid::new_v4().to_string());
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        validate_file_name(&name)?;
        let caption = caption.to_owned();
        let limits = account.cache.call(|c| server_config::uploads(c)).await?;
        let copy = outgoing(&client_id, &name);
        let (source, target) = (path.to_owned(), account.session.account_dir.join(&copy));
        let checked = tokio::task::spawn_blocking(move || {
            let checked = copy_and_check(&source, &target, limits.as_ref());
            if checked.is_err() {
                if let Some(dir) = target.parent() {
                    let _ = std::fs::remove_dir_all(dir);
                }
            }
            checked
        })
        .await??;
        let kind = if checked.preview.is_some() {
            MessageKind::Image
        } else {
            MessageKind::File
        };
        let attachment = LocalAttachment {
            id: None,
            name,
            size: checked.size,
            mime: checked.mime,
            width: checked.dimensions.map(|d| d.0),
            height: checked.dimensions.map(|d| d.1),
            thumbnail: checked.preview.is_some(),
        };
        let preview = checked.preview;
        let (cid, copy_path) = (client_id.clone(), copy.clone());
        let written = account
            .cache
            .call(move |c| {
                let pending = AttachmentId::new("pending");
                validate_message(kind, &caption, Some(&pending), &server_config::limits(c)?)?;
                if !chats::exists(c, chat)? {
                    return Err(ClientError::NotYourChat(chat));
                }
                // FULL for this write: the message must survive a crash right after it.
                c.pragma_update(None, "synchronous", "FULL")?;
                let tx = c.transaction()?;
                if let Some(preview) = &preview {
                    files::keep_thumbnail(&tx, &local_preview_key(&cid), preview)?;
                }
                let local = outbox::enqueue_attachment(
                    &tx,
                    chat,
                    &cid,
                    kind,
                    &caption,
                    &attachment,
                    &copy_path,
                    Utc::now(),
                    &me,
                )?;
                tx.commit()?;
                c.pragma_update(None, "synchronous", "NORMAL")?;
                Ok(local)
            })
            .await;
        let local = match written {
            Ok(local) => local,
            Err(e) => {
                if let Some(dir) = account.session.account_dir.join(&copy).parent() {
                    let _ = tokio::fs::remove_dir_all(dir).await;
                }
                return Err(e);
            }
        };
        account.emit(AppEvent::MessageUpserted {
            message: local.clone(),
        });
        account.emit(AppEvent::ChatsChanged);
        account.transfers_wake.notify_one();
        Ok(local)
    }

    /// Checks the file at `path` as the server will check it as an upload (size, type by
    /// content, an image's pixels), against what the server last published; an image gets a
    /// small preview. Nothing is queued.
    pub async fn inspect_file(&self, path: &Path) -> Result<FileCheck> {
        let account = self.account().await?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        validate_file_name(&name)?;
        let limits = account.cache.call(|c| server_config::uploads(c)).await?;
        let path = path.to_owned();
        let mut checked =
            tokio::task::spawn_blocking(move || check_file(&path, limits.as_ref())).await??;
        checked.name = name;
        Ok(checked)
    }

    /// An attachment's thumbnail (JPEG): from the cache, else fetched now; for a message still
    /// uploading (`attachment` not known yet), its local preview.
    pub async fn thumbnail(
        &self,
        attachment: Option<&AttachmentId>,
        client_id: &ClientId,
    ) -> Result<Option<Vec<u8>>> {
        let account = self.account().await?;
        if let Some(id) = attachment {
            let key = id.clone();
            if let Some(bytes) = account
                .cache
                .call(move |c| files::thumbnail(c, &key))
                .await?
            {
                return Ok((!bytes.is_empty()).then_some(bytes));
            }
            match fetch_thumbnail(&account, id).await {
                Ok(Some(bytes)) => return Ok(Some(bytes)),
                Ok(None) => return Ok(None),
                // Offline: the local preview, if this device sent it.
                Err(e) if e.is_transient() => {}
                Err(e) => return Err(e),
            }
        }
        let key = local_preview_key(client_id);
        let local = account
            .cache
            .call(move |c| files::thumbnail(c, &key))
            .await?;
        Ok(local.filter(|b| !b.is_empty()))
    }

    /// The attachment's content on this device: downloaded first if it is not here yet
    /// (with `download_progress` events). The least recently used files beyond the cache's
    /// bound are evicted afterwards.
    pub async fn download(&self, attachment: &AttachmentId) -> Result<PathBuf> {
        let account = self.account().await?;
        let dir = account.session.account_dir.clone();
        let id = attachment.clone();
        let now = Utc::now().timestamp_millis();
        let known = account
            .cache
            .call(move |c| files::use_file(c, &id, now))
            .await?;
        if let Some(relative) = known {
            let path = dir.join(relative);
            if tokio::fs::try_exists(&path).await.unwrap_or(false) {
                return Ok(path);
            }
        }
        let key = attachment.clone();
        let name = account
            .cache
            .call(move |c| files::name_of(c, &key))
            .await?
            .unwrap_or_else(|| "attachment".to_owned());
        let relative = downloaded(attachment, &name);
        let path = dir.join(&relative);
        let size = fetch_file(&account, attachment, &path).await?;
        let (id, max) = (attachment.clone(), self.inner.options.file_cache_bytes);
        let evicted = account
            .cache
            .call(move |c| {
                files::keep_file(c, &id, &relative, size, now)?;
                files::evict(c, max, &id)
            })
            .await?;
        for old in evicted {
            let old = dir.join(old);
            let _ = tokio::fs::remove_file(&old).await;
            if let Some(parent) = old.parent() {
                // Its directory, if nothing else is in it.
                let _ = tokio::fs::remove_dir(parent).await;
            }
        }
        Ok(path)
    }

    /// The attachment a stored message carries, if any (from the cache).
    pub async fn attachment_of(&self, message: MessageId) -> Result<Option<LocalAttachment>> {
        let account = self.account().await?;
        let me = account.session.user.id.clone();
        account
            .cache
            .call(move |c| Ok(messages::by_id(c, message, &me)?.and_then(|m| m.attachment)))
            .await
    }
}

/// A file name safe to save under in any directory, on any system: no separators or
/// characters Windows refuses, not hidden, no trailing dots or spaces, not a reserved device
/// name, not empty.
pub fn safe_file_name(name: &str) -> String {
    const RESERVED: [&str; 22] = [
        "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
        "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    ];
    let cleaned: String = name
        .chars()
        .map(|c| {
            let unsafe_char = matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|');
            if unsafe_char || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned
        .trim()
        .trim_start_matches('.')
        .trim_end_matches(['.', ' '])
        .to_owned();
    let stem = cleaned
        .split('.')
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    if cleaned.is_empty() || RESERVED.contains(&stem.as_str()) {
        format!("attachment-{cleaned}")
    } else {
        cleaned
    }
}

/// What checking a file as an upload found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCheck {
    pub name: String,
    pub size: u64,
    /// Its type, from its content.
    pub mime: String,
    /// An image's size in pixels.
    pub dimensions: Option<(u32, u32)>,
    /// A small JPEG of an image.
    pub preview: Option<Vec<u8>>,
}

/// Copies `source` to `target` durably, then checks the copy as the server will (blocking).
fn copy_and_check(
    source: &Path,
    target: &Path,
    limits: Option<&tutorchat_shared::api::UploadLimits>,
) -> Result<FileCheck> {
    // Too large is known from the size alone: nothing is copied for it.
    let size = std::fs::metadata(source)?.len();
    if let Some(limits) = limits.filter(|l| l.max_bytes > 0 && size > l.max_bytes) {
        return Err(too_large(size, limits.max_bytes));
    }
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut from = std::fs::File::open(source)?;
    let mut to = std::fs::File::create(target)?;
    std::io::copy(&mut from, &mut to)?;
    to.flush()?;
    to.sync_all()?;
    if let Some(dir) = target.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    check_file(target, limits)
}

/// Checks the file at `path` as the server will check it as an upload (blocking).
fn check_file(
    path: &Path,
    limits: Option<&tutorchat_shared::api::UploadLimits>,
) -> Result<FileCheck> {
    let size = std::fs::metadata(path)?.len();
    let target = path;
    if size == 0 {
        return Err(refused(ErrorCode::Validation, "the file is empty".into()));
    }
    let mut head = Vec::with_capacity(HEAD_BYTES);
    std::fs::File::open(target)?
        .take(HEAD_BYTES as u64)
        .read_to_end(&mut head)?;
    let found = media::sniff(&head, head.len() as u64 == size);
    let mime = found.unwrap_or("application/octet-stream").to_owned();
    if let Some(limits) = limits {
        if limits.max_bytes == 0 {
            return Err(refused(
                ErrorCode::Forbidden,
                "this server takes no files".into(),
            ));
        }
        if size > limits.max_bytes {
            return Err(refused(
                ErrorCode::PayloadTooLarge,
                format!(
                    "the file is {}; the largest the server takes is {}",
                    human_size(size),
                    human_size(limits.max_bytes)
                ),
            ));
        }
        if !limits.allowed_types.contains(&mime) {
            return Err(refused(
                ErrorCode::UnsupportedMediaType,
                format!("the server does not take this kind of file ({mime})"),
            ));
        }
    }
    let max_pixels = limits.map_or(u64::MAX, |l| l.max_image_pixels);
    let (dimensions, preview) = if media::is_image(&mime) {
        match preview(target, max_pixels)? {
            Some((dimensions, preview)) => (Some(dimensions), Some(preview)),
            None => (None, None),
        }
    } else {
        (None, None)
    };
    Ok(FileCheck {
        name: String::new(),
        size,
        mime,
        dimensions,
        preview,
    })
}

/// An image's size and a small JPEG of it; `None` if it cannot be decoded here (the server
/// then decides). Refused if over the server's pixel limit.
/// An image's size and a small JPEG of it.
type Preview = ((u32, u32), Vec<u8>);

fn preview(path: &Path, max_pixels: u64) -> Result<Option<Preview>> {
    let reader = || -> Result<_> {
        Ok(
            image::ImageReader::new(std::io::BufReader::new(std::fs::File::open(path)?))
                .with_guessed_format()?,
        )
    };
    let Ok((width, height)) = reader()?.into_dimensions() else {
        return Ok(None);
    };
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(refused(
            ErrorCode::PayloadTooLarge,
            format!("the image is {width}×{height} pixels; the server takes at most {max_pixels}"),
        ));
    }
    let Ok(mut decoder) = reader()?.into_decoder() else {
        return Ok(None);
    };
    use image::ImageDecoder;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let Ok(mut picture) = image::DynamicImage::from_decoder(decoder) else {
        return Ok(None);
    };
    picture.apply_orientation(orientation);
    let small = picture.thumbnail(PREVIEW_PX, PREVIEW_PX).to_rgb8();
    let mut jpeg = Vec::new();
    if image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 80)
        .encode_image(&small)
        .is_err()
    {
        return Ok(None);
    }
    Ok(Some(((picture.width(), picture.height()), jpeg)))
}

fn too_large(size: u64, max: u64) -> ClientError {
    refused(
        ErrorCode::PayloadTooLarge,
        format!(
            "the file is {}; the largest the server takes is {}",
            human_size(size),
            human_size(max)
        ),
    )
}

/// A refusal made here by the rule the server published, with the code the server would give.
fn refused(code: ErrorCode, message: String) -> ClientError {
    ClientError::Server(Box::new(ApiError::new(code, message)))
}

/// Fetches a thumbnail into the cache. `None`: the server has none for us (remembered, so it
/// is not asked again).
pub(crate) async fn fetch_thumbnail(
    account: &Account,
    id: &AttachmentId,
) -> Result<Option<Vec<u8>>> {
    let url = account
        .session
        .url(&["api", "attachments", id.as_str(), "thumbnail"]);
    let bytes = match account.session.fetch(url).await {
        Ok(response) => response.bytes().await?.to_vec(),
        Err(ClientError::Server(e)) if e.code == ErrorCode::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    let (key, keep) = (id.clone(), bytes.clone());
    account
        .cache
        .call(move |c| files::keep_thumbnail(c, &key, &keep))
        .await?;
    Ok((!bytes.is_empty()).then_some(bytes))
}

/// Streams an attachment's content to `path` (through a `.part` file, synced, then renamed),
/// with progress events; its size.
async fn fetch_file(account: &Account, id: &AttachmentId, path: &Path) -> Result<u64> {
    use futures_util::StreamExt;
    use tokio::io::AsyncWriteExt;
    let url = account.session.url(&["api", "attachments", id.as_str()]);
    let response = account.session.fetch(url).await?;
    let total = response.content_length().unwrap_or(0);
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    // Its own partial file: two downloads of one attachment at once cannot interleave.
    let part = path.with_file_name(format!(".part-{}", uuid::Uuid::new_v4()));
    let mut file = tokio::fs::File::create(&part).await?;
    let mut received = 0u64;
    let mut last_told = 0u64;
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        file.write_all(&chunk).await?;
        received += chunk.len() as u64;
        // About a hundred events for a large file, one for a small one.
        if received - last_told >= (total / 100).max(64 * 1024) || received == total {
            last_told = received;
            account.emit(AppEvent::DownloadProgress {
                attachment_id: id.clone(),
                received,
                total: total.max(received),
            });
        }
    }
    file.sync_all().await?;
    drop(file);
    if total > 0 && received != total {
        let _ = tokio::fs::remove_file(&part).await;
        return Err(ClientError::Network(format!(
            "the download stopped at {received} of {total} bytes"
        )));
    }
    tokio::fs::rename(&part, path).await?;
    Ok(received)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sent_name_is_saved_as_a_plain_file_name() {
        assert_eq!(safe_file_name("notes week 3.pdf"), "notes week 3.pdf");
        assert_eq!(safe_file_name("../../.ssh/id_rsa"), "_.._.ssh_id_rsa");
        assert_eq!(safe_file_name(".bashrc"), "bashrc");
        assert_eq!(safe_file_name("a:b?.txt"), "a_b_.txt");
        assert_eq!(safe_file_name("report. . "), "report");
        assert_eq!(safe_file_name("CON.txt"), "attachment-CON.txt");
        assert_eq!(safe_file_name("   "), "attachment-");
        assert_eq!(safe_component("9f0c-AB_1/../x"), "9f0c-AB_1____x");
    }
}
