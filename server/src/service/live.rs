//! Presence announcements and typing indicators, with the short timers that end them.
//!
//! Presence goes only to users who share a chat with the user; typing goes only to devices
//! viewing the chat. Both state machines live in [`crate::live`]; this module adds the store
//! lookups and the timers. The timers are short (seconds) and end by themselves.

use std::collections::BTreeSet;
use std::sync::Arc;

use tutorchat_shared::ws::ServerFrame;
use tutorchat_shared::{ChatId, UserId};

use crate::auth::CurrentUser;
use crate::error::Result;
use crate::live::{ConnId, ConnQueue, Event};
use crate::service::access::{may_write, member_chat};
use crate::state::AppState;
use crate::store::PageRequest;

/// A connection of `user` opened.
pub fn connected(state: &AppState, user: &UserId) {
    let presence = &state.hub.presence;
    let elsewhere = presence.is_online(user);
    if presence.connect(user) {
        if let Some(relay) = state.hub.relay() {
            relay.publish(Event::Presence {
                user: user.clone(),
                online: true,
            });
        }
        if !elsewhere {
            let (state, user) = (state.clone(), user.clone());
            tokio::spawn(async move { announce(&state, &user, true).await });
        }
    }
}

/// A connection of `user` closed: after the grace, announce offline unless they came back
/// (here or on another node).
pub fn disconnected(state: &AppState, user: &UserId) {
    if let Some(generation) = state.hub.presence.disconnect(user) {
        let (state, user) = (state.clone(), user.clone());
        tokio::spawn(async move {
            tokio::time::sleep(state.config.presence_grace()).await;
            if state.hub.presence.expire(&user, generation) {
                if let Some(relay) = state.hub.relay() {
                    relay.publish(Event::Presence {
                        user: user.clone(),
                        online: false,
                    });
                }
                if !state.hub.presence.is_online(&user) {
                    announce(&state, &user, false).await;
                }
            }
        });
    }
}

/// Tells this node's connections of everyone who shares a chat with `user` that the user came
/// online or went offline (every node announces to its own connections).
pub(crate) async fn announce(state: &AppState, user: &UserId, online: bool) {
    let peers: BTreeSet<UserId> = match state.store.chats_of(user).await {
        Ok(rows) => rows.into_iter().map(|row| row.peer.id).collect(),
        Err(e) => {
            tracing::error!(error = %e, "cannot load chats to announce presence");
            return;
        }
    };
    let frame = if online {
        ServerFrame::UserOnline {
            user_id: user.clone(),
        }
    } else {
        ServerFrame::UserOffline {
            user_id: user.clone(),
        }
    };
    // Whatever changed while the chats were read, say what holds now (announcements of one
    // user may finish out of order).
    let frame = match (online, state.hub.presence.is_online(user)) {
        (true, false) => ServerFrame::UserOffline {
            user_id: user.clone(),
        },
        (false, true) => ServerFrame::UserOnline {
            user_id: user.clone(),
        },
        _ => frame,
    };
    let peers: Vec<&UserId> = peers.iter().collect();
    state.hub.send_here(&peers, &frame);
}

/// A device of `me` views the chat: it gets the chat's typing indicators from now on, and the
/// chat's live state (who is online and typing, the last seq, the read pointers) as the answer.
pub async fn join(
    state: &AppState,
    me: &CurrentUser,
    chat_id: ChatId,
    conn: ConnId,
    queue: &Arc<ConnQueue>,
) -> Result<ServerFrame> {
    let chat = member_chat(state, me, chat_id).await?;
    state.hub.join(chat.id, conn, &me.id, queue);
    let read_pointers = state.store.read_pointers(chat.id).await?;
    let last_seq = state
        .store
        .messages(chat.id, PageRequest::Latest { limit: 1 })
        .await?
        .last_seq;
    let online = [&chat.student_id, &chat.tutor_id]
        .into_iter()
        .filter(|u| state.hub.presence.is_online(u))
        .cloned()
        .collect();
    Ok(ServerFrame::ChatJoined {
        chat_id: chat.id,
        online,
        typing: state.hub.typing.in_chat(chat.id),
        last_seq,
        read_pointers,
    })
}

/// The device no longer views the chat.
pub fn leave(state: &AppState, chat_id: ChatId, conn: ConnId) {
    state.hub.leave(chat_id, conn);
}

/// `typing_start` / `typing_stop` from a member of the chat.
pub async fn typing(state: &AppState, me: &CurrentUser, chat_id: ChatId, on: bool) -> Result<()> {
    let chat = member_chat(state, me, chat_id).await?;
    if !on {
        typing_stopped(state, chat.id, &me.id);
        return Ok(());
    }
    // Typing is writing: whoever may not send (blocked, enrollment revoked, no longer
    // teaching) may not show it either.
    may_write(state, me, &chat).await?;
    let (generation, changed) = state.hub.typing.start(chat.id, &me.id);
    if changed {
        indicate(state, chat.id, &me.id, true);
    }
    let (state, user) = (state.clone(), me.id.clone());
    tokio::spawn(async move {
        tokio::time::sleep(state.config.typing_ttl()).await;
        if state.hub.typing.expire(chat_id, &user, generation) {
            indicate(&state, chat_id, &user, false);
        }
    });
    Ok(())
}

/// Ends `user`'s typing in a chat (a stop, a sent message, or a closed last connection).
pub fn typing_stopped(state: &AppState, chat: ChatId, user: &UserId) {
    if state.hub.typing.stop(chat, user) {
        indicate(state, chat, user, false);
    }
}

fn indicate(state: &AppState, chat_id: ChatId, user: &UserId, typing: bool) {
    let frame = ServerFrame::TypingIndicator {
        chat_id,
        user_id: user.clone(),
        typing,
    };
    state.hub.send_to_viewers(chat_id, user, &frame);
}
