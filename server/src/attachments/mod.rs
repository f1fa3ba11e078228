//! What an upload's bytes become, without the rules (those are in `service::uploads`): the
//! partial files uploads grow in, content sniffing against the allowlist (the shared
//! `media` rules), the
//! image pipeline — bounded decoding, EXIF stripped by re-encoding, thumbnails ([`image`]) —
//! and the content-addressed blob storage behind a trait ([`blobs`]).

pub mod blobs;
pub mod image;

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;
use tutorchat_shared::AttachmentId;

pub use self::blobs::{BlobReader, Blobs, FsBlobs};
pub use tutorchat_shared::media::{self as sniff, DEFAULT_TYPES, IMAGE_TYPES};

use crate::config::Config;
use crate::locks::lock;

/// The upload machinery's handle (one per server, in `AppState`).
#[derive(Debug)]
pub struct Uploads {
    pub blobs: Arc<dyn Blobs>,
    partial_dir: PathBuf,
    /// Uploads a request is appending to now: a second request for one is refused rather
    /// than interleaved. A std mutex: held only to insert or remove.
    busy: Mutex<HashSet<AttachmentId>>,
    /// One permit per image worker: a decoded image may take hundreds of MiB, so only this
    /// many exist at once.
    pub image_workers: Semaphore,
    pub max_image_pixels: u64,
    pub allowed: Vec<String>,
    /// Held while content is stored and recorded as an upload's, and while content no upload
    /// uses any more is found and removed: a removal can never take content that an upload
    /// of the same bytes is about to record (a tokio mutex: held across that I/O).
    pub blob_writes: tokio::sync::Mutex<()>,
}

impl Uploads {
    /// Partial uploads under the data directory's `uploads/`; finished content in `blobs`,
    /// or (none given) under the data directory's `blobs/`.
    pub fn open(config: &Config, blobs: Option<Arc<dyn Blobs>>) -> io::Result<Uploads> {
        let partial_dir = config.data_dir.join("uploads");
        std::fs::create_dir_all(&partial_dir)?;
        let blobs = match blobs {
            Some(blobs) => blobs,
            None => Arc::new(FsBlobs::open(&config.data_dir.join("blobs"))?),
        };
        Ok(Uploads {
            blobs,
            partial_dir,
            busy: Mutex::default(),
            image_workers: Semaphore::new(config.image_workers.max(1)),
            max_image_pixels: config.max_image_pixels,
            allowed: config.upload_types.clone(),
            blob_writes: tokio::sync::Mutex::new(()),
        })
    }

    /// Where an unfinished upload's bytes are.
    pub fn partial_path(&self, id: &AttachmentId) -> PathBuf {
        // Attachment ids are ours (hex), never the client's, so they are safe as file names.
        self.partial_dir.join(id.as_str())
    }

    /// Marks the upload as being appended to, unless a request already does.
    pub fn begin(self: &Arc<Self>, id: &AttachmentId) -> Option<Appending> {
        let fresh = lock(&self.busy).insert(id.clone());
        fresh.then(|| Appending {
            uploads: self.clone(),
            id: id.clone(),
        })
    }

    pub fn allows(&self, mime: &str) -> bool {
        self.allowed.iter().any(|t| t == mime)
    }
}

/// Bytes held of an unfinished upload: its partial file's length (0 before any arrive).
pub async fn partial_len(path: &Path) -> io::Result<u64> {
    match tokio::fs::metadata(path).await {
        Ok(meta) => Ok(meta.len()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(e),
    }
}

/// Removes a file that may already be gone.
pub async fn remove_if_present(path: &Path) -> io::Result<()> {
    match tokio::fs::remove_file(path).await {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// While alive, no other request appends to this upload.
#[derive(Debug)]
pub struct Appending {
    uploads: Arc<Uploads>,
    id: AttachmentId,
}

impl Drop for Appending {
    fn drop(&mut self) {
        lock(&self.uploads.busy).remove(&self.id);
    }
}
