//! Where the refresh token lives between runs: the OS keyring (Secret Service, Keychain,
//! Credential Manager), or — on a machine without one — a file readable only by the user,
//! with a clear warning saying so.

use std::path::{Path, PathBuf};

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

const SERVICE: &str = "tutorchat";
const TOKEN_FILE: &str = "refresh-token";

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
            Ok(()) => {
                // Never leave an older copy in a file once the keyring holds it.
                let _ = std::fs::remove_file(dir.join(TOKEN_FILE));
                return Ok(StoredIn::Keyring);
            }
            Err(e) if store == CredentialStore::Keyring => return Err(e),
            Err(e) => tracing::warn!(
                "no usable keyring ({e}); keeping the session in {} (readable only by you)",
                dir.join(TOKEN_FILE).display()
            ),
        }
    }
    write_private(&dir.join(TOKEN_FILE), token)?;
    Ok(StoredIn::File)
}

pub async fn load(stored: StoredIn, account: &str, dir: &Path) -> Result<Option<String>> {
    match stored {
        StoredIn::Keyring => {
            let account = account.to_owned();
            tokio::task::spawn_blocking(move || keyring_get(&account)).await?
        }
        StoredIn::File => match std::fs::read_to_string(dir.join(TOKEN_FILE)) {
            Ok(token) => Ok(Some(token.trim().to_owned()).filter(|t| !t.is_empty())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        },
    }
}

/// Forgets the token wherever it is.
pub async fn delete(account: &str, dir: &Path) {
    let _ = std::fs::remove_file(dir.join(TOKEN_FILE));
    let account = account.to_owned();
    let _ = tokio::task::spawn_blocking(move || keyring_delete(&account)).await;
}

pub fn token_file(dir: &Path) -> PathBuf {
    dir.join(TOKEN_FILE)
}

fn write_private(path: &Path, contents: &str) -> Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(tmp, path)?;
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
