//! Applying one server frame: one cache transaction, then the events that describe it.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use tutorchat_shared::app::{AppEvent, ConnectionState};
use tutorchat_shared::ws::{ServerFrame, SyncCursor};
use tutorchat_shared::{ApiError, ChatId, ChatSummary, ErrorCode, Message, ReadPointer};

use super::flush::Outbox;
use crate::account::Account;
use crate::cache::{chats, messages, outbox};
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
    let me = account.session.user.id.clone();
    match frame {
        ServerFrame::Ready { .. } => {}
        ServerFrame::Pong => return Ok(Applied::Pong),
        ServerFrame::MessageAck { client_id, message } => {
            outbox.answered(message.chat_id, &client_id);
            acked(account, message).await?;
        }
        ServerFrame::MessageReceived { message } => return received(account, message).await,
        ServerFrame::ChatCreated { chat } => {
            account.live.set_online(&chat.peer.id, chat.peer.online);
            account
                .cache
                .call(move |c| chats::upsert_summary(c, &chat))
                .await?;
            account.emit(AppEvent::ChatsChanged);
        }
        ServerFrame::SyncBatch {
            chat_id,
            messages,
            read_pointers,
            ..
        } => {
            if !ensure_chat(account, chat_id).await? {
                return Ok(Applied::Done);
            }
            let me2 = me.clone();
            let (fresh, settled, recent, peer) = account
                .cache
                .transaction(move |tx| {
                    let stored = messages::store(tx, chat_id, &messages, &me2)?;
                    apply_pointers(tx, chat_id, &read_pointers, &me2)?;
                    let my_read = chats::pointers(tx, chat_id)?.map_or(0, |(_, mine, _)| mine);
                    let recent = recent_unread(&stored.fresh, &me2, my_read)
                        .into_iter()
                        .map(|m| messages::local_view(tx, &m, &me2))
                        .collect::<Result<Vec<_>>>()?;
                    // Ours that reached the server without their ack being applied: the
                    // pending echo becomes the stored message.
                    let settled = stored
                        .settled
                        .iter()
                        .map(|m| messages::local_view(tx, m, &me2))
                        .collect::<Result<Vec<_>>>()?;
                    Ok((
                        stored.fresh.len(),
                        settled,
                        recent,
                        chats::peer(tx, chat_id)?,
                    ))
                })
                .await?;
            if fresh > 0 {
                account.emit(AppEvent::HistoryChanged { chat_id });
            }
            if !settled.is_empty() {
                for message in settled {
                    account.emit(AppEvent::MessageUpserted { message });
                }
                account.emit(AppEvent::ChatsChanged);
            }
            // Messages that arrived while the device was away and are still news: notify.
            let (sender_name, course_title) = peer
                .map(|(_, name, course)| (name, course))
                .unwrap_or_default();
            for message in recent {
                account.emit(AppEvent::Incoming {
                    message,
                    sender_name: sender_name.clone(),
                    course_title: course_title.clone(),
                });
            }
            emit_unread(account, chat_id).await?;
        }
        ServerFrame::SyncComplete => {
            account
                .online
                .store(true, std::sync::atomic::Ordering::Relaxed);
            account.emit(AppEvent::ChatsChanged);
            account.emit(AppEvent::Connection {
                state: ConnectionState::Online,
            });
        }
        ServerFrame::MessageRead {
            chat_id,
            user_id,
            up_to_seq,
            ..
        } => {
            let mine = user_id == me;
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
        }
        ServerFrame::UserOnline { user_id } => presence(account, user_id, true),
        ServerFrame::UserOffline { user_id } => presence(account, user_id, false),
        ServerFrame::TypingIndicator {
            chat_id,
            user_id,
            typing,
        } => {
            account.live.set_typing(chat_id, &user_id, typing);
            account.emit(AppEvent::Typing {
                chat_id,
                user_id,
                typing,
            });
        }
        ServerFrame::ChatJoined {
            chat_id,
            online,
            typing,
            read_pointers,
            ..
        } => {
            for user in &online {
                account.live.set_online(user, true);
            }
            for user in typing {
                account.live.set_typing(chat_id, &user, true);
            }
            let me2 = me.clone();
            account
                .cache
                .call(move |c| apply_pointers(c, chat_id, &read_pointers, &me2))
                .await?;
        }
        ServerFrame::Error(error) => return refused(account, error, outbox).await,
    }
    Ok(Applied::Done)
}

/// How many caught-up messages may notify per batch, and how old they may be.
const CATCH_UP_NOTIFY_MAX: usize = 3;
const CATCH_UP_NOTIFY_WITHIN_MINUTES: i64 = 15;

