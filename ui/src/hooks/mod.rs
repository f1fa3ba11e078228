//! Every side effect of the UI lives in a hook here: invoking the shell's commands, the event
//! subscription, timers, the URL hash, media queries and scrolling. Components call hooks and
//! render what they return.
//!
//! - `use_store`: the store from the context.
//! - `use_shell`: subscribe to the shell's events, then restore the session.
//! - `use_session`: sign in and sign out.
//! - `use_route`: the screen from the URL hash, and navigation.
//! - `use_chat_list`: fetch the chat list on sign-in and whenever the shell says it changed.
//! - `use_connection`: the connection state at sign-in, the brief "back online", and the
//!   server's published limits.
//! - `use_chat_page`: one chat's messages (newest page, older pages on demand).
//! - `use_view_chat` / `use_mark_read`: tell the shell what is on screen and what was read.
//! - `use_attention`: whether the window is visible and focused (someone can be looking).
//! - `use_outbox`: retry and discard failed messages.
//! - `use_chat_actions`: mute, archive and block a conversation.
//! - `use_draft` / `use_typing` / `use_composer`: the message input's draft, typing signal and
//!   sending.
//! - `use_contacts` / `use_start_chat`: the tutor and student lists, and opening a chat.
//! - `use_media_query`: the narrow layout.
//! - `use_chat_scroll`: stick to the newest message, keep the view when older ones load.
//! - `use_focus_message`: bring a chosen search result into view, loading history to it.
//! - `use_attach`: choosing a file (picker, drop, paste), checked before upload, and sending it.
//! - `use_thumbnail`: an attachment's thumbnail from the cache, or a pending one's preview.
//! - `background`: running a command whose answer nobody waits for.

pub(crate) mod background;
mod use_attach;
mod use_attention;
mod use_chat_actions;
mod use_chat_list;
mod use_chat_page;
mod use_chat_scroll;
mod use_composer;
mod use_connection;
mod use_contacts;
mod use_draft;
mod use_focus_message;
mod use_mark_read;
mod use_media_query;
mod use_outbox;
mod use_route;
mod use_session;
mod use_shell;
mod use_start_chat;
mod use_store;
mod use_thumbnail;
mod use_typing;
mod use_view_chat;

pub(crate) use use_attach::use_attach;
pub(crate) use use_attention::use_attention;
pub(crate) use use_chat_actions::{use_chat_actions, ChatActions};
pub(crate) use use_chat_list::use_chat_list;
pub(crate) use use_chat_page::use_chat_page;
pub(crate) use use_chat_scroll::{use_chat_scroll, ScrollInputs};
pub(crate) use use_composer::use_composer;
pub(crate) use use_connection::{use_back_online, use_connection_state, use_server_limits};
pub(crate) use use_contacts::{use_contacts, ContactQuery};
pub(crate) use use_focus_message::use_focus_message;
pub(crate) use use_mark_read::use_mark_read;
pub(crate) use use_media_query::use_media_query;
pub(crate) use use_outbox::use_outbox;
pub(crate) use use_route::use_route;
pub(crate) use use_session::{use_login, use_logout};
pub(crate) use use_shell::use_shell;
pub(crate) use use_start_chat::use_start_chat;
pub(crate) use use_store::use_store;
pub(crate) use use_thumbnail::use_thumbnail;
pub(crate) use use_view_chat::use_view_chat;
