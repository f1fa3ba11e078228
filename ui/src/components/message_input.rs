//! Writing a message: a textarea that grows with its text — wrapped lines too — up to the
//! stylesheet's `max-height`, then scrolls (Enter sends, Shift+Enter is a newline); the
//! character counter against the limits, the validation text inline, and Send. The paperclip
//! (or a drop on the window, or pasting an image) attaches a file: it shows above the box,
//! and Send sends it with the text as its caption.

use tutorchat_shared::ChatId;
use wasm_bindgen::JsCast;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use crate::components::{AttachmentDraft, Icon, IconKind};
use crate::compose::{key_intent, KeyIntent};
use crate::hooks::{use_attach, use_composer};

#[derive(Properties, PartialEq)]
pub(crate) struct MessageInputProps {
    pub chat_id: ChatId,
}

#[function_component]
pub(crate) fn MessageInput(props: &MessageInputProps) -> Html {
    let composer = use_composer(props.chat_id);
    let attach = use_attach(props.chat_id, composer.on_input.clone());
    let input = use_node_ref();
    // With a file, Send sends it (the text, if any, is its caption); else the text.
    let send = {
        let (on_send, attach_send, on_input) = (
            composer.on_send.clone(),
            attach.send.clone(),
            composer.on_input.clone(),
        );
        let (has_file, text) = (attach.file.is_some(), composer.text.clone());
        Callback::from(move |()| {
            if has_file {
                attach_send.emit(text.clone());
                on_input.emit(String::new());
            } else {
                on_send.emit(());
            }
        })
    };
    let can_send = if attach.file.is_some() {
        composer.check.chars <= composer.check.max
    } else {
        composer.check.can_send
    };
    let onpaste = {
        let take = attach.take.clone();
        Callback::from(move |e: Event| {
            let Some(e) = e.dyn_ref::<web_sys::ClipboardEvent>() else {
                return;
            };
            let file = e
                .clipboard_data()
                .and_then(|data| data.files())
                .and_then(|files| files.get(0));
            if let Some(file) = file {
                // A pasted file (a screenshot) is attached, not pasted as text.
                e.prevent_default();
                take.emit(file);
            }
        })
    };
    let pick = attach.pick.reform(|_: MouseEvent| ());
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
        let on_send = send.clone();
        Callback::from(move |e: KeyboardEvent| {
            if key_intent(&e.key(), e.shift_key(), e.is_composing()) == KeyIntent::Send {
                e.prevent_default();
                on_send.emit(());
            }
        })
    };
    let onsubmit = {
        let on_send = send.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            on_send.emit(());
        })
    };
    let error = attach.error.clone().or_else(|| {
        composer
            .check
            .error
            .clone()
            .filter(|_| attach.file.is_none())
            .or_else(|| composer.send_error.clone())
    });
    html! {
        <form class="composer" onsubmit={onsubmit}>
            if let Some(file) = attach.file.clone() {
                <AttachmentDraft file={file} on_remove={attach.clear.clone()} />
            }
            <div class="composer-row">
                <button id="attach-button" type="button" class="attach-button" onclick={pick}
                    disabled={attach.busy} aria-label="Attach a file" title="Attach a photo or file">
                    <Icon kind={IconKind::Paperclip} />
                </button>
                <label for="message-input" class="sr-only">{ "Message" }</label>
                <textarea id="message-input" rows="1" ref={input}
                    placeholder={if attach.file.is_some() { "Add a caption…" } else { "Write a message…" }}
                    value={composer.text.clone()} onpaste={onpaste}
                    aria-describedby="char-counter input-error"
                    aria-invalid={error.is_some().then_some("true")}
                    oninput={oninput} onkeydown={onkeydown} />
                <button id="send-button" type="submit" class="send-button"
                    disabled={!can_send} aria-label="Send message" title="Send (Enter)">
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