/// The newest few of `fresh` that are from the peer, unread, and recent.
fn recent_unread(fresh: &[Message], me: &tutorchat_shared::UserId, my_read: u64) -> Vec<Message> {
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

fn presence(account: &Account, user_id: tutorchat_shared::UserId, online: bool) {
    account.live.set_online(&user_id, online);
    account.emit(AppEvent::Presence { user_id, online });
}

/// The server stored our message: store it, which settles its outbox row in the same
/// transaction.
async fn acked(account: &Account, message: Message) -> Result<()> {
    let me = account.session.user.id.clone();
    let chat_id = message.chat_id;
    if !ensure_chat(account, chat_id).await? {
        return Ok(());
    }
    let local = account
        .cache
        .transaction(move |tx| {
            messages::store(tx, chat_id, std::slice::from_ref(&message), &me)?;
            // The server moved our read pointer to our own message (sending means reading).
            chats::set_read(tx, chat_id, true, message.seq)?;
            messages::local_view(tx, &message, &me)
        })
        .await?;
    account.emit(AppEvent::MessageUpserted { message: local });
    account.emit(AppEvent::ChatsChanged);
    Ok(())
}

/// A message from the other participant, or from another device of ours.
async fn received(account: &Account, message: Message) -> Result<Applied> {
    let me = account.session.user.id.clone();
    let chat_id = message.chat_id;
    if !ensure_chat(account, chat_id).await? {
        return Ok(Applied::Done);
    }
    let seq = message.seq;
    let me2 = me.clone();
    let (fresh, settled, cursor, local, peer) = account
        .cache
        .transaction(move |tx| {
            let stored = messages::store(tx, chat_id, std::slice::from_ref(&message), &me2)?;
            let (fresh, settled) = (!stored.fresh.is_empty(), !stored.settled.is_empty());
            if message.sender_id == me2 {
                // Sent from another of our devices: the server moved our read pointer to it.
                chats::set_read(tx, chat_id, true, message.seq)?;
            }
            let (cursor, _) = messages::run_bounds(tx, chat_id)?;
            let local = messages::local_view(tx, &message, &me2)?;
            let peer = chats::peer(tx, chat_id)?;
            Ok((fresh, settled, cursor, local, peer))
        })
        .await?;
    if fresh || settled {
        let from_peer = local.sender_id != me;
        account.emit(AppEvent::MessageUpserted {
            message: local.clone(),
        });
        if from_peer {
            let (sender_name, course_title) = peer
                .map(|(_, name, course)| (name, course))
                .unwrap_or_default();
            account.live.set_typing(chat_id, &local.sender_id, false);
            account.emit(AppEvent::Incoming {
                message: local,
                sender_name,
                course_title,
            });
        }
        account.emit(AppEvent::ChatsChanged);
        emit_unread(account, chat_id).await?;
    }
    if seq > cursor {
        // Something between the cursor and this message is missing: ask for it.
        return Ok(Applied::Resync(SyncCursor {
            chat_id,
            after_seq: cursor,
        }));
    }
    Ok(Applied::Done)
}

/// An `error` frame: for one of our sends, retry later or mark it failed.
async fn refused(account: &Account, error: ApiError, outbox: &mut Outbox) -> Result<Applied> {
    if error.code == ErrorCode::TokenExpired {
        return Ok(Applied::TokenExpired);
    }
    let Some(client_id) = error.client_id.clone() else {
        tracing::warn!(code = %error.code, message = %error.message, "the server refused a frame");
        return Ok(Applied::Done);
    };
    let cid = client_id.clone();
    let chat_id = match error.chat_id {
        Some(chat) => Some(chat),
        None => {
            account
                .cache
                .call(move |c| outbox::chat_of(c, &cid))
                .await?
        }
    };
    let Some(chat_id) = chat_id else {
        return Ok(Applied::Done);
    };
    outbox.answered(chat_id, &client_id);
    if error.code.is_transient() {
        let cid = client_id.clone();
        let attempts = account
            .cache
            .call(move |c| {
                outbox::attempted(c, &cid)?;
                outbox::attempts(c, &cid)
            })
            .await?;
        let wait = error
            .retry_after_secs
            .map(Duration::from_secs)
            .unwrap_or_else(|| super::backoff(attempts));
        outbox.hold(chat_id, tokio::time::Instant::now() + wait);
        return Ok(Applied::Done);
    }
    let me = account.session.user.id.clone();
    let failed = account
        .cache
        .call(move |c| {
            outbox::fail(c, &client_id, error.code, &error.message)?;
            outbox::get(c, &client_id, &me)
        })
        .await?;
    if let Some(message) = failed {
        account.emit(AppEvent::MessageUpserted { message });
        account.emit(AppEvent::ChatsChanged);
    }
    Ok(Applied::Done)
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
    let path = format!("/api/chats/{chat_id}");
    match account
        .session
        .call::<ChatSummary, ()>(Method::GET, &path, None)
        .await
    {
        Ok(chat) => {
            account.live.set_online(&chat.peer.id, chat.peer.online);
            account
                .cache
                .call(move |c| chats::upsert_summary(c, &chat))
                .await?;
            account.emit(AppEvent::ChatsChanged);
            Ok(true)
        }
        Err(ClientError::Server(e)) if e.code == ErrorCode::NotParticipant => Ok(false),
        Err(e) => Err(e),
    }
}

fn apply_pointers(
    c: &rusqlite::Connection,
    chat_id: ChatId,
    pointers: &[ReadPointer],
    me: &tutorchat_shared::UserId,
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
