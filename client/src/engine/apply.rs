//! Applying one server frame: one handler per frame, each one cache transaction, then the
//! events that describe it.
//!
//! The storing steps of the message frames ([`store_received`], [`store_batch`]) take a plain
//! connection, so the rules they carry — the cursor moves only over contiguous stored seqs, a
//! live message beyond a gap asks for the gap again — are tested on a real cache file.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use reqwest::Method;
use rusqlite::Connection;
use tutorchat_shared::app::{AppEvent, ConnectionState, LocalMessage};
use tutorchat_shared::ws::{ServerFrame, SyncCursor};
use tutorchat_shared::{
    ApiError, ChatId, ChatSummary, ClientId, ErrorCode, Message, ReadPointer, UserId,
};

use super::flush::{self, Outbox, Refusal};
use crate::account::Account;
use crate::cache::{chats, messages};
use crate::error::{ClientError, Result};

/// What the connection loop should do after a frame.
pub(super) enum Applied {
    Done,
    Pong,
    /// A gap was found: ask for this chat again from its cursor.
    Resync(SyncCursor),
    /// The server ended the session's token: refresh and reconnect.
    TokenExpired,
}

/// Applies one frame. An error means it could not be applied (the cache refused, or a lookup
/// it needed failed): the caller must not go on past it, but reconnect and sync again from the
/// cursors, which only ever moved over stored messages.
pub(super) async fn frame(
    account: &Arc<Account>,
    frame: ServerFrame,
    outbox: &mut Outbox,
) -> Result<Applied> {
    match frame {
        ServerFrame::Ready { .. } => Ok(Applied::Done),
        ServerFrame::Pong => Ok(Applied::Pong),
        ServerFrame::MessageAck { client_id, message } => {
            acks(account, vec![(client_id, message)], outbox).await
        }
        ServerFrame::MessageReceived { message } => received(account, message).await,
        ServerFrame::ChatCreated { chat } | ServerFrame::ChatUpdated { chat } => {
            chat_changed(account, chat).await
        }
        ServerFrame::SyncBatch {
            chat_id,
            messages,
            read_pointers,
            ..
        } => sync_batch(account, chat_id, messages, read_pointers).await,
        ServerFrame::SyncComplete => Ok(sync_complete(account)),
        ServerFrame::MessageRead {
            chat_id,
            user_id,
            up_to_seq,
            ..
        } => message_read(account, chat_id, user_id, up_to_seq).await,
        ServerFrame::UserOnline { user_id } => Ok(presence(account, user_id, true)),
        ServerFrame::UserOffline { user_id } => Ok(presence(account, user_id, false)),
        ServerFrame::TypingIndicator {
            chat_id,
            user_id,
            typing,
        } => Ok(typing_indicator(account, chat_id, user_id, typing)),
        ServerFrame::ChatJoined {
            chat_id,
            online,
            typing,
            read_pointers,
            ..
        } => chat_joined(account, chat_id, online, typing, read_pointers).await,
        ServerFrame::Error(error) => refused(account, error, outbox).await,
    }
}

/// `message_ack`s — one, or several that arrived together (a flushed batch): the server stored
/// our messages. Stored in one cache transaction, each settling its outbox row, in order.
pub(super) async fn acks(
    account: &Account,
    acks: Vec<(ClientId, Message)>,
    outbox: &mut Outbox,
) -> Result<Applied> {
    let mut chats_acked: Vec<ChatId> = Vec::new();
    for (client_id, message) in &acks {
        outbox.answered(message.chat_id, client_id);
        if !chats_acked.contains(&message.chat_id) {
            chats_acked.push(message.chat_id);
        }
    }
    let mut known = Vec::with_capacity(chats_acked.len());
    for chat_id in chats_acked {
        if ensure_chat(account, chat_id).await? {
            known.push(chat_id);
        }
    }
    let me = account.session.user.id.clone();
    let stored = account
        .cache
        .transaction(move |tx| {
            let mut stored = Vec::with_capacity(acks.len());
            for (_, message) in acks.iter().filter(|(_, m)| known.contains(&m.chat_id)) {
                let chat_id = message.chat_id;
                messages::store(tx, chat_id, std::slice::from_ref(message), &me)?;
                // The server moved our read pointer to our own message (sending means
                // reading).
                chats::set_read(tx, chat_id, true, message.seq)?;
                stored.push(messages::local_view(tx, message, &me)?);
            }
            Ok(stored)
        })
        .await?;
    if stored.is_empty() {
        return Ok(Applied::Done);
    }
    for local in stored {
        account.emit(AppEvent::MessageUpserted { message: local });
    }
    account.emit(AppEvent::ChatsChanged);
    Ok(Applied::Done)
}

