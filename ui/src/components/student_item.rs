//! A student of one course, on a tutor's list, with the button that opens the chat in that
//! course.

use tutorchat_shared::api::Contact;
use tutorchat_shared::{CourseRef, UserId};
use yew::prelude::*;

use crate::components::Avatar;

#[derive(Properties, PartialEq)]
pub(crate) struct StudentItemProps {
    pub course: CourseRef,
    pub student: Contact,
    pub online: bool,
    pub busy: bool,
    pub on_message: Callback<(CourseRef, UserId)>,
}

#[function_component]
pub(crate) fn StudentItem(props: &StudentItemProps) -> Html {
    let onclick = {
        let (course, id) = (props.course.clone(), props.student.id.clone());
        props
            .on_message
            .reform(move |_: MouseEvent| (course.clone(), id.clone()))
    };
    html! {
        <li class="contact-item student-item" data-student-id={props.student.id.to_string()}>
            <Avatar name={props.student.name.clone()} online={Some(props.online)} />
            <div class="contact-main">
                <span class="contact-name">{ &props.student.name }</span>
                <span class={classes!("contact-status", props.online.then_some("online"))}>
                    { if props.online { "Online" } else { "Offline" } }
                </span>
            </div>
            <button type="button" class="start-chat secondary"
                data-course-id={props.course.id.to_string()}
                data-student-id={props.student.id.to_string()}
                aria-label={format!("Message {} about {}", props.student.name, props.course.title)}
                disabled={props.busy} onclick={onclick}>
                { if props.busy { "Opening…" } else if props.student.chat_id.is_some() { "Open chat" } else { "Message" } }
            </button>
        </li>
    }
}
