//! Retry and discard for failed messages. The shell answers with events (the message back
//! to pending, or gone), so nothing here changes the store except on failure.

use tutorchat_shared::app::commands::OutboxArgs;
use tutorchat_shared::ClientId;
use yew::prelude::*;

use crate::hooks::use_store;
use crate::state::Action;
use crate::tauri;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Outbox {
    pub retry: Callback<ClientId>,
    pub discard: Callback<ClientId>,
}

#[hook]
pub(crate) fn use_outbox() -> Outbox {
    let dispatcher = use_store().dispatcher();
    let retry = {
        let dispatcher = dispatcher.clone();
        use_callback((), move |client_id: ClientId, _| {
            let dispatcher = dispatcher.clone();
            wasm_bindgen_futures::spawn_local(async move {
                if let Err(e) = tauri::retry(&OutboxArgs { client_id }).await {
                    dispatcher.dispatch(Action::Failed(e));
                }
            });
        })
    };
    let discard = use_callback((), move |client_id: ClientId, _| {
        let dispatcher = dispatcher.clone();
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(e) = tauri::discard(&OutboxArgs { client_id }).await {
                dispatcher.dispatch(Action::Failed(e));
            }
        });
    });
    Outbox { retry, discard }
}