/// What storing one live message did.
#[derive(Debug)]
pub(super) struct Received {
    /// New here, or it settled an outbox row of ours: worth an event.
    changed: bool,
    local: LocalMessage,
    /// The chat's cursor after storing.
    cursor: u64,
    /// (peer name, course title), for a notification; `None`: do not notify (muted).
    peer: Option<(String, String)>,
}

impl Received {
    /// The gap rule: a message beyond the cursor means something between them is missing,
    /// so the chat is asked for again from its cursor.
    pub(super) fn resync(&self) -> Option<SyncCursor> {
        let seq = self.local.seq.unwrap_or(0);
        (seq > self.cursor).then_some(SyncCursor {
            chat_id: self.local.chat_id,
            after_seq: self.cursor,
        })
    }
}

/// Stores a live message (from the peer, or from another device of ours) in a transaction.
pub(super) fn store_received(c: &Connection, message: &Message, me: &UserId) -> Result<Received> {
    let chat_id = message.chat_id;
    let stored = messages::store(c, chat_id, std::slice::from_ref(message), me)?;
    if &message.sender_id == me {
        // Sent from another of our devices: the server moved our read pointer to it.
        chats::set_read(c, chat_id, true, message.seq)?;
    }
    let (cursor, _) = messages::run_bounds(c, chat_id)?;
    Ok(Received {
        changed: !stored.fresh.is_empty() || !stored.settled.is_empty(),
        local: messages::local_view(c, message, me)?,
        cursor,
        peer: chats::notification_names(c, chat_id)?,
    })
}

/// `message_received`: a message from the other participant, or from another device of ours.
async fn received(account: &Account, message: Message) -> Result<Applied> {
    let me = account.session.user.id.clone();
    let chat_id = message.chat_id;
    if !ensure_chat(account, chat_id).await? {
        return Ok(Applied::Done);
    }
    let me2 = me.clone();
    let has_attachment = message.attachment.is_some();
    let received = account
        .cache
        .transaction(move |tx| store_received(tx, &message, &me2))
        .await?;
    if has_attachment {
        // Its thumbnail is fetched into the cache with it.
        account.transfers_wake.notify_one();
    }
    let resync = received.resync();
    if received.changed {
        let local = received.local;
        account.emit(AppEvent::MessageUpserted {
            message: local.clone(),
        });
        if local.sender_id != me {
            account.live.set_typing(chat_id, &local.sender_id, false);
            if let Some((sender_name, course_title)) = received.peer {
                account.emit(AppEvent::Incoming {
                    message: local,
                    sender_name,
                    course_title,
                });
            }
        }
        account.emit(AppEvent::ChatsChanged);
        emit_unread(account, chat_id).await?;
    }
    Ok(resync.map_or(Applied::Done, Applied::Resync))
}

/// What storing one sync batch did.
#[derive(Debug)]
pub(super) struct Batch {
    /// Messages new to the cache.
    fresh: usize,
    /// Ours that reached the server without their ack being applied: the pending echo
    /// becomes the stored message.
    settled: Vec<LocalMessage>,
    /// The newest few that are still news (for notifications).
    recent: Vec<LocalMessage>,
    /// (peer name, course title) for notifications; `None`: do not notify (muted).
    peer: Option<(String, String)>,
}

