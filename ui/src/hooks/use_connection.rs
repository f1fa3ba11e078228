//! The connection to the server as the banner shows it: asked for once at sign-in (later
//! changes come as events; an answer that an event overtook is dropped by the reducer), and
//! "Back online" for a few seconds after an outage; and the server's published limits, which
//! come with each connection.

use gloo_timers::callback::Timeout;
use tutorchat_shared::app::ConnectionState;
use yew::prelude::*;

use crate::state::{Action, Store};
use crate::tauri;

/// How long "Back online" stays up.
const BACK_ONLINE_MS: u32 = 3_000;

#[hook]
pub(crate) fn use_connection_state(store: &Store) {
    let dispatcher = store.dispatcher();
    let user = store.me().cloned();
    let asked_after = store.connection_events;
    use_effect_with(user, move |user| {
        if user.is_some() {
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(state) = tauri::connection().await {
                    dispatcher.dispatch(Action::ConnectionQueried { state, asked_after });
                }
            });
        }
    });
}

/// The limits the server published, asked for at sign-in and whenever the connection comes
/// up (the client core fetches them on every connection, before it says it is online).
#[hook]
pub(crate) fn use_server_limits(store: &Store) {
    let dispatcher = store.dispatcher();
    let key = (
        store.me().cloned(),
        store.connection == ConnectionState::Online,
    );
    use_effect_with(key, move |(user, _)| {
        if user.is_some() {
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(limits) = tauri::limits().await {
                    dispatcher.dispatch(Action::LimitsLoaded(limits));
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
