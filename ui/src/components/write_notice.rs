//! In place of the composer when the user cannot write in a conversation: they blocked the
//! other person (with Unblock), or the chat is read-only — the student's purchase ended (with
//! a way to buy the course again, when the platform gave one) or the tutor no longer teaches
//! the course. The history above stays readable.

use tutorchat_shared::app::ChatItem;
use tutorchat_shared::model::ReadOnly;
use tutorchat_shared::Role;
use yew::prelude::*;

use crate::components::{BuyCourse, Icon, IconKind};

#[derive(Properties, PartialEq)]
pub(crate) struct WriteNoticeProps {
    pub chat: ChatItem,
    /// The viewer's role: a student is told about their purchase, a tutor about the student's.
    pub role: Role,
    pub on_unblock: Callback<()>,
}

/// Whether the user cannot write in `chat` (and the notice takes the composer's place).
pub(crate) fn cannot_write(chat: &ChatItem) -> bool {
    chat.blocked || chat.read_only.is_some()
}

#[function_component]
pub(crate) fn WriteNotice(props: &WriteNoticeProps) -> Html {
    let chat = &props.chat;
    if chat.blocked {
        let onclick = props.on_unblock.reform(|_: MouseEvent| ());
        return html! {
            <div id="blocked-notice" class="write-notice" role="status">
                <Icon kind={IconKind::Block} size={18} />
                <p>{ format!("You blocked {}. They cannot message you, and you cannot write here.", chat.peer.name) }</p>
                <button id="unblock-button" type="button" class="secondary" onclick={onclick}>
                    { "Unblock" }
                </button>
            </div>
        };
    }
    let Some(why) = chat.read_only else {
        return html! {};
    };
    let text = match (why, props.role) {
        (ReadOnly::EnrollmentEnded, Role::Student) => format!(
            "Your purchase of {} has ended, so this conversation is read-only. Buy the course again to keep chatting.",
            chat.course.title
        ),
        (ReadOnly::EnrollmentEnded, _) => format!(
            "{}'s purchase of {} has ended, so this conversation is read-only.",
            chat.peer.name, chat.course.title
        ),
        (ReadOnly::TutorLeft, Role::Student) => format!(
            "{} no longer teaches {}, so this conversation is read-only.",
            chat.peer.name, chat.course.title
        ),
        (ReadOnly::TutorLeft, _) => format!(
            "You no longer teach {}, so this conversation is read-only.",
            chat.course.title
        ),
    };
    let buy = chat
        .purchase_url
        .clone()
        .map(|url| html! { <BuyCourse url={url} /> });
    html! {
        <div id="read-only-banner" class="write-notice" role="status"
            data-reason={why.as_str()}>
            <Icon kind={IconKind::Lock} size={18} />
            <p>{ text }</p>
            { for buy }
        </div>
    }
}
