//! The day between messages: "Today", "Yesterday", "Monday", "3 March".

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub(crate) struct DaySeparatorProps {
    pub label: AttrValue,
}

#[function_component]
pub(crate) fn DaySeparator(props: &DaySeparatorProps) -> Html {
    html! {
        <div class="day-separator" role="separator" aria-label={props.label.clone()}>
            <span>{ props.label.clone() }</span>
        </div>
    }
}
