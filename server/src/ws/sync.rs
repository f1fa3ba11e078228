//! Catching a device up after it (re)connects: exactly the messages after each cursor, in
//! order, in bounded batches, with the read pointers; then chats it did not know about.
//!
//! Live frames that arrive meanwhile wait in the connection's queue; afterwards the session
//! skips the ones this sync already sent (see `Session::synced`), so nothing comes twice and,
//! because the queue holds everything committed since the connection registered, nothing is
//! missed.

use std::collections::HashSet;

use axum::extract::ws::WebSocket;
use tutorchat_shared::ws::{ServerFrame, SyncCursor};
use tutorchat_shared::{ApiError, ChatId, ErrorCode};

use super::connection::{Session, WsResult};
use crate::service::{audit, chats};
use crate::store::PageRequest;

/// Most cursors one sync frame may name.
const MAX_CURSORS: usize = 10_000;

pub(super) async fn run(
    session: &mut Session,
    socket: &mut WebSocket,
    cursors: Vec<SyncCursor>,
) -> WsResult {
    let mut named = HashSet::new();
    let mut refused = Vec::new();
    for cursor in cursors.into_iter().take(MAX_CURSORS) {
        if !named.insert(cursor.chat_id) {
            continue;
        }
        match chats::find_member_chat(&session.state, &session.user, cursor.chat_id).await {
            Ok(Some(chat)) => catch_up(session, socket, chat.id, cursor.after_seq).await?,
            Ok(None) => refused.push(cursor.chat_id),
            Err(error) => return session.send_error(socket, error).await,
        }
    }
    if let Some(first) = refused.first() {
        // One refusal (and one audit entry) for however many chats were named wrongly.
        let error = ApiError::new(
            ErrorCode::NotParticipant,
            format!(
                "{} of the chats named are not yours (the first is {first})",
                refused.len()
            ),
        )
        .with_chat(*first);
        let target = format!("sync:{} chats, first chat:{first}", refused.len());
        let error = audit::denied(&session.state, &session.user.id, target, error.into()).await;
        session.send_error(socket, error).await?;
    }
    let rows = match session.state.store.chats_of(&session.user.id).await {
        Ok(rows) => rows,
        Err(e) => return session.send_error(socket, e.into()).await,
    };
    for row in rows.into_iter().filter(|row| !named.contains(&row.chat.id)) {
        let chat_id = row.chat.id;
        session.state.chats.insert(row.chat.clone());
        let frame = ServerFrame::ChatCreated {
            chat: chats::summary(&session.state, row),
        };
        session.send(socket, &frame).await?;
        catch_up(session, socket, chat_id, 0).await?;
    }
    session.send(socket, &ServerFrame::SyncComplete).await
}

async fn catch_up(
    session: &mut Session,
    socket: &mut WebSocket,
    chat_id: ChatId,
    after_seq: u64,
) -> WsResult {
    let limit = session.state.config.sync_batch.max(1);
    let mut after = after_seq;
    loop {
        let store = &session.state.store;
        let page = match store
            .messages(chat_id, PageRequest::After { seq: after, limit })
            .await
        {
            Ok(page) => page,
            Err(e) => return session.send_error(socket, e.into()).await,
        };
        let read_pointers = match store.read_pointers(chat_id).await {
            Ok(pointers) => pointers,
            Err(e) => return session.send_error(socket, e.into()).await,
        };
        if let Some(last) = page.messages.last() {
            after = last.seq;
        }
        let sent = session.synced.entry(chat_id).or_insert(0);
        *sent = (*sent).max(after);
        let more = page.has_more_after;
        let frame = ServerFrame::SyncBatch {
            chat_id,
            messages: page.messages,
            read_pointers,
            more,
        };
        session.send(socket, &frame).await?;
        if !more {
            return Ok(());
        }
    }
}
