//! The real desktop app, built and run under Xvfb, driven through tauri-driver and
//! WebKitWebDriver, against a real `tutorchat-server` process. Each app instance gets its own
//! HOME, D-Bus session bus (with a notification daemon and a monitor on it) and WebDriver.
//!
//! - `harness`: the display, buses, server and app processes (all killed on drop).
//! - `app`: a WebDriver session on one app instance, with waiting helpers.
//! - `chat`: a student and a tutor chat: tutor list, messages both ways, typing, ticks,
//!   badges and title, notifications, and a server outage without losing a message.
//! - `search`: search results open their chat at the message; settings remember the server.
//! - `seen`: receipts only from a focused window, typing after an outage, the access-denied
//!   screen.
//! - `standing`: mute, archive, block and unblock from the chat header; a chat read-only after
//!   the purchase ended; the offer of a course not bought, from a deep link; a notification
//!   that opens its chat when clicked and is withdrawn once the chat is read elsewhere.
//! - `attachments`: a tutor pastes an image and a PDF and sends them with a caption; a file
//!   of a type the server does not take is refused before upload; the student sees the
//!   thumbnail and the file card and opens the image.
//! - `installed`: the binary the `.deb` installed signs in and shows the chat list (ignored;
//!   `scripts/package.sh --test` runs it).

mod app;
mod harness;

mod attachments;
mod chat;
mod installed;
mod search;
mod seen;
mod standing;
