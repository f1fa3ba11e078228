//! The refresh token really lands in the OS keyring — a real Secret Service (GNOME Keyring on a
//! private D-Bus session bus, unlocked with a throwaway password) — and in no file: the default
//! store (`auto`) must pick the keyring when one answers, keep using it when the token rotates,
//! and read it back in a new process. Falling back to the file store fails this test.
//!
//! Linux only: macOS Keychain and Windows Credential Manager cannot run here. The test skips,
//! saying so, only when `gnome-keyring-daemon` is not installed (`scripts/setup-app.sh`
//! installs it); with `TUTORCHAT_REQUIRE_SECRET_SERVICE=1` (as `scripts/test.sh` sets) a missing
//! daemon fails instead.

#![cfg(target_os = "linux")]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{account_dir, said, TestServer, PASSWORD, SAM};

/// The keyring's service name for Tutorchat's refresh tokens (see `client/src/credentials.rs`).
const SERVICE: &str = "tutorchat";

#[tokio::test(flavor = "multi_thread")]
async fn the_refresh_token_is_kept_in_the_secret_service_and_in_no_file() {
    let Some(keyring) = SecretService::start() else {
        return;
    };
    // Access tokens of 2 s, so a later start must spend (and rotate) the refresh token.
    let server = TestServer::started(&["--access-token-ttl-secs", "2"]).await;
    let url = server.url();
    let data = keyring.root.path().join("data");

    // Signing in with the default store puts the token in the keyring, not in a file.
    let login = keyring.cli(
        &url,
        &data,
        &["login", "--email", SAM, "--password", PASSWORD],
    );
    assert!(login.status.success(), "{}", said(&login));
    let account = account_dir(&data);
    assert!(
        !account.join("refresh-token").exists(),
        "the client fell back to the file store: {}",
        account.join("refresh-token").display()
    );
    let first = keyring.stored_secrets();
    assert_eq!(first.len(), 1, "one refresh token in the Secret Service");
    assert!(first[0].len() >= 16, "a real token, not a placeholder");
    keyring.assert_in_no_file(&first[0]);

    // A new process after the access token expired refreshes with the keyring's token, and the
    // rotated token goes back to the keyring — still no file.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let sync = keyring.cli(&url, &data, &["sync", "--timeout", "15"]);
    assert!(
        sync.status.success(),
        "signed in from the keyring: {}",
        said(&sync)
    );
    assert!(
        !account.join("refresh-token").exists(),
        "the rotated token fell back to the file store"
    );
    let rotated = keyring.stored_secrets();
    assert_eq!(
        rotated.len(),
        1,
        "still one refresh token in the Secret Service"
    );
    assert_ne!(rotated, first, "the token rotated in the keyring");
    keyring.assert_in_no_file(&rotated[0]);

    // Signing out removes it from the keyring.
    let logout = keyring.cli(&url, &data, &["logout"]);
    assert!(logout.status.success(), "{}", said(&logout));
    assert!(
        keyring.stored_secrets().is_empty(),
        "signing out leaves no token in the keyring"
    );
}

/// A private session bus with an unlocked GNOME Keyring on it, under a temporary HOME; both
/// processes are stopped when dropped.
struct SecretService {
    root: tempfile::TempDir,
    bus: String,
    home: PathBuf,
    daemons: Vec<Child>,
}

