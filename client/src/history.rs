//! History paging: a chat's pages come from the cache; history the cache lacks is fetched
//! from the server into it first (when reachable), extending the chat's contiguous run so the
//! next page is local. Also search over what is cached.

use reqwest::Method;
use tutorchat_shared::api::MessagePage;
use tutorchat_shared::app::{ChatPage, LocalMessage};
use tutorchat_shared::{ChatId, Message, UserId};

use crate::account::Account;
use crate::cache::{chats, messages, outbox};
use crate::error::{ClientError, Result};
use crate::Client;

/// History page size when asking the server for older messages.
const SERVER_PAGE: u32 = 200;

impl Client {
    /// A page of a chat: the newest (with the outbox's pending and failed messages after the
    /// stored ones) or the one before `before_seq`. Served from the cache; older history the
    /// cache lacks is fetched from the server into it, if the server is reachable.
    pub async fn messages(
        &self,
        chat: ChatId,
        before_seq: Option<u64>,
        limit: u32,
    ) -> Result<ChatPage> {
        let account = self.account().await?;
        let limit = limit.clamp(1, 500);
        let bounds = move |c: &mut rusqlite::Connection| match messages::run_bounds(c, chat) {
            Err(ClientError::Cache(rusqlite::Error::QueryReturnedNoRows)) => Ok(None),
            other => other.map(Some),
        };
        let (synced, from) = match account.cache.call(bounds).await? {
            Some(bounds) => bounds,
            None => {
                // Not in the cache: a chat created since the list was last fetched, or not one
                // of the user's (a stale route, someone else's link). The server decides.
                crate::engine::refresh_chat_list(&account).await?;
                account
                    .cache
                    .call(bounds)
                    .await?
                    .ok_or(ClientError::NotYourChat(chat))?
            }
        };
        if synced == 0 {
            // Nothing of this chat here yet: its newest page comes from the server.
            if let Err(e) = fetch_newest(&account, chat, limit).await {
                tracing::debug!(error = %e, "could not fetch the newest page");
            }
        } else {
            let top = before_seq.map_or(synced, |b| b.saturating_sub(1).min(synced));
            let wanted_from = top.saturating_sub(u64::from(limit) - 1).max(1);
            if from > wanted_from {
                if let Err(e) = fetch_older(&account, chat, from, from - wanted_from).await {
                    tracing::debug!(error = %e, "could not fetch older history");
                }
            }
        }
        let me = account.session.user.id.clone();
        account
            .cache
            .call(move |c| {
                let mut page = messages::page(c, chat, before_seq, limit, &me)?;
                let lowest = page.first().and_then(|m| m.seq);
                let has_more_before = lowest.is_some_and(|s| s > 1);
                if before_seq.is_none() {
                    page.extend(outbox::in_chat(c, chat, &me)?);
                }
                Ok(ChatPage {
                    chat_id: chat,
                    messages: page,
                    has_more_before,
                })
            })
            .await
    }

    /// Cached history matching every word of `query`, newest first (works offline).
    pub async fn search(&self, query: &str, limit: u32) -> Result<Vec<LocalMessage>> {
        self.search_in(None, query, limit).await
    }

    /// The same within one chat, or across all (`None`).
    pub async fn search_in(
        &self,
        chat: Option<ChatId>,
        query: &str,
        limit: u32,
    ) -> Result<Vec<LocalMessage>> {
        let account = self.account().await?;
        let (query, me) = (query.to_owned(), account.session.user.id.clone());
        account
            .cache
            .call(move |c| messages::search(c, &query, chat, limit, &me))
            .await
    }
}

/// Fetches a chat's newest page and makes it the top of the cached run.
async fn fetch_newest(account: &Account, chat: ChatId, limit: u32) -> Result<()> {
    let query = [("limit", u64::from(limit.min(SERVER_PAGE)))];
    fetch_into_cache(account, chat, &query, move |tx, page, stored, me| {
        if let (Some(first), Some(last)) = (stored.first(), stored.last()) {
            if !page.has_more_after {
                messages::adopt_newest_page(tx, chat, first.seq, last.seq)?;
            }
        }
        for p in &page.read_pointers {
            chats::set_read(tx, chat, &p.user_id == me, p.up_to_seq)?;
        }
        Ok(())
    })
    .await
}

/// Fetches up to `count` messages just below `from` and extends the cached run down to them.
async fn fetch_older(account: &Account, chat: ChatId, from: u64, count: u64) -> Result<()> {
    let limit = u32::try_from(count)
        .unwrap_or(SERVER_PAGE)
        .clamp(1, SERVER_PAGE);
    let query = [("before_seq", from), ("limit", u64::from(limit))];
    fetch_into_cache(account, chat, &query, move |tx, _, stored, _| {
        // The server's page is contiguous and ends right below `from`.
        if let Some(first) = stored.first() {
            if stored.last().is_some_and(|l| l.seq + 1 == from) {
                messages::extend_history(tx, chat, first.seq)?;
            }
        }
        Ok(())
    })
    .await
}

/// `GET /api/chats/{chat}/messages` with `query`; stores the page (the one door, so our own
/// messages settle their outbox rows) and then runs `then` in the same transaction.
async fn fetch_into_cache<F>(
    account: &Account,
    chat: ChatId,
    query: &[(&str, u64)],
    then: F,
) -> Result<()>
where
    F: FnOnce(&rusqlite::Transaction<'_>, &MessagePage, &[Message], &UserId) -> Result<()>
        + Send
        + 'static,
{
    let mut url = account
        .session
        .url(&["api", "chats", &chat.to_string(), "messages"]);
    for (name, value) in query {
        url.query_pairs_mut().append_pair(name, &value.to_string());
    }
    let page: MessagePage = account.session.call(Method::GET, url, None::<&()>).await?;
    let me = account.session.user.id.clone();
    account
        .cache
        .transaction(move |tx| {
            let stored: Vec<_> = page.messages.iter().map(|v| v.message.clone()).collect();
            messages::store(tx, chat, &stored, &me)?;
            then(tx, &page, &stored, &me)
        })
        .await
}
