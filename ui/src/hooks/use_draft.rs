//! A chat's draft: loaded from the shell when the input appears, saved (debounced) while
//! the user writes, saved at once when the input goes away with changes unsaved, and
//! cleared on send.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use tutorchat_shared::app::commands::{ChatArgs, DraftArgs};
use tutorchat_shared::ChatId;
use yew::prelude::*;

use crate::hooks::background::run_in_background;
use crate::tauri;

/// Quiet time before a draft is saved.
const SAVE_AFTER_MS: u32 = 600;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DraftHandle {
    pub text: String,
    pub set: Callback<String>,
    /// Empties the draft here and in the shell.
    pub clear: Callback<()>,
}

/// What a pending save needs; shared by the timer, the setter and the unmount flush.
#[derive(Default)]
struct Saver {
    text: RefCell<String>,
    /// Changed since the last save.
    dirty: Cell<bool>,
    /// The user typed before the stored draft arrived: keep what they typed.
    touched: Cell<bool>,
    timer: RefCell<Option<Timeout>>,
}

impl Saver {
    fn save_now(&self, chat_id: ChatId) {
        if self.dirty.replace(false) {
            let text = self.text.borrow().clone();
            run_in_background("set_draft", async move {
                tauri::set_draft(&DraftArgs { chat_id, text }).await
            });
        }
    }
}

#[hook]
pub(crate) fn use_draft(chat_id: ChatId) -> DraftHandle {
    let text = use_state(String::new);
    let saver = use_memo(chat_id, |_| Rc::new(Saver::default()));

    {
        let (text, saver) = (text.clone(), (*saver).clone());
        use_effect_with(chat_id, move |&chat_id| {
            let loader = saver.clone();
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(Some(stored)) = tauri::draft(&ChatArgs { chat_id }).await {
                    if !loader.touched.get() {
                        *loader.text.borrow_mut() = stored.clone();
                        text.set(stored);
                    }
                }
            });
            move || {
                saver.timer.borrow_mut().take();
                saver.save_now(chat_id);
            }
        });
    }

    let set = {
        let (text, saver) = (text.clone(), (*saver).clone());
        use_callback(chat_id, move |new: String, &chat_id| {
            saver.touched.set(true);
            saver.dirty.set(true);
            *saver.text.borrow_mut() = new.clone();
            text.set(new);
            let later = saver.clone();
            // Replacing the timer cancels the previous one (debounce).
            *saver.timer.borrow_mut() =
                Some(Timeout::new(SAVE_AFTER_MS, move || later.save_now(chat_id)));
        })
    };

    let clear = {
        let (text, saver) = (text.clone(), (*saver).clone());
        use_callback(chat_id, move |(), &chat_id| {
            saver.timer.borrow_mut().take();
            saver.touched.set(true);
            saver.text.borrow_mut().clear();
            saver.dirty.set(true);
            saver.save_now(chat_id);
            text.set(String::new());
        })
    };

    DraftHandle {
        text: (*text).clone(),
        set,
        clear,
    }
}
