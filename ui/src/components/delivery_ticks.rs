//! Where one's own message is: a clock while pending, ✓ sent, ✓✓ read, ! failed.

use tutorchat_shared::app::DeliveryState;
use yew::prelude::*;

use crate::components::{Icon, IconKind};

#[derive(Properties, PartialEq)]
pub(crate) struct DeliveryTicksProps {
    pub state: DeliveryState,
}

#[function_component]
pub(crate) fn DeliveryTicks(props: &DeliveryTicksProps) -> Html {
    match props.state {
        DeliveryState::Pending => html! {
            <span class="ticks pending" title="Sending…" aria-label="Sending">
                <Icon kind={IconKind::Clock} size={13} />
            </span>
        },
        DeliveryState::Sent => html! {
            <span class="ticks sent" title="Sent" aria-label="Sent">{ "✓" }</span>
        },
        DeliveryState::Read => html! {
            <span class="ticks read" title="Read" aria-label="Read">{ "✓✓" }</span>
        },
        DeliveryState::Failed => html! {
            <span class="ticks failed" title="Not sent" aria-label="Not sent">{ "!" }</span>
        },
    }
}
