//! Where the tokens live between runs: the refresh token in the OS keyring (Secret Service,
//! Keychain, Credential Manager), or — on a machine without one — a file readable only by the
//! user, with a clear warning saying so; the short-lived access token and its expiry in a
//! private file beside it, so a restart reuses it instead of spending the refresh token.
//!
//! Every save is durable when it returns (the keyring read back, or the file synced and
//! renamed into place): a rotated refresh token must be on disk before the new access token is
//! used, or a crash right after would leave only the spent one.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{ClientError, Result};

/// Which store to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CredentialStore {
    /// The keyring if one answers, else the file (with a warning).
    #[default]
    Auto,
    Keyring,
    /// A file in the account's directory, mode 0600.
    File,
}

impl std::str::FromStr for CredentialStore {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "auto" => Ok(CredentialStore::Auto),
            "keyring" => Ok(CredentialStore::Keyring),
            "file" => Ok(CredentialStore::File),
            other => Err(format!("{other:?}: expected auto, keyring or file")),
        }
    }
}

/// Where one account's refresh token went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoredIn {
    Keyring,
    File,
}

#[cfg(any(target_os = "linux", target_os = "macos", target_os = "windows"))]
const SERVICE: &str = "tutorchat";
const TOKEN_FILE: &str = "refresh-token";
const ACCESS_FILE: &str = "access-token.json";

/// Saves a refresh token for `account` (a stable key: server and user id).
pub async fn save(
    store: CredentialStore,
    account: &str,
    dir: &Path,
    token: &str,
) -> Result<StoredIn> {
    if store != CredentialStore::File {
        let (account_key, secret) = (account.to_owned(), token.to_owned());
        let saved = tokio::task::spawn_blocking(move || keyring_set(&account_key, &secret)).await?;
        match saved {
            // Never leave an older copy in a file once the keyring holds it (`load` prefers
            // the file); if it cannot go, it is brought up to date below instead.
            Ok(()) => match std::fs::remove_file(dir.join(TOKEN_FILE)) {
                Ok(()) => return Ok(StoredIn::Keyring),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(StoredIn::Keyring),
                Err(e) => tracing::warn!("could not remove an old token file ({e})"),
            },
            Err(e) if store == CredentialStore::Keyring => return Err(e),
            Err(e) => tracing::warn!(
                "no usable keyring ({e}); keeping the session in {} (readable only by you)",
                dir.join(TOKEN_FILE).display()
            ),
        }
    }
    let (path, token) = (dir.join(TOKEN_FILE), token.to_owned());
    tokio::task::spawn_blocking(move || write_private(&path, token.as_bytes())).await??;
    Ok(StoredIn::File)
}

/// The store to save a rotated token in, given where the session's token is now: a session
/// kept in a file stays in the file (so `load` finds it); one in the keyring tries the
/// keyring again and falls back to the file, which `load` then prefers.
pub fn for_rotation(stored: StoredIn) -> CredentialStore {
    match stored {
        StoredIn::File => CredentialStore::File,
        StoredIn::Keyring => CredentialStore::Auto,
    }
}

