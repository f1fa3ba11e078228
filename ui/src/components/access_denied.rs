//! A conversation that cannot be shown because it is not one of the user's (a stale route,
//! someone else's link): says so and offers the way back, instead of an empty chat.

use yew::prelude::*;

use crate::components::{Icon, IconKind};
use crate::route::Route;

#[function_component]
pub(crate) fn AccessDenied() -> Html {
    html! {
        <section id="access-denied" class="empty-state access-denied" role="alert">
            <Icon kind={IconKind::Lock} size={40} />
            <h2>{ "This conversation isn't available" }</h2>
            <p class="muted">
                { "It is not one of your chats, or the link that led here is out of date." }
            </p>
            <a id="back-to-chats" class="primary" href={Route::Chats.to_hash()}>
                { "Back to your chats" }
            </a>
        </section>
    }
}
