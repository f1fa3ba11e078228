//! Flushing the outbox: the oldest pending message of each chat goes out, one in flight per
//! chat, so a chat's messages are stored in the order they were written while many chats
//! flush at once. A transient refusal holds that chat back for a while; a permanent one marks
//! the message failed and lets the next one go.
//!
//! The policy is in [`Outbox::due`] (what may go now) and [`settle_refusal`] (what a refusal
//! does to the outbox row), both free of the socket so they are tested on a real cache file.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::SinkExt;
use rusqlite::Connection;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tutorchat_shared::app::LocalMessage;
use tutorchat_shared::ws::ClientFrame;
use tutorchat_shared::{ApiError, ChatId, ClientId, UserId};

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
        let me = account.session.user.id.clone();
        let heads = account.cache.call(move |c| outbox::heads(c, &me)).await?;
        let due = self.due(heads, Instant::now());
        if due.is_empty() {
            return Ok(());
        }
        for head in due {
            let frame = ClientFrame::SendMessage {
                chat_id: head.chat_id,
                client_id: head.client_id,
                content: head.content,
                kind: head.kind,
            };
            sink.feed(WsMessage::Text(serde_json::to_string(&frame)?.into()))
                .await
                .map_err(|e| ClientError::Network(e.to_string()))?;
        }
        sink.flush()
            .await
            .map_err(|e| ClientError::Network(e.to_string()))
    }

    /// Of the chats' heads (oldest pending first, one per chat), those that may be sent at
    /// `now`: nothing of their chat in flight and the chat not held. They count as in flight
    /// from here on.
    pub fn due(&mut self, heads: Vec<LocalMessage>, now: Instant) -> Vec<LocalMessage> {
        self.held.retain(|_, until| *until > now);
        let mut due = Vec::new();
        for head in heads {
            if self.in_flight.contains_key(&head.chat_id) || self.held.contains_key(&head.chat_id) {
                continue;
            }
            self.in_flight.insert(head.chat_id, head.client_id.clone());
            due.push(head);
        }
        due
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

/// What a refusal of one of our sends did to its outbox row.
#[derive(Debug, PartialEq)]
pub(super) enum Refusal {
    /// Not one of ours (any more): nothing to do.
    Unknown,
    /// Transient: the row stays pending at the head of its chat, which waits this long.
    Hold { chat_id: ChatId, wait: Duration },
    /// Permanent: the row is marked failed (and stops heading its chat); here as it is now.
    Failed {
        chat_id: ChatId,
        message: Option<LocalMessage>,
    },
}

/// Applies the server's refusal of the message `error.client_id` to the outbox.
pub(super) fn settle_refusal(
    c: &Connection,
    client_id: &ClientId,
    error: &ApiError,
    me: &UserId,
) -> Result<Refusal> {
    let chat_id = match error.chat_id {
        Some(chat) => Some(chat),
        None => outbox::chat_of(c, client_id)?,
    };
    let Some(chat_id) = chat_id else {
        return Ok(Refusal::Unknown);
    };
    if error.code.is_transient() {
        outbox::attempted(c, client_id)?;
        let attempts = outbox::attempts(c, client_id)?;
        let wait = error
            .retry_after_secs
            .map(Duration::from_secs)
            .unwrap_or_else(|| super::backoff(attempts));
        return Ok(Refusal::Hold { chat_id, wait });
    }
    outbox::fail(c, client_id, error.code, &error.message)?;
    Ok(Refusal::Failed {
        chat_id,
        message: outbox::get(c, client_id, me)?,
    })
}

#[cfg(test)]
mod tests {
    use tutorchat_shared::app::DeliveryState;
    use tutorchat_shared::{ErrorCode, MessageKind};

    use super::*;
    use crate::cache::chats;
    use crate::cache::testing::{chat, me, temp_cache};

    fn enqueue(c: &Connection, chat: i64, client_id: &str) {
        outbox::enqueue(
            c,
            ChatId(chat),
            &ClientId::new(client_id),
            MessageKind::Text,
            client_id,
            chrono::Utc::now(),
            &me(),
        )
        .expect("queued");
    }

    fn ids(messages: &[LocalMessage]) -> Vec<&str> {
        messages.iter().map(|m| m.client_id.as_str()).collect()
    }

    /// Chat 1 with `a1`, `a2` waiting; chat 2 with `b1`.
    fn two_chats() -> (tempfile::TempDir, rusqlite::Connection) {
        let (dir, cache) = temp_cache();
        drop(cache);
        let c = rusqlite::Connection::open(dir.path().join("cache.db")).expect("open");
        for id in [1, 2] {
            chats::upsert_summary(&c, &chat(id)).expect("chat");
        }
        enqueue(&c, 1, "a1");
        enqueue(&c, 1, "a2");
        enqueue(&c, 2, "b1");
        (dir, c)
    }

    fn refusal(code: ErrorCode, client_id: &str) -> ApiError {
        ApiError::new(code, "no").with_client_id(ClientId::new(client_id))
    }

    #[test]
    fn one_message_per_chat_is_in_flight_at_a_time() {
        let (_dir, c) = two_chats();
        let mut outbox = Outbox::default();
        let now = Instant::now();
        let heads = outbox::heads(&c, &me()).expect("heads");
        assert_eq!(ids(&outbox.due(heads.clone(), now)), ["a1", "b1"]);
        assert!(
            outbox.due(heads, now).is_empty(),
            "nothing more until answered"
        );
    }

    #[test]
    fn a_transient_refusal_holds_the_chat_and_keeps_the_message_first_in_line() {
        let (_dir, c) = two_chats();
        let mut outbox = Outbox::default();
        let now = Instant::now();
        outbox.due(outbox::heads(&c, &me()).expect("heads"), now);

        let error = refusal(ErrorCode::RateLimited, "a1").with_retry_after(3);
        let verdict = settle_refusal(&c, &ClientId::new("a1"), &error, &me()).expect("settled");
        assert_eq!(
            verdict,
            Refusal::Hold {
                chat_id: ChatId(1),
                wait: Duration::from_secs(3)
            }
        );
        outbox.answered(ChatId(1), &ClientId::new("a1"));
        outbox.hold(ChatId(1), now + Duration::from_secs(3));
        outbox.answered(ChatId(2), &ClientId::new("b1"));

        let heads = outbox::heads(&c, &me()).expect("heads");
        assert_eq!(ids(&heads), ["a1", "b1"], "a1 still heads chat 1, pending");
        assert_eq!(heads[0].state, DeliveryState::Pending);
        assert_eq!(
            ids(&outbox.due(heads.clone(), now + Duration::from_secs(1))),
            ["b1"],
            "chat 1 is held; a2 does not overtake a1"
        );
        outbox.answered(ChatId(2), &ClientId::new("b1"));
        assert_eq!(
            ids(&outbox.due(heads, now + Duration::from_secs(3))),
            ["a1", "b1"],
            "after the hold, a1 goes again"
        );
        assert_eq!(outbox::attempts(&c, &ClientId::new("a1")).expect("n"), 1);
    }

    #[test]
    fn a_permanent_refusal_fails_the_message_and_lets_the_next_one_go() {
        let (_dir, c) = two_chats();
        let mut outbox = Outbox::default();
        let now = Instant::now();
        outbox.due(outbox::heads(&c, &me()).expect("heads"), now);

        let error = refusal(ErrorCode::Blocked, "a1").with_chat(ChatId(1));
        let Refusal::Failed { chat_id, message } =
            settle_refusal(&c, &ClientId::new("a1"), &error, &me()).expect("settled")
        else {
            panic!("a permanent refusal fails the message");
        };
        assert_eq!(chat_id, ChatId(1));
        let message = message.expect("the row stays, failed");
        assert_eq!(message.state, DeliveryState::Failed);
        assert_eq!(
            message.failure.map(|f| f.code),
            Some(ErrorCode::Blocked),
            "with its reason"
        );
        outbox.answered(ChatId(1), &ClientId::new("a1"));

        let heads = outbox::heads(&c, &me()).expect("heads");
        assert_eq!(
            ids(&outbox.due(heads, now)),
            ["a2"],
            "a2 goes; b1 is still in flight"
        );
    }

    #[test]
    fn a_refusal_of_a_message_no_longer_in_the_outbox_changes_nothing() {
        let (_dir, c) = two_chats();
        let error = refusal(ErrorCode::Blocked, "gone");
        assert_eq!(
            settle_refusal(&c, &ClientId::new("gone"), &error, &me()).expect("settled"),
            Refusal::Unknown
        );
        assert_eq!(outbox::all(&c, &me()).expect("all").len(), 3);
    }
}
