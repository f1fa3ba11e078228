//! The typing signal, debounced: "started" on the first keystroke, "stopped" after three
//! quiet seconds, on send, or when the input goes away.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use tutorchat_shared::app::commands::TypingArgs;
use tutorchat_shared::ChatId;
use yew::prelude::*;

use crate::hooks::background::run_in_background;
use crate::tauri;

/// Quiet time after which typing counts as stopped.
const IDLE_MS: u32 = 3_000;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TypingHandle {
    pub keystroke: Callback<()>,
    pub stop: Callback<()>,
}

#[derive(Default)]
struct Signal {
    typing: Cell<bool>,
    idle: RefCell<Option<Timeout>>,
}

impl Signal {
    fn announce(&self, chat_id: ChatId, typing: bool) {
        if self.typing.replace(typing) != typing {
            run_in_background("typing", async move {
                tauri::typing(&TypingArgs { chat_id, typing }).await
            });
        }
    }

    fn stop(&self, chat_id: ChatId) {
        self.idle.borrow_mut().take();
        self.announce(chat_id, false);
    }
}

#[hook]
pub(crate) fn use_typing(chat_id: ChatId) -> TypingHandle {
    let signal = use_memo(chat_id, |_| Rc::new(Signal::default()));
    {
        let signal = (*signal).clone();
        use_effect_with(chat_id, move |&chat_id| move || signal.stop(chat_id));
    }
    let keystroke = {
        let signal = (*signal).clone();
        use_callback(chat_id, move |(), &chat_id| {
            signal.announce(chat_id, true);
            let idle = signal.clone();
            // The timer only announces; it never drops itself while running.
            *signal.idle.borrow_mut() = Some(Timeout::new(IDLE_MS, move || {
                idle.announce(chat_id, false);
            }));
        })
    };
    let stop = {
        let signal = (*signal).clone();
        use_callback(chat_id, move |(), &chat_id| signal.stop(chat_id))
    };
    TypingHandle { keystroke, stop }
}
