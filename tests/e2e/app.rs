//! One running app instance: its HOME, bus and WebDriver session, with helpers that wait for
//! what a person would wait for (an element, a text, an attribute) and fail with a clear
//! message instead of hanging.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::harness::{binary, Bus, Display, Driver};

pub const WAIT: Duration = Duration::from_secs(20);
/// WebDriver's Enter key.
pub const ENTER: &str = "\u{E007}";

pub struct App {
    pub web: Client,
    pub bus: Bus,
    pub home: PathBuf,
    _driver: Driver,
    _dir: tempfile::TempDir,
}

impl App {
    /// The workspace's build of the app.
    pub async fn launch(display: &Display) -> App {
        App::launch_binary(display, &binary("tutorchat-app")).await
    }

    /// Any build of the app, e.g. the one a package installed.
    pub async fn launch_binary(display: &Display, application: &std::path::Path) -> App {
        // More than one rustls crypto provider is compiled into the workspace: choose one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().expect("app dir");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).expect("home");
        let bus = Bus::start(dir.path(), display);
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            json!({"application": application.display().to_string()}),
        );
        // Creating the session can fail before the app exists (seen once in CI: tauri-driver
        // dropped the request on a display that had just started). That is the harness, not
        // the app: start a fresh tauri-driver and try again, a few times.
        let mut attempt = 0;
        let (web, driver) = loop {
            attempt += 1;
            let driver = Driver::start(&home, display, &bus);
            let session = ClientBuilder::rustls()
                .expect("tls")
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{}", driver.port))
                .await;
            match session {
                Ok(web) => break (web, driver),
                Err(e) if attempt < 3 => {
                    eprintln!("no WebDriver session yet (attempt {attempt}): {e}; retrying");
                    drop(driver);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(e) => panic!("a WebDriver session on the app: {e}"),
            }
        };
        App {
            web,
            bus,
            home,
            _driver: driver,
            _dir: dir,
        }
    }

    pub async fn find(&self, css: &str) -> Element {
        self.web
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    pub async fn exists(&self, css: &str) -> bool {
        self.web.find(Locator::Css(css)).await.is_ok()
    }

    pub async fn count(&self, css: &str) -> usize {
        self.web
            .find_all(Locator::Css(css))
            .await
            .map(|v| v.len())
            .unwrap_or(0)
    }

    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        element.clear().await.ok();
        element
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("cannot type into {css}: {e}"));
    }

    pub async fn keys(&self, css: &str, text: &str) {
        self.find(css)
            .await
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("cannot type into {css}: {e}"));
    }

    /// Waits until `css` matches something (or panics with `what`).
    pub async fn wait_for(&self, css: &str, what: &str) {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if self.exists(css).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{what}: nothing matched {css} within {WAIT:?}");
    }

    /// Waits until `css` matches nothing.
    pub async fn wait_gone(&self, css: &str, what: &str) {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if !self.exists(css).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{what}: {css} still there after {WAIT:?}");
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap_or_default()
    }

    /// Signs in through the login screen.
    pub async fn login(&self, server: &str, email: &str) {
        self.type_into("input#server", server).await;
        self.type_into("input#email", email).await;
        self.type_into("input#password", "tutorchat-demo").await;
        self.click("button#login-submit").await;
        self.wait_for("#nav-chats", &format!("{email} signed in"))
            .await;
    }

    /// Waits for the monitor on this app's bus to have seen a notification containing `text`.
    pub async fn wait_notification(&self, text: &str) {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if self.bus.notifications().contains(text) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "no desktop notification containing {text:?}; the bus saw:\n{}",
            self.bus.notifications()
        );
    }

    pub async fn screenshot(&self, path: &std::path::Path) {
        // Let layout and paint settle (WebKit paints asynchronously). The first capture after
        // a while can be an old frame (seen here: the sign-in screen, long after it was left),
        // so it is taken and thrown away, and the next one kept.
        tokio::time::sleep(Duration::from_millis(800)).await;
        let _ = self.web.screenshot().await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        if let Ok(png) = self.web.screenshot().await {
            let _ = std::fs::write(path, png);
        }
    }

    /// Gives this app's window the keyboard focus (X input focus; there is no window manager).
    pub async fn focus(&self, display: &Display) {
        let pid = crate::harness::app_pid(&self.home).expect("the app's process");
        let deadline = Instant::now() + WAIT;
        loop {
            let found = std::process::Command::new("xdotool")
                .args([
                    "search",
                    "--all",
                    "--onlyvisible",
                    "--pid",
                    &pid.to_string(),
                    "--name",
                    "Tutorchat",
                ])
                .env("DISPLAY", &display.name)
                .output()
                .expect("xdotool runs");
            let ids = String::from_utf8_lossy(&found.stdout).to_string();
            if let Some(id) = ids.lines().next() {
                let status = std::process::Command::new("xdotool")
                    .args(["windowfocus", "--sync", id.trim()])
                    .env("DISPLAY", &display.name)
                    .status()
                    .expect("xdotool runs");
                assert!(status.success(), "xdotool windowfocus failed");
                tokio::time::sleep(Duration::from_millis(300)).await;
                return;
            }
            assert!(Instant::now() < deadline, "no window of process {pid}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Opens a `tutorchat://` link as the desktop does on Linux: a second launch of the app
    /// with the link as its argument, in this instance's environment; it hands the link to the
    /// running instance and exits.
    pub async fn open_link(&self, display: &Display, url: &str) {
        let mut second = std::process::Command::new(binary("tutorchat-app"))
            .arg(url)
            .env("DISPLAY", &display.name)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus.address)
            .env("NO_AT_BRIDGE", "1")
            .env("HOME", &self.home)
            .env("XDG_DATA_HOME", self.home.join(".local/share"))
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("XDG_CACHE_HOME", self.home.join(".cache"))
            .env("XDG_RUNTIME_DIR", self.home.join("run"))
            .env("TUTORCHAT_CREDENTIALS", "file")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("a second launch of the app");
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(Some(_)) = second.try_wait() {
                return;
            }
            if Instant::now() > deadline {
                let _ = second.kill();
                let _ = second.wait();
                panic!("the second launch did not hand the link over and exit");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn close(self) {
        let _ = self.web.close().await;
    }
}

/// Where to save screenshots of the real app (`TUTORCHAT_SCREENSHOTS`), if asked.
pub fn screenshot_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("TUTORCHAT_SCREENSHOTS")?);
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir)
}
