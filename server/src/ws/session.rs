//! One authenticated connection's state, shared by the serving loop (`connection`), the frame
//! dispatch (`commands`) and catch-up (`sync`). A leaf: it depends on none of them.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::ws::{Message as WsMessage, WebSocket};
use futures_util::stream::FuturesUnordered;
use futures_util::{SinkExt, StreamExt};
use sync_wrapper::SyncWrapper;
use tutorchat_shared::ws::ServerFrame;
use tutorchat_shared::ChatId;

use crate::auth::CurrentUser;
use crate::error::Error;
use crate::live::hub::encode;
use crate::live::{ConnId, ConnQueue};
use crate::rate_limit::TokenBucket;
use crate::state::AppState;

pub(super) type WsResult = Result<(), axum::Error>;

/// A send waiting for its commit: its chat, then the frames that answer it.
pub(super) type Send =
    Pin<Box<dyn Future<Output = (ChatId, Vec<ServerFrame>)> + std::marker::Send>>;

/// Most sends one connection may have waiting for their commit at once.
pub(super) const MAX_SENDS_IN_FLIGHT: usize = 16;

/// What every connection keeps while it waits. Kept small on purpose: it lives inline in the
/// connection's task, and with many thousands of idle sockets the task's size is most of what
/// one costs (the idle benchmark; ARCHITECTURE, Decisions). The rest is boxed on first use.
pub(super) struct Session {
    pub state: AppState,
    pub user: Arc<CurrentUser>,
    pub conn: ConnId,
    pub queue: Arc<ConnQueue>,
    /// The connection's frame rate.
    pub frames: TokenBucket,
    /// `None` until the connection first syncs, views a chat, sends or is rate limited.
    active: Option<Box<Active>>,
}

/// What a connection keeps once it does more than wait.
#[derive(Default)]
pub(super) struct Active {
    /// For chats caught up by `sync` on this connection: the highest seq sent. Live copies at
    /// or below it were already sent by the sync and are skipped.
    pub synced: HashMap<ChatId, u64>,
    /// Chats this device has joined (is viewing).
    pub viewing: Vec<ChatId>,
    /// When the last `rate_limited` error went out (at most one a second).
    pub rate_error_sent: Option<tokio::time::Instant>,
    /// Sends waiting for their commit while the connection reads on, so a device flushing
    /// several chats shares one commit instead of waiting one per frame. At most one per chat
    /// (`sending_chats`), which keeps each chat's sends in the order they came. `None` until
    /// the connection first sends.
    /// (`SyncWrapper`: a send's future is not `Sync`, and this is only ever used through
    /// `&mut`, while the session itself is shared by `&` across awaits.)
    pub sending: Option<SyncWrapper<FuturesUnordered<Send>>>,
    pub sending_chats: Vec<ChatId>,
}

impl Session {
    pub(super) fn new(
        state: AppState,
        user: CurrentUser,
        conn: ConnId,
        queue: Arc<ConnQueue>,
    ) -> Session {
        let frames = TokenBucket::new(
            f64::from(state.config.ws_frame_rate_per_second),
            state.config.ws_frame_burst,
        );
        Session {
            state,
            user: Arc::new(user),
            conn,
            queue,
            frames,
            active: None,
        }
    }

    /// The state of a connection that does more than wait, made on first use.
    pub(super) fn active(&mut self) -> &mut Active {
        self.active.get_or_insert_with(Box::default)
    }

    /// Chats this device is viewing.
    pub(super) fn viewing(&self) -> &[ChatId] {
        self.active.as_ref().map_or(&[], |a| &a.viewing)
    }

    /// The next send to finish; pending while none is waiting. Nothing else starts sends but
    /// this connection's task, which polls again after starting one, so an empty set needs
    /// no wake-up.
    pub(super) fn poll_sent(&mut self, cx: &mut Context<'_>) -> Poll<(ChatId, Vec<ServerFrame>)> {
        let sends = self.active.as_mut().and_then(|a| a.sending.as_mut());
        match sends.map(|s| s.get_mut().poll_next_unpin(cx)) {
            Some(Poll::Ready(Some(done))) => Poll::Ready(done),
            _ => Poll::Pending,
        }
    }

    /// Waits for the next send to finish (never, while none is waiting).
    pub(super) async fn next_sent(&mut self) -> (ChatId, Vec<ServerFrame>) {
        std::future::poll_fn(|cx| self.poll_sent(cx)).await
    }

    pub(super) async fn send(&self, socket: &mut WebSocket, frame: &ServerFrame) -> WsResult {
        socket.send(WsMessage::Text(encode(frame))).await
    }

    /// Writes a finished send's answers; its chat may send again.
    pub(super) async fn finish_send(
        &mut self,
        socket: &mut WebSocket,
        chat: ChatId,
        frames: Vec<ServerFrame>,
    ) -> WsResult {
        let sending = &mut self.active().sending_chats;
        if let Some(at) = sending.iter().position(|c| *c == chat) {
            sending.swap_remove(at);
        }
        self.send_all(socket, frames).await
    }

    /// Sends several frames in one flush.
    pub(super) async fn send_all(
        &self,
        socket: &mut WebSocket,
        frames: impl IntoIterator<Item = ServerFrame>,
    ) -> WsResult {
        for frame in frames {
            socket.feed(WsMessage::Text(encode(&frame))).await?;
        }
        socket.flush().await
    }

    /// Sends a service error as an `error` frame (internal causes are logged, not sent).
    pub(super) async fn send_error(&self, socket: &mut WebSocket, error: Error) -> WsResult {
        self.send(socket, &ServerFrame::Error(error.into_answer()))
            .await
    }
}
