//! The outbox API: a message is written durably to the outbox before anything is sent, its
//! pending echo returned at once and the engine woken to deliver it; failed messages can be
//! retried or discarded.

use chrono::Utc;
use tutorchat_shared::app::{AppEvent, LocalMessage};
use tutorchat_shared::validation::validate_message;
use tutorchat_shared::{ChatId, ClientId, MessageKind};

use crate::cache::{chats, outbox, server_config};
use crate::error::{ClientError, Result};
use crate::Client;

impl Client {
    /// Writes a text message to the outbox (durably) and returns its local echo at once; the
    /// engine delivers it when connected. Bad input is refused here and nothing is written.
    /// (An image or a file goes through [`Client::send_attachment`].)
    pub async fn send(
        &self,
        chat: ChatId,
        kind: MessageKind,
        content: &str,
    ) -> Result<LocalMessage> {
        let account = self.account().await?;
        let me = account.session.user.id.clone();
        let client_id = ClientId::new(uuid::Uuid::new_v4().to_string());
        let content = content.to_owned();
        let local = account
            .cache
            .call(move |c| {
                // Against the limits the server published (the defaults until it has).
                validate_message(kind, &content, None, &server_config::limits(c)?)?;
                if !chats::exists(c, chat)? {
                    return Err(ClientError::NotYourChat(chat));
                }
                // FULL for this write: the message must survive a crash right after `send`.
                c.pragma_update(None, "synchronous", "FULL")?;
                let local = outbox::enqueue(c, chat, &client_id, kind, &content, Utc::now(), &me);
                c.pragma_update(None, "synchronous", "NORMAL")?;
                local
            })
            .await?;
        account.emit(AppEvent::MessageUpserted {
            message: local.clone(),
        });
        account.emit(AppEvent::ChatsChanged);
        account.outbox_wake.notify_one();
        Ok(local)
    }

    /// Every outbox entry (pending and failed), oldest first.
    pub async fn outbox(&self) -> Result<Vec<LocalMessage>> {
        let account = self.account().await?;
        let me = account.session.user.id.clone();
        account.cache.call(move |c| outbox::all(c, &me)).await
    }

    /// Puts a failed message back in line.
    pub async fn retry(&self, client_id: &ClientId) -> Result<bool> {
        let account = self.account().await?;
        let (cid, me) = (client_id.clone(), account.session.user.id.clone());
        let message = account
            .cache
            .call(move |c| {
                let retried = outbox::retry(c, &cid)?;
                Ok(if retried {
                    outbox::get(c, &cid, &me)?
                } else {
                    None
                })
            })
            .await?;
        let Some(message) = message else {
            return Ok(false);
        };
        account.emit(AppEvent::MessageUpserted { message });
        account.outbox_wake.notify_one();
        account.transfers_wake.notify_one();
        Ok(true)
    }

    /// Drops an outbox entry. (One already on its way may still arrive; it then shows as sent.)
    pub async fn discard(&self, client_id: &ClientId) -> Result<bool> {
        let account = self.account().await?;
        let cid = client_id.clone();
        let chat = account.cache.call({
            let cid = cid.clone();
            move |c| outbox::chat_of(c, &cid)
        });
        let Some(chat_id) = chat.await? else {
            return Ok(false);
        };
        let (copy, removed) = account
            .cache
            .call(move |c| {
                let copy = outbox::copy_of(c, &cid)?;
                Ok((copy, outbox::remove(c, &cid)?))
            })
            .await?;
        if let Some((copy, _)) = copy.filter(|_| removed) {
            // An attachment's copy (in a directory of its own) goes with it; an upload under
            // way notices on its next step.
            if let Some(dir) = account.session.account_dir.join(copy).parent() {
                let _ = tokio::fs::remove_dir_all(dir).await;
            }
        }
        if removed {
            account.emit(AppEvent::MessageDiscarded {
                chat_id,
                client_id: client_id.clone(),
            });
            account.emit(AppEvent::ChatsChanged);
        }
        Ok(removed)
    }
}
