//! The sync engine: one WebSocket per signed-in account, kept up with exponential backoff and
//! jitter (and at once when told the network is back). On every connect it refreshes the chat
//! list, sends its per-chat cursors, applies the catch-up, then live frames, each in a cache
//! transaction; and it flushes the outbox in order per chat.
//!
//! A frame is never skipped: one that cannot be applied (the cache stayed locked past its busy
//! timeout, a lookup failed) ends the connection, and the next one syncs again from the
//! cursors, which only move over stored messages. Only a frame this client cannot read (a
//! newer server's) is logged and passed over, since no retry could apply it.
//!
//! - this file: the connect/serve/backoff loop.
//! - [`apply`]: one server frame → one cache transaction → events (a run of acks that arrived
//!   together: one transaction).
//! - [`flush`]: the outbox: one batch in flight per chat (order), many chats at once.
//! - [`transfers`]: a task of its own beside this loop: attachment uploads (before their
//!   message may be flushed) and thumbnail fetches.

mod apply;
mod flush;
pub(crate) mod transfers;

use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{FutureExt, SinkExt, StreamExt};
use rand::Rng;
use reqwest::Method;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tutorchat_shared::api::{ChatList, ServerConfig};
use tutorchat_shared::app::{AppEvent, ConnectionState, SessionEndReason};
use tutorchat_shared::ws::{close, ClientFrame, ServerFrame, SyncCursor};
use tutorchat_shared::{ApiError, ClientId, ErrorCode, Message};

use self::apply::Applied;
use self::flush::Outbox;
use crate::account::Account;
use crate::cache::{chats, server_config};
use crate::error::{ClientError, Result};
use crate::session::is_session_expired;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Longest wait between reconnect attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
const PING_EVERY: Duration = Duration::from_secs(25);
const PONG_WITHIN: Duration = Duration::from_secs(10);

/// How a connection ended.
enum Ended {
    /// Asked to stop.
    Shutdown,
    /// The refresh token was refused: the session is over.
    SessionExpired,
    /// The access token expired and was refreshed: reconnect now.
    Refreshed,
    /// The network or the server went away: back off and retry.
    Lost,
    /// A frame could not be applied: reconnect and sync again, backing off further each time
    /// it happens in a row (a cache that stays unwritable must not spin).
    ApplyFailed,
}

/// Runs until shut down or the session ends.
pub(crate) async fn run(
    account: Arc<Account>,
    mut frames: mpsc::Receiver<ClientFrame>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut attempt: u32 = 0;
    let mut apply_failures: u32 = 0;
    loop {
        account.emit(AppEvent::Connection {
            state: ConnectionState::Connecting,
        });
        let ended = match connect(&account).await {
            Ok((socket, token)) => {
                attempt = 0;
                account.connected.store(true, Ordering::Relaxed);
                let ended = serve(&account, socket, &token, &mut frames, &mut shutdown).await;
                account.connected.store(false, Ordering::Relaxed);
                account.online.store(false, Ordering::Relaxed);
                account.live.clear();
                ended
            }
            Err(e) if is_session_expired(&e) => Ended::SessionExpired,
            Err(e) => {
                tracing::debug!(error = %e, "connecting failed");
                Ended::Lost
            }
        };
        match ended {
            Ended::Shutdown => break,
            Ended::SessionExpired => {
                account.emit(AppEvent::SessionEnded {
                    reason: SessionEndReason::Expired,
                });
                break;
            }
            Ended::Refreshed => {
                apply_failures = 0;
                continue;
            }
            Ended::Lost => apply_failures = 0,
            Ended::ApplyFailed => {
                apply_failures = apply_failures.saturating_add(1);
                attempt = attempt.max(apply_failures.saturating_sub(1));
            }
        }
        attempt = attempt.saturating_add(1);
        let delay = backoff(attempt);
        let retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        account.emit(AppEvent::Connection {
            state: ConnectionState::Reconnecting {
                attempt,
                retry_in_ms,
            },
        });
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = account.network_wake.notified() => {}
            _ = shutdown.changed() => break,
        }
    }
    account.emit(AppEvent::Connection {
        state: ConnectionState::Offline,
    });
}

/// Exponential from half a second, capped, with jitter (50–100 %) so clients that lost the
/// same server do not come back in one wave.
///
/// Hand-written rather than `backoff`/`backon`: both give a delay from an iterator's own
/// state, while here the delay is a function of a count kept elsewhere — the reconnect loop
/// bumps its attempt after repeated apply failures, and an outbox row's attempts are stored in
/// the cache and survive restarts — and the loop announces each delay (`retry_in_ms`) before
/// waiting on it alongside shutdown and "the network is back".
pub(crate) fn backoff(attempt: u32) -> Duration {
    let exp = Duration::from_millis(500).saturating_mul(1 << attempt.saturating_sub(1).min(10));
    let capped = exp.min(MAX_BACKOFF);
    capped.mul_f64(rand::thread_rng().gen_range(0.5..=1.0))
}