/// Stores a sync batch and its read pointers in a transaction.
pub(super) fn store_batch(
    c: &Connection,
    chat_id: ChatId,
    batch: &[Message],
    pointers: &[ReadPointer],
    me: &UserId,
) -> Result<Batch> {
    let stored = messages::store(c, chat_id, batch, me)?;
    apply_pointers(c, chat_id, pointers, me)?;
    let my_read = chats::pointers(c, chat_id)?.map_or(0, |(_, mine, _)| mine);
    let local = |m: &Message| messages::local_view(c, m, me);
    Ok(Batch {
        fresh: stored.fresh.len(),
        recent: recent_unread(&stored.fresh, me, my_read)
            .iter()
            .map(local)
            .collect::<Result<_>>()?,
        settled: stored.settled.iter().map(local).collect::<Result<_>>()?,
        peer: chats::notification_names(c, chat_id)?,
    })
}

/// `sync_batch`: messages after our cursor, ascending.
async fn sync_batch(
    account: &Account,
    chat_id: ChatId,
    batch: Vec<Message>,
    pointers: Vec<ReadPointer>,
) -> Result<Applied> {
    if !ensure_chat(account, chat_id).await? {
        return Ok(Applied::Done);
    }
    let me = account.session.user.id.clone();
    let stored = account
        .cache
        .transaction(move |tx| store_batch(tx, chat_id, &batch, &pointers, &me))
        .await?;
    if stored.fresh > 0 {
        account.emit(AppEvent::HistoryChanged { chat_id });
        account.transfers_wake.notify_one();
    }
    if !stored.settled.is_empty() {
        for message in stored.settled {
            account.emit(AppEvent::MessageUpserted { message });
        }
        account.emit(AppEvent::ChatsChanged);
    }
    // Messages that arrived while the device was away and are still news: notify (unless
    // the chat is muted).
    if let Some((sender_name, course_title)) = stored.peer {
        for message in stored.recent {
            account.emit(AppEvent::Incoming {
                message,
                sender_name: sender_name.clone(),
                course_title: course_title.clone(),
            });
        }
    }
    emit_unread(account, chat_id).await?;
    Ok(Applied::Done)
}

/// `sync_complete`: caught up; live frames follow.
fn sync_complete(account: &Account) -> Applied {
    account.online.store(true, Ordering::Relaxed);
    // Uploads waiting for the network go now.
    account.transfers_wake.notify_one();
    account.emit(AppEvent::ChatsChanged);
    account.emit(AppEvent::Connection {
        state: ConnectionState::Online,
    });
    Applied::Done
}

/// `chat_created`: a chat of ours, new here.
async fn chat_changed(account: &Account, chat: ChatSummary) -> Result<Applied> {
    account.live.set_online(&chat.peer.id, chat.peer.online);
    let chat_id = chat.id;
    account
        .cache
        .call(move |c| chats::upsert_summary(c, &chat))
        .await?;
    account.emit(AppEvent::ChatsChanged);
    // Muting changes what the badge counts.
    emit_unread(account, chat_id).await?;
    Ok(Applied::Done)
}

/// `message_read`: a read pointer moved (the peer's, or ours on another device).
async fn message_read(
    account: &Account,
    chat_id: ChatId,
    user_id: UserId,
    up_to_seq: u64,
) -> Result<Applied> {
    let mine = user_id == account.session.user.id;
    account
        .cache
        .call(move |c| chats::set_read(c, chat_id, mine, up_to_seq))
        .await?;
    account.emit(AppEvent::ReadReceipt {
        chat_id,
        user_id,
        up_to_seq,
    });
    if mine {
        emit_unread(account, chat_id).await?;
    }
    Ok(Applied::Done)
}

/// `user_online` / `user_offline`.
fn presence(account: &Account, user_id: UserId, online: bool) -> Applied {
    account.live.set_online(&user_id, online);
    account.emit(AppEvent::Presence { user_id, online });
    Applied::Done
}

