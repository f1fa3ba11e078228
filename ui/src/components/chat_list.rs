//! The conversations, newest activity first; archived ones (by the user, on any of their
//! devices, or quiet for the server's period) under a collapsed "Archived" section at the end.

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
    let archived_open = use_state(|| false);
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
        let item = |chat: &ChatItem| {
            html! {
                <ChatListItem key={chat.id.to_string()} chat={chat.clone()}
                    active={props.active == Some(chat.id)} me={props.me.clone()}
                    online={store.peer_online(chat.id)} typing={store.peer_typing(chat.id)}
                    now={now} offset={offset} />
            }
        };
        let (archived, listed): (Vec<&ChatItem>, Vec<&ChatItem>) =
            props.chats.iter().partition(|c| c.archived);
        // The open chat's section opens with it (a deep link to an archived chat).
        let show_archived = *archived_open || archived.iter().any(|c| Some(c.id) == props.active);
        let toggle = {
            let archived_open = archived_open.clone();
            Callback::from(move |_: MouseEvent| archived_open.set(!*archived_open))
        };
        let archived_unread: u64 = archived.iter().map(|c| c.unread).sum();
        html! {
            <>
                <ul class="chat-items">
                    { for listed.into_iter().map(item) }
                </ul>
                if !archived.is_empty() {
                    <button id="archived-toggle" type="button" class="archived-toggle"
                        aria-expanded={show_archived.to_string()} onclick={toggle}>
                        <Icon kind={IconKind::Archive} size={16} />
                        { format!("Archived ({})", archived.len()) }
                        if archived_unread > 0 {
                            <span class="archived-unread" aria-label="unread in the archive">{ archived_unread }</span>
                        }
                    </button>
                    if show_archived {
                        <ul id="archived-chats" class="chat-items archived" aria-label="Archived">
                            { for archived.into_iter().map(item) }
                        </ul>
                    }
                }
            </>
        }
    };
    html! {
        <section class="chat-list" aria-label="Conversations">
            <h2 class="pane-title">{ "Chats" }</h2>
            { body }
        </section>
    }
}