/// Opens the socket (authenticated by header) and waits for `ready`. Returns the access token
/// it used, so a refresh when the server ends it spends the refresh token only once.
async fn connect(account: &Account) -> Result<(Socket, String)> {
    let token = account.session.access_token().await?;
    refresh_chat_list(account).await?;
    // The server's limits may have changed since the last connection; without them the
    // last known (or the defaults) still apply, so this is not worth failing the connection.
    if let Err(e) = refresh_server_config(account).await {
        tracing::debug!(error = %e, "could not fetch the server's config");
    }
    let mut request = account
        .session
        .endpoints
        .ws
        .as_str()
        .into_client_request()
        .map_err(|e| ClientError::InvalidServerUrl(e.to_string()))?;
    let header = format!("Bearer {token}")
        .parse()
        .map_err(|_| ClientError::BadToken)?;
    request.headers_mut().insert("authorization", header);
    let connected = tokio_tungstenite::connect_async_tls_with_config(
        request,
        None,
        // TCP_NODELAY: a frame right after another (a send after `typing_stop`, a receipt after
        // a send) goes out at once instead of waiting for the server's acknowledgement.
        true,
        account.ws_connector.clone(),
    )
    .await;
    let (mut socket, _) = match connected {
        Ok(ok) => ok,
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let api = response
                .body()
                .as_deref()
                .and_then(|b| serde_json::from_slice::<ApiError>(b).ok());
            if let Some(api) = &api {
                if matches!(api.code, ErrorCode::TokenExpired | ErrorCode::InvalidToken) {
                    account.session.refresh_after(&token).await?;
                }
            }
            return Err(api.map_or_else(
                || ClientError::Network(format!("HTTP {} on connect", response.status())),
                ClientError::from,
            ));
        }
        Err(e) => return Err(ClientError::Network(e.to_string())),
    };
    match tokio::time::timeout(Duration::from_secs(10), socket.next()).await {
        Ok(Some(Ok(WsMessage::Text(text)))) if ServerFrame::is_ready(&text) => Ok((socket, token)),
        _ => Err(ClientError::Network("the server did not say ready".into())),
    }
}

/// Fetches what the server publishes about itself (its limits) into the cache.
async fn refresh_server_config(account: &Account) -> Result<()> {
    let config: ServerConfig = account
        .session
        .call(
            Method::GET,
            account.session.url(&["api", "config"]),
            None::<&()>,
        )
        .await?;
    account
        .cache
        .call(move |c| server_config::save(c, &config))
        .await
}

/// Fetches the chat list into the cache (new chats, peers, pointers, presence).
pub(crate) async fn refresh_chat_list(account: &Account) -> Result<()> {
    let list: ChatList = account
        .session
        .call(
            Method::GET,
            account.session.url(&["api", "chats"]),
            None::<&()>,
        )
        .await?;
    for chat in &list.chats {
        account.live.set_online(&chat.peer.id, chat.peer.online);
    }
    account
        .cache
        .transaction(move |tx| {
            for chat in &list.chats {
                chats::upsert_summary(tx, chat)?;
            }
            Ok(())
        })
        .await?;
    account.emit(AppEvent::ChatsChanged);
    Ok(())
}

