//! The conversations as a device shows them: the chat list (with presence and typing), unread
//! counts, read pointers (moved here at once, sent when connected), which chat is on screen,
//! typing, and drafts.

use chrono::Utc;
use reqwest::Method;
use tutorchat_shared::api::ChatSettingsChange;
use tutorchat_shared::app::{AppEvent, ChatItem};
use tutorchat_shared::ws::ClientFrame;
use tutorchat_shared::{ChatId, ChatSummary, Limits};

use crate::cache::{self, chat_list, chats};
use crate::error::{ClientError, Result};
use crate::Client;

impl Client {
    /// The chat list from the cache, with presence and typing.
    pub async fn chats(&self) -> Result<Vec<ChatItem>> {
        let account = self.account().await?;
        let me = account.session.user.id.clone();
        let me2 = me.clone();
        let mut items = account
            .cache
            .call(move |c| chat_list::list(c, &me2, Utc::now()))
            .await?;
        for item in &mut items {
            item.peer.online = account.live.is_online(&item.peer.id);
            item.peer_typing = account.live.someone_typing(item.id, &me);
        }
        Ok(items)
    }

    /// Changes the user's own settings for a chat (muted, archived) on the server, which
    /// keeps them for all of the user's devices; answers with the chat as now listed.
    pub async fn set_chat_settings(
        &self,
        chat: ChatId,
        change: ChatSettingsChange,
    ) -> Result<ChatItem> {
        let account = self.account().await?;
        let url = account
            .session
            .url(&["api", "chats", &chat.to_string(), "settings"]);
        let summary: ChatSummary = account
            .session
            .call(Method::PUT, url, Some(&change))
            .await?;
        account
            .cache
            .call(move |c| chats::upsert_summary(c, &summary))
            .await?;
        account.emit(AppEvent::ChatsChanged);
        let (unread, total) = account.cache.call(move |c| chats::unread(c, chat)).await?;
        account.emit(AppEvent::UnreadChanged {
            chat_id: chat,
            unread,
            total,
        });
        self.chats()
            .await?
            .into_iter()
            .find(|c| c.id == chat)
            .ok_or(ClientError::NotYourChat(chat))
    }

    /// The content limits the server published (the shared defaults until it has), which
    /// [`Client::send`] checks against.
    pub async fn limits(&self) -> Result<Limits> {
        let account = self.account().await?;
        account
            .cache
            .call(|c| cache::server_config::limits(c))
            .await
    }

    /// Total unread messages over all chats.
    pub async fn unread_total(&self) -> Result<u64> {
        if self.inner.account.lock().await.is_none() {
            return Ok(0);
        }
        let account = self.account().await?;
        account.cache.call(|c| chats::total_unread(c)).await
    }

    /// Marks a chat read up to `up_to_seq` here at once, and on the server (now, or when
    /// next connected), which clears the badge on the user's other devices.
    pub async fn mark_read(&self, chat: ChatId, up_to_seq: u64) -> Result<()> {
        let account = self.account().await?;
        let moved = account
            .cache
            .call(move |c| chats::read_locally(c, chat, up_to_seq))
            .await?;
        if !moved {
            return Ok(());
        }
        let (unread, total) = account.cache.call(move |c| chats::unread(c, chat)).await?;
        account.emit(AppEvent::UnreadChanged {
            chat_id: chat,
            unread,
            total,
        });
        let seq = account
            .cache
            .call(move |c| Ok(chats::pointers(c, chat)?.map_or(0, |(_, mine, _)| mine)))
            .await?;
        account.send_frame(ClientFrame::MarkRead {
            chat_id: chat,
            up_to_seq: seq,
        });
        Ok(())
    }

    /// This device views the chat (typing indicators come for it) or stops viewing it. The
    /// chat on screen is remembered and joined again on every connection.
    pub async fn view_chat(&self, chat: ChatId, viewing: bool) -> Result<()> {
        let account = self.account().await?;
        if viewing {
            account.set_viewing(Some(chat));
            account.send_frame(ClientFrame::JoinChat { chat_id: chat });
        } else {
            if account.viewing() == Some(chat) {
                account.set_viewing(None);
            }
            account.send_frame(ClientFrame::LeaveChat { chat_id: chat });
        }
        Ok(())
    }

    /// Typing started or stopped (callers debounce; offline it is simply not sent).
    pub async fn typing(&self, chat: ChatId, typing: bool) -> Result<()> {
        self.send_live(if typing {
            ClientFrame::TypingStart { chat_id: chat }
        } else {
            ClientFrame::TypingStop { chat_id: chat }
        })
        .await
    }

    /// A frame that only matters now: sent if connected, else dropped.
    async fn send_live(&self, frame: ClientFrame) -> Result<()> {
        self.account().await?.send_frame(frame);
        Ok(())
    }

    pub async fn draft(&self, chat: ChatId) -> Result<Option<String>> {
        let account = self.account().await?;
        account
            .cache
            .call(move |c| cache::drafts::get(c, chat))
            .await
    }

    pub async fn set_draft(&self, chat: ChatId, text: &str) -> Result<()> {
        let account = self.account().await?;
        let text = text.to_owned();
        account
            .cache
            .call(move |c| cache::drafts::set(c, chat, &text, Utc::now()))
            .await
    }
}
