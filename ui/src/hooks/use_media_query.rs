//! Whether a CSS media query matches, following changes (window resizes).

use gloo_events::EventListener;
use yew::prelude::*;

fn matches(query: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.match_media(query).ok().flatten())
        .is_some_and(|list| list.matches())
}

#[hook]
pub(crate) fn use_media_query(query: &'static str) -> bool {
    let matching = use_state(|| matches(query));
    {
        let matching = matching.clone();
        use_effect_with(query, move |&query| {
            let listener = web_sys::window()
                .and_then(|w| w.match_media(query).ok().flatten())
                .map(|list| {
                    EventListener::new(&list, "change", move |_| matching.set(matches(query)))
                });
            move || drop(listener)
        });
    }
    *matching
}
