//! Keeps the chat list fresh: fetched when a user signs in and again whenever the shell says
//! it changed (`ChatsChanged` bumps `chats_version`). Answers that arrive out of order are
//! dropped, so an older list never replaces a newer one.

use yew::prelude::*;

use crate::state::{Action, Store};
use crate::tauri;

#[hook]
pub(crate) fn use_chat_list(store: &Store) {
    let dispatcher = store.dispatcher();
    let user = store.me().cloned();
    let version = store.chats_version;
    let latest = use_mut_ref(|| 0_u64);
    use_effect_with((user, version), move |(user, _)| {
        if user.is_some() {
            let ticket = {
                let mut latest = latest.borrow_mut();
                *latest += 1;
                *latest
            };
            dispatcher.dispatch(Action::ChatsRequested);
            wasm_bindgen_futures::spawn_local(async move {
                let answer = tauri::chats().await;
                if *latest.borrow() != ticket {
                    return;
                }
                dispatcher.dispatch(match answer {
                    Ok(chats) => Action::ChatsLoaded(chats),
                    Err(e) => Action::Failed(e),
                });
            });
        }
    });
}
