//! Connects the app to the shell once, at start: subscribe to the event stream first (so
//! nothing emitted meanwhile is missed), then ask for the session to restore. Events become
//! store actions, except `OpenChat`, which navigates to the chat (`#/chat/<id>`); signing
//! out also resets the screen to home.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use tutorchat_shared::app::{AppEvent, SessionEndReason};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::hooks::use_route::{navigate_to, replace_route};
use crate::route::Route;
use crate::state::{Action, Store};
use crate::tauri;

#[hook]
pub(crate) fn use_shell(store: &Store) {
    let dispatcher = store.dispatcher();
    use_effect_with((), move |_| {
        let subscription = Rc::new(RefCell::new(None));
        let unmounted = Rc::new(Cell::new(false));
        {
            let subscription = subscription.clone();
            let unmounted = unmounted.clone();
            spawn_local(async move {
                let events = dispatcher.clone();
                let listening = tauri::listen_app_events(move |event| {
                    match event {
                        AppEvent::OpenChat { chat_id } => navigate_to(Route::Chat(chat_id)),
                        event => {
                            // Signed out (here or elsewhere): the next user starts at home.
                            // After an expiry the screen stays, to come back to it.
                            let signed_out = matches!(
                                event,
                                AppEvent::SessionEnded {
                                    reason: SessionEndReason::SignedOut
                                }
                            );
                            if let Some(action) = Action::from_event(event) {
                                events.dispatch(action);
                            }
                            if signed_out {
                                replace_route(Route::Home);
                            }
                        }
                    }
                })
                .await;
                match listening {
                    Ok(live) if !unmounted.get() => *subscription.borrow_mut() = Some(live),
                    Ok(_) => {} // dropped: unsubscribed
                    Err(e) => web_sys::console::warn_1(&JsValue::from_str(&format!(
                        "tutorchat: no event stream: {e}"
                    ))),
                }
                let restored = tauri::session().await.unwrap_or_else(|e| {
                    web_sys::console::warn_1(&JsValue::from_str(&format!(
                        "tutorchat: no session to restore: {e}"
                    )));
                    None
                });
                dispatcher.dispatch(Action::SessionRestored(restored));
            });
        }
        move || {
            unmounted.set(true);
            subscription.borrow_mut().take();
        }
    });
}
