//! The connection as a banner: offline, connecting, reconnecting (attempt and delay), and
//! "Back online" for a moment after a reconnection. The element is always there with its
//! `data-state`; it is only visible while there is something to say.

use tutorchat_shared::app::ConnectionState;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub(crate) struct ConnectionBannerProps {
    pub state: ConnectionState,
    pub back_online: bool,
}

#[function_component]
pub(crate) fn ConnectionBanner(props: &ConnectionBannerProps) -> Html {
    let (name, text) = match props.state {
        ConnectionState::Offline => (
            "offline",
            "You are offline. Messages you send will go out when the connection returns."
                .to_owned(),
        ),
        ConnectionState::Connecting => ("connecting", "Connecting…".to_owned()),
        ConnectionState::Reconnecting {
            attempt,
            retry_in_ms,
        } => (
            "reconnecting",
            format!(
                "Connection lost. Reconnecting in {} s (attempt {attempt})…",
                retry_in_ms.div_ceil(1000)
            ),
        ),
        ConnectionState::Online => ("online", "Back online".to_owned()),
    };
    let visible = props.state != ConnectionState::Online || props.back_online;
    html! {
        <div id="connection-banner" data-state={name}
            class={classes!("connection-banner", name, (!visible).then_some("hidden"))}
            role="status" aria-live="polite" aria-hidden={(!visible).then_some("true")}>
            if visible {
                <span class="banner-dot"></span>
                <span>{ text }</span>
            }
        </div>
    }
}
