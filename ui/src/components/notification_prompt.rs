//! On a phone, before the system asks whether Tutorchat may notify: why it would like to, with
//! Turn on (which puts the system's question) and Not now. A desktop never shows it (no
//! permission is needed there).

use tutorchat_shared::app::commands::PermissionAnswer;
use yew::prelude::*;

use crate::components::{Icon, IconKind};
use crate::tauri;

#[function_component]
pub(crate) fn NotificationPrompt() -> Html {
    // `Prompt` only while the system has not asked yet and the user has not said "Not now".
    let answer = use_state(|| None::<PermissionAnswer>);
    {
        let answer = answer.clone();
        use_effect_with((), move |()| {
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(state) = tauri::notification_permission().await {
                    answer.set(Some(state));
                }
            });
        });
    }
    if *answer != Some(PermissionAnswer::Prompt) {
        return html! {};
    }
    let turn_on = {
        let answer = answer.clone();
        Callback::from(move |_: MouseEvent| {
            let answer = answer.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let state = tauri::request_notification_permission()
                    .await
                    .unwrap_or(PermissionAnswer::Denied);
                answer.set(Some(state));
            });
        })
    };
    let not_now = {
        let answer = answer.clone();
        Callback::from(move |_: MouseEvent| answer.set(Some(PermissionAnswer::Denied)))
    };
    html! {
        <div id="notification-prompt" class="upgrade-prompt notification-prompt" role="dialog"
            aria-labelledby="notification-prompt-title">
            <span class="upgrade-icon"><Icon kind={IconKind::Chat} size={22} /></span>
            <div class="upgrade-text">
                <strong id="notification-prompt-title">{ "Know when someone writes to you" }</strong>
                <p>{ "Tutorchat can tell you when your tutor or student answers, even while the app is in the background. Your phone will ask you to confirm." }</p>
            </div>
            <button id="notifications-allow" type="button" class="primary" onclick={turn_on}>{ "Turn on" }</button>
            <button id="notifications-later" type="button" class="ghost" onclick={not_now}>{ "Not now" }</button>
        </div>
    }
}