/// Loads the refresh token. The file wins when it exists: a keyring save deletes it, so a file
/// that exists is the fallback of a later save than the keyring's copy.
pub async fn load(stored: StoredIn, account: &str, dir: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(dir.join(TOKEN_FILE)) {
        Ok(token) => return Ok(Some(token.trim().to_owned()).filter(|t| !t.is_empty())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    match stored {
        StoredIn::Keyring => {
            let account = account.to_owned();
            tokio::task::spawn_blocking(move || keyring_get(&account)).await?
        }
        StoredIn::File => Ok(None),
    }
}

/// Forgets the tokens wherever they are.
pub async fn delete(account: &str, dir: &Path) {
    let _ = std::fs::remove_file(dir.join(TOKEN_FILE));
    let _ = std::fs::remove_file(dir.join(ACCESS_FILE));
    let account = account.to_owned();
    let _ = tokio::task::spawn_blocking(move || keyring_delete(&account)).await;
}

/// An access token as kept between runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedAccess {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// Keeps the access token for the next start (best effort: without it the next start
/// refreshes, which is safe, only slower).
pub fn save_access(dir: &Path, access: &SavedAccess) {
    let saved = serde_json::to_vec(access)
        .map_err(|e| ClientError::Credentials(e.to_string()))
        .and_then(|json| write_private(&dir.join(ACCESS_FILE), &json));
    if let Err(e) = saved {
        tracing::debug!(error = %e, "could not keep the access token");
    }
}

/// The access token kept by the last run, if any.
pub fn load_access(dir: &Path) -> Option<SavedAccess> {
    let json = std::fs::read(dir.join(ACCESS_FILE)).ok()?;
    serde_json::from_slice(&json).ok()
}

pub fn token_file(dir: &Path) -> PathBuf {
    dir.join(TOKEN_FILE)
}

/// Replaces `path` atomically with a file only the user can read, durably: the data is synced
/// before the rename, and the directory after it (so the rename survives a power cut too).
pub(crate) fn write_private(path: &Path, contents: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp)?;
    file.write_all(contents)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    #[cfg(unix)]
    if let Some(dir) = dir {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(any(target_os = "linux", target_os = "macos", target_os = "windows"))]
fn entry(account: &str) -> Result<keyring::Entry> {
    keyring::Entry::new(SERVICE, account).map_err(|e| ClientError::Credentials(e.to_string()))
}

#[cfg(any(target_os = "linux", target_os = "macos", target_os = "windows"))]
fn keyring_set(account: &str, secret: &str) -> Result<()> {
    let entry = entry(account)?;
    entry
        .set_password(secret)
        .map_err(|e| ClientError::Credentials(e.to_string()))?;
    // Some backends accept a write they cannot keep (no session keyring): read it back.
    match entry.get_password() {
        Ok(read) if read == secret => Ok(()),
        Ok(_) => Err(ClientError::Credentials(
            "the keyring returned a different secret".into(),
        )),
        Err(e) => Err(ClientError::Credentials(e.to_string())),
    }
}

#[cfg(any(target_os = "linux", target_os = "macos", target_os = "windows"))]
fn keyring_get(account: &str) -> Result<Option<String>> {
    match entry(account)?.get_password() {
        Ok(secret) => Ok(Some(secret)),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(ClientError::Credentials(e.to_string())),
    }
}

#[cfg(any(target_os = "linux", target_os = "macos", target_os = "windows"))]
fn keyring_delete(account: &str) -> Result<()> {
    entry(account)?
        .delete_credential()
        .map_err(|e| ClientError::Credentials(e.to_string()))
}

// Mobile and other targets: no keyring crate; the file store is used.
#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
fn keyring_set(_: &str, _: &str) -> Result<()> {
    Err(ClientError::Credentials(
        "no keyring on this platform".into(),
    ))
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
fn keyring_get(_: &str) -> Result<Option<String>> {
    Ok(None)
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
fn keyring_delete(_: &str) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_file_store_is_private_and_round_trips() {
        let dir = tempfile::tempdir().expect("temp dir");
        let stored = save(CredentialStore::File, "acct", dir.path(), "secret-1")
            .await
            .expect("save");
        assert_eq!(stored, StoredIn::File);
        assert_eq!(
            load(stored, "acct", dir.path())
                .await
                .expect("load")
                .as_deref(),
            Some("secret-1")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(token_file(dir.path()))
                .expect("file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "only the user may read it");
        }
        delete("acct", dir.path()).await;
        assert_eq!(
            load(StoredIn::File, "acct", dir.path())
                .await
                .expect("load"),
            None
        );
    }

    #[tokio::test]
    async fn auto_keeps_the_token_somewhere_it_can_be_read_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let account = format!("test-{}", uuid::Uuid::new_v4());
        let stored = save(CredentialStore::Auto, &account, dir.path(), "secret-2")
            .await
            .expect("save");
        assert_eq!(
            load(stored, &account, dir.path())
                .await
                .expect("load")
                .as_deref(),
            Some("secret-2")
        );
        delete(&account, dir.path()).await;
    }
}
