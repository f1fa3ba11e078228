//! One authenticated connection's state, shared by the serving loop (`connection`), the frame
//! dispatch (`commands`) and catch-up (`sync`). A leaf: it depends on none of them.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::ws::{Message as WsMessage, WebSocket};
use futures_util::SinkExt;
use tutorchat_shared::ws::ServerFrame;
use tutorchat_shared::ChatId;

use crate::auth::CurrentUser;
use crate::error::Error;
use crate::live::hub::encode;
use crate::live::{ConnId, ConnQueue};
use crate::rate_limit::TokenBucket;
use crate::state::AppState;

pub(super) type WsResult = Result<(), axum::Error>;

pub(super) struct Session {
    pub state: AppState,
    pub user: CurrentUser,
    pub conn: ConnId,
    pub queue: Arc<ConnQueue>,
    /// For chats caught up by `sync` on this connection: the highest seq sent. Live copies at
    /// or below it were already sent by the sync and are skipped.
    pub synced: HashMap<ChatId, u64>,
    /// Chats this device has joined (is viewing).
    pub viewing: Vec<ChatId>,
    /// The connection's frame rate.
    pub frames: TokenBucket,
    /// When the last `rate_limited` error went out (at most one a second).
    pub rate_error_sent: Option<tokio::time::Instant>,
}

impl Session {
    pub(super) async fn send(&self, socket: &mut WebSocket, frame: &ServerFrame) -> WsResult {
        socket.send(WsMessage::Text(encode(frame))).await
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
        if !matches!(error, Error::Api(_)) {
            tracing::error!(error = %error, "websocket request failed");
        }
        self.send(socket, &ServerFrame::Error(error.to_api_error()))
            .await
    }
}
