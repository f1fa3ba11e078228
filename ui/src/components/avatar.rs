//! A round avatar with the person's initials in their own colour, and the online dot.

use yew::prelude::*;

use crate::format::{hue, initials};

#[derive(Properties, PartialEq)]
pub(crate) struct AvatarProps {
    pub name: AttrValue,
    /// Some(true) draws the online dot; None for people whose presence is not shown.
    #[prop_or_default]
    pub online: Option<bool>,
    #[prop_or_default]
    pub small: bool,
}

#[function_component]
pub(crate) fn Avatar(props: &AvatarProps) -> Html {
    let style = format!("--avatar-hue: {}", hue(&props.name));
    html! {
        <span class={classes!("avatar", props.small.then_some("small"))} style={style} aria-hidden="true">
            { initials(&props.name) }
            if props.online == Some(true) {
                <span class="online-dot" title="Online"></span>
            }
        </span>
    }
}
