//! The WebSocket transport: `GET /ws`, one per device, carrying every live event.
//!
//! - this file: the upgrade (authenticated by the `Authorization` header when present) with
//!   buffers sized for many idle connections.
//! - [`session`]: one connection's state (a leaf the others share).
//! - [`connection`]: one task per socket: authentication by first frame, the read/write
//!   loop, token expiry, back-pressure, clean closes.
//! - [`commands`]: one client frame → one service call → the reply.
//! - [`sync`]: catching a reconnecting device up, chat by chat, in bounded batches.
//!
//! Frames are defined in `tutorchat_shared::ws` and documented in `docs/protocol.md`.

mod commands;
mod connection;
mod session;
mod sync;

use axum::extract::{State, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use crate::auth::extract::bearer;
use crate::auth::CurrentUser;
use crate::error::Error;
use crate::state::AppState;

/// Bytes of outgoing frames gathered before they are written (the buffer grows only as used).
const WRITE_BUFFER_BYTES: usize = 8 * 1024;

/// `GET /ws`. A bad token is refused before the upgrade with the usual JSON error.
pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let user = match bearer(&headers) {
        Some(token) => match CurrentUser::from_token(&state, token).await {
            Ok(user) => Some(user),
            Err(e) => return e.into_response(),
        },
        None => None,
    };
    let max = state.config.max_connections_per_user;
    if let Some(user) = &user {
        if max > 0 && state.hub.connections_of(&user.id) >= max {
            return Error::from(connection::too_many_connections()).into_response();
        }
    }
    // Frames over the configured maximum get an error frame and the connection stays; far
    // larger ones are cut off by the protocol layer (close code 1009).
    let hard_limit = state
        .config
        .ws_max_frame_bytes
        .saturating_mul(4)
        .max(16 * 1024);
    ws.read_buffer_size(state.config.ws_read_buffer_bytes)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .max_message_size(hard_limit)
        .max_frame_size(hard_limit)
        .on_upgrade(move |socket| {
            // A task of its own rather than axum's upgrade task: that one's state keeps room for
            // the handshake it awaited first (~0.5 KiB), for as long as the connection lives.
            connection::spawn(state, Box::new(socket), user);
            std::future::ready(())
        })
}
