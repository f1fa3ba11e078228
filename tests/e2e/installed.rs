//! The app as a user gets it: the binary a package installed (`/usr/bin/tutorchat-app` from the
//! `.deb`), launched under Xvfb with its own D-Bus bus, signs in to a real server and shows the
//! chat list. Ignored in ordinary runs — it needs the package built and installed first, which
//! `scripts/package.sh --test` does before running it with `--ignored`.
//!
//! `TUTORCHAT_INSTALLED_APP` names another installed binary; `TUTORCHAT_SCREENSHOTS` keeps a
//! screenshot of the chat list (`installed-chat-list.png`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fantoccini::Locator;

use crate::app::{App, WAIT};
use crate::harness::{app_pid, Display, ServerProc};

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the .deb installed: run scripts/package.sh --test"]
async fn the_installed_app_signs_in_and_shows_the_chat_list() {
    let _serial = crate::harness::serial().await;
    let installed = std::env::var_os("TUTORCHAT_INSTALLED_APP")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/tutorchat-app"));
    assert!(
        installed.is_file(),
        "{} is not installed: build and install the package (scripts/package.sh --test)",
        installed.display()
    );
    let display = Display::start();
    let data = tempfile::tempdir().expect("server data");
    let server = ServerProc::start(data.path());

    let app = App::launch_binary(&display, &installed).await;
    // The process on screen is the installed binary, not a build from this workspace.
    let pid = app_pid(&app.home).expect("the app's process");
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).expect("the app's executable");
    assert_eq!(exe, installed, "the running app is the installed one");

    // Sam's chat with Ada (the demo school's chat 1) is in the list once signed in.
    app.login(&server.url(), "sam@tutorchat.test").await;
    app.click("#nav-chats").await;
    let deadline = Instant::now() + WAIT;
    loop {
        let names = app
            .web
            .find_all(Locator::Css("li.chat-item .chat-name"))
            .await;
        let mut seen = Vec::new();
        for name in names.unwrap_or_default() {
            // The DOM's text: WebKitWebDriver's rendered-text call answers "" for this
            // element (flex layout with an ellipsis), though it shows on screen.
            let text = name.prop("textContent").await.ok().flatten();
            seen.push(text.unwrap_or_default().trim().to_owned());
        }
        if seen.iter().any(|n| n == "Ada Lovelace") {
            break;
        }
        if Instant::now() >= deadline {
            if let Some(dir) = crate::app::screenshot_dir() {
                app.screenshot(&dir.join("installed-failed.png")).await;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no chat with Ada Lovelace in the list; it shows {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    if let Some(dir) = crate::app::screenshot_dir() {
        app.screenshot(&dir.join("installed-chat-list.png")).await;
    }
    app.close().await;
}
