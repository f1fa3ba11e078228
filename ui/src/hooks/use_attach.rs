//! Choosing a file to attach: the system's picker, a file dropped on the window, or an image
//! pasted into the message box. The shell checks each against the server's published limits
//! (size, type by content, pixels) and answers a preview; a refusal is shown at once, before
//! anything is uploaded. Sending hands the file to the shell's outbox with the caption.

use std::cell::RefCell;
use std::rc::Rc;

use tutorchat_shared::app::commands::{FileInfo, PathArgs, SendAttachmentArgs, StageArgs};
use tutorchat_shared::{ApiError, ChatId};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use yew::prelude::*;

use crate::hooks::use_store;
use crate::state::Action;
use crate::tauri;

#[derive(Clone, PartialEq)]
pub(crate) struct Attach {
    /// The file about to be sent, checked.
    pub file: Option<FileInfo>,
    /// Why the last file was refused.
    pub error: Option<String>,
    /// A file is being read or checked.
    pub busy: bool,
    pub pick: Callback<()>,
    /// A file from the webview (pasted, or chosen in a file input).
    pub take: Callback<web_sys::File>,
    pub clear: Callback<()>,
    /// Sends the file with this caption; answers through the store (and, if nothing could
    /// be queued, gives the caption back through `restore_caption`).
    pub send: Callback<String>,
}

#[hook]
pub(crate) fn use_attach(chat_id: ChatId, restore_caption: Callback<String>) -> Attach {
    let store = use_store();
    let file = use_state(|| None::<FileInfo>);
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);

    // What a check answered: the file, or why not.
    let settle = {
        let (file, error, busy) = (file.clone(), error.clone(), busy.clone());
        Rc::new(move |answer: Result<Option<FileInfo>, ApiError>| {
            busy.set(false);
            match answer {
                Ok(Some(info)) => {
                    error.set(None);
                    file.set(Some(info));
                }
                Ok(None) => {}
                Err(e) => {
                    file.set(None);
                    error.set(Some(e.message));
                }
            }
        })
    };

    let pick = {
        let (settle, busy) = (settle.clone(), busy.clone());
        Callback::from(move |()| {
            busy.set(true);
            let settle = settle.clone();
            spawn_local(async move { settle(tauri::pick_file().await) });
        })
    };

    let take = {
        let (settle, busy) = (settle.clone(), busy.clone());
        Callback::from(move |picked: web_sys::File| {
            busy.set(true);
            let settle = settle.clone();
            spawn_local(async move { settle(stage(picked).await.map(Some)) });
        })
    };

    // Files dropped on the window, while this chat is open.
    {
        let (settle, busy) = (settle.clone(), busy.clone());
        use_effect_with(chat_id, move |_| {
            let subscription = Rc::new(RefCell::new(None));
            {
                let subscription = subscription.clone();
                spawn_local(async move {
                    let listening = tauri::listen_file_drops(move |paths| {
                        let Some(path) = paths.into_iter().next() else {
                            return;
                        };
                        busy.set(true);
                        let settle = settle.clone();
                        spawn_local(async move {
                            settle(tauri::inspect_file(&PathArgs { path }).await.map(Some));
                        });
                    })
                    .await;
                    if let Ok(live) = listening {
                        *subscription.borrow_mut() = Some(live);
                    }
                });
            }
            move || drop(subscription.borrow_mut().take())
        });
    }

    let clear = {
        let (file, error) = (file.clone(), error.clone());
        Callback::from(move |()| {
            file.set(None);
            error.set(None);
        })
    };

    let send = {
        let (file, error) = (file.clone(), error.clone());
        let dispatcher = store.dispatcher();
        Callback::from(move |caption: String| {
            let Some(info) = (*file).clone() else {
                return;
            };
            file.set(None);
            let (file, error, dispatcher) = (file.clone(), error.clone(), dispatcher.clone());
            let restore_caption = restore_caption.clone();
            spawn_local(async move {
                let args = SendAttachmentArgs {
                    chat_id,
                    path: info.path.clone(),
                    caption: caption.trim().to_owned(),
                };
                match tauri::send_attachment(&args).await {
                    Ok(echo) => dispatcher.dispatch(Action::upsert(echo)),
                    Err(e) => {
                        // Nothing was queued: keep the file and its caption to try again.
                        file.set(Some(info));
                        restore_caption.emit(caption);
                        error.set(Some(e.message));
                    }
                }
            });
        })
    };

    Attach {
        file: (*file).clone(),
        error: (*error).clone(),
        busy: *busy,
        pick,
        take,
        clear,
        send,
    }
}

/// Reads a file the webview holds and has the shell keep and check it.
async fn stage(file: web_sys::File) -> Result<FileInfo, ApiError> {
    use base64::Engine;
    let unreadable = || {
        ApiError::new(
            tutorchat_shared::ErrorCode::Validation,
            "The file could not be read.",
        )
    };
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|_| unreadable())?;
    let bytes = js_sys::Uint8Array::new(buffer.unchecked_ref()).to_vec();
    let name = match file.name() {
        name if name.trim().is_empty() => "pasted image.png".to_owned(),
        name => name,
    };
    let args = StageArgs {
        name,
        data: base64::engine::general_purpose::STANDARD.encode(bytes),
    };
    tauri::stage_file(&args).await
}
