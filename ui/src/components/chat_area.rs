//! One open conversation: header, messages with day separators (older ones load when
//! scrolled to the top, "Jump to latest" when scrolled up), and the input. While it is
//! shown, the newest message is marked read.

use chrono::Utc;
use tutorchat_shared::ChatId;
use yew::prelude::*;

use crate::components::{ChatHeader, DaySeparator, Icon, IconKind, MessageBubble, MessageInput};
use crate::format::{day_label, local_day, local_offset};
use crate::hooks::{
    use_chat_page, use_chat_scroll, use_mark_read, use_outbox, use_store, ScrollInputs,
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
    use_mark_read(chat_id, page.as_deref().and_then(newest_seq));

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

    let offset = local_offset();
    let today = local_day(Utc::now(), offset);
    let mut items = Vec::with_capacity(messages.len() + 4);
    let mut previous_day = None;
    for message in messages {
        let day = local_day(message.created_at, offset);
        if previous_day != Some(day) {
            let label = day_label(day, today);
            items.push(html! { <DaySeparator key={format!("day-{day}")} label={label} /> });
            previous_day = Some(day);
        }
        items.push(html! {
            <MessageBubble key={format!("{}/{}", message.sender_id, message.client_id)}
                message={message.clone()}
                own={Some(&message.sender_id) == me.as_ref()}
                offset={offset}
                on_retry={outbox.retry.clone()}
                on_discard={outbox.discard.clone()} />
        });
    }

    let top = if loading_older {
        html! {
            <div id="load-older-indicator" class="load-older" role="status">
                <span class="spinner" aria-hidden="true"></span>
                { "Loading earlier messages…" }
            </div>
        }
    } else if page
        .as_ref()
        .is_some_and(|p| !p.has_more_before && !p.messages.is_empty())
    {
        html! {
            <div class="history-start">
                { "This is the start of your conversation" }
                { chat.as_ref().map(|c| format!(" about {}", c.course.title)).unwrap_or_default() }
                { "." }
            </div>
        }
    } else {
        html! {}
    };
    let placeholder = match (&page, &page_handle.error) {
        (None, Some(error)) => html! {
            <div class="empty-state" role="alert">
                <p>{ "The messages could not be loaded." }</p>
                <p class="muted">{ &error.message }</p>
            </div>
        },
        (None, None) => html! {
            <div class="empty-state" role="status"><span class="spinner"></span>{ "Loading messages…" }</div>
        },
        (Some(p), _) if p.messages.is_empty() => html! {
            <div class="empty-state">
                <Icon kind={IconKind::Chat} size={36} />
                <p>{ "No messages yet." }</p>
                <p class="muted">{ "Say hello and ask your first question." }</p>
            </div>
        },
        _ => html! {},
    };
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
                on_back={props.on_back.clone()} />
            <div class="messages-wrap">
                <div id="message-list" class="message-list" ref={list_ref}
                    onscroll={scroll.on_scroll.clone()} role="log" aria-label="Messages">
                    { top }
                    { placeholder }
                    { for items }
                </div>
                { for jump }
            </div>
            <MessageInput key={chat_id.to_string()} chat_id={chat_id} />
        </section>
    }
}
