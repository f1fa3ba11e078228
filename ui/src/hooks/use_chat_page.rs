//! One chat's messages: the newest page when the chat opens and whenever the shell says its
//! history changed, older pages when asked (scrolling to the top).

use tutorchat_shared::app::commands::MessagesArgs;
use tutorchat_shared::{ApiError, ChatId};
use yew::prelude::*;

use crate::hooks::use_store;
use crate::state::Action;
use crate::tauri;

/// Messages per page.
const PAGE_SIZE: u32 = 50;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ChatPageHandle {
    /// Asks for the page before this seq (the lowest one held).
    pub load_older: Callback<u64>,
    /// Why the newest page could not be loaded, if it could not.
    pub error: Option<ApiError>,
}

#[hook]
pub(crate) fn use_chat_page(chat_id: ChatId) -> ChatPageHandle {
    let store = use_store();
    let dispatcher = store.dispatcher();
    let version = store.history_version(chat_id);
    let error = use_state(|| None::<ApiError>);
    let latest = use_mut_ref(|| 0_u64);
    {
        let (dispatcher, error) = (dispatcher.clone(), error.clone());
        use_effect_with((chat_id, version), move |&(chat_id, _)| {
            let ticket = {
                let mut latest = latest.borrow_mut();
                *latest += 1;
                *latest
            };
            wasm_bindgen_futures::spawn_local(async move {
                let answer = tauri::messages(&MessagesArgs {
                    chat_id,
                    before_seq: None,
                    limit: PAGE_SIZE,
                })
                .await;
                if *latest.borrow() != ticket {
                    return;
                }
                match answer {
                    Ok(page) => {
                        error.set(None);
                        dispatcher.dispatch(Action::PageLoaded(page));
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        });
    }

    // One older page at a time: scroll events keep coming while it loads.
    let in_flight = use_mut_ref(|| false);
    let load_older = use_callback(chat_id, move |before_seq: u64, &chat_id| {
        if in_flight.replace(true) {
            return;
        }
        dispatcher.dispatch(Action::OlderRequested(chat_id));
        let (dispatcher, in_flight) = (dispatcher.clone(), in_flight.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let answer = tauri::messages(&MessagesArgs {
                chat_id,
                before_seq: Some(before_seq),
                limit: PAGE_SIZE,
            })
            .await;
            *in_flight.borrow_mut() = false;
            dispatcher.dispatch(match answer {
                Ok(page) => Action::OlderLoaded(page),
                Err(e) => Action::OlderFailed(chat_id, e),
            });
        });
    });

    ChatPageHandle {
        load_older,
        error: (*error).clone(),
    }
}
