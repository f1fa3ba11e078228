//! Settings: the server this app signs in to (kept after signing out), desktop notifications
//! on or off, signing out, and the app's version.

use tutorchat_shared::app::commands::{AppPreferences, NotificationsArgs};
use yew::prelude::*;

use crate::hooks::{use_logout, use_store};
use crate::state::Action;
use crate::tauri;

#[function_component]
pub(crate) fn SettingsPage() -> Html {
    let store = use_store();
    let logout = use_logout();
    let prefs = use_state(|| None::<AppPreferences>);
    {
        let prefs = prefs.clone();
        use_effect_with((), move |()| {
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(p) = tauri::preferences().await {
                    prefs.set(Some(p));
                }
            });
        });
    }
    let toggle = {
        let (prefs, dispatcher) = (prefs.clone(), store.dispatcher());
        Callback::from(move |_: Event| {
            let Some(current) = (*prefs).clone() else {
                return;
            };
            let (prefs, dispatcher) = (prefs.clone(), dispatcher.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let args = NotificationsArgs {
                    enabled: !current.notifications,
                };
                match tauri::set_notifications(&args).await {
                    Ok(p) => prefs.set(Some(p)),
                    Err(e) => dispatcher.dispatch(Action::Failed(e)),
                }
            });
        })
    };
    let sign_out = logout.reform(|_: MouseEvent| ());
    let Some(p) = (*prefs).clone() else {
        return html! { <div class="settings-page"><p class="list-note">{ "Loading…" }</p></div> };
    };
    let user = store.user.clone();
    html! {
        <div class="settings-page">
            <header class="page-header">
                <h1>{ "Settings" }</h1>
            </header>
            <section class="settings-group" aria-labelledby="settings-account">
                <h2 id="settings-account">{ "Account" }</h2>
                if let Some(user) = user {
                    <div class="setting">
                        <span>{ "Signed in as" }</span>
                        <span id="settings-user" class="setting-value">{ format!("{} ({})", user.name, user.email) }</span>
                    </div>
                }
                <div class="setting">
                    <span>{ "Server" }</span>
                    <span id="settings-server" class="setting-value">{ &p.server }</span>
                </div>
                <div class="setting">
                    <span class="muted">{ "The app remembers this server when you sign out." }</span>
                    <button id="settings-logout" type="button" class="secondary" onclick={sign_out}>{ "Sign out" }</button>
                </div>
            </section>
            <section class="settings-group" aria-labelledby="settings-notifications">
                <h2 id="settings-notifications">{ "Notifications" }</h2>
                <label class="setting switch">
                    <span>{ "Show a notification for new messages" }</span>
                    <input id="notifications-toggle" type="checkbox" role="switch"
                        checked={p.notifications} onchange={toggle} />
                </label>
                <p class="muted">{ "Muted conversations never notify." }</p>
            </section>
            <section class="settings-group" aria-labelledby="settings-about">
                <h2 id="settings-about">{ "About" }</h2>
                <div class="setting">
                    <span>{ "Version" }</span>
                    <span id="app-version" class="setting-value">{ &p.version }</span>
                </div>
            </section>
        </div>
    }
}
