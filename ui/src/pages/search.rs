//! Search over the history cached on this device (it works offline): every chat, or one
//! (`#/search/<id>`, from a chat's header). Results newest first with the query's words
//! marked; choosing one opens its chat at that message.

use gloo_timers::callback::Timeout;
use tutorchat_shared::app::commands::SearchArgs;
use tutorchat_shared::app::LocalMessage;
use tutorchat_shared::ChatId;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::components::{Icon, IconKind};
use crate::format::{full, list_time, local_offset};
use crate::hooks::{use_route, use_store};
use crate::route::Route;
use crate::search::highlight;
use crate::state::Action;
use crate::tauri;

/// Results shown at most.
const LIMIT: u32 = 50;
/// Typing pause before searching.
const DEBOUNCE_MS: u32 = 200;

#[derive(Properties, PartialEq)]
pub(crate) struct SearchPageProps {
    /// Only this chat, or every chat.
    pub chat: Option<ChatId>,
}

#[function_component]
pub(crate) fn SearchPage(props: &SearchPageProps) -> Html {
    let store = use_store();
    let route = use_route();
    let query = use_state(String::new);
    let results = use_state(|| None::<Vec<LocalMessage>>);
    let timer = use_mut_ref(|| None::<Timeout>);
    let input = use_node_ref();
    {
        let input = input.clone();
        use_effect_with((), move |()| {
            if let Some(el) = input.cast::<HtmlInputElement>() {
                let _ = el.focus();
            }
        });
    }
    {
        let results = results.clone();
        use_effect_with(((*query).clone(), props.chat), move |(query, chat)| {
            let (query, chat) = (query.trim().to_owned(), *chat);
            if query.is_empty() {
                timer.borrow_mut().take();
                results.set(None);
                return;
            }
            *timer.borrow_mut() = Some(Timeout::new(DEBOUNCE_MS, move || {
                wasm_bindgen_futures::spawn_local(async move {
                    let args = SearchArgs {
                        query,
                        chat_id: chat,
                        limit: LIMIT,
                    };
                    results.set(Some(tauri::search(&args).await.unwrap_or_default()));
                });
            }));
        });
    }
    let oninput = {
        let query = query.clone();
        Callback::from(move |e: InputEvent| {
            query.set(e.target_unchecked_into::<HtmlInputElement>().value());
        })
    };
    let scope = props
        .chat
        .and_then(|id| store.chat(id))
        .map(|c| format!("Search your conversation with {}", c.peer.name));
    let offset = local_offset();
    let now = chrono::Utc::now();
    let list = (*results).as_ref().map(|found| {
        if found.is_empty() {
            return html! { <p id="search-empty" class="list-note">{ "No messages match." }</p> };
        }
        let items = found.iter().map(|m| {
            let chat = store.chat(m.chat_id);
            let who = if Some(&m.sender_id) == store.me() {
                "You".to_owned()
            } else {
                chat.map_or_else(String::new, |c| c.peer.name.clone())
            };
            let context = chat.map_or_else(String::new, |c| {
                format!("{} · {}", c.peer.name, c.course.title)
            });
            let seq = m.seq.unwrap_or(0);
            let onclick = {
                let (dispatcher, navigate, chat_id) =
                    (store.dispatcher(), route.navigate.clone(), m.chat_id);
                Callback::from(move |_: MouseEvent| {
                    dispatcher.dispatch(Action::Focus(Some((chat_id, seq))));
                    navigate.emit(Route::Chat(chat_id));
                })
            };
            html! {
                <li class="search-result" data-chat-id={m.chat_id.to_string()} data-seq={seq.to_string()}>
                    <button type="button" onclick={onclick}>
                        <div class="result-top">
                            <span class="result-context">{ context }</span>
                            <time datetime={m.created_at.to_rfc3339()} title={full(m.created_at, offset)}>
                                { list_time(m.created_at, now, offset) }
                            </time>
                        </div>
                        <p class="result-text">
                            <span class="result-who">{ format!("{who}: ") }</span>
                            { for highlight(&m.content, query.as_str()).into_iter().map(|s| if s.hit {
                                html! { <mark>{ s.text }</mark> }
                            } else {
                                html! { { s.text } }
                            }) }
                        </p>
                    </button>
                </li>
            }
        });
        html! { <ul id="search-results" class="search-results">{ for items }</ul> }
    });
    html! {
        <div class="search-page">
            <header class="page-header">
                <h1>{ "Search" }</h1>
                <p class="muted">{ scope.unwrap_or_else(|| "Search all your conversations — it works offline too.".to_owned()) }</p>
            </header>
            <label class="search-box">
                <Icon kind={IconKind::Search} size={18} />
                <span class="sr-only">{ "Search messages" }</span>
                <input id="search-input" type="search" ref={input} placeholder="Search messages…"
                    value={(*query).clone()} oninput={oninput} autocomplete="off" />
            </label>
            { for list }
        </div>
    }
}
