//! The rules of Tutorchat, one module a concern. Handlers (REST and WebSocket alike) translate
//! requests into these calls; these decide who may do what and ask the store.
//!
//! - [`access`]: membership, the course-enrollment gate, whether a member may still write.
//! - [`auth`]: login, token refresh with rotation and reuse detection, logout.
//! - [`chats`]: the chat list, opening chats, history, sending, read pointers, catch-up.
//! - [`chat_settings`]: a member's own settings for a chat (muted, archived), and telling
//!   their devices when their view of a chat changed.
//! - [`live`]: presence announcements and typing, with their timers.
//! - [`people`]: who a student or tutor may chat with; blocking.
//! - [`provisioning`]: the course platform's users, courses and enrollments.
//! - [`audit`]: appending to and reading the audit log.
//! - [`uploads`]: resumable uploads within the size limit and quota, the content checks,
//!   who may download an attachment, the sweep of uploads never sent.

pub mod access;
pub mod audit;
pub mod auth;
pub mod chat_settings;
pub mod chats;
pub mod live;
pub mod people;
pub mod provisioning;
pub mod uploads;