impl SecretService {
    /// Starts the bus and the keyring, or says why the test is skipped and returns `None`.
    fn start() -> Option<SecretService> {
        if !on_path("gnome-keyring-daemon") {
            let message = "gnome-keyring-daemon is not installed (apt: gnome-keyring; \
                           scripts/setup-app.sh installs it): the Secret Service test cannot run";
            assert!(
                std::env::var_os("TUTORCHAT_REQUIRE_SECRET_SERVICE").is_none(),
                "{message}"
            );
            eprintln!("SKIPPED: {message}");
            return None;
        }
        for tool in ["dbus-daemon", "dbus-send", "secret-tool"] {
            assert!(
                on_path(tool),
                "{tool} is missing (apt: dbus, libsecret-tools; scripts/setup-app.sh)"
            );
        }
        let root = tempfile::tempdir().expect("temp dir");
        let home = root.path().join("home");
        let runtime = root.path().join("run");
        for dir in [&home, &runtime] {
            std::fs::create_dir_all(dir).expect("dir");
        }
        let socket = root.path().join("bus");
        let bus = format!("unix:path={}", socket.display());
        let mut service = SecretService {
            bus,
            home,
            daemons: Vec::new(),
            root,
        };
        let daemon = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--nopidfile"])
            .arg(format!("--address={}", service.bus))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon starts");
        service.daemons.push(daemon);
        wait_until("the private bus", || socket.exists());

        // `--unlock` reads the password from stdin and creates the login keyring with it (the
        // default collection) — what a desktop session's PAM module does at sign-in.
        let mut keyring = service
            .command("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon starts");
        let mut stdin = keyring.stdin.take().expect("stdin");
        stdin.write_all(b"test-password").expect("password");
        drop(stdin);
        service.daemons.push(keyring);
        // Wait for this daemon to own the name before any call: a call before that would make
        // the bus start (activate) a second, locked one.
        wait_until("the Secret Service on the bus", || service.name_has_owner());
        // Ready once an item can be stored and found again.
        wait_until("the Secret Service", || {
            service.store_probe() && service.search("probe").contains("secret = probe")
        });
        Some(service)
    }

    /// `program` with this keyring's bus and a HOME of its own (no desktop session's keyring).
    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("XDG_DATA_HOME", self.home.join(".local/share"))
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("XDG_CACHE_HOME", self.home.join(".cache"))
            .env("XDG_RUNTIME_DIR", self.root.path().join("run"))
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus);
        command
    }

    /// The `tutorchat` binary with the default credential store (`auto`).
    fn cli(&self, url: &str, data: &Path, args: &[&str]) -> Output {
        self.command(env!("CARGO_BIN_EXE_tutorchat"))
            .args(["--server", url, "--data-dir"])
            .arg(data)
            .args(args)
            .env("TUTORCHAT_LOG", "warn")
            .output()
            .expect("the CLI runs")
    }

    fn name_has_owner(&self) -> bool {
        self.command("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.freedesktop.secrets",
            ])
            .output()
            .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("boolean true"))
    }

    fn store_probe(&self) -> bool {
        let Ok(mut child) = self
            .command("secret-tool")
            .args(["store", "--label=probe", "service", "probe"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        else {
            return false;
        };
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(b"probe");
        }
        child.wait().is_ok_and(|s| s.success())
    }

    /// `secret-tool search --all` for items whose `service` attribute is `service`.
    fn search(&self, service: &str) -> String {
        let out = self
            .command("secret-tool")
            .args(["search", "--all", "--unlock", "service", service])
            .output()
            .expect("secret-tool runs");
        // Items go to stdout, their attributes to stderr.
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    /// The secrets stored under Tutorchat's service name.
    fn stored_secrets(&self) -> Vec<String> {
        self.search(SERVICE)
            .lines()
            .filter_map(|line| line.strip_prefix("secret = "))
            .map(str::to_owned)
            .collect()
    }

    /// No file under the test's root (the client's data, HOME, the keyring's own files, which
    /// it encrypts) holds `secret` in the clear.
    fn assert_in_no_file(&self, secret: &str) {
        let mut stack = vec![self.root.path().to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("readable").flatten() {
                let path = entry.path();
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                if kind.is_dir() {
                    stack.push(path);
                } else if kind.is_file() {
                    let bytes = std::fs::read(&path).unwrap_or_default();
                    assert!(
                        !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                        "the refresh token is in a file: {}",
                        path.display()
                    );
                }
            }
        }
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        // The keyring first, then its bus.
        for child in self.daemons.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
}

fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !ready() {
        assert!(Instant::now() < deadline, "{what} did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
}
