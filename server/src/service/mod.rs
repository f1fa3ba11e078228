//! The rules of Tutorchat, one module a concern. Handlers (REST now, WebSocket next) translate
//! requests into these calls; these decide who may do what and ask the store.
//!
//! - [`auth`]: login, token refresh with rotation and reuse detection, logout.
//! - [`chats`]: the chat list, the course-enrollment gate, history, sending, read pointers.
//! - [`live`]: presence announcements and typing, with their timers.
//! - [`people`]: who a student or tutor may chat with; blocking.
//! - [`provisioning`]: the course platform's users, courses and enrollments.
//! - [`audit`]: appending to and reading the audit log.

pub mod audit;
pub mod auth;
pub mod chats;
pub mod live;
pub mod people;
pub mod provisioning;
