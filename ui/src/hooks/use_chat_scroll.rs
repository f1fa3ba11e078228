//! Scrolling of the message list: start at the newest message; follow new ones while the
//! view is at the bottom (and always for one's own); keep the view still when older
//! messages are put above; ask for older ones near the top (or when the list is too short to
//! scroll); stay at the newest message when the list's box changes size (a narrower window
//! wraps text onto more lines under a still scroll position; a banner takes height); say
//! whether "Jump to latest" is needed.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, ResizeObserver, ScrollBehavior, ScrollToOptions};
use yew::prelude::*;

/// Within this many pixels of an edge counts as at it.
const EDGE_PX: i32 = 80;

/// What the list shows, as far as scrolling cares.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ScrollInputs {
    /// The first and last message (client ids), to tell prepends from appends.
    pub first: Option<String>,
    pub last: Option<String>,
    pub last_is_own: bool,
    /// Older messages exist and none are loading.
    pub can_load_older: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ScrollHandle {
    pub on_scroll: Callback<Event>,
    /// The view is at the newest message.
    pub at_bottom: bool,
    pub jump_to_latest: Callback<()>,
}

fn distance_from_bottom(el: &HtmlElement) -> i32 {
    el.scroll_height() - el.scroll_top() - el.client_height()
}

#[hook]
pub(crate) fn use_chat_scroll(
    list: NodeRef,
    inputs: ScrollInputs,
    on_reach_top: Callback<()>,
) -> ScrollHandle {
    let at_bottom = use_state(|| true);
    // Distance from the bottom as last seen, before the next change is drawn.
    let from_bottom = use_mut_ref(|| 0_i32);
    let shown = use_mut_ref(|| (None::<String>, None::<String>));

    {
        let (list, from_bottom, on_reach_top) =
            (list.clone(), from_bottom.clone(), on_reach_top.clone());
        use_effect_with(inputs, move |inputs| {
            if let Some(el) = list.cast::<HtmlElement>() {
                let (was_first, was_last) =
                    shown.replace((inputs.first.clone(), inputs.last.clone()));
                let before = *from_bottom.borrow();
                if was_last.is_none()
                    || (inputs.last != was_last && (before < EDGE_PX || inputs.last_is_own))
                {
                    el.set_scroll_top(el.scroll_height());
                } else if inputs.first != was_first {
                    // Older messages went in above: keep the same ones in view.
                    el.set_scroll_top(el.scroll_height() - el.client_height() - before);
                }
                *from_bottom.borrow_mut() = distance_from_bottom(&el);
                if inputs.can_load_older && el.scroll_height() <= el.client_height() {
                    on_reach_top.emit(());
                }
            }
        });
    }

    {
        // The list's own box changes size — the window resized, a banner came or went, the
        // composer grew: at the newest message before, still there after.
        let (list, at_bottom, from_bottom) = (list.clone(), at_bottom.clone(), from_bottom.clone());
        use_effect_with((), move |()| {
            let observed = list.cast::<HtmlElement>();
            let on_resize = Closure::<dyn FnMut()>::new(move || {
                let Some(el) = list.cast::<HtmlElement>() else {
                    return;
                };
                if *from_bottom.borrow() < EDGE_PX {
                    el.set_scroll_top(el.scroll_height());
                }
                let distance = distance_from_bottom(&el);
                *from_bottom.borrow_mut() = distance;
                at_bottom.set(distance < EDGE_PX);
            });
            let observer = ResizeObserver::new(on_resize.as_ref().unchecked_ref()).ok();
            if let (Some(observer), Some(el)) = (&observer, &observed) {
                observer.observe(el);
            }
            move || {
                if let Some(observer) = observer {
                    observer.disconnect();
                }
                drop(on_resize);
            }
        });
    }

    let on_scroll = {
        let (list, at_bottom) = (list.clone(), at_bottom.clone());
        Callback::from(move |_: Event| {
            let Some(el) = list.cast::<HtmlElement>() else {
                return;
            };
            let distance = distance_from_bottom(&el);
            *from_bottom.borrow_mut() = distance;
            let bottom = distance < EDGE_PX;
            if *at_bottom != bottom {
                at_bottom.set(bottom);
            }
            if el.scroll_top() < EDGE_PX {
                on_reach_top.emit(());
            }
        })
    };

    let jump_to_latest = Callback::from(move |()| {
        if let Some(el) = list.cast::<HtmlElement>() {
            let options = ScrollToOptions::new();
            options.set_top(f64::from(el.scroll_height()));
            options.set_behavior(ScrollBehavior::Smooth);
            el.scroll_to_with_scroll_to_options(&options);
        }
    });

    ScrollHandle {
        on_scroll,
        at_bottom: *at_bottom,
        jump_to_latest,
    }
}
