//! Marks a chat read while it is seen — on screen, in a visible and focused window, scrolled
//! to its newest message (`seen`): with its newest seq when that starts to hold, and again
//! whenever a newer message arrives while it does. Never twice for the same seq, and never
//! for a chat open in a hidden or unfocused window, so a ✓✓ means a person saw the message.

use tutorchat_shared::app::commands::ReadArgs;
use tutorchat_shared::ChatId;
use yew::prelude::*;

use crate::hooks::background::run_in_background;
use crate::tauri;

#[hook]
pub(crate) fn use_mark_read(chat_id: ChatId, newest_seq: Option<u64>, seen: bool) {
    let marked = use_mut_ref(|| (chat_id, 0_u64));
    use_effect_with(
        (chat_id, newest_seq, seen),
        move |&(chat_id, newest, seen)| {
            let (Some(up_to_seq), true) = (newest, seen) else {
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
        },
    );
}
