//! Flushing the outbox: each chat's oldest pending messages go out as one batch
//! (`send_messages`, or `send_message` for one), one batch in flight per chat, so a chat's
//! messages are stored in the order they were written while many chats flush at once and a
//! backlog costs a round trip per batch, not per message. The server answers each message on
//! its own; once it refuses one for a transient reason it refuses the rest of the batch too,
//! so nothing overtakes a held message. A transient refusal holds that chat back for a while;
//! a permanent one marks the message failed and lets the next one go.
//!
//! The policy is in [`Outbox::due`] (what may go now) and [`settle_refusal`] (what a refusal
//! does to the outbox row), both free of the socket so they are tested on a real cache file.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use futures_util::SinkExt;
use rusqlite::Connection;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tutorchat_shared::api::SendMessageRequest;
use tutorchat_shared::app::LocalMessage;
use tutorchat_shared::ws::{ClientFrame, MAX_SEND_BATCH};
use tutorchat_shared::{ApiError, ChatId, ClientId, ErrorCode, UserId};

use super::Sink;
use crate::account::Account;
use crate::cache::outbox;
use crate::error::{ClientError, Result};

/// Most messages of one chat sent in one frame.
const BATCH_MESSAGES: usize = MAX_SEND_BATCH;
/// Content bytes one frame may carry beyond its first message, well under the server's frame
/// limit (64 KiB by default; one message at its longest always fits alone).
const BATCH_BYTES: usize = 24 * 1024;

#[derive(Debug, Default)]
pub(super) struct Outbox {
    /// Sent on this connection and not answered yet, per chat (one batch each).
    in_flight: HashMap<ChatId, Vec<ClientId>>,
    /// Chats whose next send waits until then (after a transient refusal).
    held: HashMap<ChatId, Instant>,
    /// A chat's batch was fully answered since the last flush: its next may go.
    freed: bool,
}

impl Outbox {
    /// Sends the next batch of every chat that has nothing in flight and is not held.
    pub async fn flush(&mut self, account: &Account, sink: &mut Sink) -> Result<()> {
        self.freed = false;
        let me = account.session.user.id.clone();
        let per_chat = u32::try_from(BATCH_MESSAGES).unwrap_or(u32::MAX);
        let now = Instant::now();
        let busy: HashSet<ChatId> = self
            .in_flight
            .keys()
            .chain(
                self.held
                    .iter()
                    .filter(|(_, until)| **until > now)
                    .map(|(chat, _)| chat),
            )
            .copied()
            .collect();
        let pending = account
            .cache
            .call(move |c| outbox::next_batches(c, &busy, per_chat, &me))
            .await?;
        let due = self.due(pending, now);
        if due.is_empty() {
            return Ok(());
        }
        for batch in due {
            let frame = frame_of(batch);
            sink.feed(WsMessage::Text(serde_json::to_string(&frame)?.into()))
                .await
                .map_err(|e| ClientError::Network(e.to_string()))?;
        }
        sink.flush()
            .await
            .map_err(|e| ClientError::Network(e.to_string()))
    }

    /// [`Outbox::flush`] if an answer freed a chat since the last one (after each frame from
    /// the server: most frames free nothing, and need no look at the outbox).
    pub async fn flush_if_freed(&mut self, account: &Account, sink: &mut Sink) -> Result<()> {
        if self.freed {
            self.flush(account, sink).await
        } else {
            Ok(())
        }
    }

    /// Of the chats' oldest pending messages (by chat, oldest chat first), the batches that
    /// may be sent at `now`: for each chat with nothing in flight and not held, its oldest
    /// messages up to the batch limits. They count as in flight from here on.
    pub fn due(&mut self, pending: Vec<LocalMessage>, now: Instant) -> Vec<Vec<LocalMessage>> {
        self.held.retain(|_, until| *until > now);
        let mut due: Vec<Vec<LocalMessage>> = Vec::new();
        let mut bytes = 0;
        for message in pending {
            let chat = message.chat_id;
            if self.held.contains_key(&chat) {
                continue;
            }
            let open = due.last().is_some_and(|batch| batch[0].chat_id == chat);
            if open {
                let full = due
                    .last()
                    .is_some_and(|batch| batch.len() >= BATCH_MESSAGES)
                    || bytes + message.content.len() > BATCH_BYTES;
                if full {
                    continue;
                }
            } else {
                if self.in_flight.contains_key(&chat) {
                    continue;
                }
                due.push(Vec::new());
                bytes = 0;
            }
            bytes += message.content.len();
            self.in_flight
                .entry(chat)
                .or_default()
                .push(message.client_id.clone());
            if let Some(batch) = due.last_mut() {
                batch.push(message);
            }
        }
        due
    }