async fn serve(
    account: &Arc<Account>,
    socket: Socket,
    token: &str,
    frames: &mut mpsc::Receiver<ClientFrame>,
    shutdown: &mut watch::Receiver<bool>,
) -> Ended {
    let (mut sink, stream) = socket.split();
    let mut stream = stream.peekable();
    let start = async {
        let cursors = account.cache.call(|c| chats::cursors(c)).await?;
        let cursors = cursors
            .into_iter()
            .map(|(chat_id, after_seq)| SyncCursor { chat_id, after_seq })
            .collect();
        send(&mut sink, &ClientFrame::Sync { cursors }).await?;
        for (chat_id, up_to_seq) in account.cache.call(|c| chats::unsent_reads(c)).await? {
            send(&mut sink, &ClientFrame::MarkRead { chat_id, up_to_seq }).await?;
        }
        // The server forgets who views what with the connection: join the chat on screen again.
        if let Some(chat_id) = account.viewing() {
            send(&mut sink, &ClientFrame::JoinChat { chat_id }).await?;
        }
        Ok::<_, ClientError>(())
    };
    if let Err(e) = start.await {
        tracing::debug!(error = %e, "starting the session failed");
        return Ended::Lost;
    }
    let mut outbox = Outbox::default();
    if outbox.flush(account, &mut sink).await.is_err() {
        return Ended::Lost;
    }
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.reset();
    let mut pong_due: Option<tokio::time::Instant> = None;
    let mut sweep = tokio::time::interval(Duration::from_secs(1));
    loop {
        let hold = outbox.next_release();
        tokio::select! {
            incoming = stream.next() => {
                let text = match incoming {
                    Some(Ok(WsMessage::Text(text))) => text,
                    Some(Ok(WsMessage::Close(frame))) => {
                        let expired = frame.is_some_and(|f| u16::from(f.code) == close::TOKEN_EXPIRED);
                        return if expired { refreshed(account, token).await } else { Ended::Lost };
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => return Ended::Lost,
                };
                let frame = match ServerFrame::parse(&text) {
                    Ok(frame) => frame,
                    Err(e) => {
                        tracing::warn!(error = %e, "skipping a frame this client cannot read");
                        continue;
                    }
                };
                let applied = match frame {
                    ServerFrame::MessageAck { client_id, message } => {
                        let mut acks = vec![(client_id, message)];
                        more_acks(&mut stream, &mut acks);
                        apply::acks(account, acks, &mut outbox).await
                    }
                    frame => apply::frame(account, frame, &mut outbox).await,
                };
                match applied {
                    Ok(Applied::Done) => {}
                    Ok(Applied::Pong) => pong_due = None,
                    Ok(Applied::Resync(cursor)) => {
                        if send(&mut sink, &ClientFrame::Sync { cursors: vec![cursor] }).await.is_err() {
                            return Ended::Lost;
                        }
                    }
                    Ok(Applied::TokenExpired) => return refreshed(account, token).await,
                    Err(e) if is_session_expired(&e) => return Ended::SessionExpired,
                    Err(e) => {
                        tracing::warn!(error = %e, "could not apply a frame; reconnecting to sync it again");
                        let _ = sink.close().await;
                        return Ended::ApplyFailed;
                    }
                }
                if outbox.flush_if_freed(account, &mut sink).await.is_err() {
                    return Ended::Lost;
                }
            }
            () = account.outbox_wake.notified() => {
                if outbox.flush(account, &mut sink).await.is_err() {
                    return Ended::Lost;
                }
            }
            () = sleep_until(hold) => {
                if outbox.flush(account, &mut sink).await.is_err() {
                    return Ended::Lost;
                }
            }
            Some(frame) = frames.recv() => {
                if send(&mut sink, &frame).await.is_err() {
                    return Ended::Lost;
                }
            }
            _ = ping.tick() => {
                if pong_due.is_some_and(|due| due <= tokio::time::Instant::now()) {
                    return Ended::Lost;
                }
                pong_due.get_or_insert(tokio::time::Instant::now() + PONG_WITHIN);
                if send(&mut sink, &ClientFrame::Ping).await.is_err() {
                    return Ended::Lost;
                }
            }
            _ = sweep.tick() => {
                for (chat_id, user_id) in account.live.expire_typing() {
                    account.emit(AppEvent::Typing { chat_id, user_id, typing: false });
                }
            }
            _ = shutdown.changed() => {
                let _ = sink.close().await;
                return Ended::Shutdown;
            }
        }
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

async fn refreshed(account: &Account, token: &str) -> Ended {
    match account.session.refresh_after(token).await {
        Ok(()) => Ended::Refreshed,
        Err(e) if is_session_expired(&e) => Ended::SessionExpired,
        Err(_) => Ended::Lost,
    }
}

type Sink = futures_util::stream::SplitSink<Socket, WsMessage>;
type Stream = futures_util::stream::Peekable<futures_util::stream::SplitStream<Socket>>;

/// Most acks stored in one cache transaction.
const ACKS_PER_TRANSACTION: usize = 256;

/// Takes the acks that have already arrived right behind the first (the answers to a flushed
/// batch), so they are stored in one transaction; stops at anything else, which stays next.
fn more_acks(stream: &mut Stream, acks: &mut Vec<(ClientId, Message)>) {
    while acks.len() < ACKS_PER_TRANSACTION {
        let Some(Some(Ok(WsMessage::Text(text)))) = Pin::new(&mut *stream).peek().now_or_never()
        else {
            return;
        };
        // The prefix check keeps a large frame (a sync batch) from being parsed here as well as
        // where it is applied; the parse decides.
        if !text.starts_with(r#"{"type":"message_ack""#) {
            return;
        }
        let Ok(ServerFrame::MessageAck { client_id, message }) = ServerFrame::parse(text) else {
            return;
        };
        // Peeked, so ready: this takes the frame just parsed.
        let _ = stream.next().now_or_never();
        acks.push((client_id, message));
    }
}

async fn send(sink: &mut Sink, frame: &ClientFrame) -> Result<()> {
    sink.send(WsMessage::Text(serde_json::to_string(frame)?.into()))
        .await
        .map_err(|e| ClientError::Network(e.to_string()))
}
