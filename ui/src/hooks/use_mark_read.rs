//! Marks a chat read while it is on screen: once with its newest seq when it opens, and again
//! whenever a newer message arrives. Never twice for the same seq.

use tutorchat_shared::app::commands::ReadArgs;
use tutorchat_shared::ChatId;
use yew::prelude::*;

use crate::hooks::background::run_in_background;
use crate::tauri;

#[hook]
pub(crate) fn use_mark_read(chat_id: ChatId, newest_seq: Option<u64>) {
    let marked = use_mut_ref(|| (chat_id, 0_u64));
    use_effect_with((chat_id, newest_seq), move |&(chat_id, newest)| {
        let Some(up_to_seq) = newest else {
            return;
        };
        let mut marked = marked.borrow_mut();
        if marked.0 == chat_id && marked.1 >= up_to_seq {
            return;
        }
        *marked = (chat_id, up_to_seq);
        run_in_background("mark_read", async move {
            tauri::mark_read(&ReadArgs { chat_id, up_to_seq }).await
        });
    });
}
