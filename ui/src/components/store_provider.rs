//! Puts the store in a context at the root, so hooks anywhere can read it and dispatch.

use yew::prelude::*;

use crate::state::{State, Store};

#[derive(Properties, PartialEq)]
pub(crate) struct StoreProviderProps {
    #[prop_or_default]
    pub children: Html,
}

#[function_component]
pub(crate) fn StoreProvider(props: &StoreProviderProps) -> Html {
    let store = use_reducer(State::default);
    html! {
        <ContextProvider<Store> context={store}>
            { props.children.clone() }
        </ContextProvider<Store>>
    }
}
