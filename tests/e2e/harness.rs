//! Processes the end-to-end tests need, each killed (and reaped) when dropped, so a failing
//! test leaves nothing running: Xvfb, a private D-Bus bus per app with dunst and dbus-monitor
//! on it, tauri-driver, and the server.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// End-to-end tests run one at a time: each starts its own display, buses and apps, and two at
/// once would only compete for two cores.
pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::OnceLock<tokio::sync::Mutex<()>> = std::sync::OnceLock::new();
    LOCK.get_or_init(|| tokio::sync::Mutex::new(()))
        .lock()
        .await
}

/// A child process that is stopped (TERM, then KILL) when dropped.
pub struct Proc {
    pub name: &'static str,
    child: Child,
}

impl Proc {
    pub fn spawn(name: &'static str, command: &mut Command) -> Proc {
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("{name} must be installed (scripts/setup-app.sh): {e}"));
        Proc { name, child }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn terminate(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill")
                .args(["-TERM", &self.pid().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// The directory that holds the workspace's built binaries (`target/<profile>`).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test exe");
    // target/<profile>/deps/e2e-…
    exe.parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf()
}

pub fn binary(name: &str) -> PathBuf {
    let path = target_dir().join(name);
    assert!(
        path.exists(),
        "{} is not built: run `cargo build -p tutorchat-app -p tutorchat-server` first",
        path.display()
    );
    path
}

pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("free port");
    listener.local_addr().expect("addr").port()
}

fn wait_for_port(port: u16, what: &str) {
    wait_until(&format!("{what} to listen on {port}"), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
}

/// Polls `ready` every 50 ms, for up to 20 s; panics naming what it waited `for_what`.
fn wait_until(for_what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ready() {
        assert!(Instant::now() < deadline, "waited 20 s for {for_what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// An X display: the one given in DISPLAY, or a private Xvfb.
pub struct Display {
    pub name: String,
    _xvfb: Option<Proc>,
}

impl Display {
    pub fn start() -> Display {
        if let Ok(name) = std::env::var("DISPLAY") {
            if !name.is_empty() {
                return Display { name, _xvfb: None };
            }
        }
        for n in 90..140 {
            if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                || Path::new(&format!("/tmp/.X{n}-lock")).exists()
            {
                continue;
            }
            let name = format!(":{n}");
            let xvfb = Proc::spawn(
                "Xvfb",
                Command::new("Xvfb")
                    .args([
                        name.as_str(),
                        "-screen",
                        "0",
                        "1280x800x24",
                        "-nolisten",
                        "tcp",
                    ])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null()),
            );
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
                    return Display {
                        name,
                        _xvfb: Some(xvfb),
                    };
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("no Xvfb display could be started");
    }
}

/// A private session bus with a notification daemon and a monitor that records what crosses
/// the notification interface (`Notify`, `CloseNotification`, `ActionInvoked`, …).
pub struct Bus {
    pub address: String,
    monitor_log: PathBuf,
    _daemon: Proc,
    _dunst: Proc,
    _monitor: Proc,
}

/// The member name of the signal that proves the monitor listens (`Bus::wait_ready`).
const READY_PROBE: &str = "E2eMonitorReady";

impl Bus {
    pub fn start(dir: &Path, display: &Display) -> Bus {
        let socket = dir.join("bus");
        let address = format!("unix:path={}", socket.display());
        let daemon = Proc::spawn(
            "dbus-daemon",
            Command::new("dbus-daemon")
                .args([
                    "--session",
                    "--nofork",
                    "--nopidfile",
                    &format!("--address={address}"),
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let monitor_log = dir.join("notifications.log");
        let log = std::fs::File::create(&monitor_log).expect("monitor log");
        let monitor = Proc::spawn(
            "dbus-monitor",
            Command::new("dbus-monitor")
                .args([
                    "--address",
                    &address,
                    "interface='org.freedesktop.Notifications'",
                ])
                .stdout(log)
                .stderr(Stdio::null()),
        );
        let dunst = Proc::spawn(
            "dunst",
            Command::new("dunst")
                .env("DISPLAY", &display.name)
                .env("DBUS_SESSION_BUS_ADDRESS", &address)
                .env("HOME", dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        let bus = Bus {
            address,
            monitor_log,
            _daemon: daemon,
            _dunst: dunst,
            _monitor: monitor,
        };
        bus.wait_ready();
        bus
    }

    /// Returns once dunst serves notifications and the monitor is seen to log them, so a test
    /// can neither miss a notification sent early nor pass an "it did not notify" check
    /// against a monitor that was not listening yet, which a fixed pause could not promise.
    fn wait_ready(&self) {
        let bus = format!("--bus={}", self.address);
        wait_until("dunst to take the notification service", || {
            Command::new("dbus-send")
                .args([
                    &bus,
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    "string:org.freedesktop.Notifications",
                ])
                .output()
                .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("boolean true"))
        });
        // A signal on the notification interface, which only this probe sends.
        wait_until("dbus-monitor to log its probe", || {
            if self.notifications().contains(READY_PROBE) {
                return true;
            }
            let _ = Command::new("dbus-send")
                .args([
                    &bus,
                    "--type=signal",
                    "/org/tutorchat/e2e",
                    &format!("org.freedesktop.Notifications.{READY_PROBE}"),
                ])
                .status();
            false
        });
    }

    /// Everything the monitor saw so far.
    pub fn notifications(&self) -> String {
        std::fs::read_to_string(&self.monitor_log).unwrap_or_default()
    }

    /// Clicks the newest notification as a person would: dunst invokes its default action.
    pub fn click_notification(&self) {
        let status = Command::new("dunstctl")
            .args(["action", "0"])
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .status()
            .expect("dunstctl runs");
        assert!(status.success(), "dunstctl action failed");
    }
}

/// The course platform's token for the server's admin API.
pub const ADMIN_TOKEN: &str = "e2e-admin";

/// The server binary, on a port fixed up front so it can be stopped and started again.
pub struct ServerProc {
    pub port: u16,
    pub data: PathBuf,
    extra: Vec<String>,
    proc: Option<Proc>,
}

impl ServerProc {
    pub fn start(data: &Path) -> ServerProc {
        ServerProc::start_with(data, &[])
    }

    /// With more arguments (e.g. limits), kept for restarts.
    pub fn start_with(data: &Path, extra: &[&str]) -> ServerProc {
        let mut server = ServerProc {
            port: free_port(),
            data: data.to_path_buf(),
            extra: extra.iter().map(|s| (*s).to_owned()).collect(),
            proc: None,
        };
        server.restart();
        server
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn stop(&mut self) {
        if let Some(mut proc) = self.proc.take() {
            proc.terminate();
        }
    }

    pub fn restart(&mut self) {
        self.stop();
        let mut child = Command::new(binary("tutorchat-server"));
        child
            .args([
                "--demo",
                "--listen",
                &format!("127.0.0.1:{}", self.port),
                "--log",
                "warn",
            ])
            .arg("--data-dir")
            .arg(&self.data)
            .args(["--jwt-secret", "e2e-secret", "--presence-grace-ms", "300"])
            .args(["--admin-token", ADMIN_TOKEN])
            .args(&self.extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut proc = Proc::spawn("tutorchat-server", &mut child);
        if let Some(stdout) = proc.child.stdout.take() {
            std::thread::spawn(move || for _ in BufReader::new(stdout).lines() {});
        }
        wait_for_port(self.port, "the server");
        self.proc = Some(proc);
    }
}

/// tauri-driver for one app instance, with that instance's environment.
pub struct Driver {
    pub port: u16,
    _proc: Proc,
}

impl Driver {
    pub fn start(home: &Path, display: &Display, bus: &Bus) -> Driver {
        let port = free_port();
        let native = free_port();
        let xdg = |sub: &str| {
            let dir = home.join(sub);
            std::fs::create_dir_all(&dir).expect("xdg dir");
            dir
        };
        let proc = Proc::spawn(
            "tauri-driver",
            Command::new("tauri-driver")
                .args([
                    "--port",
                    &port.to_string(),
                    "--native-port",
                    &native.to_string(),
                ])
                .env("DISPLAY", &display.name)
                .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
                .env("NO_AT_BRIDGE", "1")
                .env("HOME", home)
                .env("XDG_DATA_HOME", xdg(".local/share"))
                .env("XDG_CONFIG_HOME", xdg(".config"))
                .env("XDG_CACHE_HOME", xdg(".cache"))
                .env("XDG_RUNTIME_DIR", xdg("run"))
                .env("TUTORCHAT_CREDENTIALS", "file")
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        wait_for_port(port, "tauri-driver");
        // tauri-driver listens at once and starts WebKitWebDriver beside it: a session asked
        // for before that one listens fails ("SendRequest"; seen in a fresh-clone CI run, three
        // attempts in a row on a cold machine).
        wait_for_port(native, "WebKitWebDriver");
        Driver { port, _proc: proc }
    }
}

/// Window titles on the display (what the window manager would show), via xdotool.
pub fn window_titles(display: &Display) -> Vec<String> {
    let out = Command::new("xdotool")
        .args(["search", "--name", "Tutorchat"])
        .env("DISPLAY", &display.name)
        .output()
        .expect("xdotool runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|id| {
            let name = Command::new("xdotool")
                .args(["getwindowname", id.trim()])
                .env("DISPLAY", &display.name)
                .output()
                .ok()?;
            Some(String::from_utf8_lossy(&name.stdout).trim().to_owned())
        })
        .collect()
}

/// The pid of the `tutorchat-app` process running with this HOME (the app is started by
/// WebKitWebDriver, so its pid is found by its environment).
pub fn app_pid(home: &Path) -> Option<u32> {
    let wanted = format!("HOME={}", home.display());
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if !String::from_utf8_lossy(&cmdline).contains("tutorchat-app") {
            continue;
        }
        let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        if environ
            .split(|b| *b == 0)
            .any(|var| var == wanted.as_bytes())
        {
            return Some(pid);
        }
    }
    None
}
