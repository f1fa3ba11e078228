//! Tutorchat's headless client core: what makes the app offline-first.
//!
//! History opens from a local SQLite cache; a message written without a network waits in a
//! durable outbox and is delivered exactly once when the network returns; unread counts are
//! right on every device. This crate knows nothing of Tauri or Yew: the desktop shell and the
//! `tutorchat` CLI both ride on [`Client`].
//!
//! Map — [`Client`] (this file) is the facade a shell calls; its methods live by concern:
//! - `lifecycle`: open/close, sign in/out, resuming a kept session, the session status, the
//!   connection state.
//! - `history`: pages of a chat from the cache, older history fetched into it, search.
//! - `sending`: the outbox API — send (write first, then wake the engine), retry, discard.
//! - `conversations`: the chat list, unread counts, read pointers, viewing, typing, drafts.
//! - `people`: contacts, opening a chat, blocking.
//! - `attachments`: sending a file (copied into the cache, checked against the server's
//!   limits, then an outbox row whose upload runs first), thumbnails, downloads.
//!
//! Under them:
//! - `account`: one signed-in account's handles (session, cache, live state, event sender).
//! - [`session`]: tokens and typed REST calls, refreshed without the user noticing.
//! - [`credentials`]: the refresh token in the OS keyring, or a private file; the access
//!   token kept between runs.
//! - `lock`: one process per data directory.
//! - [`cache`]: the SQLite cache of one account (chats, the chat list, messages, outbox,
//!   drafts, search).
//! - `engine`: the WebSocket sync engine (connect, catch up, apply, flush the outbox).
//! - `live`: presence and typing with expiry. [`options`]: server address and TLS.
//! - [`error`]: [`ClientError`], each variant with a stable code.

mod account;
mod attachments;
pub mod cache;
mod conversations;
pub mod credentials;
mod engine;
pub mod error;
mod history;
mod lifecycle;
mod live;
mod lock;
pub mod options;
mod people;
mod sending;
mod session;

use std::path::Path;
use std::sync::Arc;

use tokio::sync::watch;
use tokio::sync::{broadcast, Mutex};
use tokio::task::JoinHandle;
use tutorchat_shared::app::AppEvent;

use crate::account::Account;
pub use crate::attachments::{safe_file_name, FileCheck};
pub use crate::credentials::CredentialStore;
pub use crate::error::{ClientError, Result};
pub use crate::lifecycle::SessionStatus;
use crate::lock::DataDirLock;
pub use crate::options::ClientOptions;
pub use tutorchat_shared::media::human_size;

/// Events buffered for a slow listener; one that lags re-reads state from the cache.
const EVENT_BUFFER: usize = 4096;

/// The client core. Cheap to clone; one per app.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    options: ClientOptions,
    http: reqwest::Client,
    events: broadcast::Sender<AppEvent>,
    /// The signed-in account. A tokio mutex: sign-in and sign-out await the network while
    /// holding it, so they cannot interleave.
    account: Mutex<Option<Running>>,
    /// This process's hold on the data directory, from `open` to `close` (or sign-out). A std
    /// mutex: swapped in and out, never held across `.await`.
    dir_lock: std::sync::Mutex<Option<DataDirLock>>,
}

#[derive(Debug)]
struct Running {
    account: Arc<Account>,
    shutdown: watch::Sender<bool>,
    /// None for a session that had already ended: nothing to sync until the next sign-in.
    engine: Option<JoinHandle<()>>,
    /// Uploads and thumbnail fetches (none while the session has ended).
    transfers: Option<JoinHandle<()>>,
}

impl Client {
    /// The one event stream. A receiver that lags should re-read the chat list and page.
    pub fn events(&self) -> broadcast::Receiver<AppEvent> {
        self.inner.events.subscribe()
    }

    /// The server this client talks to, as configured.
    pub fn server(&self) -> &str {
        self.inner.options.server.trim().trim_end_matches('/')
    }

    /// Where this client keeps its data.
    pub fn data_dir(&self) -> &Path {
        &self.inner.options.data_dir
    }

    /// The signed-in account, or `NotSignedIn`.
    async fn account(&self) -> Result<Arc<Account>> {
        self.inner
            .account
            .lock()
            .await
            .as_ref()
            .map(|r| r.account.clone())
            .ok_or(ClientError::NotSignedIn)
    }
}
