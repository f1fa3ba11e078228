//! A member's own settings for a chat — muted, archived — kept on the server so every device
//! of theirs shows the same, and the `chat_updated` frame that tells those devices when the
//! member's view of a chat changed (settings here, blocks in `people`).

use chrono::Utc;
use tutorchat_shared::api::ChatSettingsChange;
use tutorchat_shared::ws::ServerFrame;
use tutorchat_shared::{ChatId, ChatSummary, UserId};

use crate::auth::CurrentUser;
use crate::error::{Error, Result};
use crate::service::access::member_chat;
use crate::service::chats::summary;
use crate::state::AppState;

/// Applies the caller's change and answers with their view of the chat; their other devices
/// get it as `chat_updated`.
pub async fn update(
    state: &AppState,
    me: &CurrentUser,
    chat_id: ChatId,
    change: ChatSettingsChange,
) -> Result<ChatSummary> {
    if change.muted.is_none() && change.archived.is_none() {
        return Err(Error::validation("body", "name muted or archived"));
    }
    member_chat(state, me, chat_id).await?;
    state
        .store
        .set_chat_settings(chat_id, &me.id, change, Utc::now())
        .await?;
    publish_chat_updated(state, chat_id, &me.id)
        .await?
        .ok_or_else(|| Error::not_participant(chat_id))
}

/// Sends `member`'s current view of the chat to every connection of theirs, and returns it.
pub async fn publish_chat_updated(
    state: &AppState,
    chat_id: ChatId,
    member: &UserId,
) -> Result<Option<ChatSummary>> {
    let Some(row) = state.store.chat_row(chat_id, member).await? else {
        return Ok(None);
    };
    let chat = summary(state, row);
    state
        .hub
        .send_to_users(&[member], &ServerFrame::ChatUpdated { chat: chat.clone() });
    Ok(Some(chat))
}
