//! One task per WebSocket: authenticate, register with the hub, then serve until the client
//! leaves, the token expires, the server shuts down, or the connection falls too far behind.

use std::future::Future;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message as WsMessage, Utf8Bytes, WebSocket};
use futures_util::{SinkExt, StreamExt};
use tutorchat_shared::ws::{ClientFrame, ServerFrame};
use tutorchat_shared::{ApiError, ChatId, ErrorCode};

use crate::auth::CurrentUser;
use crate::error::Error;
use crate::live::hub::encode;
use crate::live::queue::Next;
use crate::live::{CloseReason, Outbound};
use crate::service::live;
use crate::state::AppState;

use super::session::{Session, WsResult};

/// Close codes (RFC 6455 and the private range): defined once, in `shared`.
const CLOSE_GOING_AWAY: u16 = tutorchat_shared::ws::close::GOING_AWAY;
const CLOSE_POLICY: u16 = tutorchat_shared::ws::close::POLICY;
const CLOSE_TOO_BIG: u16 = tutorchat_shared::ws::close::TOO_BIG;
const CLOSE_TRY_AGAIN_LATER: u16 = tutorchat_shared::ws::close::TRY_AGAIN_LATER;
const CLOSE_TOKEN_EXPIRED: u16 = tutorchat_shared::ws::close::TOKEN_EXPIRED;

/// What woke an idle connection.
enum Event {
    Incoming(Option<Result<WsMessage, axum::Error>>),
    Queued(Next),
    Sent((ChatId, Vec<ServerFrame>)),
}

/// Starts the connection's task. An authenticated upgrade goes straight to serving: its
/// session opens here, and the task is the serving future itself, unboxed. Otherwise a first
/// task waits for the `auth` frame and, once it has it, hands the socket to a serving task
/// and ends. With many thousands of idle connections every byte kept per connection counts
/// (see the idle benchmark): an outer future around the serving one kept ~0.4 KiB each, and
/// a boxed serving future a second allocation (tokio's tasks are 128-byte aligned).
pub(super) fn spawn(state: AppState, socket: Box<WebSocket>, user: Option<CurrentUser>) {
    match user {
        Some(user) => serve_or_refuse(state, user, socket),
        None => {
            tokio::spawn(async move {
                let mut socket = socket;
                if let Some(user) = authenticate(&state, &mut socket).await {
                    serve_or_refuse(state, user, socket);
                }
            });
        }
    }
}

/// Opens the session and serves it on a task of its own, or refuses a user over the
/// per-user connection limit.
fn serve_or_refuse(state: AppState, user: CurrentUser, mut socket: Box<WebSocket>) {
    let metrics = state.metrics.clone();
    match Session::open(state, user) {
        Some(session) => {
            tokio::spawn(session.serve(socket));
        }
        None => {
            metrics.refused(crate::metrics::Limit::ConnectionsPerUser);
            tokio::spawn(async move { refuse(&mut socket, too_many_connections()).await });
        }
    }
}

/// The refusal for a user over the per-user connection limit.
pub(super) fn too_many_connections() -> ApiError {
    ApiError::new(
        ErrorCode::TooManyConnections,
        "too many devices are connected to this account; close one and try again",
    )
}

/// For clients that cannot set headers: the first frame must be `auth`.
async fn authenticate(state: &AppState, socket: &mut WebSocket) -> Option<CurrentUser> {
    let timeout = Duration::from_secs(state.config.ws_auth_timeout_secs);
    let token = match tokio::time::timeout(timeout, socket.recv()).await {
        Ok(Some(Ok(WsMessage::Text(text)))) => match serde_json::from_str::<ClientFrame>(&text) {
            Ok(ClientFrame::Auth { token }) => token,
            _ => {
                let refusal = ApiError::new(
                    ErrorCode::AuthRequired,
                    "send {\"type\":\"auth\",\"token\":…} first, or the Authorization header",
                );
                refuse(socket, refusal).await;
                return None;
            }
        },
        Ok(_) => return None,
        Err(_) => {
            let refusal = ApiError::new(ErrorCode::AuthRequired, "no auth frame in time");
            refuse(socket, refusal).await;
            return None;
        }
    };
    match CurrentUser::from_token(state, &token).await {
        Ok(user) => Some(user),
        Err(e) => {
            refuse(socket, e.to_api_error()).await;
            None
        }
    }
}

/// Sends the error, then closes with a code that says whether refreshing the token helps.
async fn refuse(socket: &mut WebSocket, error: ApiError) {
    let code = if error.code == ErrorCode::TokenExpired {
        CLOSE_TOKEN_EXPIRED
    } else {
        CLOSE_POLICY
    };
    let reason = error.code.as_str();
    let _ = socket
        .send(WsMessage::Text(encode(&ServerFrame::Error(error.clone()))))
        .await;
    let _ = close(socket, code, reason).await;
}

