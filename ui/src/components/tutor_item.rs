//! A tutor of one course, on a student's list, with the button that opens the chat in that
//! course (a tutor of several courses is listed under each).

use tutorchat_shared::api::Contact;
use tutorchat_shared::{CourseRef, UserId};
use yew::prelude::*;

use crate::components::Avatar;

#[derive(Properties, PartialEq)]
pub(crate) struct TutorItemProps {
    pub course: CourseRef,
    pub tutor: Contact,
    pub online: bool,
    /// This button's request is on its way.
    pub busy: bool,
    pub on_message: Callback<(CourseRef, UserId)>,
}

#[function_component]
pub(crate) fn TutorItem(props: &TutorItemProps) -> Html {
    let onclick = {
        let (course, id) = (props.course.clone(), props.tutor.id.clone());
        props
            .on_message
            .reform(move |_: MouseEvent| (course.clone(), id.clone()))
    };
    html! {
        <li class="contact-item tutor-item" data-tutor-id={props.tutor.id.to_string()}>
            <Avatar name={props.tutor.name.clone()} online={Some(props.online)} />
            <div class="contact-main">
                <span class="contact-name">{ &props.tutor.name }</span>
                <span class={classes!("contact-status", props.online.then_some("online"))}>
                    { if props.online { "Online" } else { "Offline" } }
                    if props.tutor.chat_id.is_some() {
                        { " · you have a conversation" }
                    }
                </span>
            </div>
            <button type="button" class="start-chat primary"
                data-course-id={props.course.id.to_string()}
                data-tutor-id={props.tutor.id.to_string()}
                aria-label={format!("Message {} about {}", props.tutor.name, props.course.title)}
                disabled={props.busy} onclick={onclick}>
                { if props.busy { "Opening…" } else { "Message" } }
            </button>
        </li>
    }
}