/// `typing_indicator`.
fn typing_indicator(account: &Account, chat_id: ChatId, user_id: UserId, typing: bool) -> Applied {
    account.live.set_typing(chat_id, &user_id, typing);
    account.emit(AppEvent::Typing {
        chat_id,
        user_id,
        typing,
    });
    Applied::Done
}

/// `chat_joined`: the live state of a chat this device now views.
async fn chat_joined(
    account: &Account,
    chat_id: ChatId,
    online: Vec<UserId>,
    typing: Vec<UserId>,
    pointers: Vec<ReadPointer>,
) -> Result<Applied> {
    for user in &online {
        account.live.set_online(user, true);
    }
    for user in typing {
        account.live.set_typing(chat_id, &user, true);
    }
    let me = account.session.user.id.clone();
    account
        .cache
        .call(move |c| apply_pointers(c, chat_id, &pointers, &me))
        .await?;
    Ok(Applied::Done)
}

/// `error`: for one of our sends, hold its chat (transient) or mark it failed (permanent).
async fn refused(account: &Account, error: ApiError, outbox: &mut Outbox) -> Result<Applied> {
    if error.code == ErrorCode::TokenExpired {
        return Ok(Applied::TokenExpired);
    }
    let Some(client_id) = error.client_id.clone() else {
        tracing::warn!(code = %error.code, message = %error.message, "the server refused a frame");
        return Ok(Applied::Done);
    };
    let (cid, me) = (client_id.clone(), account.session.user.id.clone());
    let named_chat = error.chat_id;
    let refusal = account
        .cache
        .call(move |c| flush::settle_refusal(c, &cid, &error, &me))
        .await?;
    match refusal {
        Refusal::Unknown => {
            // No longer in the outbox (settled or discarded meanwhile): still answered.
            if let Some(chat_id) = named_chat {
                outbox.answered(chat_id, &client_id);
            }
        }
        Refusal::Hold { chat_id, wait } => {
            outbox.answered(chat_id, &client_id);
            outbox.hold(chat_id, tokio::time::Instant::now() + wait);
        }
        Refusal::Failed { chat_id, message } => {
            outbox.answered(chat_id, &client_id);
            if let Some(message) = message {
                account.emit(AppEvent::MessageUpserted { message: *message });
                account.emit(AppEvent::ChatsChanged);
            }
        }
        Refusal::UploadAgain { chat_id } => {
            outbox.answered(chat_id, &client_id);
            account.transfers_wake.notify_one();
        }
    }
    Ok(Applied::Done)
}

/// How many caught-up messages may notify per batch, and how old they may be.
const CATCH_UP_NOTIFY_MAX: usize = 3;
const CATCH_UP_NOTIFY_WITHIN_MINUTES: i64 = 15;

/// The newest few of `fresh` that are from the peer, unread, and recent.
fn recent_unread(fresh: &[Message], me: &UserId, my_read: u64) -> Vec<Message> {
    let since = chrono::Utc::now() - chrono::Duration::minutes(CATCH_UP_NOTIFY_WITHIN_MINUTES);
    let mut recent: Vec<Message> = fresh
        .iter()
        .filter(|m| &m.sender_id != me && m.seq > my_read && m.created_at >= since)
        .cloned()
        .collect();
    let skip = recent.len().saturating_sub(CATCH_UP_NOTIFY_MAX);
    recent.drain(..skip);
    recent
}

/// Makes sure the chat is in the cache (fetching it if a frame names a chat we never saw).
async fn ensure_chat(account: &Account, chat_id: ChatId) -> Result<bool> {
    if account
        .cache
        .call(move |c| chats::exists(c, chat_id))
        .await?
    {
        return Ok(true);
    }
    let url = account.session.url(&["api", "chats", &chat_id.to_string()]);
    match account
        .session
        .call::<ChatSummary, ()>(Method::GET, url, None)
        .await
    {
        Ok(chat) => {
            chat_changed(account, chat).await?;
            Ok(true)
        }
        Err(ClientError::Server(e)) if e.code == ErrorCode::NotParticipant => Ok(false),
        Err(e) => Err(e),
    }
}

