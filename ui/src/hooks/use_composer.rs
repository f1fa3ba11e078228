//! The message input's behaviour: the draft, the typing signal, the shared validation against
//! the server's published limits, and
//! sending (the shell writes the message to its outbox and answers with the pending echo,
//! which goes straight into the store).

use tutorchat_shared::app::commands::SendArgs;
use tutorchat_shared::{ChatId, MessageKind};
use yew::prelude::*;

use crate::compose::{check_draft, DraftCheck};
use crate::hooks::use_draft::use_draft;
use crate::hooks::use_store;
use crate::hooks::use_typing::use_typing;
use crate::state::Action;
use crate::tauri;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Composer {
    pub text: String,
    pub check: DraftCheck,
    /// Why the last send was refused.
    pub send_error: Option<String>,
    pub on_input: Callback<String>,
    pub on_send: Callback<()>,
}

#[hook]
pub(crate) fn use_composer(chat_id: ChatId) -> Composer {
    let store = use_store();
    let dispatcher = store.dispatcher();
    let draft = use_draft(chat_id);
    let typing = use_typing(chat_id);
    let send_error = use_state(|| None::<String>);
    let limits = store.limits;
    let check = check_draft(&draft.text, &limits);

    let on_input = {
        let (draft, typing, send_error) = (draft.clone(), typing.clone(), send_error.clone());
        Callback::from(move |text: String| {
            if text.trim().is_empty() {
                typing.stop.emit(());
            } else {
                typing.keystroke.emit(());
            }
            if send_error.is_some() {
                send_error.set(None);
            }
            draft.set.emit(text);
        })
    };

    let on_send = {
        let (draft, send_error) = (draft.clone(), send_error.clone());
        let text = draft.text.clone();
        Callback::from(move |()| {
            if !check_draft(&text, &limits).can_send {
                return;
            }
            typing.stop.emit(());
            draft.clear.emit(());
            let (draft, send_error, dispatcher) =
                (draft.clone(), send_error.clone(), dispatcher.clone());
            let text = text.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let args = SendArgs {
                    chat_id,
                    content: text.trim().to_owned(),
                    kind: MessageKind::Text,
                };
                match tauri::send(&args).await {
                    Ok(echo) => dispatcher.dispatch(Action::upsert(echo)),
                    Err(e) => {
                        // Nothing was written: give the text back.
                        draft.set.emit(text);
                        send_error.set(Some(e.message));
                    }
                }
            });
        })
    };

    Composer {
        text: draft.text,
        check,
        send_error: (*send_error).clone(),
        on_input,
        on_send,
    }
}
