//! Flushing the outbox: the oldest pending message of each chat goes out, one in flight per
//! chat, so a chat's messages are stored in the order they were written while many chats
//! flush at once. A transient refusal holds that chat back for a while; a permanent one marks
//! the message failed and lets the next one go.

use std::collections::HashMap;

use futures_util::SinkExt;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tutorchat_shared::ws::ClientFrame;
use tutorchat_shared::{ChatId, ClientId};

use super::Sink;
use crate::account::Account;
use crate::cache::outbox;
use crate::error::{ClientError, Result};

#[derive(Debug, Default)]
pub(super) struct Outbox {
    /// Sent on this connection and not answered yet, per chat.
    in_flight: HashMap<ChatId, ClientId>,
    /// Chats whose next send waits until then (after a transient refusal).
    held: HashMap<ChatId, Instant>,
}

impl Outbox {
    /// Sends the head of every chat that has nothing in flight and is not held.
    pub async fn flush(&mut self, account: &Account, sink: &mut Sink) -> Result<()> {
        let now = Instant::now();
        self.held.retain(|_, until| *until > now);
        let me = account.session.user.id.clone();
        let heads = account.cache.call(move |c| outbox::heads(c, &me)).await?;
        let mut sent = false;
        for head in heads {
            if self.in_flight.contains_key(&head.chat_id) || self.held.contains_key(&head.chat_id) {
                continue;
            }
            let frame = ClientFrame::SendMessage {
                chat_id: head.chat_id,
                client_id: head.client_id.clone(),
                content: head.content,
                kind: head.kind,
            };
            let text =
                serde_json::to_string(&frame).map_err(|e| ClientError::Config(e.to_string()))?;
            sink.feed(WsMessage::Text(text.into()))
                .await
                .map_err(|e| ClientError::Network(e.to_string()))?;
            self.in_flight.insert(head.chat_id, head.client_id);
            sent = true;
        }
        if sent {
            sink.flush()
                .await
                .map_err(|e| ClientError::Network(e.to_string()))?;
        }
        Ok(())
    }

    /// The server answered (ack or error) the message in flight for this chat.
    pub fn answered(&mut self, chat: ChatId, client_id: &ClientId) {
        if self.in_flight.get(&chat) == Some(client_id) {
            self.in_flight.remove(&chat);
        }
    }

    /// Holds a chat back until `until`.
    pub fn hold(&mut self, chat: ChatId, until: Instant) {
        self.held.insert(chat, until);
    }

    /// When the earliest held chat may send again.
    pub fn next_release(&self) -> Option<Instant> {
        self.held.values().min().copied()
    }
}
