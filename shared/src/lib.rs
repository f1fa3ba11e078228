//! Tutorchat's one wire contract.
//!
//! Everything that crosses a process boundary — REST bodies, WebSocket frames, error bodies and
//! the validation rules that server, client and UI must agree on — is defined here, once.
//! This crate does no I/O and depends on nothing that would stop it compiling for
//! `wasm32-unknown-unknown`; the `openapi` feature adds schema derives for the server's
//! generated OpenAPI document.
//!
//! Map:
//! - [`ids`]: identifier newtypes (platform string ids for users and courses, server ids for
//!   chats and messages, the client's idempotency id).
//! - [`media`]: what a file is, from its content (the upload allowlist's rule); sizes for people.
//! - [`model`]: roles, users, courses, chats and messages as the API shows them.
//! - [`api`]: REST request and response bodies, grouped by resource.
//! - [`app`]: what the client core tells a UI: local chats and messages with delivery state,
//!   and the one event stream.
//! - [`error`]: the stable error codes and the JSON error body.
//! - [`validation`]: content and input rules with their configurable limits.
//! - `timestamp`: timestamps written for the wire as chrono writes them, without `fmt`.
//! - [`ws`]: WebSocket frames, client to server and server to client.

pub mod api;
pub mod app;
pub mod error;
pub mod ids;
pub mod media;
pub mod model;
mod timestamp;
pub mod validation;
pub mod ws;

pub use error::{ApiError, ErrorCode};
pub use ids::{AttachmentId, ChatId, ClientId, CourseId, MessageId, UploadId, UserId};
pub use model::{
    Attachment, ChatSummary, CourseRef, Message, MessageKind, MessageView, Participant,
    ReadPointer, Role,
};
pub use validation::{Limits, ValidationError};