async fn close(socket: &mut WebSocket, code: u16, reason: &str) -> WsResult {
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from(reason.to_owned()),
    };
    socket.send(WsMessage::Close(Some(frame))).await
}

impl Session {
    /// Registers the connection with the hub and presence; `None` when the user already holds
    /// as many connections as allowed.
    fn open(state: AppState, user: CurrentUser) -> Option<Session> {
        let (conn, queue) = state.hub.register(
            &user.id,
            user.session.clone(),
            user.expires_at,
            state.config.max_connections_per_user,
        )?;
        live::connected(&state, &user.id);
        Some(Session::new(state, user, conn, queue))
    }

    /// Serves the socket until it ends, then unregisters: the connection's task.
    ///
    /// Not an `async fn`: one of those keeps its arguments twice (as captured, and moved into
    /// its body), which with the session inline made the task 768 bytes instead of 256. The
    /// loop is written for the state it keeps while it waits — the session, the socket's
    /// box, the result so far and the wait itself (a few references); every reaction is one
    /// boxed future that lives only while it runs.
    // Written out on purpose, against the lint: the `async fn` it suggests is the 768 bytes.
    #[allow(clippy::manual_async_fn)]
    fn serve(mut self, mut socket: Box<WebSocket>) -> impl Future<Output = ()> + Send {
        async move {
            let mut serving = Box::pin(self.send_ready(&mut socket)).await.map(|()| true);
            // The token's expiry comes through the queue too (`live::expiry`): no timer here.
            while let Ok(true) = serving {
                let event = std::future::poll_fn(|cx| self.poll_event(&mut socket, cx)).await;
                serving = Box::pin(self.react(&mut socket, event)).await;
            }
            if let Err(e) = serving {
                tracing::debug!(error = %e, "websocket ended with an error");
            }
            self.state.hub.unregister(
                &self.user.id,
                self.conn,
                self.user.expires_at,
                self.viewing(),
            );
            live::disconnected(&self.state, &self.user.id);
        }
    }

    /// What the connection has to do next: a finished send's answers, then queued live
    /// frames, then a frame from the client. The server's own work goes first, so a client
    /// that writes without pause still gets its answers and deliveries (and its frame rate
    /// is limited anyway).
    fn poll_event(&mut self, socket: &mut WebSocket, cx: &mut Context<'_>) -> Poll<Event> {
        if let Poll::Ready(sent) = self.poll_sent(cx) {
            return Poll::Ready(Event::Sent(sent));
        }
        if let Poll::Ready(next) = self.queue.poll_next(cx) {
            return Poll::Ready(Event::Queued(next));
        }
        socket.poll_next_unpin(cx).map(Event::Incoming)
    }

