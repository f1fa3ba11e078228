//! The open conversation's header: who, in which course, online or typing, and the call
//! buttons that are not there yet.

use tutorchat_shared::app::ChatItem;
use yew::prelude::*;

use crate::components::{Avatar, Icon, IconKind};

#[derive(Properties, PartialEq)]
pub(crate) struct ChatHeaderProps {
    /// None until the chat list has it (a deep link opened before the list loaded).
    pub chat: Option<ChatItem>,
    pub typing: bool,
    /// The peer is online (from the store: presence is kept there, once).
    pub online: bool,
    /// Present at narrow widths, where the list is another screen.
    #[prop_or_default]
    pub on_back: Option<Callback<()>>,
}

#[function_component]
pub(crate) fn ChatHeader(props: &ChatHeaderProps) -> Html {
    let online = props.online;
    let (name, course) = match &props.chat {
        Some(chat) => (chat.peer.name.clone(), chat.course.title.clone()),
        None => ("Conversation".to_owned(), String::new()),
    };
    let back = props.on_back.as_ref().map(|on_back| {
        let onclick = on_back.reform(|_: MouseEvent| ());
        html! {
            <button id="back" type="button" class="icon-button" aria-label="Back to chats" onclick={onclick}>
                <Icon kind={IconKind::Back} />
            </button>
        }
    });
    html! {
        <header id="chat-header" class="chat-header">
            { for back }
            <Avatar name={name.clone()} online={Some(online)} />
            <div class="peer">
                <h2 class="peer-name">{ name }</h2>
                <div class="peer-meta" aria-live="polite">
                    if !course.is_empty() {
                        <span class="course-context" title="Course">{ course }</span>
                        <span class="sep" aria-hidden="true">{ "·" }</span>
                    }
                    // Present only while the peer types (tests wait for it to appear).
                    if props.typing {
                        <span id="typing-indicator" class="typing">{ "typing…" }</span>
                    } else {
                        <span class={classes!("presence", online.then_some("online"))}>
                            { if online { "Online" } else { "Offline" } }
                        </span>
                    }
                </div>
            </div>
            <div class="header-actions">
                <button id="call-button" type="button" class="icon-button" disabled={true}
                    title="Coming soon" aria-label="Voice call (coming soon)">
                    <Icon kind={IconKind::Phone} />
                </button>
                <button id="video-button" type="button" class="icon-button" disabled={true}
                    title="Coming soon" aria-label="Video call (coming soon)">
                    <Icon kind={IconKind::Video} />
                </button>
            </div>
        </header>
    }
}
