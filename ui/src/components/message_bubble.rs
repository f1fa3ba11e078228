//! One message: mine on the right with delivery ticks, theirs on the left; time; Retry and
//! Discard when it failed. Text is text only; an image or file shows what it carries
//! ([`AttachmentView`]) above its caption.

use chrono::FixedOffset;
use tutorchat_shared::app::{DeliveryState, LocalMessage};
use tutorchat_shared::{ClientId, MessageKind};
use yew::prelude::*;

use crate::components::{AttachmentView, DeliveryTicks};
use crate::format::{clock, delivery_name, full};

#[derive(Properties, PartialEq)]
pub(crate) struct MessageBubbleProps {
    pub message: LocalMessage,
    pub own: bool,
    pub offset: FixedOffset,
    pub on_retry: Callback<ClientId>,
    pub on_discard: Callback<ClientId>,
}

#[function_component]
pub(crate) fn MessageBubble(props: &MessageBubbleProps) -> Html {
    let m = &props.message;
    let state = delivery_name(m.state);
    let failed = m.state == DeliveryState::Failed;
    let content = match (&m.attachment, m.kind) {
        (Some(attachment), MessageKind::Image | MessageKind::File) => html! {
            <>
                <AttachmentView attachment={attachment.clone()} client_id={m.client_id.clone()}
                    image={m.kind == MessageKind::Image} />
                if !m.content.trim().is_empty() {
                    <p class="message-text caption">{ &m.content }</p>
                }
            </>
        },
        _ => html! { <p class="message-text">{ &m.content }</p> },
    };
    let failure = failed.then(|| {
        let retry = {
            let id = m.client_id.clone();
            props.on_retry.reform(move |_: MouseEvent| id.clone())
        };
        let discard = {
            let id = m.client_id.clone();
            props.on_discard.reform(move |_: MouseEvent| id.clone())
        };
        let why = m
            .failure
            .as_ref()
            .map_or("Not sent.", |f| f.message.as_str())
            .to_owned();
        html! {
            <div class="message-failure">
                <span class="failure-text">{ why }</span>
                <button type="button" class="retry" onclick={retry} aria-label="Retry sending this message">
                    { "Retry" }
                </button>
                <button type="button" class="discard" onclick={discard} aria-label="Discard this message">
                    { "Discard" }
                </button>
            </div>
        }
    });
    html! {
        <div class={classes!("message", props.own.then_some("own"), state, m.attachment.is_some().then_some("with-attachment"))}
            data-client-id={m.client_id.to_string()}
            data-seq={m.seq.map(|s| s.to_string())}
            data-state={state}>
            <div class="bubble">
                { content }
                <div class="message-meta">
                    <time datetime={m.created_at.to_rfc3339()} title={full(m.created_at, props.offset)}>
                        { clock(m.created_at, props.offset) }
                    </time>
                    if props.own {
                        <DeliveryTicks state={m.state} />
                    }
                </div>
            </div>
            { for failure }
        </div>
    }
}
