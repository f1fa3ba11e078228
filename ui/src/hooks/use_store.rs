//! The store handle from the context the `StoreProvider` puts at the root.

use yew::prelude::*;

use crate::state::Store;

#[hook]
pub(crate) fn use_store() -> Store {
    use_context::<Store>().expect("the StoreProvider wraps the whole app")
}
