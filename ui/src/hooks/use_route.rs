//! The screen lives in the URL hash (`#/chat/42`), so the shell can deep-link and the
//! webview's Back works. This hook follows `hashchange`; navigation sets the hash.

use gloo_events::EventListener;
use yew::prelude::*;

use crate::route::Route;

fn current() -> Route {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .map_or(Route::Home, |hash| Route::parse(&hash))
}

/// Goes to a screen (a new history entry).
pub(crate) fn navigate_to(route: Route) {
    if let Some(window) = web_sys::window() {
        let _ = window.location().set_hash(&route.to_hash());
    }
}

/// Goes to a screen in place of the current one (redirects).
pub(crate) fn replace_route(route: Route) {
    if let Some(window) = web_sys::window() {
        let _ = window.location().replace(&route.to_hash());
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RouteHandle {
    pub route: Route,
    pub navigate: Callback<Route>,
    /// Navigate without a history entry.
    pub redirect: Callback<Route>,
}

#[hook]
pub(crate) fn use_route() -> RouteHandle {
    let route = use_state(current);
    {
        let route = route.clone();
        use_effect_with((), move |_| {
            let listener = web_sys::window().map(|window| {
                EventListener::new(&window, "hashchange", move |_| route.set(current()))
            });
            move || drop(listener)
        });
    }
    let navigate = use_callback((), |to: Route, _| navigate_to(to));
    let redirect = use_callback((), |to: Route, _| replace_route(to));
    RouteHandle {
        route: *route,
        navigate,
        redirect,
    }
}
