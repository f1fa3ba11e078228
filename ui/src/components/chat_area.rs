//! One open conversation: header, the message list (older messages load when scrolled to the
//! top, "Jump to latest" when scrolled up), and the input. The newest message is marked read
//! only while someone can be looking at it: the window visible and focused, and the list at
//! its bottom. A chat that is not the user's shows `AccessDenied`. The list itself is
//! `MessageList`.

use tutorchat_shared::{ChatId, ErrorCode};
use yew::prelude::*;

use crate::components::{
    cannot_write, AccessDenied, ChatHeader, Icon, IconKind, MessageInput, MessageList, WriteNotice,
};
use crate::hooks::{
    use_attention, use_chat_actions, use_chat_page, use_chat_scroll, use_focus_message,
    use_mark_read, use_outbox, use_store, ScrollInputs,
};
use crate::timeline::{lowest_seq, newest_seq};

#[derive(Properties, PartialEq)]
pub(crate) struct ChatAreaProps {
    pub chat_id: ChatId,
    /// Present at narrow widths, where the list is another screen.
    #[prop_or_default]
    pub on_back: Option<Callback<()>>,
}

#[function_component]
pub(crate) fn ChatArea(props: &ChatAreaProps) -> Html {
    let chat_id = props.chat_id;
    let store = use_store();
    let page_handle = use_chat_page(chat_id);
    let outbox = use_outbox();
    let list_ref = use_node_ref();

    let page = store.page(chat_id).cloned();
    let chat = store.chat(chat_id).cloned();
    let me = store.me().cloned();
    let loading_older = store.loading_older.contains(&chat_id);
    let attending = use_attention();
    let actions = use_chat_actions(chat.clone());

    let lowest = page.as_deref().and_then(lowest_seq);
    let can_load_older = page.as_ref().is_some_and(|p| p.has_more_before) && !loading_older;
    let on_reach_top = {
        let load_older = page_handle.load_older.clone();
        Callback::from(move |()| {
            if let (true, Some(before)) = (can_load_older, lowest) {
                load_older.emit(before);
            }
        })
    };
    let messages = page
        .as_ref()
        .map(|p| p.messages.as_slice())
        .unwrap_or_default();
    let scroll = use_chat_scroll(
        list_ref.clone(),
        ScrollInputs {
            first: messages.first().map(|m| m.client_id.to_string()),
            last: messages.last().map(|m| m.client_id.to_string()),
            last_is_own: messages
                .last()
                .is_some_and(|m| Some(&m.sender_id) == me.as_ref()),
            can_load_older,
        },
        on_reach_top,
    );
    use_focus_message(
        chat_id,
        lowest,
        list_ref.clone(),
        page_handle.load_older.clone(),
    );
    use_mark_read(
        chat_id,
        page.as_deref().and_then(newest_seq),
        attending && scroll.at_bottom,
    );

    let denied = page.is_none()
        && page_handle
            .error
            .as_ref()
            .is_some_and(|e| e.code == ErrorCode::NotParticipant);
    if denied {
        return html! { <AccessDenied /> };
    }

    let jump = (!scroll.at_bottom).then(|| {
        let onclick = scroll.jump_to_latest.reform(|_: MouseEvent| ());
        html! {
            <button id="jump-latest" type="button" class="jump-latest" onclick={onclick}>
                <Icon kind={IconKind::ArrowDown} size={16} />
                { "Jump to latest" }
            </button>
        }
    });

    html! {
        <section id="chat-area" class="chat-area" data-chat-id={chat_id.to_string()}
            aria-label={chat.as_ref().map_or_else(
                || "Conversation".to_owned(),
                |c| format!("Conversation with {}", c.peer.name),
            )}>
            <ChatHeader chat={chat.clone()} typing={store.peer_typing(chat_id)}
                online={store.peer_online(chat_id)}
                on_back={props.on_back.clone()} actions={actions.clone()} />
            <div class="messages-wrap">
                <MessageList page={page.clone()} me={me.clone()}
                    role={store.user.as_ref().map(|u| u.role)}
                    course_title={chat.as_ref().map(|c| c.course.title.clone())}
                    loading_older={loading_older} error={page_handle.error.clone()}
                    list_ref={list_ref} on_scroll={scroll.on_scroll.clone()}
                    on_retry={outbox.retry.clone()} on_discard={outbox.discard.clone()} />
                { for jump }
            </div>
            if let (Some(chat), Some(user)) = (chat.as_ref().filter(|c| cannot_write(c)), store.user.as_ref()) {
                <WriteNotice chat={chat.clone()} role={user.role}
                    on_unblock={actions.set_blocked.reform(|()| false)} />
            } else {
                <MessageInput key={chat_id.to_string()} chat_id={chat_id} />
            }
        </section>
    }
}
