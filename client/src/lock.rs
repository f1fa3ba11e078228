//! One process per data directory: a [`crate::Client`] holds an exclusive lock on `lock` in
//! its data directory while it uses it. Two processes on one directory would each spend the
//! same single-use refresh token (the server then revokes the session) and write one cache
//! from two connections; the second one waits a bounded time and is then refused with
//! [`ClientError::DataDirBusy`].
//!
//! The lock is the operating system's (`flock` / `LockFileEx`) on an open file, so it goes
//! away with the process however that ends, SIGKILL included; nothing stale is left behind.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{ClientError, Result};

const LOCK_FILE: &str = "lock";
/// How often a waiting process tries again.
const POLL: Duration = Duration::from_millis(100);

/// The held lock; released when dropped.
#[derive(Debug)]
pub(crate) struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    /// Takes the lock on `dir` (creating it), waiting up to `wait` for another process to
    /// let go of it.
    pub async fn acquire(dir: &Path, wait: Duration) -> Result<DataDirLock> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let dir_owned = dir.to_path_buf();
            if let Some(lock) =
                tokio::task::spawn_blocking(move || try_acquire(&dir_owned)).await??
            {
                return Ok(lock);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ClientError::DataDirBusy(dir.to_path_buf()));
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

fn try_acquire(dir: &Path) -> Result<Option<DataDirLock>> {
    std::fs::create_dir_all(dir)?;
    let path: PathBuf = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)?;
    if fs4::fs_std::FileExt::try_lock_exclusive(&file)? {
        Ok(Some(DataDirLock { _file: file }))
    } else {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_holder_waits_and_is_refused_then_gets_it_once_released() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = DataDirLock::acquire(dir.path(), Duration::ZERO)
            .await
            .expect("first");
        let refused = DataDirLock::acquire(dir.path(), Duration::from_millis(300))
            .await
            .expect_err("held");
        assert!(matches!(refused, ClientError::DataDirBusy(_)), "{refused}");
        assert!(
            refused
                .to_string()
                .contains("another tutorchat process is using"),
            "{refused}"
        );
        drop(first);
        DataDirLock::acquire(dir.path(), Duration::ZERO)
            .await
            .expect("free again");
    }
}
