//! Tutorchat's user interface: a Yew app compiled to wasm and run in the Tauri shell's webview.
//!
//! The UI holds no rules of its own. It asks the shell (commands) and listens to it (one typed
//! event stream), keeps what it was told in one reducer store, and draws it. The types it
//! exchanges with the shell all come from `tutorchat-shared`; nothing here redeclares them.
//!
//! Map:
//! - [`tauri`]: the only module that talks to the shell — one typed async function per command
//!   and the `app-event` subscription. Everything else calls these through hooks.
//! - `state`: the store — `State`, the `Action` enum, `impl Reducible`, and the context
//!   handle. Pure; unit-tested natively. `timeline` holds the pure merging of one chat's
//!   messages (by client id, seq order, pending last) that the reducer uses.
//! - `route`: the URL hash (`#/chat/<id>`, `#/chats`, …) parsed into a `Route` and back.
//! - `format`: time and day-separator labels; `days`: a chat's messages grouped by local day;
//!   `compose`: the message input's checks (counter, validation text, Enter handling);
//!   `search`: a search result's marked words and snippet. All pure.
//! - `hooks`: every side effect — invoking commands, the event subscription, timers (typing,
//!   drafts, "back online"), scroll handling, media queries, the hash listener.
//! - `components`: function components, one per file; props are data plus callbacks.
//! - `pages`: the screens (login, tutors, students, chats, search, settings) composed from
//!   components.
//! - `app`: the root — the store provider, session restore, the router.
//!
//! Must not: render message text as HTML (`inner_html` is never used), keep a token (the shell
//! owns the session), or invent commands the shell does not have.

mod app;
mod components;
mod compose;
mod days;
mod format;
mod hooks;
mod pages;
mod route;
mod search;
mod state;
pub mod tauri;
mod timeline;

#[cfg(test)]
mod testing;

/// Mounts the app on `<body>`.
pub fn run() {
    yew::Renderer::<app::App>::new().render();
}