fn apply_pointers(
    c: &Connection,
    chat_id: ChatId,
    pointers: &[ReadPointer],
    me: &UserId,
) -> Result<()> {
    for p in pointers {
        chats::set_read(c, chat_id, &p.user_id == me, p.up_to_seq)?;
    }
    Ok(())
}

async fn emit_unread(account: &Account, chat_id: ChatId) -> Result<()> {
    let (unread, total) = account
        .cache
        .call(move |c| chats::unread(c, chat_id))
        .await?;
    account.emit(AppEvent::UnreadChanged {
        chat_id,
        unread,
        total,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::testing::{chat, me, message, peer, temp_cache};

    fn live(c: &Connection, seq: u64) -> Received {
        let m = message(1, seq, &peer(), &ClientId::new(format!("p{seq}")));
        store_received(c, &m, &me()).expect("stored")
    }

    fn batch(c: &Connection, seqs: std::ops::RangeInclusive<u64>) -> Batch {
        let messages: Vec<_> = seqs
            .map(|s| message(1, s, &peer(), &ClientId::new(format!("p{s}"))))
            .collect();
        store_batch(c, ChatId(1), &messages, &[], &me()).expect("stored")
    }

    fn cursor(c: &Connection) -> u64 {
        messages::run_bounds(c, ChatId(1)).expect("bounds").0
    }

    fn chat_one() -> (tempfile::TempDir, Connection) {
        let (dir, cache) = temp_cache();
        drop(cache);
        let c = Connection::open(dir.path().join("cache.db")).expect("open");
        chats::upsert_summary(&c, &chat(1)).expect("chat");
        (dir, c)
    }

    #[test]
    fn a_live_message_right_after_the_cursor_moves_it_and_asks_for_nothing() {
        let (_dir, c) = chat_one();
        batch(&c, 1..=2);
        let next = live(&c, 3);
        assert!(next.changed);
        assert_eq!(next.cursor, 3);
        assert_eq!(next.resync(), None);
    }

    #[test]
    fn a_live_message_beyond_a_gap_is_stored_and_the_gap_asked_for_again() {
        let (_dir, c) = chat_one();
        batch(&c, 1..=2);
        let beyond = live(&c, 5);
        assert!(beyond.changed, "stored even so");
        assert_eq!(beyond.cursor, 2, "the cursor stays before the gap");
        assert_eq!(
            beyond.resync(),
            Some(SyncCursor {
                chat_id: ChatId(1),
                after_seq: 2
            })
        );
        // The re-sync fills the gap: the cursor runs over everything now contiguous.
        let filled = batch(&c, 3..=4);
        assert_eq!(filled.fresh, 2);
        assert_eq!(cursor(&c), 5);
        assert_eq!(live(&c, 6).resync(), None);
    }

    #[test]
    fn a_repeated_live_message_changes_nothing() {
        let (_dir, c) = chat_one();
        assert!(live(&c, 1).changed);
        let again = live(&c, 1);
        assert!(!again.changed);
        assert_eq!(again.resync(), None);
    }

    #[test]
    fn the_cursor_moves_only_over_contiguous_stored_seqs() {
        let (_dir, c) = chat_one();
        batch(&c, 2..=3);
        assert_eq!(cursor(&c), 0, "seq 1 is missing");
        batch(&c, 5..=5);
        assert_eq!(cursor(&c), 0);
        batch(&c, 1..=1);
        assert_eq!(cursor(&c), 3, "1..=3 is contiguous; 4 is missing");
        batch(&c, 4..=4);
        assert_eq!(cursor(&c), 5);
    }

    #[test]
    fn a_sync_batch_notifies_only_recent_unread_messages_from_the_peer() {
        let (_dir, c) = chat_one();
        let stored = batch(&c, 1..=5);
        let seqs: Vec<_> = stored.recent.iter().filter_map(|m| m.seq).collect();
        assert_eq!(seqs, [3, 4, 5], "the newest few");
        assert_eq!(stored.peer, Some(("Ada".to_owned(), "Rust 101".to_owned())));
    }
}
