//! The root component: the store's provider around the router.

use yew::prelude::*;

use crate::components::{Router, StoreProvider};

#[function_component]
pub(crate) fn App() -> Html {
    html! {
        <StoreProvider>
            <Router />
        </StoreProvider>
    }
}
