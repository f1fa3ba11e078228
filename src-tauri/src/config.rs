//! The shell's settings: where its data lives, the last server used, and — for tests and
//! headless machines — which credential store to use. The only place the shell reads the
//! environment.

use std::path::{Path, PathBuf};

use tutorchat_client::CredentialStore;

/// The server offered on the login screen until the user picks another.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";
const LAST_SERVER_FILE: &str = "server.txt";
/// Present while the user has turned desktop notifications off.
const NOTIFICATIONS_OFF_FILE: &str = "notifications-off";

#[derive(Debug, Clone)]
pub struct ShellConfig {
    pub data_dir: PathBuf,
    /// `TUTORCHAT_CREDENTIALS`: auto (default), keyring or file.
    pub credentials: CredentialStore,
    /// `TUTORCHAT_CA`: an extra CA to trust for a self-hosted server.
    pub extra_ca: Option<PathBuf>,
}

impl ShellConfig {
    pub fn new(data_dir: PathBuf) -> Self {
        let credentials = std::env::var("TUTORCHAT_CREDENTIALS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_default();
        let extra_ca = std::env::var_os("TUTORCHAT_CA").map(PathBuf::from);
        // A named profile has its own data and session (see `profile`).
        let data_dir = match profile() {
            Some(name) => data_dir.join("profiles").join(name),
            None => data_dir,
        };
        Self {
            data_dir,
            credentials,
            extra_ca,
        }
    }

    pub fn last_server(&self) -> Option<String> {
        read_trimmed(&self.data_dir.join(LAST_SERVER_FILE))
    }

    pub fn remember_server(&self, server: &str) {
        let _ = std::fs::create_dir_all(&self.data_dir);
        let _ = std::fs::write(self.data_dir.join(LAST_SERVER_FILE), server);
    }

    /// Whether new messages show desktop notifications (on unless the user turned them off).
    pub fn notifications(&self) -> bool {
        !self.data_dir.join(NOTIFICATIONS_OFF_FILE).exists()
    }

    pub fn set_notifications(&self, enabled: bool) -> std::io::Result<()> {
        let flag = self.data_dir.join(NOTIFICATIONS_OFF_FILE);
        if enabled {
            match std::fs::remove_file(flag) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            }
        } else {
            std::fs::create_dir_all(&self.data_dir)?;
            std::fs::write(flag, b"")
        }
    }
}

fn read_trimmed(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// `TUTORCHAT_PROFILE`: a named second profile (its own data, its own session) that also lifts
/// the one-instance rule — for trying a student and a tutor side by side. Plain names only.
pub fn profile() -> Option<String> {
    std::env::var("TUTORCHAT_PROFILE").ok().filter(|p| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_stay_as_the_user_left_them() {
        let dir = tempfile::tempdir().expect("dir");
        let config = ShellConfig {
            data_dir: dir.path().join("app"),
            credentials: CredentialStore::default(),
            extra_ca: None,
        };
        assert!(config.notifications(), "on by default");
        config.set_notifications(false).expect("off");
        assert!(!config.notifications());
        config.set_notifications(false).expect("off again");
        config.set_notifications(true).expect("on");
        config.set_notifications(true).expect("on again");
        assert!(config.notifications());
    }
}
