//! Writing a message: a textarea that grows with its text — wrapped lines too — up to the
//! stylesheet's `max-height`, then scrolls (Enter sends, Shift+Enter is a newline); the
//! character counter against the limits, the validation text inline, and Send.

use tutorchat_shared::ChatId;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use crate::components::{Icon, IconKind};
use crate::compose::{key_intent, KeyIntent};
use crate::hooks::use_composer;

#[derive(Properties, PartialEq)]
pub(crate) struct MessageInputProps {
    pub chat_id: ChatId,
}

#[function_component]
pub(crate) fn MessageInput(props: &MessageInputProps) -> Html {
    let composer = use_composer(props.chat_id);
    let input = use_node_ref();
    {
        let input = input.clone();
        use_effect_with(composer.text.clone(), move |_| {
            if let Some(el) = input.cast::<HtmlTextAreaElement>() {
                // Shrink first, so deleted lines give the height back, then fit the text.
                let style = el.style();
                let _ = style.set_property("height", "auto");
                let _ = style.set_property("height", &format!("{}px", el.scroll_height() + 2));
            }
        });
    }
    let oninput = composer
        .on_input
        .reform(|e: InputEvent| e.target_unchecked_into::<HtmlTextAreaElement>().value());
    let onkeydown = {
        let on_send = composer.on_send.clone();
        Callback::from(move |e: KeyboardEvent| {
            if key_intent(&e.key(), e.shift_key(), e.is_composing()) == KeyIntent::Send {
                e.prevent_default();
                on_send.emit(());
            }
        })
    };
    let onsubmit = {
        let on_send = composer.on_send.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            on_send.emit(());
        })
    };
    let error = composer
        .check
        .error
        .clone()
        .or_else(|| composer.send_error.clone());
    html! {
        <form class="composer" onsubmit={onsubmit}>
            <div class="composer-row">
                <label for="message-input" class="sr-only">{ "Message" }</label>
                <textarea id="message-input" rows="1" ref={input}
                    placeholder="Write a message…" value={composer.text.clone()}
                    aria-describedby="char-counter input-error"
                    aria-invalid={error.is_some().then_some("true")}
                    oninput={oninput} onkeydown={onkeydown} />
                <button id="send-button" type="submit" class="send-button"
                    disabled={!composer.check.can_send} aria-label="Send message" title="Send (Enter)">
                    <Icon kind={IconKind::Send} />
                </button>
            </div>
            <div class="composer-foot">
                <p id="input-error" class="input-error" role="alert">{ error.unwrap_or_default() }</p>
                <span id="char-counter"
                    class={classes!("char-counter", composer.check.over_limit().then_some("over"))}
                    aria-label={format!("{} of {} characters", composer.check.chars, composer.check.max)}>
                    { composer.check.counter() }
                </span>
            </div>
        </form>
    }
}
