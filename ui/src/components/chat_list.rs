//! The conversations, newest activity first.

use chrono::Utc;
use tutorchat_shared::app::ChatItem;
use tutorchat_shared::{ChatId, UserId};
use yew::prelude::*;

use crate::components::{ChatListItem, Icon, IconKind};
use crate::format::local_offset;
use crate::hooks::use_store;

#[derive(Properties, PartialEq)]
pub(crate) struct ChatListProps {
    pub chats: Vec<ChatItem>,
    pub active: Option<ChatId>,
    pub me: UserId,
    pub loaded: bool,
    /// What to do to start a conversation, for the empty list.
    pub empty_hint: AttrValue,
}

#[function_component]
pub(crate) fn ChatList(props: &ChatListProps) -> Html {
    let store = use_store();
    let now = Utc::now();
    let offset = local_offset();
    let body = if !props.loaded {
        html! { <p class="list-note" role="status">{ "Loading conversations…" }</p> }
    } else if props.chats.is_empty() {
        html! {
            <div class="empty-state small">
                <Icon kind={IconKind::Chat} size={32} />
                <p>{ "No conversations yet." }</p>
                <p class="muted">{ props.empty_hint.clone() }</p>
            </div>
        }
    } else {
        html! {
            <ul class="chat-items">
                { for props.chats.iter().map(|chat| html! {
                    <ChatListItem key={chat.id.to_string()} chat={chat.clone()}
                        active={props.active == Some(chat.id)} me={props.me.clone()}
                        online={store.peer_online(chat.id)} typing={store.peer_typing(chat.id)}
                        now={now} offset={offset} />
                }) }
            </ul>
        }
    };
    html! {
        <section class="chat-list" aria-label="Conversations">
            <h2 class="pane-title">{ "Chats" }</h2>
            { body }
        </section>
    }
}
