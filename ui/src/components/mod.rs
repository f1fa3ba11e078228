//! Function components, one per file. Props are data plus callbacks; the few that read the
//! store (`Router`, `ChatArea`, `MessageInput`) do so through hooks, which also hold every
//! side effect. Text from people is always rendered as text, never as HTML.
//!
//! - `StoreProvider`: the store in a context at the root.
//! - `Router`: splash, login or the signed-in layout, by session and URL hash.
//! - `NavBar`, `ConnectionBanner`, `ErrorToast`, `NotificationPrompt` (why notifications, on a
//!   phone, before the system asks): the signed-in frame.
//! - `ChatList`, `ChatListItem`: the conversations.
//! - `ChatArea` (with `ChatHeader`, `MessageList`, `MessageBubble`, `DeliveryTicks`,
//!   `DaySeparator`, `MessageInput`, or `WriteNotice` when the user cannot write): one
//!   conversation; `AttachmentView` (an image or file in a bubble, with `ImageViewer`) and
//!   `AttachmentDraft` (the file about to be sent).
//! - `TutorItem`, `StudentItem`, `UpgradePrompt`: the people lists.
//! - `AccessDenied`: a conversation that is not the user's.
//! - `Avatar`, `Icon`, `BuyCourse`: small pieces.

mod access_denied;
mod attachment_draft;
mod attachment_view;
mod avatar;
mod buy_course;
mod chat_area;
mod chat_header;
mod chat_list;
mod chat_list_item;
mod connection_banner;
mod day_separator;
mod delivery_ticks;
mod error_toast;
mod icon;
mod image_viewer;
mod message_bubble;
mod message_input;
mod message_list;
mod nav_bar;
mod notification_prompt;
mod router;
mod store_provider;
mod student_item;
mod tutor_item;
mod upgrade_prompt;
mod write_notice;

pub(crate) use access_denied::AccessDenied;
pub(crate) use attachment_draft::AttachmentDraft;
pub(crate) use attachment_view::AttachmentView;
pub(crate) use avatar::Avatar;
pub(crate) use buy_course::BuyCourse;
pub(crate) use chat_area::ChatArea;
pub(crate) use chat_header::ChatHeader;
pub(crate) use chat_list::ChatList;
pub(crate) use chat_list_item::ChatListItem;
pub(crate) use connection_banner::ConnectionBanner;
pub(crate) use day_separator::DaySeparator;
pub(crate) use delivery_ticks::DeliveryTicks;
pub(crate) use error_toast::ErrorToast;
pub(crate) use icon::{Icon, IconKind};
pub(crate) use image_viewer::ImageViewer;
pub(crate) use message_bubble::MessageBubble;
pub(crate) use message_input::MessageInput;
pub(crate) use message_list::MessageList;
pub(crate) use nav_bar::NavBar;
pub(crate) use notification_prompt::NotificationPrompt;
pub(crate) use router::Router;
pub(crate) use store_provider::StoreProvider;
pub(crate) use student_item::StudentItem;
pub(crate) use tutor_item::TutorItem;
pub(crate) use upgrade_prompt::UpgradePrompt;
pub(crate) use write_notice::{cannot_write, WriteNotice};
