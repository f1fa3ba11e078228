//! Finished content, stored by the SHA-256 of its bytes, so identical uploads are kept once.
//!
//! [`Blobs`] is the seam for where content lives. The embedded default, [`FsBlobs`], keeps
//! files under the data directory; nodes sharing PostgreSQL keep content there
//! (`store::postgres::PgBlobs`). An object store would be another implementation.

use std::fmt::Debug;
use std::io;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncSeek};

/// Content read back: seekable, for range requests.
pub trait BlobReader: AsyncRead + AsyncSeek + Send + Unpin {}
impl<T: AsyncRead + AsyncSeek + Send + Unpin> BlobReader for T {}

#[async_trait]
pub trait Blobs: Send + Sync + Debug + 'static {
    /// Stores the file at `staged` as `key` (moving it: `staged` is gone after), unless that
    /// key is stored already. Durable on return.
    async fn put_file(&self, key: &str, staged: &Path) -> io::Result<()>;
    /// Stores `bytes` as `key`, unless stored already. Durable on return.
    async fn put_bytes(&self, key: &str, bytes: Vec<u8>) -> io::Result<()>;
    /// The content and its length, if stored.
    async fn open(&self, key: &str) -> io::Result<Option<(Box<dyn BlobReader>, u64)>>;
    /// Removes the content (nothing if it is not there).
    async fn delete(&self, key: &str) -> io::Result<()>;
}

/// The key of `bytes`: their SHA-256, lowercase hex.
pub fn key_of(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The key of a file's content, read in blocks (call off the async threads).
pub fn key_of_file(path: &Path) -> io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    io::copy(&mut file, &mut hasher)?;
    Ok(hex(&hasher.finalize()))
}

fn hex(digest: &[u8]) -> String {
    use std::fmt::Write;
    digest.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Blobs as files: `ROOT/ab/abcdef…` (the first two hex digits fan the files out).
#[derive(Debug, Clone)]
pub struct FsBlobs {
    root: PathBuf,
}

impl FsBlobs {
    pub fn open(root: &Path) -> io::Result<FsBlobs> {
        std::fs::create_dir_all(root)?;
        Ok(FsBlobs {
            root: root.to_owned(),
        })
    }

    fn path_of(&self, key: &str) -> io::Result<PathBuf> {
        let valid = key.len() == 64 && key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !valid {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("not a blob key: {key:?}"),
            ));
        }
        Ok(self.root.join(&key[..2]).join(key))
    }

    /// Moves `staged` to `key`'s place, durably: the content synced, then renamed, then the
    /// directory synced.
    fn install(&self, key: &str, staged: &Path) -> io::Result<()> {
        let path = self.path_of(key)?;
        if path.exists() {
            return std::fs::remove_file(staged);
        }
        let dir = path.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir)?;
        std::fs::File::open(staged)?.sync_all()?;
        std::fs::rename(staged, &path)?;
        std::fs::File::open(dir)?.sync_all()
    }
}

#[async_trait]
impl Blobs for FsBlobs {
    async fn put_file(&self, key: &str, staged: &Path) -> io::Result<()> {
        let (me, key, staged) = (self.clone(), key.to_owned(), staged.to_owned());
        tokio::task::spawn_blocking(move || me.install(&key, &staged)).await?
    }

    async fn put_bytes(&self, key: &str, bytes: Vec<u8>) -> io::Result<()> {
        let (me, key) = (self.clone(), key.to_owned());
        tokio::task::spawn_blocking(move || {
            if me.path_of(&key)?.exists() {
                return Ok(());
            }
            let staged = me.root.join(format!(".{key}.{}", rand::random::<u64>()));
            std::fs::write(&staged, &bytes)?;
            me.install(&key, &staged)
        })
        .await?
    }

    async fn open(&self, key: &str) -> io::Result<Option<(Box<dyn BlobReader>, u64)>> {
        let path = self.path_of(key)?;
        match tokio::fs::File::open(&path).await {
            Ok(file) => {
                let len = file.metadata().await?.len();
                Ok(Some((Box::new(file), len)))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn delete(&self, key: &str) -> io::Result<()> {
        super::remove_if_present(&self.path_of(key)?).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn identical_content_is_stored_once_and_read_back() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let blobs = FsBlobs::open(&dir.path().join("blobs"))?;
        let key = key_of(b"hello");
        blobs.put_bytes(&key, b"hello".to_vec()).await?;
        let staged = dir.path().join("staged");
        std::fs::write(&staged, b"hello")?;
        blobs.put_file(&key, &staged).await?;
        assert!(!staged.exists(), "the staged copy is consumed");
        let (mut reader, len) = blobs.open(&key).await?.expect("stored");
        let mut back = Vec::new();
        reader.read_to_end(&mut back).await?;
        assert_eq!((back.as_slice(), len), (&b"hello"[..], 5));
        let files = std::fs::read_dir(dir.path().join("blobs").join(&key[..2]))?.count();
        assert_eq!(files, 1);
        blobs.delete(&key).await?;
        assert!(blobs.open(&key).await?.is_none());
        Ok(())
    }

    #[tokio::test]
    async fn a_key_that_is_not_a_digest_is_refused() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let blobs = FsBlobs::open(dir.path())?;
        assert!(blobs.open("../../etc/passwd").await.is_err());
        Ok(())
    }
}
