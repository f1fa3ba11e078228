//! The open conversation's header: who, in which course, online or typing, muted and blocked
//! markers, the call buttons that are not there yet, and the conversation's menu — mute,
//! archive, block — where blocking and unblocking ask for confirmation first.

use tutorchat_shared::app::ChatItem;
use yew::prelude::*;

use crate::components::{Avatar, Icon, IconKind};
use crate::hooks::ChatActions;
use crate::route::Route;

#[derive(Properties, PartialEq)]
pub(crate) struct ChatHeaderProps {
    /// None until the chat list has it (a deep link opened before the list loaded).
    pub chat: Option<ChatItem>,
    pub typing: bool,
    /// The peer is online (from the store: presence is kept there, once).
    pub online: bool,
    /// Present at narrow widths, where the list is another screen.
    #[prop_or_default]
    pub on_back: Option<Callback<()>>,
    pub actions: ChatActions,
}

/// What the confirmation dialog is asking about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Confirm {
    Block,
    Unblock,
}

#[function_component]
pub(crate) fn ChatHeader(props: &ChatHeaderProps) -> Html {
    let online = props.online;
    let (name, course) = match &props.chat {
        Some(chat) => (chat.peer.name.clone(), chat.course.title.clone()),
        None => ("Conversation".to_owned(), String::new()),
    };
    let menu_open = use_state(|| false);
    let confirm = use_state(|| None::<Confirm>);
    let toggle_menu = {
        let menu_open = menu_open.clone();
        Callback::from(move |_: MouseEvent| menu_open.set(!*menu_open))
    };
    let menu = props.chat.as_ref().filter(|_| *menu_open).map(|chat| {
        let item = |id: &'static str, icon: IconKind, label: String, run: Callback<()>| {
            let menu_open = menu_open.clone();
            let onclick = Callback::from(move |_: MouseEvent| {
                menu_open.set(false);
                run.emit(());
            });
            html! {
                <li role="none">
                    <button id={id} type="button" role="menuitem" onclick={onclick}>
                        <Icon kind={icon} size={16} />{ label }
                    </button>
                </li>
            }
        };
        let (muted, archived, blocked) = (chat.muted, chat.archived, chat.blocked);
        let set_muted = props.actions.set_muted.clone();
        let set_archived = props.actions.set_archived.clone();
        let ask = {
            let confirm = confirm.clone();
            Callback::from(move |()| {
                confirm.set(Some(if blocked {
                    Confirm::Unblock
                } else {
                    Confirm::Block
                }));
            })
        };
        html! {
            <ul id="chat-menu" class="menu" role="menu" aria-label="Conversation">
                { item("mute-chat", IconKind::BellOff,
                    (if muted { "Unmute notifications" } else { "Mute notifications" }).to_owned(),
                    Callback::from(move |()| set_muted.emit(!muted))) }
                { item("archive-chat", IconKind::Archive,
                    (if archived { "Move out of the archive" } else { "Archive" }).to_owned(),
                    Callback::from(move |()| set_archived.emit(!archived))) }
                { item("block-user", IconKind::Block,
                    format!("{} {}", if blocked { "Unblock" } else { "Block" }, chat.peer.name),
                    ask) }
            </ul>
        }
    });
    let dialog = (*confirm).zip(props.chat.as_ref()).map(|(asked, chat)| {
        let cancel = {
            let confirm = confirm.clone();
            Callback::from(move |_: MouseEvent| confirm.set(None))
        };
        let yes = {
            let (confirm, set_blocked) = (confirm.clone(), props.actions.set_blocked.clone());
            Callback::from(move |_: MouseEvent| {
                confirm.set(None);
                set_blocked.emit(asked == Confirm::Block);
            })
        };
        let (title, text, verb) = match asked {
            Confirm::Block => (
                format!("Block {}?", chat.peer.name),
                format!(
                    "{} will not be able to message you. You can still read this conversation, and unblock them at any time.",
                    chat.peer.name
                ),
                "Block",
            ),
            Confirm::Unblock => (
                format!("Unblock {}?", chat.peer.name),
                format!("{} will be able to message you again.", chat.peer.name),
                "Unblock",
            ),
        };
        html! {
            <div class="dialog-backdrop">
                <div id="confirm-dialog" class="dialog" role="alertdialog" aria-modal="true"
                    aria-labelledby="confirm-title" aria-describedby="confirm-text">
                    <h3 id="confirm-title">{ title }</h3>
                    <p id="confirm-text">{ text }</p>
                    <div class="dialog-actions">
                        <button id="confirm-cancel" type="button" class="ghost" onclick={cancel}>{ "Cancel" }</button>
                        <button id="confirm-yes" type="button"
                            class={classes!(if asked == Confirm::Block { "danger" } else { "primary" })}
                            onclick={yes}>{ verb }</button>
                    </div>
                </div>
            </div>
        }
    });
    let (muted, blocked) = props
        .chat
        .as_ref()
        .map_or((false, false), |c| (c.muted, c.blocked));
    let back = props.on_back.as_ref().map(|on_back| {
        let onclick = on_back.reform(|_: MouseEvent| ());
        html! {
            <button id="back" type="button" class="icon-button" aria-label="Back to chats" onclick={onclick}>
                <Icon kind={IconKind::Back} />
            </button>
        }
    });
    html! {
        <header id="chat-header" class="chat-header">
            { for back }
            <Avatar name={name.clone()} online={Some(online)} />
            <div class="peer">
                <h2 class="peer-name">
                    { name }
                    if muted {
                        <span id="muted-indicator" class="header-marker" title="Muted"
                            aria-label="Muted"><Icon kind={IconKind::BellOff} size={14} /></span>
                    }
                    if blocked {
                        <span id="blocked-badge" class="blocked-badge">{ "Blocked" }</span>
                    }
                </h2>
                <div class="peer-meta" aria-live="polite">
                    if !course.is_empty() {
                        <span class="course-context" title="Course">{ course }</span>
                        <span class="sep" aria-hidden="true">{ "·" }</span>
                    }
                    // Present only while the peer types (tests wait for it to appear).
                    if props.typing {
                        <span id="typing-indicator" class="typing">{ "typing…" }</span>
                    } else {
                        <span class={classes!("presence", online.then_some("online"))}>
                            { if online { "Online" } else { "Offline" } }
                        </span>
                    }
                </div>
            </div>
            <div class="header-actions">
                if let Some(chat) = &props.chat {
                    <a id="search-in-chat" class="icon-button" href={Route::Search(Some(chat.id)).to_hash()}
                        aria-label="Search this conversation" title="Search this conversation">
                        <Icon kind={IconKind::Search} />
                    </a>
                }
                <button id="call-button" type="button" class="icon-button" disabled={true}
                    title="Coming soon" aria-label="Voice call (coming soon)">
                    <Icon kind={IconKind::Phone} />
                </button>
                <button id="video-button" type="button" class="icon-button" disabled={true}
                    title="Coming soon" aria-label="Video call (coming soon)">
                    <Icon kind={IconKind::Video} />
                </button>
                <button id="chat-menu-button" type="button" class="icon-button"
                    aria-label="Conversation options" aria-haspopup="menu"
                    aria-expanded={(*menu_open).to_string()} disabled={props.chat.is_none()}
                    onclick={toggle_menu}>
                    <Icon kind={IconKind::More} />
                </button>
                { for menu }
            </div>
            { for dialog }
        </header>
    }
}
