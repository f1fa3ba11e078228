//! One client frame → one service call → the reply frame (if any). The services hold the
//! rules; this only translates.

use axum::extract::ws::WebSocket;
use futures_util::stream::FuturesUnordered;
use sync_wrapper::SyncWrapper;
use tutorchat_shared::api::{MarkReadRequest, SendMessageRequest};
use tutorchat_shared::ws::{ClientFrame, ServerFrame, MAX_SEND_BATCH};
use tutorchat_shared::{ApiError, ChatId, ErrorCode};

use super::session::{Send, Session, WsResult, MAX_SENDS_IN_FLIGHT};
use crate::error::Result;
use crate::service::{chats, live};

pub(super) async fn dispatch(
    session: &mut Session,
    socket: &mut WebSocket,
    frame: ClientFrame,
) -> WsResult {
    let outcome: Result<Option<ServerFrame>> = match frame {
        ClientFrame::Auth { .. } => Ok(Some(ServerFrame::Error(ApiError::new(
            ErrorCode::MalformedFrame,
            "this connection is already authenticated",
        )))),
        ClientFrame::JoinChat { chat_id } => {
            let joined = live::join(
                &session.state,
                &session.user,
                chat_id,
                session.conn,
                &session.queue,
            )
            .await;
            if let Ok(ServerFrame::ChatJoined { chat_id, .. }) = &joined {
                let viewing = &mut session.active().viewing;
                if !viewing.contains(chat_id) {
                    viewing.push(*chat_id);
                }
            }
            joined.map(Some)
        }
        ClientFrame::LeaveChat { chat_id } => {
            live::leave(&session.state, chat_id, session.conn);
            session.active().viewing.retain(|c| *c != chat_id);
            Ok(None)
        }
        ClientFrame::SendMessage {
            chat_id,
            client_id,
            content,
            kind,
            attachment_id,
        } => {
            let request = SendMessageRequest {
                client_id,
                kind,
                content,
                attachment_id,
            };
            return start_send(session, socket, chat_id, vec![request]).await;
        }
        ClientFrame::SendMessages { chat_id, messages } => {
            if messages.is_empty() || messages.len() > MAX_SEND_BATCH {
                let error = ApiError::new(
                    ErrorCode::Validation,
                    format!("send_messages carries 1 to {MAX_SEND_BATCH} messages"),
                )
                .with_field("messages")
                .with_chat(chat_id);
                return session.send(socket, &ServerFrame::Error(error)).await;
            }
            return start_send(session, socket, chat_id, messages).await;
        }
        ClientFrame::TypingStart { chat_id } => {
            live::typing(&session.state, &session.user, chat_id, true)
                .await
                .map(|()| None)
        }
        ClientFrame::TypingStop { chat_id } => {
            live::typing(&session.state, &session.user, chat_id, false)
                .await
                .map(|()| None)
        }
        ClientFrame::MarkRead { chat_id, up_to_seq } => {
            // The `message_read` broadcast reaches this connection too.
            chats::mark_read(
                &session.state,
                &session.user,
                chat_id,
                MarkReadRequest { up_to_seq },
            )
            .await
            .map(|_| None)
        }
        ClientFrame::Sync { cursors } => return super::sync::run(session, socket, cursors).await,
        ClientFrame::Ping => Ok(Some(ServerFrame::Pong)),
    };
    match outcome {
        Ok(Some(reply)) => session.send(socket, &reply).await,
        Ok(None) => Ok(()),
        Err(error) => session.send_error(socket, error).await,
    }
}

/// `send_message` and `send_messages`: the send goes to the store, and the connection reads on
/// while it commits; its answers (one per message, in order) are written when it is done. A
/// send for a chat that already has one in flight on this connection — or past
/// [`MAX_SENDS_IN_FLIGHT`] — first waits for the earlier ones, so a chat's sends are stored in
/// the order they came.
async fn start_send(
    session: &mut Session,
    socket: &mut WebSocket,
    chat_id: ChatId,
    requests: Vec<SendMessageRequest>,
) -> WsResult {
    while {
        let sending = &session.active().sending_chats;
        sending.contains(&chat_id) || sending.len() >= MAX_SENDS_IN_FLIGHT
    } {
        let (chat, frames) = session.next_sent().await;
        session.finish_send(socket, chat, frames).await?;
    }
    let (state, user, conn) = (session.state.clone(), session.user.clone(), session.conn);
    let send: Send = Box::pin(async move {
        let started = std::time::Instant::now();
        let answers = chats::send_batch(&state, &user, chat_id, requests, Some(conn)).await;
        let elapsed = started.elapsed();
        let frames = answers
            .into_iter()
            .map(|(client_id, answer)| match answer {
                Ok(sent) => {
                    state.metrics.ack(elapsed);
                    ServerFrame::MessageAck {
                        client_id,
                        message: sent.message,
                    }
                }
                Err(error) => ServerFrame::Error(error.into_answer()),
            })
            .collect();
        (chat_id, frames)
    });
    let active = session.active();
    active
        .sending
        .get_or_insert_with(|| SyncWrapper::new(FuturesUnordered::new()))
        .get_mut()
        .push(send);
    active.sending_chats.push(chat_id);
    Ok(())
}
