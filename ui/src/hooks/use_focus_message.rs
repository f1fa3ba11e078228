//! Brings a message into view when its chat shows (a search result was chosen): older
//! history is loaded until the page reaches it, then it is scrolled to the middle and marked
//! for a moment. Done (the store's focus cleared) once it is in view.

use gloo_timers::callback::Timeout;
use tutorchat_shared::ChatId;
use web_sys::{Element, ScrollBehavior, ScrollIntoViewOptions, ScrollLogicalPosition};
use yew::prelude::*;

use crate::hooks::use_store;
use crate::state::Action;

/// How long a message brought into view stays marked.
const MARK_MS: u32 = 2_500;

#[hook]
pub(crate) fn use_focus_message(
    chat_id: ChatId,
    lowest_seq: Option<u64>,
    list: NodeRef,
    load_older: Callback<u64>,
) {
    let store = use_store();
    let target = store
        .focus
        .filter(|(chat, _)| *chat == chat_id)
        .map(|(_, seq)| seq);
    let dispatcher = store.dispatcher();
    use_effect_with((target, lowest_seq), move |&(target, lowest)| {
        let (Some(seq), Some(lowest)) = (target, lowest) else {
            return;
        };
        if lowest > seq {
            // Not loaded yet: the page before the lowest held, down to it.
            load_older.emit(lowest);
            return;
        }
        let found = list.cast::<Element>().and_then(|el| {
            el.query_selector(&format!(".message[data-seq='{seq}']"))
                .ok()
                .flatten()
        });
        if let Some(message) = found {
            let options = ScrollIntoViewOptions::new();
            options.set_block(ScrollLogicalPosition::Center);
            options.set_behavior(ScrollBehavior::Instant);
            message.scroll_into_view_with_scroll_into_view_options(&options);
            let _ = message.class_list().add_1("focused");
            Timeout::new(MARK_MS, move || {
                let _ = message.class_list().remove_1("focused");
            })
            .forget();
        }
        dispatcher.dispatch(Action::Focus(None));
    });
}
