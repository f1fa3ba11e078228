//! The chats screen: the list and the open conversation side by side, or — narrower than
//! 700px — one at a time with a Back button. Tells the shell which chat is on screen.

use tutorchat_shared::{ChatId, Role};
use yew::prelude::*;

use crate::components::{ChatArea, ChatList, Icon, IconKind};
use crate::hooks::{use_media_query, use_route, use_store, use_view_chat};
use crate::route::Route;

/// Below this width the list and the conversation are separate screens.
const NARROW: &str = "(max-width: 699px)";

#[derive(Properties, PartialEq)]
pub(crate) struct ChatsPageProps {
    pub active: Option<ChatId>,
}

#[function_component]
pub(crate) fn ChatsPage(props: &ChatsPageProps) -> Html {
    let store = use_store();
    let route = use_route();
    let narrow = use_media_query(NARROW);
    use_view_chat(props.active);

    let Some(user) = store.user.clone() else {
        return html! {};
    };
    let hint = match user.role {
        Role::Student => "Open Tutors and message a tutor of one of your courses.",
        Role::Tutor => "Open Students and message a student, or wait for their questions.",
        Role::Admin => "Conversations you take part in appear here.",
    };
    let on_back = narrow.then(|| route.navigate.reform(|()| Route::Chats));
    let show_list = !narrow || props.active.is_none();
    let show_chat = !narrow || props.active.is_some();
    html! {
        <div class={classes!(
            "chats-page",
            narrow.then_some("narrow"),
            props.active.is_some().then_some("has-active"),
        )}>
            if show_list {
                <aside class="list-pane">
                    <ChatList chats={store.chats.clone()} active={props.active}
                        me={user.id.clone()} loaded={store.chats_loaded} empty_hint={hint} />
                </aside>
            }
            if show_chat {
                <div class="chat-pane">
                    if let Some(id) = props.active {
                        <ChatArea key={id.to_string()} chat_id={id} on_back={on_back} />
                    } else {
                        <div class="empty-state no-chat">
                            <Icon kind={IconKind::Chat} size={44} />
                            <p>{ "Pick a conversation" }</p>
                            <p class="muted">{ "Your messages stay on this device, so they are here even offline." }</p>
                        </div>
                    }
                </div>
            }
        </div>
    }
}
