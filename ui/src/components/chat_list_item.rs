//! One conversation in the list: peer and course, last message and time, unread badge,
//! online dot, a muted marker, and markers for messages still sending or failed.

use chrono::{DateTime, FixedOffset, Utc};
use tutorchat_shared::app::ChatItem;
use tutorchat_shared::UserId;
use yew::prelude::*;

use crate::components::{Avatar, Icon, IconKind};
use crate::format::{full, list_time, preview};
use crate::route::Route;

#[derive(Properties, PartialEq)]
pub(crate) struct ChatListItemProps {
    pub chat: ChatItem,
    pub active: bool,
    pub me: UserId,
    /// The peer is online (from the store: presence is kept there, once).
    pub online: bool,
    /// The peer is typing.
    pub typing: bool,
    pub now: DateTime<Utc>,
    pub offset: FixedOffset,
}

#[function_component]
pub(crate) fn ChatListItem(props: &ChatListItemProps) -> Html {
    let chat = &props.chat;
    let last = chat.last_message.as_ref();
    let at = last.map_or(chat.last_activity_at, |m| m.created_at);
    let mine = last.is_some_and(|m| m.sender_id == props.me);
    let text = last.map_or_else(|| "No messages yet".to_owned(), preview);
    let label = format!(
        "{} — {}{}",
        chat.peer.name,
        chat.course.title,
        if chat.unread > 0 {
            format!(", {} unread", chat.unread)
        } else {
            String::new()
        }
    );
    html! {
        <li class={classes!(
                "chat-item",
                props.active.then_some("active"),
                (chat.unread > 0).then_some("has-unread"),
                chat.muted.then_some("muted"),
            )}
            data-chat-id={chat.id.to_string()}>
            <a class="chat-link" href={Route::Chat(chat.id).to_hash()} aria-label={label}
                aria-current={props.active.then_some("page")}>
                <Avatar name={chat.peer.name.clone()} online={Some(props.online)} />
                <div class="chat-main">
                    <div class="chat-top">
                        <span class="chat-name">{ &chat.peer.name }</span>
                        <time class="chat-time" datetime={at.to_rfc3339()} title={full(at, props.offset)}>
                            { list_time(at, props.now, props.offset) }
                        </time>
                    </div>
                    <div class="chat-course">{ &chat.course.title }</div>
                    <div class="chat-bottom">
                        <span class={classes!("chat-preview", last.is_none().then_some("empty"))}>
                            if mine {
                                <span class="preview-you">{ "You: " }</span>
                            }
                            { text }
                        </span>
                        if props.typing {
                            <span class="chat-typing">{ "typing…" }</span>
                        }
                        if chat.failed > 0 {
                            <span class="failed-marker" title="Some messages were not sent"
                                aria-label="Some messages were not sent">{ "!" }</span>
                        }
                        if chat.pending > 0 {
                            <span class="pending-marker" title="Sending…" aria-label="Sending">
                                <Icon kind={IconKind::Clock} size={14} />
                            </span>
                        }
                        if chat.muted {
                            <span class="muted-marker" title="Muted" aria-label="Muted">
                                <Icon kind={IconKind::BellOff} size={14} />
                            </span>
                        }
                        if chat.unread > 0 {
                            <span class="unread-badge">{ chat.unread }</span>
                        }
                    </div>
                </div>
            </a>
        </li>
    }
}
