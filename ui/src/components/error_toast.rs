//! The last failure worth showing (a refused retry, a list that would not load), with a
//! dismiss button.

use tutorchat_shared::ApiError;
use yew::prelude::*;

use crate::components::{Icon, IconKind};

#[derive(Properties, PartialEq)]
pub(crate) struct ErrorToastProps {
    pub error: Option<ApiError>,
    pub on_dismiss: Callback<()>,
}

#[function_component]
pub(crate) fn ErrorToast(props: &ErrorToastProps) -> Html {
    let Some(error) = &props.error else {
        return html! {};
    };
    let onclick = props.on_dismiss.reform(|_: MouseEvent| ());
    html! {
        <div id="app-error" class="toast" role="alert">
            <span>{ &error.message }</span>
            <button type="button" class="icon-button" aria-label="Dismiss" onclick={onclick}>
                <Icon kind={IconKind::Close} size={16} />
            </button>
        </div>
    }
}