    /// Handles one event; `Ok(false)` once the connection is done.
    async fn react(&mut self, socket: &mut WebSocket, event: Event) -> Result<bool, axum::Error> {
        match event {
            // Pings are answered by the protocol layer.
            Event::Incoming(Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_)))) => Ok(true),
            Event::Incoming(Some(Ok(WsMessage::Close(_))) | None) => Ok(false),
            Event::Incoming(Some(Err(e))) => {
                if is_too_big(&e) {
                    let _ = close(socket, CLOSE_TOO_BIG, "frame_too_large").await;
                }
                Err(e)
            }
            Event::Incoming(Some(Ok(WsMessage::Text(text)))) => {
                self.on_text(socket, text).await.map(|()| true)
            }
            Event::Incoming(Some(Ok(WsMessage::Binary(_)))) => {
                self.on_binary(socket).await.map(|()| true)
            }
            Event::Queued(Next::Items(items)) => {
                self.write_items(socket, items).await.map(|()| true)
            }
            Event::Sent((chat, frames)) => {
                self.finish_send(socket, chat, frames).await.map(|()| true)
            }
            Event::Queued(Next::Closed(reason)) => {
                self.close_for(socket, reason).await.map(|()| false)
            }
        }
    }

    /// `ready`, built here so the frame lives in this (boxed) future, not in the task's.
    async fn send_ready(&self, socket: &mut WebSocket) -> WsResult {
        let ready = ServerFrame::Ready {
            user_id: self.user.id.clone(),
        };
        self.send(socket, &ready).await
    }

    /// Tells the client why (except at shutdown), then closes with a code that says whether
    /// refreshing the token helps.
    async fn close_for(&self, socket: &mut WebSocket, reason: CloseReason) -> WsResult {
        let (error, message, code, why) = match reason {
            CloseReason::ShuttingDown => {
                return close(socket, CLOSE_GOING_AWAY, "server shutting down").await;
            }
            CloseReason::SlowConsumer => {
                self.state.metrics.slow_consumer();
                (
                    ErrorCode::SlowConsumer,
                    "this connection fell too far behind; reconnect and sync",
                    CLOSE_TRY_AGAIN_LATER,
                    "slow_consumer",
                )
            }
            CloseReason::SessionEnded => (
                ErrorCode::InvalidToken,
                "this session was signed out; sign in again",
                CLOSE_TOKEN_EXPIRED,
                "session_ended",
            ),
            CloseReason::TokenExpired => (
                ErrorCode::TokenExpired,
                "access token expired; refresh and reconnect",
                CLOSE_TOKEN_EXPIRED,
                "token_expired",
            ),
        };
        let error = ApiError::new(error, message);
        self.send(socket, &ServerFrame::Error(error)).await?;
        close(socket, code, why).await
    }

    /// Every frame counts against the connection's rate, whatever its size or kind: an
    /// oversized or binary frame costs the server as much as a good one.
    async fn on_text(&mut self, socket: &mut WebSocket, text: Utf8Bytes) -> WsResult {
        if let Err(wait) = self.frames.take() {
            return self.rate_limited(socket, wait).await;
        }
        let max = self.state.config.ws_max_frame_bytes;
        if text.len() > max {
            let error = ApiError::new(
                ErrorCode::FrameTooLarge,
                format!("frame is {} bytes; the maximum is {max}", text.len()),
            );
            return self.send(socket, &ServerFrame::Error(error)).await;
        }
        match ClientFrame::parse(&text) {
            Ok(frame) => super::commands::dispatch(self, socket, frame).await,
            Err(refusal) => self.send(socket, &ServerFrame::Error(*refusal)).await,
        }
    }

    async fn on_binary(&mut self, socket: &mut WebSocket) -> WsResult {
        if let Err(wait) = self.frames.take() {
            return self.rate_limited(socket, wait).await;
        }
        let error = ApiError::new(ErrorCode::MalformedFrame, "frames are JSON text");
        self.send(socket, &ServerFrame::Error(error)).await
    }

    /// Refuses a frame over the connection's rate, telling the client at most once a second.
    async fn rate_limited(&mut self, socket: &mut WebSocket, wait: Duration) -> WsResult {
        let now = tokio::time::Instant::now();
        let sent = &mut self.active().rate_error_sent;
        if sent.is_some_and(|at| now.duration_since(at) < Duration::from_secs(1)) {
            return Ok(());
        }
        *sent = Some(now);
        self.state.metrics.refused(crate::metrics::Limit::Frames);
        let error = Error::rate_limited(crate::rate_limit::retry_after_secs(wait)).to_api_error();
        self.send(socket, &ServerFrame::Error(error)).await
    }

    /// Writes queued live frames in one flush, skipping messages a sync already sent.
    async fn write_items(&mut self, socket: &mut WebSocket, items: Vec<Outbound>) -> WsResult {
        for item in items {
            let frame = match item {
                Outbound::Message {
                    chat_id,
                    seq,
                    frame,
                    committed,
                } => {
                    // Once and in order: what sync already sent, or (with several nodes) a
                    // fill already delivered, is not sent again.
                    let sent = self.active().synced.entry(chat_id).or_insert(0);
                    if seq <= *sent {
                        continue;
                    }
                    *sent = seq;
                    let waited = committed.elapsed();
                    self.state.metrics.delivered(waited);
                    self.state.overload.note(waited);
                    frame
                }
                Outbound::Frame(frame) => frame,
            };
            socket.feed(WsMessage::Text(frame)).await?;
        }
        socket.flush().await
    }
}

/// Whether the protocol layer refused a frame over the hard size cap. axum hides the
/// WebSocket library's error type, so this reads its message ("Space limit exceeded: Message
/// too long"); the test `a_frame_over_the_hard_cap_closes_with_1009` notices if it changes.
fn is_too_big(error: &axum::Error) -> bool {
    let text = error.to_string();
    text.contains("Space limit exceeded") || text.contains("too long")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The size of what `f` returns, without calling it.
    fn returned<A, B, R>(_: fn(A, B) -> R) -> usize {
        std::mem::size_of::<R>()
    }

    /// Every idle socket holds its serving task: tokio adds ~100 bytes of header and trailer
    /// to the future and rounds up to 128, so a future of at most 160 bytes keeps the task at
    /// 256 (an `async fn` here made it 648 bytes, a 768-byte task).
    #[test]
    fn the_serving_future_stays_small() {
        let serving = returned(Session::serve);
        assert!(serving <= 160, "the serving future is {serving} bytes");
        assert!(std::mem::size_of::<Session>() <= 80);
    }
}
