//! The connection to the server as the banner shows it: asked for once at sign-in (later
//! changes come as events), and "Back online" for a few seconds after an outage.

use gloo_timers::callback::Timeout;
use tutorchat_shared::app::{AppEvent, ConnectionState};
use yew::prelude::*;

use crate::state::{Action, Store};
use crate::tauri;

/// How long "Back online" stays up.
const BACK_ONLINE_MS: u32 = 3_000;

#[hook]
pub(crate) fn use_connection_state(store: &Store) {
    let dispatcher = store.dispatcher();
    let user = store.me().cloned();
    use_effect_with(user, move |user| {
        if user.is_some() {
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(state) = tauri::connection().await {
                    dispatcher.dispatch(Action::Event(AppEvent::Connection { state }));
                }
            });
        }
    });
}

/// True for a few seconds after the connection came back from an outage. The engine goes
/// Reconnecting → Connecting → … → Online, so "an outage" is any `Reconnecting` since the last
/// time it was online; the first connection after sign-in is not a comeback.
#[hook]
pub(crate) fn use_back_online(state: ConnectionState) -> bool {
    let shown = use_state(|| false);
    let disrupted = use_mut_ref(|| false);
    let timer = use_mut_ref(|| None::<Timeout>);
    {
        let shown = shown.clone();
        use_effect_with(state, move |state| match state {
            ConnectionState::Online => {
                if std::mem::take(&mut *disrupted.borrow_mut()) {
                    shown.set(true);
                    let hide = shown.clone();
                    *timer.borrow_mut() =
                        Some(Timeout::new(BACK_ONLINE_MS, move || hide.set(false)));
                }
            }
            ConnectionState::Reconnecting { .. } => {
                *disrupted.borrow_mut() = true;
                timer.borrow_mut().take();
                shown.set(false);
            }
            ConnectionState::Connecting => {
                timer.borrow_mut().take();
                shown.set(false);
            }
            // Signed out or stopped: whatever comes next is a fresh start.
            ConnectionState::Offline => {
                *disrupted.borrow_mut() = false;
                timer.borrow_mut().take();
                shown.set(false);
            }
        });
    }
    *shown
}
