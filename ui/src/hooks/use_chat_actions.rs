//! What the user can do to a conversation from its header — mute, archive, block — each
//! answered by the shell with the chat as now listed, which goes into the store; the other
//! devices of the user hear it from the server. A failure is shown as the app's error.

use tutorchat_shared::app::commands::{BlockArgs, ChatSettingsArgs};
use tutorchat_shared::app::ChatItem;
use yew::prelude::*;

use crate::hooks::use_store;
use crate::state::Action;
use crate::tauri;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ChatActions {
    pub set_muted: Callback<bool>,
    pub set_archived: Callback<bool>,
    pub set_blocked: Callback<bool>,
}

#[hook]
pub(crate) fn use_chat_actions(chat: Option<ChatItem>) -> ChatActions {
    let dispatcher = use_store().dispatcher();
    let settings = {
        let (dispatcher, chat) = (dispatcher.clone(), chat.clone());
        move |muted: Option<bool>, archived: Option<bool>| {
            let Some(chat) = chat.clone() else {
                return;
            };
            let dispatcher = dispatcher.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let args = ChatSettingsArgs {
                    chat_id: chat.id,
                    muted,
                    archived,
                };
                dispatcher.dispatch(match tauri::set_chat_settings(&args).await {
                    Ok(item) => Action::ChatUpdated(item),
                    Err(e) => Action::Failed(e),
                });
            });
        }
    };
    let set_muted = {
        let settings = settings.clone();
        Callback::from(move |muted: bool| settings(Some(muted), None))
    };
    let set_archived = Callback::from(move |archived: bool| settings(None, Some(archived)));
    let set_blocked = Callback::from(move |blocked: bool| {
        let Some(chat) = chat.clone() else {
            return;
        };
        let dispatcher = dispatcher.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let args = BlockArgs {
                user_id: chat.peer.id.clone(),
                blocked,
            };
            match tauri::block(&args).await {
                // The chat list is fetched again (the shell says it changed).
                Ok(_) => {}
                Err(e) => dispatcher.dispatch(Action::Failed(e)),
            }
        });
    });
    ChatActions {
        set_muted,
        set_archived,
        set_blocked,
    }
}
