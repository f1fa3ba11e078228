//! The real desktop app, built and run under Xvfb, driven through tauri-driver and
//! WebKitWebDriver, against a real `tutorchat-server` process. Each app instance gets its own
//! HOME, D-Bus session bus (with a notification daemon and a monitor on it) and WebDriver.
//!
//! - `harness`: the display, buses, server and app processes (all killed on drop).
//! - `app`: a WebDriver session on one app instance, with waiting helpers.
//! - `chat`: a student and a tutor chat: tutor list, messages both ways, typing, ticks,
//!   badges and title, notifications, and a server outage without losing a message.
//! - `installed`: the binary the `.deb` installed signs in and shows the chat list (ignored;
//!   `scripts/package.sh --test` runs it).

mod app;
mod harness;

mod chat;
mod installed;
