//! One signed-in account: its session, its cache, what is live right now, and the handles
//! the engine and the API share.

use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::{broadcast, mpsc, Notify};
use tutorchat_shared::app::{AppEvent, ConnectionState};
use tutorchat_shared::ws::ClientFrame;
use tutorchat_shared::ChatId;

use crate::cache::Cache;
use crate::live::LiveState;
use crate::session::Session;

pub(crate) struct Account {
    pub session: Session,
    pub cache: Cache,
    pub live: LiveState,
    pub events: broadcast::Sender<AppEvent>,
    /// Wakes the engine to send new outbox rows.
    pub outbox_wake: Notify,
    /// Wakes the transfer task: an attachment to upload, thumbnails to fetch, or the network
    /// is back.
    pub transfers_wake: Notify,
    /// Wakes a waiting reconnect at once ("the network is back").
    pub network_wake: Notify,
    /// Frames to send if connected (join, leave, typing, mark_read); dropped when offline.
    pub frames: mpsc::Sender<ClientFrame>,
    pub connected: AtomicBool,
    /// Connected and caught up (the last `sync` completed on this connection).
    pub online: AtomicBool,
    pub ws_connector: Option<tokio_tungstenite::Connector>,
    /// The last connection state announced (std mutex: a copy in and out).
    pub state: std::sync::Mutex<ConnectionState>,
    /// The chat this device has on screen: joined again on every connection, so typing and
    /// presence for it keep coming after an outage or a token refresh, and a chat opened
    /// before the first connection is joined once it is up.
    pub viewing: std::sync::Mutex<Option<ChatId>>,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("user", &self.session.user.id)
            .field("connected", &self.is_connected())
            .finish_non_exhaustive()
    }
}

impl Account {
    pub fn emit(&self, event: AppEvent) {
        if let AppEvent::Connection { state } = &event {
            *self.state.lock().unwrap_or_else(|p| p.into_inner()) = *state;
        }
        // Nobody listening is fine: the cache holds the truth.
        let _ = self.events.send(event);
    }

    pub fn viewing(&self) -> Option<ChatId> {
        *self.viewing.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set_viewing(&self, chat: Option<ChatId>) {
        *self.viewing.lock().unwrap_or_else(|p| p.into_inner()) = chat;
    }

    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }

    /// Queues a frame for the server if connected; returns whether it was queued.
    pub fn send_frame(&self, frame: ClientFrame) -> bool {
        self.is_connected() && self.frames.try_send(frame).is_ok()
    }
}
