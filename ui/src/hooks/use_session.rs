//! Signing in and out. The shell owns the session and its tokens; the UI only learns who
//! the user is.

use tutorchat_shared::app::commands::LoginArgs;
use tutorchat_shared::ApiError;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::hooks::use_route::replace_route;
use crate::hooks::use_store;
use crate::route::Route;
use crate::state::Action;
use crate::tauri;

/// The login form's handle.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LoginHandle {
    pub submit: Callback<LoginArgs>,
    pub pending: bool,
    pub error: Option<ApiError>,
}

#[hook]
pub(crate) fn use_login() -> LoginHandle {
    let dispatcher = use_store().dispatcher();
    let pending = use_state(|| false);
    let error = use_state(|| None::<ApiError>);
    let in_flight = use_mut_ref(|| false);
    let submit = {
        let (pending, error) = (pending.clone(), error.clone());
        use_callback((), move |args: LoginArgs, _| {
            if in_flight.replace(true) {
                return;
            }
            pending.set(true);
            error.set(None);
            let (pending, error, dispatcher) = (pending.clone(), error.clone(), dispatcher.clone());
            let in_flight = in_flight.clone();
            spawn_local(async move {
                let answer = tauri::login(&args).await;
                *in_flight.borrow_mut() = false;
                pending.set(false);
                match answer {
                    Ok(user) => dispatcher.dispatch(Action::SignedIn(user)),
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    LoginHandle {
        submit,
        pending: *pending,
        error: (*error).clone(),
    }
}

/// Signs out; the login screen follows.
#[hook]
pub(crate) fn use_logout() -> Callback<()> {
    let dispatcher = use_store().dispatcher();
    use_callback((), move |(), _| {
        let dispatcher = dispatcher.clone();
        spawn_local(async move {
            match tauri::logout().await {
                Ok(()) => {
                    dispatcher.dispatch(Action::SignedOut);
                    replace_route(Route::Home);
                }
                Err(e) => dispatcher.dispatch(Action::Failed(e)),
            }
        });
    })
}
