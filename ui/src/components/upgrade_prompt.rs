//! The offer of a course the student has not bought (`not_enrolled`, from the tutor list or a
//! deep link): what it is, why it is needed, and Buy when the platform gave where.

use yew::prelude::*;

use crate::components::{BuyCourse, Icon, IconKind};
use crate::state::UpgradeOffer;

#[derive(Properties, PartialEq)]
pub(crate) struct UpgradePromptProps {
    pub offer: UpgradeOffer,
    pub on_dismiss: Callback<()>,
}

#[function_component]
pub(crate) fn UpgradePrompt(props: &UpgradePromptProps) -> Html {
    let onclick = props.on_dismiss.reform(|_: MouseEvent| ());
    let course = &props.offer.course;
    let buy = props
        .offer
        .purchase_url
        .clone()
        .map(|url| html! { <BuyCourse url={url} /> });
    html! {
        <div id="upgrade-prompt" class="upgrade-prompt" role="alert" data-course-id={course.id.to_string()}>
            <span class="upgrade-icon"><Icon kind={IconKind::Lock} size={22} /></span>
            <div class="upgrade-text">
                <strong>{ format!("Buy {} to chat with its tutors", course.title) }</strong>
                <p>{ "Chatting with tutors comes with the course. Once your purchase is active, you can message them here." }</p>
            </div>
            { for buy }
            <button type="button" class="icon-button" aria-label="Dismiss" onclick={onclick}>
                <Icon kind={IconKind::Close} size={16} />
            </button>
        </div>
    }
}
