//! Catching a device up after it (re)connects: exactly the messages after each cursor, in
//! order, in bounded batches, with the read pointers; then chats it did not know about.
//!
//! Live frames that arrive meanwhile wait in the connection's queue; afterwards the session
//! skips the ones this sync already sent (see `Active::synced`), so nothing comes twice and,
//! because the queue holds everything committed since the connection registered, nothing is
//! missed. The rules (who may sync what, what a batch holds) are `service::chats`'; this only
//! sends what it answers.

use axum::extract::ws::WebSocket;
use tutorchat_shared::ws::{ServerFrame, SyncCursor};
use tutorchat_shared::ChatId;

use super::session::{Session, WsResult};
use crate::service::chats;

/// Most cursors one sync frame may name.
const MAX_CURSORS: usize = 10_000;

pub(super) async fn run(
    session: &mut Session,
    socket: &mut WebSocket,
    cursors: Vec<SyncCursor>,
) -> WsResult {
    let cursors: Vec<SyncCursor> = cursors.into_iter().take(MAX_CURSORS).collect();
    let mut plan = match chats::sync_plan(&session.state, &session.user, &cursors).await {
        Ok(plan) => plan,
        Err(error) => return session.send_error(socket, error).await,
    };
    for (chat_id, after_seq) in std::mem::take(&mut plan.known) {
        catch_up(session, socket, chat_id, after_seq).await?;
    }
    if let Some(refusal) = plan.refused.take() {
        session.send_error(socket, refusal).await?;
    }
    let new = match chats::chats_not_in(&session.state, &session.user, &plan.named).await {
        Ok(new) => new,
        Err(error) => return session.send_error(socket, error).await,
    };
    for chat in new {
        let chat_id = chat.id;
        session
            .send(socket, &ServerFrame::ChatCreated { chat })
            .await?;
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
    let mut after = after_seq;
    loop {
        let batch = match chats::catch_up_batch(&session.state, chat_id, after).await {
            Ok(batch) => batch,
            Err(error) => return session.send_error(socket, error).await,
        };
        after = batch.last_sent.max(after);
        let sent = session.active().synced.entry(chat_id).or_insert(0);
        *sent = (*sent).max(after);
        session.send(socket, &batch.frame).await?;
        if !batch.more {
            return Ok(());
        }
    }
}
