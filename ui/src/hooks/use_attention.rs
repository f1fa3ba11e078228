//! Whether someone can be looking at the app: its page is visible (the window is not hidden
//! or minimized) and its window has the focus (no other window in front taking the input).
//! Follows the window's `focus`/`blur` and the document's `visibilitychange`.

use gloo_events::EventListener;
use web_sys::VisibilityState;
use yew::prelude::*;

fn visible() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.visibility_state() == VisibilityState::Visible)
}

fn attending() -> bool {
    visible()
        && web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.has_focus().ok())
            .unwrap_or(false)
}

#[hook]
pub(crate) fn use_attention() -> bool {
    let attending_now = use_state(attending);
    {
        let attending_now = attending_now.clone();
        use_effect_with((), move |()| {
            let listeners = web_sys::window().map(|window| {
                let on_focus = {
                    let state = attending_now.clone();
                    // The event says the window has the focus; only visibility is left to ask.
                    EventListener::new(&window, "focus", move |_| state.set(visible()))
                };
                let on_blur = {
                    let state = attending_now.clone();
                    EventListener::new(&window, "blur", move |_| state.set(false))
                };
                let on_visibility = window.document().map(|document| {
                    EventListener::new(&document, "visibilitychange", move |_| {
                        attending_now.set(attending());
                    })
                });
                (on_focus, on_blur, on_visibility)
            });
            move || drop(listeners)
        });
    }
    *attending_now
}
