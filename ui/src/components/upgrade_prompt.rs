//! Shown when a student tries to chat in a course they have not bought (`not_enrolled`).

use tutorchat_shared::CourseRef;
use yew::prelude::*;

use crate::components::{Icon, IconKind};

#[derive(Properties, PartialEq)]
pub(crate) struct UpgradePromptProps {
    pub course: CourseRef,
    pub on_dismiss: Callback<()>,
}

#[function_component]
pub(crate) fn UpgradePrompt(props: &UpgradePromptProps) -> Html {
    let onclick = props.on_dismiss.reform(|_: MouseEvent| ());
    html! {
        <div id="upgrade-prompt" class="upgrade-prompt" role="alert" data-course-id={props.course.id.to_string()}>
            <span class="upgrade-icon"><Icon kind={IconKind::Lock} size={22} /></span>
            <div class="upgrade-text">
                <strong>{ format!("Buy {} to chat with its tutors", props.course.title) }</strong>
                <p>{ "Chatting with tutors comes with the course. Once your purchase is active, you can message them here." }</p>
            </div>
            <button type="button" class="icon-button" aria-label="Dismiss" onclick={onclick}>
                <Icon kind={IconKind::Close} size={16} />
            </button>
        </div>
    }
}
