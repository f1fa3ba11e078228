//! Finished upload content in PostgreSQL, for nodes that share the database but no
//! filesystem: every node serves every attachment. The content's key is its SHA-256, so
//! storing it again is harmless; a file is read back whole (uploads are bounded by
//! `--max-upload-bytes`) and served from memory, ranges included.

use std::io;
use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::Pool;

use super::{pool_error, to_ms};
use crate::attachments::{BlobReader, Blobs};

/// Content stored (or stored again) this recently is never removed: the upload that stored
/// it may not have recorded it yet, on this node or another (the local lock around the two
/// covers one node only).
const KEEP_FRESH: Duration = Duration::from_secs(600);

#[derive(Debug, Clone)]
pub struct PgBlobs {
    pool: Pool,
}

impl super::PgStore {
    /// Content storage in the same database, sharing the store's connections.
    pub fn blobs(&self) -> PgBlobs {
        PgBlobs {
            pool: self.inner.pool.clone(),
        }
    }
}

fn checked(key: &str) -> io::Result<&str> {
    if key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(key)
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a content key",
        ))
    }
}

fn io_error(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

#[async_trait]
impl Blobs for PgBlobs {
    async fn put_file(&self, key: &str, staged: &Path) -> io::Result<()> {
        let bytes = tokio::fs::read(staged).await?;
        self.put_bytes(key, bytes).await?;
        crate::attachments::remove_if_present(staged).await
    }

    async fn put_bytes(&self, key: &str, bytes: Vec<u8>) -> io::Result<()> {
        let key = checked(key)?;
        let client = self.pool.get().await.map_err(|e| io_error(pool_error(e)))?;
        client
            .execute(
                "INSERT INTO blobs (key, bytes, stored_at) VALUES ($1, $2, $3)
                 ON CONFLICT (key) DO UPDATE SET stored_at = excluded.stored_at",
                &[&key, &bytes, &to_ms(chrono::Utc::now())],
            )
            .await
            .map_err(|e| io_error(super::describe(&e)))?;
        Ok(())
    }

    async fn open(&self, key: &str) -> io::Result<Option<(Box<dyn BlobReader>, u64)>> {
        let key = checked(key)?;
        let client = self.pool.get().await.map_err(|e| io_error(pool_error(e)))?;
        let row = client
            .query_opt("SELECT bytes FROM blobs WHERE key = $1", &[&key])
            .await
            .map_err(|e| io_error(super::describe(&e)))?;
        Ok(match row {
            Some(row) => {
                let bytes: Vec<u8> = row.try_get(0).map_err(io_error)?;
                let len = bytes.len() as u64;
                Some((Box::new(std::io::Cursor::new(bytes)), len))
            }
            None => None,
        })
    }

    /// Removes the content unless an upload still refers to it or it was stored within
    /// [`KEEP_FRESH`] (checked in the same statement, so no node's upload loses it).
    async fn delete(&self, key: &str) -> io::Result<()> {
        let key = checked(key)?;
        let fresh = chrono::Utc::now() - chrono::Duration::from_std(KEEP_FRESH).unwrap_or_default();
        let client = self.pool.get().await.map_err(|e| io_error(pool_error(e)))?;
        client
            .execute(
                "DELETE FROM blobs WHERE key = $1 AND stored_at < $2
                 AND NOT EXISTS (SELECT 1 FROM attachments WHERE blob = $1 OR thumbnail = $1)",
                &[&key, &to_ms(fresh)],
            )
            .await
            .map_err(|e| io_error(super::describe(&e)))?;
        Ok(())
    }
}
