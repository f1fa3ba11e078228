//! Tells the shell which chat is on screen (`view_chat`), which drives its notifications and
//! typing indicators: the chat whenever it changes, and none when the chats screen goes away.

use tutorchat_shared::app::commands::ViewArgs;
use tutorchat_shared::ChatId;
use yew::prelude::*;

use crate::hooks::background::run_in_background;
use crate::tauri;

#[hook]
pub(crate) fn use_view_chat(on_screen: Option<ChatId>) {
    use_effect_with(on_screen, |&chat_id| {
        run_in_background("view_chat", async move {
            tauri::view_chat(&ViewArgs { chat_id }).await
        });
    });
    use_effect_with((), |_| {
        || {
            run_in_background("view_chat", async {
                tauri::view_chat(&ViewArgs { chat_id: None }).await
            });
        }
    });
}