    /// The server answered (ack or error) a message we sent for this chat.
    pub fn answered(&mut self, chat: ChatId, client_id: &ClientId) {
        let Some(batch) = self.in_flight.get_mut(&chat) else {
            return;
        };
        batch.retain(|id| id != client_id);
        if batch.is_empty() {
            self.in_flight.remove(&chat);
            self.freed = true;
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

/// One chat's batch as a frame: `send_message` for one, `send_messages` for more.
fn frame_of(mut batch: Vec<LocalMessage>) -> ClientFrame {
    if batch.len() == 1 {
        if let Some(head) = batch.pop() {
            return ClientFrame::SendMessage {
                chat_id: head.chat_id,
                client_id: head.client_id,
                content: head.content,
                kind: head.kind,
                attachment_id: head.attachment.and_then(|a| a.id),
            };
        }
    }
    let chat_id = batch.first().map_or(ChatId(0), |m| m.chat_id);
    ClientFrame::SendMessages {
        chat_id,
        messages: batch
            .into_iter()
            .map(|m| SendMessageRequest {
                client_id: m.client_id,
                kind: m.kind,
                content: m.content,
                attachment_id: m.attachment.and_then(|a| a.id),
            })
            .collect(),
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
        message: Option<Box<LocalMessage>>,
    },
    /// The server no longer has the row's upload (one unsent for a day is removed): the row
    /// stays pending and its kept copy is uploaded again.
    UploadAgain { chat_id: ChatId },
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
    if error.code == ErrorCode::AttachmentUnavailable && outbox::upload_again(c, client_id)? {
        return Ok(Refusal::UploadAgain { chat_id });
    }
    outbox::fail(c, client_id, error.code, &error.message)?;
    Ok(Refusal::Failed {
        chat_id,
        message: outbox::get(c, client_id, me)?.map(Box::new),
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

    /// Each due batch's client ids.
    fn batches(due: &[Vec<LocalMessage>]) -> Vec<Vec<&str>> {
        due.iter().map(|batch| ids(batch)).collect()
    }

    fn pending(c: &Connection) -> Vec<LocalMessage> {
        let per_chat = u32::try_from(BATCH_MESSAGES).expect("small");
        outbox::next_batches(c, &HashSet::new(), per_chat, &me()).expect("pending")
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
    fn one_batch_per_chat_is_in_flight_at_a_time() {
        let (_dir, c) = two_chats();
        let mut outbox = Outbox::default();
        let now = Instant::now();
        assert_eq!(
            batches(&outbox.due(pending(&c), now)),
            [vec!["a1", "a2"], vec!["b1"]]
        );
        enqueue(&c, 2, "b2");
        assert!(
            outbox.due(pending(&c), now).is_empty(),
            "nothing more until answered"
        );
        outbox.answered(ChatId(1), &ClientId::new("a1"));
        assert!(
            outbox.due(pending(&c), now).is_empty(),
            "a chat is free only when its whole batch is answered"
        );
        // b1 acked: storing it settles its row; then the chat is answered.
        outbox::remove(&c, &ClientId::new("b1")).expect("settled");
        outbox.answered(ChatId(2), &ClientId::new("b1"));
        assert!(outbox.freed, "chat 2's batch is answered");
        assert_eq!(
            batches(&outbox.due(pending(&c), now)),
            [vec!["b2"]],
            "b2 goes; chat 1 waits for a2"
        );
    }

    #[test]
    fn a_backlog_goes_in_bounded_batches_in_the_order_written() {
        let (_dir, c) = two_chats();
        for i in 0..100 {
            enqueue(&c, 2, &format!("b-{i:03}"));
        }
        let mut outbox = Outbox::default();
        let due = outbox.due(pending(&c), Instant::now());
        assert_eq!(due.len(), 2);
        assert_eq!(ids(&due[0]), ["a1", "a2"]);
        let chat_two = ids(&due[1]);
        assert_eq!(chat_two.len(), BATCH_MESSAGES);
        assert_eq!(chat_two[0], "b1");
        assert_eq!(
            chat_two[1..],
            (0..BATCH_MESSAGES - 1)
                .map(|i| format!("b-{i:03}"))
                .collect::<Vec<_>>()
        );

        let long = "x".repeat(BATCH_BYTES / 2 + 1);
        let (_dir, c) = two_chats();
        for i in 0..3 {
            outbox::enqueue(
                &c,
                ChatId(2),
                &ClientId::new(format!("long-{i}")),
                MessageKind::Text,
                &long,
                chrono::Utc::now(),
                &me(),
            )
            .expect("queued");
        }
        let due = Outbox::default().due(pending(&c), Instant::now());
        assert_eq!(
            ids(&due[1]),
            ["b1", "long-0"],
            "a batch stays under the byte budget"
        );
        match frame_of(due[0].clone()) {
            ClientFrame::SendMessages { chat_id, messages } => {
                assert_eq!(chat_id, ChatId(1));
                assert_eq!(messages.len(), 2);
            }
            other => panic!("two messages go as send_messages, not {other:?}"),
        }
        let single = vec![due[1][0].clone()];
        assert!(matches!(frame_of(single), ClientFrame::SendMessage { .. }));
    }

    #[test]
    fn a_transient_refusal_holds_the_chat_and_keeps_the_message_first_in_line() {
        let (_dir, c) = two_chats();
        let mut outbox = Outbox::default();
        let now = Instant::now();
        outbox.due(pending(&c), now);

        // The server refuses a1 for the rate, and so a2 after it.
        for id in ["a1", "a2"] {
            let error = refusal(ErrorCode::RateLimited, id).with_retry_after(3);
            let verdict = settle_refusal(&c, &ClientId::new(id), &error, &me()).expect("settled");
            assert_eq!(
                verdict,
                Refusal::Hold {
                    chat_id: ChatId(1),
                    wait: Duration::from_secs(3)
                }
            );
            outbox.answered(ChatId(1), &ClientId::new(id));
            outbox.hold(ChatId(1), now + Duration::from_secs(3));
        }
        outbox.answered(ChatId(2), &ClientId::new("b1"));

        let heads = pending(&c);
        assert_eq!(
            ids(&heads),
            ["a1", "a2", "b1"],
            "a1 still heads chat 1, pending"
        );
        assert_eq!(heads[0].state, DeliveryState::Pending);
        assert_eq!(
            batches(&outbox.due(heads.clone(), now + Duration::from_secs(1))),
            [vec!["b1"]],
            "chat 1 is held; a2 does not overtake a1"
        );
        outbox.answered(ChatId(2), &ClientId::new("b1"));
        assert_eq!(
            batches(&outbox.due(heads, now + Duration::from_secs(3))),
            [vec!["a1", "a2"], vec!["b1"]],
            "after the hold, a1 goes again, first"
        );
        assert_eq!(outbox::attempts(&c, &ClientId::new("a1")).expect("n"), 1);
    }

    #[test]
    fn a_permanent_refusal_fails_the_message_and_lets_the_next_one_go() {
        let (_dir, c) = two_chats();
        let mut outbox = Outbox::default();
        let now = Instant::now();
        outbox.due(pending(&c), now);

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
        outbox.answered(ChatId(1), &ClientId::new("a2"));

        let heads = pending(&c);
        assert_eq!(ids(&heads), ["a2", "b1"], "a1 no longer pending");
        assert_eq!(
            batches(&outbox.due(heads, now)),
            [vec!["a2"]],
            "a2 goes again (it was answered, not stored, in this test); b1 is still in flight"
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
