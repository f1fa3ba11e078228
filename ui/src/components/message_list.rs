//! The scrolling list of one conversation: "loading earlier messages" or "the start of your
//! conversation" at the top, a placeholder while there is nothing to show, then the messages
//! with a day separator before each local day ([`crate::days::by_day`]).

use std::rc::Rc;

use chrono::Utc;
use tutorchat_shared::app::ChatPage;
use tutorchat_shared::{ApiError, ClientId, Role, UserId};
use yew::prelude::*;

use crate::components::{DaySeparator, Icon, IconKind, MessageBubble};
use crate::days::{by_day, Row};
use crate::format::{local_day, local_offset};

#[derive(Properties, PartialEq)]
pub(crate) struct MessageListProps {
    /// None until the first page arrives.
    pub page: Option<Rc<ChatPage>>,
    pub me: Option<UserId>,
    /// The empty chat's hint is worded for the viewer's role.
    pub role: Option<Role>,
    /// For "the start of your conversation about …".
    pub course_title: Option<String>,
    pub loading_older: bool,
    /// Why the first page could not be loaded.
    pub error: Option<ApiError>,
    /// The scrolling element, for the scroll hook.
    pub list_ref: NodeRef,
    pub on_scroll: Callback<Event>,
    pub on_retry: Callback<ClientId>,
    pub on_discard: Callback<ClientId>,
}

#[function_component]
pub(crate) fn MessageList(props: &MessageListProps) -> Html {
    let page = props.page.as_deref();
    let messages = page.map(|p| p.messages.as_slice()).unwrap_or_default();
    let offset = local_offset();
    let today = local_day(Utc::now(), offset);
    let rows = by_day(messages, offset, today)
        .into_iter()
        .map(|row| match row {
            Row::Day { day, label } => {
                html! { <DaySeparator key={format!("day-{day}")} label={label} /> }
            }
            Row::Message(message) => html! {
                <MessageBubble key={format!("{}/{}", message.sender_id, message.client_id)}
                    message={message.clone()}
                    own={Some(&message.sender_id) == props.me.as_ref()}
                    offset={offset}
                    on_retry={props.on_retry.clone()}
                    on_discard={props.on_discard.clone()} />
            },
        });

    let top = if props.loading_older {
        html! {
            <div id="load-older-indicator" class="load-older" role="status">
                <span class="spinner" aria-hidden="true"></span>
                { "Loading earlier messages…" }
            </div>
        }
    } else if page.is_some_and(|p| !p.has_more_before && !p.messages.is_empty()) {
        html! {
            <div class="history-start">
                { "This is the start of your conversation" }
                { props.course_title.as_ref().map(|title| format!(" about {title}")).unwrap_or_default() }
                { "." }
            </div>
        }
    } else {
        html! {}
    };
    let placeholder = match (page, &props.error) {
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
                <p class="muted">{ empty_hint(props.role) }</p>
            </div>
        },
        _ => html! {},
    };

    html! {
        <div id="message-list" class="message-list" ref={props.list_ref.clone()}
            onscroll={props.on_scroll.clone()} role="log" aria-label="Messages">
            { top }
            { placeholder }
            { for rows }
        </div>
    }
}

/// What an empty conversation suggests, by who is looking at it.
fn empty_hint(role: Option<Role>) -> &'static str {
    match role {
        Some(Role::Student) => "Say hello and ask your first question.",
        Some(Role::Tutor) => "Say hello and offer your help with the course.",
        Some(Role::Admin) | None => "Say hello.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_chat_suggests_what_fits_the_viewer() {
        assert!(empty_hint(Some(Role::Student)).contains("ask your first question"));
        assert!(empty_hint(Some(Role::Tutor)).contains("offer your help"));
        assert!(!empty_hint(Some(Role::Tutor)).contains("question"));
    }
}
