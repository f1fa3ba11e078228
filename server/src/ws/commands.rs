//! One client frame → one service call → the reply frame (if any). The services hold the
//! rules; this only translates.

use axum::extract::ws::WebSocket;
use tutorchat_shared::api::{MarkReadRequest, SendMessageRequest};
use tutorchat_shared::ws::{ClientFrame, ServerFrame, MAX_SEND_BATCH};
use tutorchat_shared::{ApiError, ChatId, ErrorCode};

use super::session::{Session, WsResult};
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
                if !session.viewing.contains(chat_id) {
                    session.viewing.push(*chat_id);
                }
            }
            joined.map(Some)
        }
        ClientFrame::LeaveChat { chat_id } => {
            live::leave(&session.state, chat_id, session.conn);
            session.viewing.retain(|c| *c != chat_id);
            Ok(None)
        }
        ClientFrame::SendMessage {
            chat_id,
            client_id,
            content,
            kind,
        } => {
            let started = std::time::Instant::now();
            let req = SendMessageRequest {
                client_id: client_id.clone(),
                kind,
                content,
            };
            chats::send(
                &session.state,
                &session.user,
                chat_id,
                req,
                Some(session.conn),
            )
            .await
            .map(|sent| {
                session.state.metrics.ack(started.elapsed());
                Some(ServerFrame::MessageAck {
                    client_id,
                    message: sent.message,
                })
            })
        }
        ClientFrame::SendMessages { chat_id, messages } => {
            return send_batch(session, socket, chat_id, messages).await;
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

/// `send_messages`: one answer per message, in order, written in one flush.
async fn send_batch(
    session: &mut Session,
    socket: &mut WebSocket,
    chat_id: ChatId,
    messages: Vec<SendMessageRequest>,
) -> WsResult {
    if messages.is_empty() || messages.len() > MAX_SEND_BATCH {
        let error = ApiError::new(
            ErrorCode::Validation,
            format!("send_messages carries 1 to {MAX_SEND_BATCH} messages"),
        )
        .with_field("messages")
        .with_chat(chat_id);
        return session.send(socket, &ServerFrame::Error(error)).await;
    }
    let started = std::time::Instant::now();
    let answers = chats::send_batch(
        &session.state,
        &session.user,
        chat_id,
        messages,
        Some(session.conn),
    )
    .await;
    let elapsed = started.elapsed();
    let frames = answers.into_iter().map(|(client_id, answer)| match answer {
        Ok(sent) => {
            session.state.metrics.ack(elapsed);
            ServerFrame::MessageAck {
                client_id,
                message: sent.message,
            }
        }
        Err(error) => {
            if !matches!(error, crate::error::Error::Api(_)) {
                tracing::error!(error = %error, "sending failed");
            }
            ServerFrame::Error(error.to_api_error())
        }
    });
    session.send_all(socket, frames).await
}
